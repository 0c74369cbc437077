import Link from 'next/link';
import type { FreshnessRow } from '@/lib/freshness/types';
import { FreshnessBadge } from './freshness-badge';

// Items by freshness as on-call reads them on a phone: status, name (a link to the item), store, age,
// owner and why, stacked so nothing scrolls sideways at 390 px. Metadata only.

export function formatAgeDays(days: number): string {
  if (days <= 0) return 'changed today';
  return `${days.toLocaleString('en-US')} day${days === 1 ? '' : 's'} old`;
}

export function FreshnessItemList({ rows, storeLabels, testId = 'freshness-rows' }: { rows: FreshnessRow[]; storeLabels: ReadonlyMap<string, string>; testId?: string }) {
  return (
    <ul className="divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white" data-testid={testId}>
      {rows.map((row) => (
        <li key={`${row.storeId}\u0000${row.name}`} className="min-w-0 space-y-1 px-3 py-2.5 text-sm sm:px-4" data-testid="freshness-row">
          <div className="flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1">
            <FreshnessBadge status={row.status} reason={row.reason} />
            <Link href={row.href} className="min-w-0 break-all font-mono font-medium text-slate-900 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center">
              {row.name}
            </Link>
          </div>
          <p className="flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-500">
            <span title={row.storeId}>{storeLabels.get(row.storeId) ?? row.storeId}</span>
            <span title={`Last changed ${row.lastChangedAt}`}>{formatAgeDays(row.ageDays)}</span>
            <span>{row.owner ? <>owner <span className="font-medium text-slate-700">{row.owner}</span></> : 'no owner tag'}</span>
          </p>
          <p className="break-words text-slate-600" data-testid="freshness-reason">
            {row.reason}
          </p>
        </li>
      ))}
    </ul>
  );
}
