'use client';

import { useId, useState } from 'react';
import { ActionForm } from '@/components/action-form';
import { ReasonField } from '@/components/reason-field';
import type { ActionResult } from '@/lib/actions/authed-action';

interface Props {
  storeId: string;
  itemName: string;
  control: string;
  /** YYYY-MM-DD: the picker's default (30 days ahead), earliest (tomorrow) and latest (a year ahead) day, from the server's clock. */
  defaultExpiry: string;
  minExpiry: string;
  maxExpiry: string;
  action: (input: unknown) => Promise<ActionResult<unknown>>;
}

/**
 * Auditors and admins: suppress one open finding with a reason until a day at most a year ahead.
 * The server checks all of it again (reason, expiry, grant); the limits here only help the picker.
 */
export function FindingSuppressForm({ storeId, itemName, control, defaultExpiry, minExpiry, maxExpiry, action }: Props) {
  const id = useId();
  const [reason, setReason] = useState('');
  return (
    <ActionForm action={action} submitLabel="Suppress" className="flex flex-wrap items-end gap-3" onDone={() => setReason('')}>
      <input type="hidden" name="storeId" value={storeId} />
      <input type="hidden" name="itemName" value={itemName} />
      <input type="hidden" name="control" value={control} />
      <div className="w-full">
        <ReasonField id={`${id}-reason`} label="Reason (required)" value={reason} onChange={setReason} />
      </div>
      <label className="text-sm">
        <span className="block text-slate-700">Until</span>
        <input
          type="date"
          name="expiresAt"
          required
          defaultValue={defaultExpiry}
          min={minExpiry}
          max={maxExpiry}
          className="rounded-md border border-slate-300 px-2 py-1.5 text-sm"
        />
      </label>
    </ActionForm>
  );
}
