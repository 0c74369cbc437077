'use client';

import { useState } from 'react';
import { ActionForm } from '@/components/action-form';
import type { ActionResult } from '@/lib/actions/authed-action';

/** Admins: queue a test message to one channel; the delivery log below shows how it went. */
export function AlertSendTestButton({ channelId, action }: { channelId: string; action: (input: unknown) => Promise<ActionResult<{ deliveryId: number }>> }) {
  const [queued, setQueued] = useState<number | null>(null);
  return (
    <ActionForm action={action} submitLabel="Send test" className="flex flex-wrap items-center gap-2" onDone={(data) => setQueued(data.deliveryId)}>
      <input type="hidden" name="channelId" value={channelId} />
      {queued !== null && (
        <span role="status" className="text-xs text-slate-600" data-testid="alert-test-queued">
          Queued as delivery #{queued}
        </span>
      )}
    </ActionForm>
  );
}
