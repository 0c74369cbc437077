import { FRESHNESS_LABELS, type FreshnessStatus } from '@/lib/freshness/types';

// An item's freshness status as a small badge: the word always (never colour alone), the reason on
// hover. Used by every table, the search results, the overview and the item page.

export const FRESHNESS_BADGE_STYLES: Record<FreshnessStatus, string> = {
  'rotation-failing': 'bg-red-100 text-red-900 ring-red-300',
  overdue: 'bg-orange-100 text-orange-900 ring-orange-300',
  'never-rotated': 'bg-violet-50 text-violet-800 ring-violet-200',
  'due-soon': 'bg-amber-50 text-amber-800 ring-amber-200',
  fresh: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
};

/** Chart and legend colours, in the same order of alarm as the badges (CSS variables of app/globals.css, so they follow the theme). */
export const FRESHNESS_COLORS: Record<FreshnessStatus, string> = {
  'rotation-failing': 'var(--freshness-rotation-failing)',
  overdue: 'var(--freshness-overdue)',
  'never-rotated': 'var(--freshness-never-rotated)',
  'due-soon': 'var(--freshness-due-soon)',
  fresh: 'var(--freshness-fresh)',
};

const SIZES = { sm: 'px-1.5 py-0.5 text-xs', xs: 'px-1 text-[11px]' } as const;

export function FreshnessBadge({
  status,
  reason,
  size = 'sm',
  className = '',
}: {
  status: FreshnessStatus;
  reason?: string | null;
  size?: keyof typeof SIZES;
  className?: string;
}) {
  return (
    <span
      data-testid="freshness-badge"
      data-status={status}
      title={reason ?? undefined}
      className={`inline-flex shrink-0 whitespace-nowrap rounded font-medium ring-1 ring-inset ${SIZES[size]} ${FRESHNESS_BADGE_STYLES[status]} ${className}`}
    >
      {FRESHNESS_LABELS[status]}
    </span>
  );
}
