import { redirect } from 'next/navigation';
import { StoreErrorBanner } from '@/components/store-error-banner';
import { VirtualItemsTable } from '@/components/virtual-items-table';
import type { Principal } from '@/lib/auth/principal';
import { describeStoreFailure, FOLDER_PAGE_SIZE, getFolderItems, type FolderShell } from '@/lib/data/browse';
import { isCursorError } from '@/lib/inventory/inventory-index';
import { browseHref, type BrowseQuery } from '@/lib/validations/browse';

// The part of a folder page that is the caller's own: the first rows of the folder, asked for on
// every request and streamed in after the page's shell (tree, sub-folders), which is kept per grant set.

interface Props {
  principal: Principal;
  storeId: string;
  path: string;
  query: BrowseQuery & { after?: string };
  folders: FolderShell['folders'];
  listedItems: number;
}

export async function FolderItemsTable({ principal, storeId, path, query, folders, listedItems }: Props) {
  let page;
  try {
    page = await getFolderItems(principal, storeId, path, query, { limit: FOLDER_PAGE_SIZE, listedItems });
  } catch (error) {
    // A position from another sort order or an old link: start the folder from the top.
    if (isCursorError(error)) redirect(browseHref(storeId, path, { ...query, after: undefined }));
    const failure = describeStoreFailure(error, storeId);
    if (!failure) throw error;
    return <StoreErrorBanner {...failure} />;
  }
  // The shell found the folder a moment ago; a grant or inventory change since then shows it empty.
  const items = page ?? { items: [], nextCursor: null, totalItems: 0 };
  return (
    <VirtualItemsTable
      storeId={storeId}
      path={path}
      query={{ q: query.q, sort: query.sort, dir: query.dir, status: query.status }}
      folders={folders}
      initialItems={items.items}
      initialCursor={items.nextCursor}
      totalItems={items.totalItems}
      startCursor={query.after ?? null}
    />
  );
}

/** Shown while the rows are on their way. */
export function FolderItemsTableSkeleton() {
  return (
    <div role="status" className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-500" data-testid="folder-items-loading">
      Loading items…
    </div>
  );
}
