import 'server-only';
import { can } from '@/lib/auth/authorize';
import { grantCoversStore } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { getStore, getStores } from '@/lib/stores/registry';
import { isStoreError } from '@/lib/stores/errors';
import { isWritable, type ItemDetail, type ItemMetadata, type SecretStore, type StoreKind } from '@/lib/stores/types';
import { ancestorsOf, leafOf } from '@/lib/validations/item-name';
import type { BrowseQuery, SortKey } from '@/lib/validations/browse';

// The data access layer for browsing. Pages call these and get small DTOs: metadata the UI shows,
// never a value (no function here calls readValue), never a raw store record. Everything is cut to
// the caller's grants here: items outside them are not listed at all, not even their names.

export const MAX_FOLDER_ITEMS = 2000;
const PAGE = 500;

export interface StoreSummary {
  id: string;
  label: string;
  kind: StoreKind;
  /** Whether the dashboard can write new values to it (rotate, generate). */
  writable: boolean;
}

export interface ItemRow {
  name: string;
  leaf: string;
  kind: string;
  version: string;
  lastChangedAt: string;
  lastChangedBy: string | null;
}

export interface FolderNode {
  path: string;
  name: string;
  /** Sub-folders, loaded only along the open path. */
  children: FolderNode[] | null;
}

export interface FolderView {
  store: StoreSummary;
  path: string;
  ancestors: string[];
  folders: { path: string; name: string }[];
  items: ItemRow[];
  /** Items before the name filter. */
  totalItems: number;
  truncated: boolean;
  tree: FolderNode[];
}

const summary = (s: SecretStore): StoreSummary => ({ id: s.id, label: s.label, kind: s.kind, writable: isWritable(s) });

/** The stores the caller holds any grant on. */
export async function listStoreSummaries(principal: Principal): Promise<StoreSummary[]> {
  return (await getStores()).filter((s) => principal.grants.some((g) => grantCoversStore(g, s.id))).map(summary);
}

export async function findStore(principal: Principal, storeId: string): Promise<StoreSummary | null> {
  return (await listStoreSummaries(principal)).find((s) => s.id === storeId) ?? null;
}

function toRow(item: ItemMetadata): ItemRow {
  return {
    name: item.name,
    leaf: leafOf(item.name),
    kind: item.kind,
    version: item.currentVersion,
    lastChangedAt: item.lastChangedAt,
    lastChangedBy: item.lastChangedBy,
  };
}

const collator = new Intl.Collator('en', { numeric: true, sensitivity: 'base' });
const comparators: Record<SortKey, (a: ItemRow, b: ItemRow) => number> = {
  name: (a, b) => collator.compare(a.leaf, b.leaf),
  kind: (a, b) => collator.compare(a.kind, b.kind),
  version: (a, b) => collator.compare(a.version, b.version),
  changed: (a, b) => Date.parse(a.lastChangedAt) - Date.parse(b.lastChangedAt),
  by: (a, b) => collator.compare(a.lastChangedBy ?? '', b.lastChangedBy ?? ''),
};

export function sortAndFilter(rows: ItemRow[], query: BrowseQuery): ItemRow[] {
  const needle = query.q?.trim().toLowerCase();
  const filtered = needle ? rows.filter((r) => r.leaf.toLowerCase().includes(needle)) : rows;
  const compare = comparators[query.sort ?? 'name'];
  const sign = query.dir === 'desc' ? -1 : 1;
  return [...filtered].sort((a, b) => sign * compare(a, b) || collator.compare(a.leaf, b.leaf));
}

async function visibleFolders(principal: Principal, store: SecretStore, path: string): Promise<string[]> {
  return (await store.listFolders(path)).filter((folder) => can(principal, 'list', { storeId: store.id, folder }));
}

async function loadTree(principal: Principal, store: SecretStore, path: string): Promise<FolderNode[]> {
  const open = new Set(ancestorsOf(path));
  const build = async (folder: string): Promise<FolderNode[]> => {
    const children = await visibleFolders(principal, store, folder);
    return Promise.all(
      children.map(async (child) => ({
        path: child,
        name: leafOf(child),
        children: open.has(child) ? await build(child) : null,
      })),
    );
  };
  return build('/');
}

/** A folder's sub-folders and items; null when the store or the folder does not exist. */
export async function getFolderView(principal: Principal, storeId: string, path: string, query: BrowseQuery): Promise<FolderView | null> {
  const store = await getStore(storeId);
  if (!store || !can(principal, 'list', { storeId, folder: path })) return null;
  const items: ItemMetadata[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.list({ path, cursor, limit: PAGE });
    items.push(...page.items.filter((item) => can(principal, 'list', { storeId, name: item.name })));
    cursor = page.nextCursor;
  } while (cursor && items.length < MAX_FOLDER_ITEMS);
  const [folders, tree] = await Promise.all([visibleFolders(principal, store, path), loadTree(principal, store, path)]);
  if (path !== '/' && items.length === 0 && folders.length === 0) return null;
  return {
    store: summary(store),
    path,
    ancestors: ancestorsOf(path),
    folders: folders.map((f) => ({ path: f, name: leafOf(f) })),
    items: sortAndFilter(items.slice(0, MAX_FOLDER_ITEMS).map(toRow), query),
    totalItems: Math.min(items.length, MAX_FOLDER_ITEMS),
    truncated: Boolean(cursor),
    tree,
  };
}

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

/** A store failure as the UI shows it: the store, the cause and what to do. */
export function describeStoreFailure(error: unknown, storeId: string): { storeId: string; code: string; message: string } | null {
  if (!isStoreError(error)) return null;
  return { storeId: error.storeId || storeId, code: error.code, message: error.message };
}
