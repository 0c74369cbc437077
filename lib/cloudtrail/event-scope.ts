import { ancestorsOf, folderOf } from '@/lib/validations/item-name';

// Who may see which rows, and which rows concern an item. Both are SQL fragments over ct_entries
// (so grants cut pages inside SQL and keyset paging stays exact) with a JavaScript twin for what
// is decided after the query (redacting other items' names in a raw event).

/**
 * What the caller may see, built by the caller from its grants ('view-audit'), e.g. for each store
 * the caller audits, lib/inventory/schema.ts globsToRegex over the grant's path globs.
 */
export interface AuditScope {
  /** 'all': every store, every name. Else the stores the caller audits, each with a name pattern (null: every name). */
  stores: 'all' | AuditStoreScope[];
  /** Events that map to no item of a configured store: for admins and auditors of everything only. */
  includeUnmapped: boolean;
}

export interface AuditStoreScope {
  storeId: string;
  namePattern: string | null;
}

export const FULL_SCOPE: AuditScope = { stores: 'all', includeUnmapped: true };

export interface SqlPart {
  sql: string;
  params: unknown[];
}

export function isFullScope(scope: AuditScope): boolean {
  return scope.stores === 'all' && scope.includeUnmapped;
}

/** The scope as a condition on ct_entries (columns unqualified). */
export function scopeSql(scope: AuditScope): SqlPart {
  if (scope.stores === 'all') return scope.includeUnmapped ? { sql: '1 = 1', params: [] } : { sql: 'store_id IS NOT NULL', params: [] };
  const parts: string[] = [];
  const params: unknown[] = [];
  for (const store of scope.stores) {
    if (store.namePattern === null) {
      parts.push('store_id = ?');
      params.push(store.storeId);
    } else {
      parts.push('(store_id = ? AND item_name REGEXP ?)');
      params.push(store.storeId, store.namePattern);
    }
  }
  if (scope.includeUnmapped) parts.push('store_id IS NULL');
  return parts.length === 0 ? { sql: '1 = 0', params: [] } : { sql: `(${parts.join(' OR ')})`, params };
}

/** The JavaScript twin of scopeSql. */
export function scopeAllows(scope: AuditScope, storeId: string | null, itemName: string | null): boolean {
  if (storeId === null) return scope.includeUnmapped;
  if (scope.stores === 'all') return true;
  const store = scope.stores.find((s) => s.storeId === storeId);
  if (!store) return false;
  return store.namePattern === null || (itemName !== null && new RegExp(store.namePattern).test(itemName));
}

/**
 * Under an item filter the rows are the item's and its parent folders' (GetParametersByPath), so a
 * caller who may see the item may see them all: the folder's name is part of the item's. Opens the
 * scope of each store whose pattern allows the item.
 */
export function scopeForItem(scope: AuditScope, itemName: string): AuditScope {
  if (scope.stores === 'all') return scope;
  return {
    ...scope,
    stores: scope.stores.map((s) => (s.namePattern !== null && new RegExp(s.namePattern).test(itemName) ? { ...s, namePattern: null } : s)),
  };
}

/**
 * The rows that concern an item, as disjoint alternatives (each walks its own index in time
 * order): its own, reads of its folder, and recursive reads of each folder above
 * (GetParametersByPath with Recursive).
 */
export function coversItemBranches(itemName: string): SqlPart[] {
  const folder = folderOf(itemName);
  const above = ancestorsOf(folder).filter((f) => f !== folder);
  return [
    { sql: 'item_name = ?', params: [itemName] },
    { sql: 'item_name = ?', params: [folder] },
    ...above.map((f) => ({ sql: '(item_name = ? AND path_recursive = 1)', params: [f] })),
  ];
}

/** Highest code point: `name < prefix + this` bounds "starts with prefix" for an index range. */
const TOP = '\u{10FFFF}';

/** Rows whose item or folder name starts with the prefix, and recursive reads of folders above it (disjoint). */
export function underPathBranches(prefix: string): SqlPart[] {
  const above = ancestorsOf(folderOf(prefix)).filter((f) => f !== prefix);
  return [
    { sql: '(item_name >= ? AND item_name < ?)', params: [prefix, `${prefix}${TOP}`] },
    ...above.map((f) => ({ sql: '(item_name = ? AND path_recursive = 1)', params: [f] })),
  ];
}

/** Alternatives as one condition. */
export function anyOf(parts: SqlPart[]): SqlPart {
  if (parts.length === 0) return { sql: '1 = 0', params: [] };
  return { sql: `(${parts.map((p) => p.sql).join(' OR ')})`, params: parts.flatMap((p) => p.params) };
}
