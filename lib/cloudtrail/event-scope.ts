import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { matchesNamePattern, type NameRanges } from '@/lib/auth/path-glob';
import type { DialectName } from '@/lib/db/dialect';
import { nameScopeBranches } from '@/lib/db/name-scope';
import { prefixEnd } from '@/lib/db/prefix-range';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';

// Who may see which rows, and which rows concern an item. Both are SQL conditions over ct_entries
// (so grants cut pages inside SQL and keyset paging stays exact) with a JavaScript twin for what
// is decided after the query (redacting other items' names in a raw event).

/**
 * What the caller may see, built by the caller from its grants ('view-audit'), e.g. for each store
 * the caller audits, lib/auth/path-glob.ts globsPattern over the grant's path globs.
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
  /**
   * Where the pattern's names lie (lib/auth/authorize.ts auditableNameRanges): the cut then walks
   * those ranges of item_name and tests the pattern only where a range holds names it does not
   * allow. Only a faster way to the same rows; absent or null: the pattern on every row of the store.
   */
  ranges?: NameRanges | null;
}

export const FULL_SCOPE: AuditScope = { stores: 'all', includeUnmapped: true };

/** A condition on ct_entries (columns unqualified), its values bound as parameters. */
export type SqlCondition = RawBuilder<SqlBool>;

export const ALWAYS: SqlCondition = sql<SqlBool>`1 = 1`;
export const NEVER: SqlCondition = sql<SqlBool>`1 = 0`;

/** How the scope names the columns: as they are, or (SQLite) as expressions no index answers. */
export interface ScopeColumns {
  store: RawBuilder<string>;
  name: RawBuilder<string>;
}

const INDEXED_COLUMNS: ScopeColumns = { store: sql<string>`store_id`, name: sql.ref('item_name') };

/**
 * For a page on SQLite: the scope tested on the rows of the walk the other filters chose (newest
 * first), never a walk of its own. Given the name ranges, SQLite (which has no statistics of how
 * many rows a range holds) read every row of an auditor's ranges and sorted them for 50: 0.4-0.8 s
 * at 1,000,000 events. A unary + keeps a column's index out of the plan.
 */
export const UNINDEXED_COLUMNS: ScopeColumns = { store: sql<string>`+store_id`, name: sql<string>`+item_name` };

/** Conditions that must all hold. */
export function allOf(parts: SqlCondition[]): SqlCondition {
  return parts.length === 0 ? ALWAYS : sql<SqlBool>`${sql.join(parts, sql` AND `)}`;
}

export function isFullScope(scope: AuditScope): boolean {
  return scope.stores === 'all' && scope.includeUnmapped;
}

/**
 * The scope as disjoint alternatives on ct_entries (columns unqualified), or null for no cut at
 * all: per store, its name ranges (lib/db/name-scope.ts nameScopeBranches: the regular expression
 * only inside ranges that hold names the grants do not allow), and the unmapped rows.
 */
export function scopeBranches(scope: AuditScope, dialect: DialectName, columns: ScopeColumns = INDEXED_COLUMNS): SqlCondition[] | null {
  const { store: storeId, name: itemName } = columns;
  if (scope.stores === 'all') return scope.includeUnmapped ? null : [sql<SqlBool>`${storeId} IS NOT NULL`];
  // Stores under the same grants (a grant on every store) share their ranges: one walk of each
  // range for all of them (store_id IN ...), not one per store over the same names of the index.
  const groups = new Map<string, { stores: string[]; namePattern: string | null; ranges: NameRanges | null }>();
  for (const store of scope.stores) {
    const ranges = store.namePattern === null ? null : (store.ranges ?? null);
    const key = JSON.stringify([store.namePattern, ranges]);
    const group = groups.get(key) ?? { stores: [], namePattern: store.namePattern, ranges };
    group.stores.push(store.storeId);
    groups.set(key, group);
  }
  const parts: SqlCondition[] = [...groups.values()].flatMap((group) => {
    const stores = group.stores.length === 1 ? sql<SqlBool>`${storeId} = ${group.stores[0]}` : sql<SqlBool>`${storeId} IN (${sql.join(group.stores)})`;
    if (group.namePattern === null) return [stores];
    // nameScopeBranches writes one store's test; the group's is ours, so its own is made a tautology ('' = '').
    return nameScopeBranches(dialect, { storeId: '', namePattern: group.namePattern, ranges: group.ranges }, sql<string>`''`, itemName).map(
      (branch) => sql<SqlBool>`(${stores} AND ${branch})`,
    );
  });
  if (scope.includeUnmapped) parts.push(sql<SqlBool>`${storeId} IS NULL`);
  return parts;
}

/** The scope as a condition on ct_entries (columns unqualified). */
export function scopeSql(scope: AuditScope, dialect: DialectName, columns: ScopeColumns = INDEXED_COLUMNS): SqlCondition {
  const branches = scopeBranches(scope, dialect, columns);
  return branches === null ? ALWAYS : anyOf(branches);
}

/** The JavaScript twin of scopeSql. */
export function scopeAllows(scope: AuditScope, storeId: string | null, itemName: string | null): boolean {
  if (storeId === null) return scope.includeUnmapped;
  if (scope.stores === 'all') return true;
  const store = scope.stores.find((s) => s.storeId === storeId);
  if (!store) return false;
  return store.namePattern === null || (itemName !== null && matchesNamePattern(store.namePattern, itemName));
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
    stores: scope.stores.map((s) => (s.namePattern !== null && matchesNamePattern(s.namePattern, itemName) ? { ...s, namePattern: null } : s)),
  };
}

/**
 * The rows that concern an item, as disjoint alternatives (each walks its own index in time
 * order): its own, reads of its folder, and recursive reads of each folder above
 * (GetParametersByPath with Recursive).
 */
export function coversItemBranches(itemName: string): SqlCondition[] {
  const folder = folderOf(itemName);
  const above = ancestorsOf(folder).filter((f) => f !== folder);
  return [
    sql<SqlBool>`item_name = ${itemName}`,
    sql<SqlBool>`item_name = ${folder}`,
    ...above.map((f) => sql<SqlBool>`(item_name = ${f} AND path_recursive = 1)`),
  ];
}


/** Rows whose item or folder name starts with the prefix, and recursive reads of folders above it (disjoint). */
export function underPathBranches(prefix: string, scope: AuditScope = FULL_SCOPE): SqlCondition[] {
  const above = ancestorsOf(folderOf(prefix)).filter((f) => f !== prefix);
  return [
    ...(pathMeetsScope(scope, prefix) ? [sql<SqlBool>`(item_name >= ${prefix} AND item_name < ${prefixEnd(prefix)})`] : []),
    ...above.filter((f) => folderMeetsScope(scope, f)).map((f) => sql<SqlBool>`(item_name = ${f} AND path_recursive = 1)`),
  ];
}

/**
 * Whether the scope may allow a name beginning with `prefix` (else a path's range is left out of
 * its plan: walking it only to refuse every row cost an auditor 0.3 s at 3,000,000 events for a
 * folder outside their grants). A store's allowed names lie in its ranges, when it has them.
 */
export function pathMeetsScope(scope: AuditScope, prefix: string): boolean {
  if (scope.stores === 'all' || scope.includeUnmapped) return true;
  return scope.stores.some(
    (s) =>
      s.namePattern === null ||
      !s.ranges ||
      s.ranges.prefixes.some((p) => p.startsWith(prefix) || prefix.startsWith(p)) ||
      s.ranges.names.some((n) => n.startsWith(prefix)),
  );
}

/** Whether the scope allows a folder's own rows in some store (scopeAllows over its stores). */
function folderMeetsScope(scope: AuditScope, folder: string): boolean {
  if (scope.stores === 'all' || scope.includeUnmapped) return true;
  return scope.stores.some((s) => scopeAllows(scope, s.storeId, folder));
}

/** Alternatives as one condition. */
export function anyOf(parts: SqlCondition[]): SqlCondition {
  if (parts.length === 0) return NEVER;
  return sql<SqlBool>`(${sql.join(parts, sql` OR `)})`;
}
