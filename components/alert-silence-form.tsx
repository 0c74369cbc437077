'use client';

import { useId, useState } from 'react';
import { ActionForm } from '@/components/action-form';
import { ReasonField } from '@/components/reason-field';
import type { ActionResult } from '@/lib/actions/authed-action';

interface Props {
  rules: string[];
  stores: { id: string; label: string }[];
  /** YYYY-MM-DD: the picker's default (7 days ahead), earliest (tomorrow) and latest (90 days ahead) day, from the server's clock. */
  defaultExpiry: string;
  minExpiry: string;
  maxExpiry: string;
  action: (input: unknown) => Promise<ActionResult<unknown>>;
}

/**
 * Admins: silence a rule, an item (store and name), or a rule on one item, with a reason, until a
 * day at most 90 days ahead. The server checks all of it again; the limits here only help.
 */
export function AlertSilenceForm({ rules, stores, defaultExpiry, minExpiry, maxExpiry, action }: Props) {
  const id = useId();
  const [reason, setReason] = useState('');
  return (
    <ActionForm action={action} submitLabel="Silence" className="grid gap-3 rounded-lg border border-slate-200 bg-white p-4 sm:grid-cols-2" onDone={() => setReason('')}>
      <label className="text-sm">
        <span className="block text-slate-700">Rule</span>
        <select name="ruleId" defaultValue="" className="w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm" data-testid="alert-silence-rule">
          <option value="">Any rule (an item only)</option>
          {rules.map((r) => (
            <option key={r} value={r}>
              {r}
            </option>
          ))}
        </select>
      </label>
      <label className="text-sm">
        <span className="block text-slate-700">Until</span>
        <input type="date" name="expiresAt" required defaultValue={defaultExpiry} min={minExpiry} max={maxExpiry} className="rounded-md border border-slate-300 px-2 py-1.5 text-sm" />
      </label>
      <label className="text-sm">
        <span className="block text-slate-700">Store</span>
        <select name="storeId" defaultValue="" className="w-full rounded-md border border-slate-300 bg-white px-2 py-1.5 text-sm" data-testid="alert-silence-store">
          <option value="">No item (the whole rule)</option>
          {stores.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label className="text-sm">
        <span className="block text-slate-700">Item</span>
        <input name="itemName" placeholder="/prod/payments/db-password" className="w-full rounded-md border border-slate-300 px-2 py-1.5 font-mono text-sm" data-testid="alert-silence-item" />
      </label>
      <div className="sm:col-span-2">
        <ReasonField id={`${id}-reason`} label="Reason (required)" value={reason} onChange={setReason} />
      </div>
    </ActionForm>
  );
}
