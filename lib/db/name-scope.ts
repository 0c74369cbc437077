import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { NameRanges } from '@/lib/auth/path-glob';
import { regexpMatch, type DialectName } from './dialect';
import { prefixEnd } from './prefix-range';

// A caller's reach over rows that name an item (a finding, an alert) as SQL: per store, the names
// their grants allow as a regular expression (lib/auth/authorize.ts auditableNamePattern), with the
// index ranges those names lie in (auditableNameRanges) as a faster way to the same rows. The page
// queries of every such table are cut by it, so a list never disagrees with the per-item check.

export interface NameScope {
  storeId: string;
  /** null: every name of the store. */
  namePattern: string | null;
  /** Where the pattern's names lie: only a faster way to the same rows. */
  ranges?: NameRanges | null;
}

/**
 * One store of the caller's reach, as alternatives of one top-level OR: one per index range of its
 * names where the grants allow (SQLite searches each as its own index range only when they are not
 * nested inside another OR), each then matched against the pattern unless the ranges are exact.
 */
export function nameScopeBranches(dialect: DialectName, scope: NameScope, storeColumn: RawBuilder<string>, nameColumn: RawBuilder<string>): RawBuilder<SqlBool>[] {
  const store = sql<SqlBool>`${storeColumn} = ${scope.storeId}`;
  if (scope.namePattern === null) return [store];
  const pattern = scope.ranges?.exact ? null : regexpMatch(dialect, nameColumn, scope.namePattern);
  const withPattern = (range: RawBuilder<SqlBool>) => sql<SqlBool>`(${sql.join([store, range, ...(pattern ? [pattern] : [])], sql` AND `)})`;
  if (!scope.ranges) return [withPattern(sql<SqlBool>`1 = 1`)];
  const ranges = [
    ...scope.ranges.prefixes.map((p) => sql<SqlBool>`${nameColumn} >= ${p} AND ${nameColumn} < ${prefixEnd(p)}`),
    ...(scope.ranges.names.length ? [sql<SqlBool>`${nameColumn} IN (${sql.join(scope.ranges.names)})`] : []),
  ];
  return ranges.map(withPattern);
}

/** Every scope's branches joined by one OR; nothing (1 = 0) without a scope. */
export function nameScopeCondition(dialect: DialectName, scopes: readonly NameScope[], storeColumn: RawBuilder<string>, nameColumn: RawBuilder<string>): RawBuilder<SqlBool> {
  const branches = scopes.flatMap((s) => nameScopeBranches(dialect, s, storeColumn, nameColumn));
  return branches.length ? sql<SqlBool>`(${sql.join(branches, sql` OR `)})` : sql<SqlBool>`1 = 0`;
}
