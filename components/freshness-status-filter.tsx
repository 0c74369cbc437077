import Link from 'next/link';
import { FRESHNESS_LABELS, FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { FRESHNESS_BADGE_STYLES } from './freshness-badge';

// The status filter of folder pages and the freshness list: one link per status that adds it to or
// removes it from the URL's `status=` list, and "All". Links, not a form, so every view is a URL and it
// works without JavaScript; it wraps on a 390 px phone instead of scrolling sideways.

export function FreshnessStatusFilter({
  selected,
  hrefFor,
  counts,
}: {
  selected: readonly FreshnessStatus[];
  /** The view's address with these statuses (empty: all). Server components only (a function prop). */
  hrefFor: (statuses: FreshnessStatus[]) => string;
  /** Items per status, when known. */
  counts?: Partial<Record<FreshnessStatus, number>>;
}) {
  // Phones: 36 px tall, for a thumb; from md the compact chip.
  const chip = 'inline-flex min-h-11 items-center gap-1 rounded-full px-2.5 py-1 text-xs font-medium ring-1 ring-inset md:min-h-0';
  return (
    <nav aria-label="Filter by freshness" className="flex flex-wrap items-center gap-1.5" data-testid="status-filter">
      <Link
        href={hrefFor([])}
        aria-current={selected.length === 0 ? 'true' : undefined}
        className={`${chip} ${selected.length === 0 ? 'bg-slate-900 text-white ring-slate-900' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-50'}`}
      >
        All
      </Link>
      {FRESHNESS_STATUSES.map((status) => {
        const on = selected.includes(status);
        const next = on ? selected.filter((s) => s !== status) : [...selected, status];
        return (
          <Link
            key={status}
            href={hrefFor(FRESHNESS_STATUSES.filter((s) => next.includes(s)))}
            aria-current={on ? 'true' : undefined}
            data-status={status}
            className={`${chip} ${on ? `${FRESHNESS_BADGE_STYLES[status]} ring-2` : 'bg-white text-slate-600 ring-slate-300 hover:bg-slate-50'}`}
          >
            {on && <span aria-hidden>✓</span>}
            {FRESHNESS_LABELS[status]}
            {counts?.[status] !== undefined && <span className="tabular-nums opacity-75">{counts[status]!.toLocaleString('en-US')}</span>}
            {on && <span className="sr-only"> (selected; remove)</span>}
          </Link>
        );
      })}
    </nav>
  );
}
