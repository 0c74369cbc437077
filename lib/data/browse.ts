import 'server-only';
import { cache } from 'react';
import { can, canListSubtree, listableNamePattern, listableNamePatternBelow, listableNameRanges } from '@/lib/auth/authorize';
import { grantCoversStore } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { getStore, getStores } from '@/lib/stores/registry';
import type { FreshnessStatus, ItemFreshness } from '@/lib/freshness/types';
import type { IndexedItem, InventoryIndex } from '@/lib/inventory/inventory-index';
import { isStoreError } from '@/lib/stores/errors';
import { isWritable, type ItemDetail, type SecretStore, type StoreKind } from '@/lib/stores/types';
import { ancestorsOf } from '@/lib/validations/item-name';
import type { BrowseQuery, SortKey } from '@/lib/validations/browse';
import { cachedForGrantSet, inventoryVersion, listGrantSet } from '@/lib/inventory/folder-cache';
import { inventoryStatusesOf } from '@/lib/inventory/store-status';
import { hasInventory, inventoryIndexOf, inventoryStatusFor, inventoryStatusOf, statusCutFor } from './inventory-status';
import type { InventoryStatus, ItemRow, RowFreshness } from './inventory-types';

// The data access layer for browsing. Pages and /api/v1 call these and get small DTOs: metadata
// the UI shows, never a value (no function here calls readValue), never a raw store record.
// Folders, counts and searches come from the inventory; only the item page asks the store itself
// (history, tags). Everything is cut to the caller's grants here: items outside them are not
// listed at all, not even their names.

/**
 * Rows a folder page sends with its HTML: a first screenful and its overscan (about 26 rows) with
 * room to scroll; the table fetches 250 more once the reader scrolls near their end. Every row sent
 * is read, serialized into the page's payload and parsed again to render, on every view (100 cost
 * about a third of a page's server time).
 */
export const FOLDER_PAGE_SIZE = 50;

export interface StoreSummary {
  id: string;
  label: string;
  kind: StoreKind;
  /** Whether the dashboard can write new values to it (rotate, generate). */
  writable: boolean;
}

export type { ItemRow } from './inventory-types';

export interface FolderNode {
  path: string;
  name: string;
  /** Sub-folders, loaded only along the open path. */
  children: FolderNode[] | null;
}

export interface FolderView {
  store: StoreSummary;
  status: InventoryStatus;
  path: string;
  ancestors: string[];
  folders: { path: string; name: string; totalItems: number | null }[];
  items: ItemRow[];
  /** Cursor of the page after these items; null at the end. */
  nextCursor: string | null;
  /** Items matching the filter in the whole folder. */
  totalItems: number;
  tree: FolderNode[];
  /** The store has no inventory yet (first sync under way or failed): nothing to list. */
  pending: boolean;
}

const summary = (s: SecretStore): StoreSummary => ({ id: s.id, label: s.label, kind: s.kind, writable: isWritable(s) });

/** The stores the caller holds any grant on. */
export async function listStoreSummaries(principal: Principal): Promise<StoreSummary[]> {
  return (await getStores()).filter((s) => principal.grants.some((g) => grantCoversStore(g, s.id))).map(summary);
}

export async function findStore(principal: Principal, storeId: string): Promise<StoreSummary | null> {
  return (await listStoreSummaries(principal)).find((s) => s.id === storeId) ?? null;
}

/** Only what a row shows of an item's freshness. */
function rowFreshness(item: IndexedItem): RowFreshness {
  return { status: item.freshness.status, reason: item.freshness.reason };
}

export function toItemRow(item: IndexedItem): ItemRow {
  return {
    name: item.name,
    leaf: item.leaf,
    kind: item.kind,
    version: item.version,
    lastChangedAt: item.lastChangedAt,
    lastChangedBy: item.lastChangedBy,
    freshness: rowFreshness(item),
  };
}

/**
 * Whether a folder of the inventory is shown to the caller: it holds an item they may list. A glob
 * with a wildcard level reaches folders that may hold none of its names (a grant on "/prod/ * /db"
 * reaches /prod/web/); such a folder is shown only when one of them is there, so a folder's name
 * never tells of items outside the grants.
 */
export async function folderVisible(principal: Principal, index: InventoryIndex, storeId: string, path: string): Promise<boolean> {
  if (!can(principal, 'list', { storeId, folder: path })) return false;
  if (canListSubtree(principal, storeId, path)) return true;
  const pattern = listableNamePattern(principal, storeId);
  return pattern !== false && index.anyItemBelow(storeId, path, pattern, pattern === null ? null : listableNameRanges(principal, storeId));
}

async function visibleChildFolders(principal: Principal, index: InventoryIndex, storeId: string, path: string) {
  const children = await index.childFolders(storeId, path);
  const visible = await Promise.all(children.map((child) => folderVisible(principal, index, storeId, child.path)));
  return children
    .filter((_, i) => visible[i])
    .map((child) => ({ ...child, totalItems: canListSubtree(principal, storeId, child.path) ? child.totalItems : null }));
}

async function loadTree(principal: Principal, index: InventoryIndex, storeId: string, path: string): Promise<FolderNode[]> {
  const open = new Set(ancestorsOf(path));
  const build = async (folder: string): Promise<FolderNode[]> => {
    const children = await visibleChildFolders(principal, index, storeId, folder);
    return Promise.all(
      children.map(async (child) => ({ path: child.path, name: child.name, children: open.has(child.path) ? await build(child.path) : null })),
    );
  };
  return build('/');
}

/** What a folder page shows around its items: the same for everyone with the same grants on the store. */
export interface FolderShell {
  store: StoreSummary;
  status: InventoryStatus;
  path: string;
  ancestors: string[];
  folders: { path: string; name: string; totalItems: number | null }[];
  tree: FolderNode[];
  /** Items the caller may list directly in the folder (no name or status filter). */
  listedItems: number;
  /** The store has no inventory yet (first sync under way or failed): nothing to list. */
  pending: boolean;
}

/** One page of a folder's items as its table shows them, cut to the caller's grants. */
export interface FolderItems {
  items: ItemRow[];
  /** Cursor of the page after these items; null at the end. */
  nextCursor: string | null;
  /** Items matching the filter in the whole folder. */
  totalItems: number;
}

/** The caller's name cut below a folder, or null when the store or the folder is not theirs to list. */
async function folderAccess(principal: Principal, storeId: string, path: string) {
  const store = await getStore(storeId);
  if (!store || !can(principal, 'list', { storeId, folder: path })) return null;
  const pattern = listableNamePatternBelow(principal, storeId, path);
  if (pattern === false) return null;
  // Where the grants' names lie, so the cut walks only those ranges of the name index.
  return { store, pattern, nameRanges: pattern === null ? null : listableNameRanges(principal, storeId) };
}

/**
 * A folder's tree, sub-folders and item count, cut to the caller's grants; null when the store or the
 * folder does not exist (for this caller). Whether the caller may list the folder is decided here on
 * every call; what their grant set sees of it is kept per inventory version (lib/inventory/folder-cache.ts).
 */
export async function getFolderShell(principal: Principal, storeId: string, path: string): Promise<FolderShell | null> {
  const access = await folderAccess(principal, storeId, path);
  if (!access) return null;
  const { store, pattern, nameRanges } = access;
  // The header read every store's status for this render already (the store is one of the caller's: folderAccess).
  const wholeStatus = (await wholeStatusesOfCallerStores(principal)).get(store.id) ?? (await inventoryStatusOf(store));
  const status = await statusCutFor(principal, store, wholeStatus);
  const base = { store: summary(store), status, path, ancestors: ancestorsOf(path) };
  if (!hasInventory(status)) return { ...base, folders: [], tree: [], listedItems: 0, pending: true };
  const index = await inventoryIndexOf(store);
  const key = { inventory: index, storeId, version: inventoryVersion(wholeStatus), grantSet: listGrantSet(principal, storeId), what: `folder:${path}` };
  const shared = await cachedForGrantSet(
    key,
    async () => {
      const folder = await index.getFolder(storeId, path);
      if (path !== '/' && (!folder || (pattern !== null && !(await index.anyItemBelow(storeId, path, pattern, nameRanges))))) return null;
      const [listedItems, folders, tree] = await Promise.all([
        pattern === null ? (folder?.directItems ?? 0) : index.countItems({ storeId, folder: path, namePattern: pattern, nameRanges }),
        visibleChildFolders(principal, index, storeId, path),
        loadTree(principal, index, storeId, path),
      ]);
      return { listedItems, folders: folders.map((f) => ({ path: f.path, name: f.name, totalItems: f.totalItems })), tree };
    },
    (value) => (value ? value.folders.length + treeSize(value.tree) : 1),
  );
  return shared && { ...base, ...shared, pending: false };
}

function treeSize(nodes: FolderNode[]): number {
  return nodes.reduce((n, node) => n + 1 + (node.children ? treeSize(node.children) : 0), 0);
}

/**
 * One page of a folder's items for its table, cut to the caller's grants in SQL; null when the store
 * or the folder is not theirs to list. `listedItems` (from the folder's shell) saves a count when no
 * filter applies.
 */
export async function getFolderItems(
  principal: Principal,
  storeId: string,
  path: string,
  query: BrowseQuery & { after?: string },
  options: { limit: number; listedItems?: number },
): Promise<FolderItems | null> {
  const access = await folderAccess(principal, storeId, path);
  if (!access) return null;
  const { store, pattern, nameRanges } = access;
  const index = await inventoryIndexOf(store);
  const statuses = query.status?.length ? query.status : undefined;
  const filter = { storeId, folder: path, q: query.q?.trim() || undefined, namePattern: pattern, nameRanges, statuses, now: new Date() };
  const unfiltered = !filter.q && !statuses;
  const [page, totalItems] = await Promise.all([
    index.folderPage({ ...filter, sort: query.sort, dir: query.dir, cursor: query.after, limit: options.limit }),
    unfiltered && options.listedItems !== undefined ? options.listedItems : index.countItems(filter),
  ]);
  return { items: page.items.map(toItemRow), nextCursor: page.nextCursor ?? null, totalItems };
}

/**
 * A folder's sub-folders and one page of its items, from the inventory, cut to the caller's
 * grants in SQL; null when the store or the folder does not exist (for this caller).
 */
export async function getFolderView(
  principal: Principal,
  storeId: string,
  path: string,
  query: BrowseQuery & { after?: string },
): Promise<FolderView | null> {
  const shell = await getFolderShell(principal, storeId, path);
  if (!shell) return null;
  const { listedItems, ...rest } = shell;
  if (shell.pending) return { ...rest, items: [], nextCursor: null, totalItems: 0 };
  const items = await getFolderItems(principal, storeId, path, query, { limit: FOLDER_PAGE_SIZE, listedItems });
  return items && { ...rest, ...items };
}

export interface ItemsPageQuery {
  path: string;
  recursive?: boolean;
  sort?: SortKey;
  dir?: 'asc' | 'desc';
  q?: string;
  /** Only items in these freshness statuses. */
  status?: FreshnessStatus[];
  cursor?: string;
  limit: number;
}

export interface ApiItem {
  name: string;
  kind: string;
  description: string | null;
  version: string;
  labels: string[];
  lastChangedAt: string;
  lastChangedBy: string | null;
  freshness: RowFreshness;
}

/** One page of a folder's items for /api/v1 and the scrolling table; null when the store is not the caller's. */
export async function listItemsPage(
  principal: Principal,
  storeId: string,
  query: ItemsPageQuery,
): Promise<{ status: InventoryStatus; items: ApiItem[]; nextCursor: string | null } | null> {
  const store = await getStore(storeId);
  const pattern = listableNamePatternBelow(principal, storeId, query.path);
  if (!store || pattern === false) return null;
  const status = await inventoryStatusFor(principal, store);
  if (!hasInventory(status)) return { status, items: [], nextCursor: null };
  const page = await (await inventoryIndexOf(store)).folderPage({
    storeId,
    folder: query.path,
    recursive: query.recursive,
    sort: query.sort,
    dir: query.dir,
    q: query.q?.trim() || undefined,
    ...(query.status?.length ? { statuses: query.status } : {}),
    cursor: query.cursor,
    limit: query.limit,
    namePattern: pattern,
    nameRanges: pattern === null ? null : listableNameRanges(principal, storeId),
  });
  return {
    status,
    items: page.items.map((item) => ({
      name: item.name,
      kind: item.kind,
      description: item.description,
      version: item.version,
      labels: item.labels,
      lastChangedAt: item.lastChangedAt,
      lastChangedBy: item.lastChangedBy,
      freshness: rowFreshness(item),
    })),
    nextCursor: page.nextCursor ?? null,
  };
}

/**
 * The inventory status of every store the caller holds a grant on, cut to them: the whole store's
 * counts only when their grants cover the whole store, else their own (see inventoryStatusFor).
 */
export async function listInventoryStatuses(principal: Principal, storeId?: string): Promise<InventoryStatus[]> {
  const stores = (await getStores()).filter((s) => principal.grants.some((g) => grantCoversStore(g, s.id)) && (!storeId || s.id === storeId));
  const whole = storeId ? await inventoryStatusesOf(stores) : await wholeStatusesOfCallerStores(principal).then((m) => stores.map((s) => m.get(s.id)!));
  const now = new Date();
  return Promise.all(stores.map((store, i) => statusCutFor(principal, store, whole[i]!, now)));
}

/**
 * The whole-store statuses of every store the caller holds a grant on, from one query (every page's
 * header shows them, for up to 80 stores), read once per page render: React's cache is per request,
 * and the principal is the request's one (getCurrentUser), so the header and the folder page share
 * the read. Outside a render (route handlers, tests) each call reads anew.
 */
const wholeStatusesOfCallerStores = cache(async (principal: Principal): Promise<Map<string, InventoryStatus>> => {
  const stores = (await getStores()).filter((s) => principal.grants.some((g) => grantCoversStore(g, s.id)));
  const statuses = await inventoryStatusesOf(stores);
  return new Map(stores.map((store, i) => [store.id, statuses[i]!]));
});

export interface ItemView {
  store: StoreSummary;
  item: ItemDetail;
}

/** One item's metadata and version history; null when the store or item does not exist. */
export async function getItemView(principal: Principal, storeId: string, name: string): Promise<ItemView | null> {
  const store = await getStore(storeId);
  if (!store || !can(principal, 'view-item', { storeId, name })) return null;
  const detail = await store.getItem(name);
  if (!detail) return null;
  // Explicit field selection: only what the item page renders.
  const item: ItemDetail = {
    name: detail.name,
    folder: detail.folder,
    kind: detail.kind,
    description: detail.description,
    tags: detail.tags,
    kmsKeyId: detail.kmsKeyId,
    lastChangedAt: detail.lastChangedAt,
    lastChangedBy: detail.lastChangedBy,
    currentVersion: detail.currentVersion,
    labels: detail.labels,
    versions: detail.versions.map((v) => ({ id: v.id, createdAt: v.createdAt, createdBy: v.createdBy, labels: v.labels })),
    details: detail.details,
  };
  return { store: summary(store), item };
}

/**
 * One item's freshness from the inventory (status, why, when due, the policy), for its page; null when the
 * caller may not view it, the store has no inventory yet, or the inventory does not hold it (yet).
 */
export async function getItemFreshness(principal: Principal, storeId: string, name: string): Promise<ItemFreshness | null> {
  const store = await getStore(storeId);
  if (!store || !can(principal, 'view-item', { storeId, name })) return null;
  if (!hasInventory(await inventoryStatusOf(store))) return null;
  const item = await (await inventoryIndexOf(store)).getItem(storeId, name);
  if (!item) return null;
  const { status, reason, dueAt, warnAt, policy } = item.freshness;
  return { status, reason, dueAt, warnAt, policy };
}

/** A store failure as the UI shows it: the store, the cause and what to do. */
export function describeStoreFailure(error: unknown, storeId: string): { storeId: string; code: string; message: string } | null {
  if (!isStoreError(error)) return null;
  return { storeId: error.storeId || storeId, code: error.code, message: error.message };
}
