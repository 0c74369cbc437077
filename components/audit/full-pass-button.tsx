'use client';

import { useState } from 'react';
import { ActionForm } from '@/components/action-form';
import type { ActionResult } from '@/lib/actions/authed-action';

type PassState = 'started' | 'running' | 'queued' | 'already-queued';

const SAID: Record<PassState, string> = {
  started: 'Full pass started.',
  running: 'A full pass is already running.',
  queued: 'Full pass asked of the replica that runs it.',
  'already-queued': 'A full pass was already asked for.',
};

/** Admins: verify the whole audit chain now, in the background; the status above shows its progress. */
export function FullPassButton({ action }: { action: (input: unknown) => Promise<ActionResult<{ state: PassState }>> }) {
  const [said, setSaid] = useState<string | null>(null);
  return (
    <ActionForm action={action} submitLabel="Verify whole chain now" className="flex flex-wrap items-center justify-end gap-2" onDone={(data) => setSaid(SAID[data.state])}>
      {said && (
        <span role="status" className="text-xs text-slate-600" data-testid="audit-full-pass-requested">
          {said}
        </span>
      )}
    </ActionForm>
  );
}
