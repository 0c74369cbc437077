'use client';

import { ActionForm } from '@/components/action-form';
import type { ActionResult } from '@/lib/actions/authed-action';

/** Auditors and admins: end a suppression now; the finding is open again at once. */
export function FindingLiftButton({ id, action }: { id: number; action: (input: unknown) => Promise<ActionResult<unknown>> }) {
  return (
    <ActionForm action={action} submitLabel="Lift suppression" className="flex flex-wrap items-center gap-2" danger>
      <input type="hidden" name="id" value={String(id)} />
    </ActionForm>
  );
}
