import type { Metadata } from 'next';
import { notFound } from 'next/navigation';
import { Breadcrumbs } from '@/components/breadcrumbs';
import { FolderTree } from '@/components/folder-tree';
import { ItemsTable } from '@/components/items-table';
import { StoreErrorBanner } from '@/components/store-error-banner';
import { StorePicker } from '@/components/store-picker';
import { describeStoreFailure, getFolderView, listStoreSummaries, MAX_FOLDER_ITEMS, type FolderView } from '@/lib/data/browse';
import { requirePermission } from '@/lib/session';
import { browseHref, browseQuerySchema, folderFromSegments, storeIdSchema } from '@/lib/validations/browse';

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

  let view: FolderView | null = null;
  let failure: ReturnType<typeof describeStoreFailure> = null;
  try {
    view = await getFolderView(principal, storeId.data, folder.value, query.data);
  } catch (error) {
    failure = describeStoreFailure(error, storeId.data);
    if (!failure) throw error;
  }
  if (!view && !failure) notFound();

  return (
    <div className="space-y-4">
      <StorePicker stores={stores} current={storeId.data} />
      {failure && <StoreErrorBanner {...failure} />}
      {view && (
        <div className="grid gap-6 md:grid-cols-[16rem_1fr]">
          <aside className="rounded-lg border border-slate-200 bg-white p-3">
            <FolderTree storeId={view.store.id} tree={view.tree} current={view.path} />
          </aside>
          <section className="space-y-3">
            <Breadcrumbs storeId={view.store.id} folders={view.ancestors} />
            <div className="flex flex-wrap items-center justify-between gap-3">
              <h1 className="font-mono text-xl font-semibold">{view.path}</h1>
              <form method="get" action={browseHref(view.store.id, view.path)} className="flex gap-2" role="search">
                {query.data.sort && <input type="hidden" name="sort" value={query.data.sort} />}
                {query.data.dir && <input type="hidden" name="dir" value={query.data.dir} />}
                <label className="sr-only" htmlFor="name-filter">
                  Filter by name
                </label>
                <input
                  id="name-filter"
                  name="q"
                  defaultValue={query.data.q ?? ''}
                  maxLength={200}
                  placeholder="Filter by name"
                  className="w-56 rounded-md border border-slate-300 px-2 py-1 text-sm"
                />
                <button type="submit" className="rounded-md bg-slate-900 px-3 py-1 text-sm text-white">
                  Filter
                </button>
              </form>
            </div>
            <div className="overflow-x-auto rounded-lg border border-slate-200">
              <ItemsTable storeId={view.store.id} path={view.path} query={query.data} folders={view.folders} items={view.items} />
            </div>
            <p className="text-xs text-slate-500">
              {view.items.length} of {view.totalItems} item{view.totalItems === 1 ? '' : 's'} in this folder
              {query.data.q ? ` match “${query.data.q}”` : ''}, {view.folders.length} sub-folder{view.folders.length === 1 ? '' : 's'}.
              {view.truncated && ` Only the first ${MAX_FOLDER_ITEMS} items are shown; use the filter to narrow down.`}
            </p>
          </section>
        </div>
      )}
    </div>
  );
}
