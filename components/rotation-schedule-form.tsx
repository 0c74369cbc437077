'use client';

import { useState } from 'react';
import { ActionForm } from '@/components/action-form';
import type { ActionResult } from '@/lib/actions/authed-action';

interface Props {
  storeId: string;
  name: string;
  /** The schedule AWS has now, e.g. "rate(30 days)"; null when none. */
  schedule: string | null;
  enabled: boolean;
  action: (input: unknown) => Promise<ActionResult<unknown>>;
}

/** Admins: set, change or turn off a Secrets Manager secret's rotation schedule, with a reason. */
export function RotationScheduleForm({ storeId, name, schedule, enabled, action }: Props) {
  const [on, setOn] = useState(enabled);
  return (
    <ActionForm action={action} submitLabel="Save schedule" className="flex flex-wrap items-end gap-3">
      <input type="hidden" name="storeId" value={storeId} />
      <input type="hidden" name="name" value={name} />
      <label className="flex items-center gap-2 text-sm">
        <input type="checkbox" name="enabled" checked={on} onChange={(e) => setOn(e.target.checked)} />
        Rotate automatically
      </label>
      <label className="min-w-0 text-sm">
        <span className="block text-slate-600">Schedule</span>
        <input
          name="expression"
          defaultValue={schedule ?? 'rate(30 days)'}
          disabled={!on}
          placeholder="rate(30 days) or cron(0 4 ? * SUN *)"
          className="w-56 max-w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-xs disabled:bg-slate-100"
        />
      </label>
      <label className="text-sm">
        <span className="block text-slate-600">Window</span>
        <input name="window" placeholder="e.g. 3h" disabled={!on} className="w-20 rounded-md border border-slate-300 px-2 py-1.5 disabled:bg-slate-100" />
      </label>
      <label className="w-full text-sm">
        <span className="block text-slate-600">Reason (required)</span>
        <input name="reason" required maxLength={500} className="w-full rounded-md border border-slate-300 px-2 py-1.5" />
      </label>
    </ActionForm>
  );
}
