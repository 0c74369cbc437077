import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { prefixIsExact, type NameRanges } from '@/lib/auth/path-glob';
import { regexpMatch, type DialectName } from './dialect';
import { prefixEnd } from './prefix-range';

// A caller's reach over rows that name an item (a finding, an alert) as SQL: per store, the names
// their grants allow as a regular expression (lib/auth/authorize.ts auditableNamePattern), with the
// index ranges those names lie in (auditableNameRanges) as a faster way to the same rows. The page
// queries of every such table are cut by it, so a list never disagrees with the per-item check.
// A store with no ranges and no names (grants that can match nothing there) gets no branch at all.

export interface NameScope {
  storeId: string;
  /** null: every name of the store. */
  namePattern: string | null;
  /** Where the pattern's names lie: only a faster way to the same rows. */
  ranges?: NameRanges | null;
}

/**
 * The name against the grants' pattern, as PostgreSQL should plan it. Its planner costs "~" as low
 * as "=" and so ran the expression before a search's lower(name) LIKE on every row of a range (140 ms
 * instead of 40 over 50,000 rows), and guesses that a pattern keeps 0.5% of the rows, so it sorted a
 * whole range rather than walk it in order up to a LIMIT (300 ms instead of 9). One concatenation
 * raises the cost to the LIKE's (equal costs keep their written order: callers write the cut after
 * their own filters), and inside a CASE the guess is one half, nearer what a grant keeps of its range.
 */
function patternLast(dialect: DialectName, nameColumn: RawBuilder<string>, pattern: string): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? sql<SqlBool>`CASE WHEN (${nameColumn} || '') ~ ${pattern} THEN true ELSE false END` : regexpMatch(dialect, nameColumn, pattern);
}

/**
 * One store of the caller's reach, as alternatives of one top-level OR: one per index range of its
 * names where the grants allow (SQLite searches each as its own index range only when they are not
 * nested inside another OR; PostgreSQL ORs their index scans), each matched against the pattern
 * only when its range holds names the grants do not (an exact name or an exact prefix needs none).
 */
export function nameScopeBranches(dialect: DialectName, scope: NameScope, storeColumn: RawBuilder<string>, nameColumn: RawBuilder<string>): RawBuilder<SqlBool>[] {
  const store = sql<SqlBool>`${storeColumn} = ${scope.storeId}`;
  if (scope.namePattern === null) return [store];
  const pattern = patternLast(dialect, nameColumn, scope.namePattern);
  const branch = (...conditions: RawBuilder<SqlBool>[]) => sql<SqlBool>`(${sql.join([store, ...conditions], sql` AND `)})`;
  const ranges = scope.ranges;
  if (!ranges) return [branch(pattern)];
  return [
    ...ranges.prefixes.map((p) => {
      // The range first: the regular expression then runs only on the rows inside it.
      const range = sql<SqlBool>`${nameColumn} >= ${p} AND ${nameColumn} < ${prefixEnd(p)}`;
      return prefixIsExact(ranges, p) ? branch(range) : branch(range, pattern);
    }),
    ...(ranges.names.length ? [branch(sql<SqlBool>`${nameColumn} IN (${sql.join(ranges.names)})`)] : []),
  ];
}

/** Every scope's branches joined by one OR; nothing (1 = 0) without a scope. */
export function nameScopeCondition(dialect: DialectName, scopes: readonly NameScope[], storeColumn: RawBuilder<string>, nameColumn: RawBuilder<string>): RawBuilder<SqlBool> {
  const branches = scopes.flatMap((s) => nameScopeBranches(dialect, s, storeColumn, nameColumn));
  return branches.length ? sql<SqlBool>`(${sql.join(branches, sql` OR `)})` : sql<SqlBool>`1 = 0`;
}
