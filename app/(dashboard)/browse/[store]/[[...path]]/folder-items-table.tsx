import { redirect } from 'next/navigation';
import { StoreErrorBanner } from '@/components/store-error-banner';
import { VirtualItemsTable } from '@/components/virtual-items-table';
import type { Principal } from '@/lib/auth/principal';
import { describeStoreFailure, FOLDER_PAGE_SIZE, getFolderItems, type FolderItems, type FolderShell } from '@/lib/data/browse';
import { isCursorError } from '@/lib/inventory/inventory-index';
import { browseHref, type BrowseQuery } from '@/lib/validations/browse';

// The part of a folder page that is the caller's own: the first rows of the folder, asked for on
// every request and streamed in after the page's shell (tree, sub-folders), which is kept per grant set.

export type FolderItemsOutcome = { page: FolderItems | null } | { failure: NonNullable<ReturnType<typeof describeStoreFailure>> };

/**
 * The first rows of the folder for the caller. A cursor from another sort order or an old link
 * redirects to the top of the folder: with a 307 when the page awaits this before it answers (it does
 * when the URL carries one), else from within the stream.
 */
export async function loadFolderItems(
  principal: Principal,
  storeId: string,
  path: string,
  query: BrowseQuery & { after?: string },
  listedItems: number,
): Promise<FolderItemsOutcome> {
  try {
    return { page: await getFolderItems(principal, storeId, path, query, { limit: FOLDER_PAGE_SIZE, listedItems }) };
  } catch (error) {
    if (isCursorError(error)) redirect(browseHref(storeId, path, { ...query, after: undefined }));
    const failure = describeStoreFailure(error, storeId);
    if (!failure) throw error;
    return { failure };
  }
}

interface Props {
  items: Promise<FolderItemsOutcome>;
  storeId: string;
  path: string;
  query: BrowseQuery & { after?: string };
  folders: FolderShell['folders'];
}

export async function FolderItemsTable({ items, storeId, path, query, folders }: Props) {
  const outcome = await items;
  if ('failure' in outcome) return <StoreErrorBanner {...outcome.failure} />;
  // The shell found the folder a moment ago; a grant or inventory change since then shows it empty.
  const page = outcome.page ?? { items: [], nextCursor: null, totalItems: 0 };
  return (
    <VirtualItemsTable
      storeId={storeId}
      path={path}
      query={{ q: query.q, sort: query.sort, dir: query.dir, status: query.status }}
      folders={folders}
      initialItems={page.items}
      initialCursor={page.nextCursor}
      totalItems={page.totalItems}
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
