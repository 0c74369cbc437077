import Link from 'next/link';
import type { InventoryStatus } from '@/lib/data/inventory-types';
import { FRESHNESS_LABELS, FRESHNESS_STATUSES, type StoreFreshnessSummary } from '@/lib/freshness/types';
import { freshnessHref } from '@/lib/links';
import { FRESHNESS_BADGE_STYLES, FRESHNESS_COLORS } from './freshness-badge';

// The overview's per-store cards: counts by status, worst first, each a link to those items; a bar
// of the proportions; "first sync under way" for stores that have no inventory yet.

function pendingText(status: InventoryStatus | undefined): string {
  if (status?.walking)
    return status.walking.items === null ? 'First sync under way.' : `First sync under way (${status.walking.items.toLocaleString('en-US')} items so far).`;
  if (status?.error) return `No inventory yet: the first sync failed (${status.error.code}). It is retried on the next sync.`;
  return 'First sync under way; counts appear when it finishes.';
}

export function FreshnessOverviewStores({ stores, inventory }: { stores: StoreFreshnessSummary[]; inventory: ReadonlyMap<string, InventoryStatus> }) {
  return (
    <ul className="grid min-w-0 gap-4 sm:grid-cols-2 xl:grid-cols-3" data-testid="overview-stores">
      {stores.map((store) => (
        <li key={store.storeId} className="min-w-0 space-y-3 rounded-lg border border-slate-200 bg-white p-4" data-testid="overview-store" data-store={store.storeId}>
          <div className="flex min-w-0 flex-wrap items-baseline justify-between gap-x-3">
            <h3 className="min-w-0 break-words font-semibold text-slate-900">{store.label}</h3>
            <span className="text-xs text-slate-500">
              {store.storeId} · {store.kind}
            </span>
          </div>
          {store.pending ? (
            <p className="text-sm text-slate-600" data-testid="overview-store-pending">
              {pendingText(inventory.get(store.storeId))}
            </p>
          ) : (
            <>
              <ProportionBar counts={store.counts} total={store.total} />
              <dl className="space-y-1 text-sm">
                {FRESHNESS_STATUSES.map((status) => (
                  <div key={status} className="flex items-center justify-between gap-3">
                    <dt>
                      <span className={`inline-flex rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${FRESHNESS_BADGE_STYLES[status]}`}>{FRESHNESS_LABELS[status]}</span>
                    </dt>
                    <dd className="tabular-nums">
                      {store.counts[status] > 0 ? (
                        <Link
                          href={freshnessHref({ store: [store.storeId], status: [status] })}
                          className="inline-flex min-h-11 min-w-11 items-center justify-end font-medium text-slate-900 underline-offset-2 hover:underline md:min-h-0 md:min-w-0"
                          data-testid="overview-count"
                          data-status={status}
                          aria-label={`${store.counts[status].toLocaleString('en-US')} ${FRESHNESS_LABELS[status].toLowerCase()} in ${store.label}`}
                        >
                          {store.counts[status].toLocaleString('en-US')}
                        </Link>
                      ) : (
                        <span className="text-slate-500" data-testid="overview-count" data-status={status}>
                          0
                        </span>
                      )}
                    </dd>
                  </div>
                ))}
              </dl>
              <p className="text-xs text-slate-500">
                <Link href={freshnessHref({ store: [store.storeId] })} className="underline-offset-2 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center">
                  {store.total.toLocaleString('en-US')} item{store.total === 1 ? '' : 's'} you may see
                </Link>
              </p>
            </>
          )}
        </li>
      ))}
    </ul>
  );
}

/**
 * The statuses' shares of a store as one stacked bar. An SVG whose rectangles carry their widths and
 * colours as attributes: a style="" attribute would be refused by the Content-Security-Policy.
 */
function ProportionBar({ counts, total }: { counts: StoreFreshnessSummary['counts']; total: number }) {
  let x = 0;
  return (
    <svg className="block h-2 w-full overflow-hidden rounded-full bg-slate-100" viewBox="0 0 100 1" preserveAspectRatio="none" aria-hidden>
      {total > 0 &&
        FRESHNESS_STATUSES.map((status) => {
          if (counts[status] <= 0) return null;
          const width = (counts[status] / total) * 100;
          const rect = <rect key={status} x={x} y={0} width={width} height={1} fill={FRESHNESS_COLORS[status]} />;
          x += width;
          return rect;
        })}
    </svg>
  );
}
