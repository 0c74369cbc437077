import type { Metadata } from 'next';
import Link from 'next/link';
import { notFound } from 'next/navigation';
import { Suspense } from 'react';
import { Breadcrumbs } from '@/components/breadcrumbs';
import { FolderDrawer } from '@/components/folder-drawer';
import { FolderTree } from '@/components/folder-tree';
import { FreshnessStatusFilter } from '@/components/freshness-status-filter';
import { InventoryStatusStrip } from '@/components/inventory-status';
import { StoreErrorBanner } from '@/components/store-error-banner';
import { StorePicker } from '@/components/store-picker';
import { refreshInventoryAction } from '@/lib/actions/refresh-inventory';
import { can } from '@/lib/auth/authorize';
import { FRESHNESS_LABELS } from '@/lib/freshness/types';
import { describeStoreFailure, getFolderShell, listStoreSummaries, type FolderShell } from '@/lib/data/browse';
import { requirePermission } from '@/lib/session';
import { browseHref, browseQuerySchema, folderFromSegments, storeIdSchema } from '@/lib/validations/browse';
import { FolderItemsTable, FolderItemsTableSkeleton, loadFolderItems } from './folder-items-table';

export const dynamic = 'force-dynamic';

type Props = {
  params: Promise<{ store: string; path?: string[] }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
};

export async function generateMetadata({ params }: Props): Promise<Metadata> {
  const { store, path } = await params;
  const folder = folderFromSegments(path);
  return { title: `${store}:${folder.ok ? folder.value : '/'}` };
}

export default async function BrowsePage({ params, searchParams }: Props) {
  const { store: storeParam, path: segments } = await params;
  // The proxy already answered 400 for malformed input; these parses keep the page safe on its own.
  const storeId = storeIdSchema.safeParse(storeParam);
  const folder = folderFromSegments(segments);
  const query = browseQuerySchema.safeParse(await searchParams);
  if (!storeId.success || !folder.ok || !query.success) notFound();

  const principal = await requirePermission('list', { storeId: storeId.data, folder: folder.value });
  const stores = await listStoreSummaries(principal);
  if (!stores.some((s) => s.id === storeId.data)) notFound();

  // The folder's shell (tree, sub-folders, counts) is the same for everyone with the same grants and
  // is kept per inventory version; its rows, asked for now, stream in behind it (FolderItemsTable).
  let view: FolderShell | null = null;
  let failure: ReturnType<typeof describeStoreFailure> = null;
  try {
    view = await getFolderShell(principal, storeId.data, folder.value);
  } catch (error) {
    failure = describeStoreFailure(error, storeId.data);
    if (!failure) throw error;
  }
  if (!view && !failure) notFound();
  const items = view && !view.pending ? loadFolderItems(principal, view.store.id, view.path, query.data, view.listedItems) : null;
  // A link into the folder (a cursor) is checked before answering, so a stale one redirects with a 307.
  if (items && query.data.after) await items;
  const canRefresh = can(principal, 'refresh-inventory', { storeId: storeId.data, folder: '/' });

  return (
    <div className="min-w-0 space-y-4">
      <StorePicker stores={stores} current={storeId.data} />
      {failure && <StoreErrorBanner {...failure} />}
      {view && <InventoryStatusStrip status={view.status} canRefresh={canRefresh && !view.status.live} refresh={refreshInventoryAction} />}
      {view?.pending && (
        <p className="rounded-md border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid="inventory-pending">
          {view.status.walking
            ? 'The first sync of this store is under way; its folders appear here as soon as it finishes.'
            : 'This store has no inventory yet. It is listed once a sync succeeds.'}
        </p>
      )}
      {view && !view.pending && (
        <div className="grid min-w-0 gap-3 md:grid-cols-[16rem_minmax(0,1fr)] md:gap-6">
          <aside className="min-w-0">
            <FolderDrawer label={view.path}>
              <FolderTree storeId={view.store.id} tree={view.tree} current={view.path} />
            </FolderDrawer>
          </aside>
          <section className="min-w-0 space-y-3">
            <Breadcrumbs storeId={view.store.id} folders={view.ancestors} />
            <div className="flex flex-wrap items-center justify-between gap-3">
              <h1 className="break-all font-mono text-xl font-semibold">{view.path}</h1>
              <form method="get" action={browseHref(view.store.id, view.path)} className="flex min-w-0 gap-2" role="search" aria-label="Filter this folder">
                {query.data.sort && <input type="hidden" name="sort" value={query.data.sort} />}
                {query.data.dir && <input type="hidden" name="dir" value={query.data.dir} />}
                {query.data.status && <input type="hidden" name="status" value={query.data.status.join(',')} />}
                <label className="sr-only" htmlFor="name-filter">
                  Filter by name
                </label>
                <input
                  id="name-filter"
                  name="q"
                  defaultValue={query.data.q ?? ''}
                  maxLength={200}
                  placeholder="Filter by name"
                  className="w-40 min-w-0 rounded-md border border-slate-300 px-2 py-1 text-sm max-md:min-h-11 sm:w-56"
                />
                <button type="submit" className="rounded-md bg-slate-900 px-3 py-1 text-sm text-white max-md:min-h-11">
                  Filter
                </button>
              </form>
            </div>
            <FreshnessStatusFilter
              selected={query.data.status ?? []}
              hrefFor={(status) => browseHref(view.store.id, view.path, { q: query.data.q, sort: query.data.sort, dir: query.data.dir, status })}
            />
            <Suspense
              key={`${view.store.id}${view.path}?${query.data.q ?? ''}&${query.data.sort ?? ''}&${query.data.dir ?? ''}&${(query.data.status ?? []).join(',')}&${query.data.after ?? ''}`}
              fallback={<FolderItemsTableSkeleton />}
            >
              {items && <FolderItemsTable items={items} storeId={view.store.id} path={view.path} query={query.data} folders={view.folders} />}
            </Suspense>
            {(query.data.q || query.data.status) && (
              <p className="text-xs text-slate-500">
                Items{query.data.q ? ` whose name contains “${query.data.q}”` : ''}
                {query.data.status ? `${query.data.q ? ' and' : ''} with status ${query.data.status.map((s) => FRESHNESS_LABELS[s].toLowerCase()).join(' or ')}` : ''}.{' '}
                <Link href={browseHref(view.store.id, view.path)} className="underline">
                  Clear the filters
                </Link>
              </p>
            )}
          </section>
        </div>
      )}
    </div>
  );
}
