'use client';

import { ActionForm } from '@/components/action-form';
import type { ActionResult } from '@/lib/actions/authed-action';

/** Admins: end an alert silence now; what it held back is sent at the next evaluation. */
export function AlertLiftButton({ id, action }: { id: number; action: (input: unknown) => Promise<ActionResult<unknown>> }) {
  return (
    <ActionForm action={action} submitLabel="Lift" className="flex flex-wrap items-center gap-2" danger>
      <input type="hidden" name="id" value={String(id)} />
    </ActionForm>
  );
}
