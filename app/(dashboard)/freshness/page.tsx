import type { Metadata } from 'next';
import { FilterProblems } from '@/components/filter-problems';
import Link from 'next/link';
import { FreshnessItemList } from '@/components/freshness-item-list';
import { FreshnessStatusFilter } from '@/components/freshness-status-filter';
import { listStoreSummaries } from '@/lib/data/browse';
import { listFreshness } from '@/lib/data/freshness';
import type { FreshnessPage } from '@/lib/freshness/types';
import { isCursorError } from '@/lib/inventory/inventory-index';
import { freshnessHref } from '@/lib/links';
import { requirePermission } from '@/lib/session';
import { parseFreshnessFilters } from '@/lib/validations/freshness';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Freshness' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

/**
 * /freshness?store=prod-secrets&status=overdue,due-soon&cursor=…: every item of the caller's stores with
 * the chosen statuses, worst first, 100 a page (or `limit`) with a link to the next (the overview's counts link here).
 */
export default async function FreshnessListPage({ searchParams }: Props) {
  const principal = await requirePermission('list');
  const stores = await listStoreSummaries(principal);
  const parsed = parseFreshnessFilters(await searchParams);

  if (!parsed.ok) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold">Freshness</h1>
        <FilterProblems problems={parsed.problems} resetHref={freshnessHref()} testId="freshness-filter-error" />
      </div>
    );
  }

  // limit (1–1000, default 100) is honoured but not carried into the links: pages are 100 long.
  const { stores: chosenStores, statuses, cursor, limit } = parsed.value;
  const labels = new Map(stores.map((s) => [s.id, s.label]));
  // A store the caller may not see is answered like one that does not exist.
  const unknown = chosenStores.filter((id) => !labels.has(id));
  let page: FreshnessPage | null = null;
  let cursorProblem: string | null = null;
  if (unknown.length === 0) {
    try {
      page = await listFreshness(principal, {
        ...(chosenStores.length ? { storeIds: chosenStores } : {}),
        ...(statuses.length ? { statuses } : {}),
        ...(cursor ? { cursor } : {}),
        limit,
      });
    } catch (error) {
      if (!isCursorError(error)) throw error;
      cursorProblem = error.message;
    }
  }
  const storeChip = (on: boolean) =>
    `rounded-full px-3 py-1 text-sm ring-1 ring-inset ${on ? 'bg-slate-900 text-white ring-slate-900' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-100'}`;

  return (
    <div className="min-w-0 space-y-4">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">Freshness</h1>
        <p className="text-sm text-slate-600">Items worst first: rotation failing, then overdue, never rotated, due soon and fresh.</p>
      </header>
      {stores.length > 1 && (
        <nav aria-label="Stores" className="flex flex-wrap gap-2">
          <Link href={freshnessHref({ status: statuses })} aria-current={chosenStores.length === 0 ? 'true' : undefined} className={storeChip(chosenStores.length === 0)}>
            All stores
          </Link>
          {stores.map((store) => (
            <Link
              key={store.id}
              href={freshnessHref({ store: [store.id], status: statuses })}
              aria-current={chosenStores.length === 1 && chosenStores[0] === store.id ? 'true' : undefined}
              className={storeChip(chosenStores.length === 1 && chosenStores[0] === store.id)}
            >
              {store.label}
            </Link>
          ))}
        </nav>
      )}
      <FreshnessStatusFilter selected={statuses} hrefFor={(next) => freshnessHref({ store: chosenStores, status: next })} />

      {unknown.length > 0 && (
        <p role="alert" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="freshness-filter-error">
          There is no store {unknown.map((id) => `"${id}"`).join(', ')}. <Link href={freshnessHref({ status: statuses })} className="underline">Show every store</Link>
        </p>
      )}
      {cursorProblem && (
        <p role="alert" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="freshness-filter-error">
          {cursorProblem} <Link href={freshnessHref({ store: chosenStores, status: statuses })} className="underline">First page</Link>
        </p>
      )}
      {page && (
        <>
          {cursor && (
            <p className="text-sm">
              <Link href={freshnessHref({ store: chosenStores, status: statuses })} className="text-slate-700 underline-offset-2 hover:underline">
                ↑ Back to the worst items
              </Link>
            </p>
          )}
          {page.items.length === 0 ? (
            <p className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid="freshness-empty">
              {cursor ? 'No more items.' : 'No items match these filters.'}
            </p>
          ) : (
            <FreshnessItemList rows={page.items} storeLabels={labels} />
          )}
          {page.nextCursor && (
            <p className="text-sm">
              <Link
                href={freshnessHref({ store: chosenStores, status: statuses, cursor: page.nextCursor })}
                className="inline-flex rounded-md bg-white px-3 py-1.5 font-medium text-slate-800 ring-1 ring-inset ring-slate-300 hover:bg-slate-50"
                data-testid="freshness-more"
              >
                More →
              </Link>
            </p>
          )}
        </>
      )}
    </div>
  );
}
