'use client';

import Link from 'next/link';
import { CONTROLS } from '@/lib/findings/controls';
import { FINDING_STATUSES, SEVERITIES, SEVERITY_LABELS, type FindingStatus } from '@/lib/findings/types';

// The findings page's filter form (a plain GET form: it works before the page's scripts run). The
// controls it offers come from the catalogue in this bundle, so the page's payload carries only the
// filters in force and the caller's stores.

const INPUT = 'w-full rounded border border-slate-300 px-2 py-1 text-sm';
const STATUS_LABELS: Record<FindingStatus, string> = { open: 'Open', suppressed: 'Suppressed', resolved: 'Resolved' };

export interface FindingFilterValues {
  controls?: readonly string[] | undefined;
  storeIds?: readonly string[] | undefined;
  accounts?: readonly string[] | undefined;
  owners?: readonly string[] | undefined;
  severities?: readonly string[] | undefined;
  /** The statuses shown (open when the URL names none). */
  statuses: readonly string[];
}

const single = (values: readonly string[] | undefined) => (values?.length === 1 ? values[0]! : '');
// A select shows one choice; several from the URL (control=a,b) keep it a multiple select, so submitting keeps them.
const selectValue = (values: readonly string[] | undefined) =>
  (values?.length ?? 0) > 1 ? { multiple: true, defaultValue: [...values!] } : { defaultValue: single(values) };

export function FindingFilterForm({ filters, stores }: { filters: FindingFilterValues; stores: { id: string; label: string }[] }) {
  const { statuses } = filters;
  return (
    <form method="get" action="/findings" className="grid grid-cols-2 gap-2 rounded-lg border border-slate-200 bg-white p-3 sm:grid-cols-4" data-testid="findings-filters">
      <label className="col-span-2 space-y-0.5 text-xs text-slate-600">
        <span>Control</span>
        <select name="control" {...selectValue(filters.controls)} className={INPUT}>
          <option value="">Any control</option>
          {CONTROLS.map((c) => (
            <option key={c.id} value={c.id}>
              {c.title}
            </option>
          ))}
        </select>
      </label>
      <label className="space-y-0.5 text-xs text-slate-600">
        <span>Store</span>
        <select name="store" {...selectValue(filters.storeIds)} className={INPUT}>
          <option value="">Any store</option>
          {stores.map((s) => (
            <option key={s.id} value={s.id}>
              {s.label}
            </option>
          ))}
        </select>
      </label>
      <label className="space-y-0.5 text-xs text-slate-600">
        <span>Account</span>
        <input name="account" defaultValue={(filters.accounts ?? []).join(',')} placeholder="111122223333" maxLength={1300} className={INPUT} />
      </label>
      <label className="space-y-0.5 text-xs text-slate-600">
        <span>Owner</span>
        <input name="owner" defaultValue={single(filters.owners)} placeholder="team-payments" maxLength={256} className={INPUT} />
      </label>
      <fieldset className="space-y-0.5 text-xs text-slate-600">
        <legend>Severity</legend>
        <div className="flex flex-wrap gap-x-3">
          {SEVERITIES.map((s) => (
            <label key={s} className="inline-flex items-center gap-1">
              <input type="checkbox" name="severity" value={s} defaultChecked={filters.severities?.includes(s) ?? false} />
              {SEVERITY_LABELS[s]}
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset className="space-y-0.5 text-xs text-slate-600">
        <legend>Status</legend>
        <div className="flex flex-wrap gap-x-3">
          {FINDING_STATUSES.map((s) => (
            <label key={s} className="inline-flex items-center gap-1">
              <input type="checkbox" name="status" value={s} defaultChecked={statuses.includes(s)} />
              {STATUS_LABELS[s]}
            </label>
          ))}
        </div>
      </fieldset>
      <div className="col-span-2 flex items-end gap-3 sm:col-span-1">
        <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white">
          Apply filters
        </button>
        <Link href="/findings" className="text-sm text-sky-700 underline">
          Clear
        </Link>
      </div>
    </form>
  );
}
