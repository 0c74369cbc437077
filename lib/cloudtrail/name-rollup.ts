import 'server-only';
import { sql, type RawBuilder, type SqlBool, type Kysely, type Transaction } from 'kysely';
import { prefixIsExact } from '@/lib/auth/path-glob';
import { prefixEnd } from '@/lib/db/prefix-range';
import type { CloudTrailDatabase } from './event-schema';
import type { RollupEntry } from './event-rollup';
import type { AuditScope, AuditStoreScope } from './event-scope';

// The chart of a caller whose grants cut by item name (an auditor of some team folders) at ten
// million events. ct_entries_name_chart made their count an index-only walk of the grant's name
// ranges, but that walk is every row in the ranges (310,000 of 10,000,000 for two team folders of
// the benchmark, over 0.5 s), whatever the other filters. Measured on the benchmark's data, a
// rollup keyed by item name would hold almost one row per entry (250 names a store, 80 stores, a
// day's 111,000 events), and one keyed by hour and folder as well; by day and folder it holds a
// fraction (1,180,000 keys for 3,000,000 entries, fewer per entry as days fill up).
//
// So: ct_name_rollup_day counts entries per (folder, store, day, event, error, read or write),
// where the folder is the name up to its last "/". A name range of the grants that is exact (every
// name in it allowed) and begins with a prefix ending in "/" holds an item exactly when it holds the
// item's folder, so the grant's count over whole days is one key range of the rollup per prefix.
// The partial days at the chart's ends (a range from an odd hour, "the last 90 days") are counted
// from the index, item by item (ct_rollup_names lists the items; each is one seek of
// (item_name, store_id, event_time) in ct_entries_name_chart), so they cost those days' rows, not
// the whole range's. What the rollup cannot cut exactly stays on the index as before: names given
// one by one, prefixes that need the grants' pattern, and hour charts.

/** Rows per upsert statement (7 bound values each). */
const UPSERT_CHUNK = 400;

type Db = Kysely<CloudTrailDatabase> | Transaction<CloudTrailDatabase>;

/** An item's folder: its name up to and including the last "/" ('' when it has none). The SQL twin is FOLDER_SQL. */
export function folderKey(itemName: string): string {
  return itemName.slice(0, itemName.lastIndexOf('/') + 1);
}

/** folderKey in SQL on both dialects: rtrim drops trailing characters found in the name with its slashes taken out. */
const FOLDER_SQL = sql<string>`rtrim(item_name, replace(item_name, '/', ''))`;

/**
 * Adds (sign 1) or takes out (-1) entries' counts, in the writer's or purger's transaction. Rows
 * with no store or no item are not counted: no grant's name range holds them. Adding also lists
 * each (item, store) in ct_rollup_names; taking out leaves the list as it is.
 */
export async function countByFolder(trx: Db, entries: readonly RollupEntry[], sign: 1 | -1): Promise<void> {
  const counts = new Map<string, { key: [string, string, string, string, string, number]; n: number }>();
  const names = new Map<string, [string, string]>();
  for (const e of entries) {
    if (e.store_id === null || e.item_name === null || e.item_name === undefined) continue;
    const key: [string, string, string, string, string, number] = [folderKey(e.item_name), e.store_id, e.event_time.slice(0, 10), e.event_name ?? '', e.error_code ?? '', e.read_only];
    const id = JSON.stringify(key);
    const found = counts.get(id);
    if (found) found.n++;
    else counts.set(id, { key, n: 1 });
    if (sign > 0) names.set(JSON.stringify([e.item_name, e.store_id]), [e.item_name, e.store_id]);
  }
  // Sorted: concurrent writers take the rows' locks in one order (PostgreSQL).
  const sorted = [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  for (let i = 0; i < sorted.length; i += UPSERT_CHUNK) {
    const values = sql.join(sorted.slice(i, i + UPSERT_CHUNK).map(({ key, n }) => sql`(${sql.join(key)}, ${sign * n})`));
    await sql`INSERT INTO ct_name_rollup_day (folder, store_id, bucket, event_name, error_code, read_only, n) VALUES ${values}
      ON CONFLICT (folder, store_id, bucket, event_name, error_code, read_only) DO UPDATE SET n = ct_name_rollup_day.n + excluded.n`.execute(trx);
  }
  if (sign < 0 && sorted.length) await sql`DELETE FROM ct_name_rollup_day WHERE n <= 0`.execute(trx);
  const sortedNames = [...names.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
  for (let i = 0; i < sortedNames.length; i += UPSERT_CHUNK) {
    const values = sql.join(sortedNames.slice(i, i + UPSERT_CHUNK).map((pair) => sql`(${sql.join(pair)})`));
    await sql`INSERT INTO ct_rollup_names (item_name, store_id) VALUES ${values} ON CONFLICT (item_name, store_id) DO NOTHING`.execute(trx);
  }
}

/** Empties both tables before a recount (catchUpRollup, in its transaction). */
export async function clearFolderCounts(trx: Db): Promise<void> {
  await sql`DELETE FROM ct_name_rollup_day`.execute(trx);
  await sql`DELETE FROM ct_rollup_names`.execute(trx);
}

/** Adds the index's rows with ids in (`above`, `upTo`] to both tables (catchUpRollup's recount, a window at a time). */
export async function recountFolderWindow(trx: Db, above: number, upTo: number): Promise<void> {
  await sql`INSERT INTO ct_name_rollup_day (folder, store_id, bucket, event_name, error_code, read_only, n)
    SELECT ${FOLDER_SQL}, store_id, substr(event_time, 1, 10), coalesce(event_name, ''), coalesce(error_code, ''), read_only, count(*)
    FROM ct_entries WHERE id > ${above} AND id <= ${upTo} AND store_id IS NOT NULL AND item_name IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (folder, store_id, bucket, event_name, error_code, read_only) DO UPDATE SET n = ct_name_rollup_day.n + excluded.n`.execute(trx);
  await sql`INSERT INTO ct_rollup_names (item_name, store_id)
    SELECT DISTINCT item_name, store_id FROM ct_entries WHERE id > ${above} AND id <= ${upTo} AND store_id IS NOT NULL AND item_name IS NOT NULL
    ON CONFLICT (item_name, store_id) DO NOTHING`.execute(trx);
}

/** Stores under the same grants, and the prefixes of theirs that the name rollup cuts exactly. */
export interface FolderGroup {
  stores: string[];
  prefixes: string[];
}

/**
 * The scope split in two disjoint parts: the folder ranges the name rollup answers (exact name
 * ranges of a prefix ending in "/"), and the rest of the scope (whole stores, unmapped rows, names
 * given one by one, prefixes that need the pattern) for the other ways. null: nothing for the rollup.
 */
export function splitScopeByFolder(scope: AuditScope): { groups: FolderGroup[]; rest: AuditScope } | null {
  if (scope.stores === 'all') return null;
  const groups = new Map<string, FolderGroup>();
  const rest: AuditStoreScope[] = [];
  for (const store of scope.stores) {
    const ranges = store.namePattern === null ? null : store.ranges;
    if (!ranges) {
      rest.push(store);
      continue;
    }
    const byFolder = ranges.prefixes.filter((p) => p.endsWith('/') && prefixIsExact(ranges, p));
    if (byFolder.length === 0) {
      rest.push(store);
      continue;
    }
    const key = JSON.stringify(byFolder);
    const group = groups.get(key) ?? { stores: [], prefixes: byFolder };
    group.stores.push(store.storeId);
    groups.set(key, group);
    const prefixes = ranges.prefixes.filter((p) => !byFolder.includes(p));
    if (prefixes.length === 0 && ranges.names.length === 0) continue;
    const exactPrefixes = prefixes.filter((p) => prefixIsExact(ranges, p));
    const exact = prefixes.every((p) => prefixIsExact(ranges, p));
    rest.push({ ...store, ranges: { prefixes, names: ranges.names, exact, ...(!exact && exactPrefixes.length ? { exactPrefixes } : {}) } });
  }
  if (groups.size === 0) return null;
  return { groups: [...groups.values()], rest: { stores: rest, includeUnmapped: scope.includeUnmapped } };
}

/** Whether a scope holds no row at all (nothing left of it after the split). */
export function scopeIsEmpty(scope: AuditScope): boolean {
  return scope.stores !== 'all' && scope.stores.length === 0 && !scope.includeUnmapped;
}

const inStores = (stores: string[], column: RawBuilder<string>) =>
  stores.length === 1 ? sql<SqlBool>`${column} = ${stores[0]}` : sql<SqlBool>`${column} IN (${sql.join(stores)})`;

/**
 * A group's counts per day over whole days [from, to) ('YYYY-MM-DD' keys, null: open) from the
 * rollup, one key range per prefix; `where` is the filters on the rollup's keys (event-rollup.ts
 * rollupCondition over every store).
 */
export function folderDayCounts(group: FolderGroup, from: string | null, to: string | null, where: RawBuilder<SqlBool>): RawBuilder<unknown>[] {
  const bounds = [...(from !== null ? [sql<SqlBool>`bucket >= ${from}`] : []), ...(to !== null ? [sql<SqlBool>`bucket < ${to}`] : [])];
  return group.prefixes.map((prefix) => {
    const all = sql.join([sql<SqlBool>`folder >= ${prefix} AND folder < ${prefixEnd(prefix)}`, inStores(group.stores, sql<string>`store_id`), where, ...bounds], sql` AND `);
    return sql`SELECT bucket AS b, sum(CASE WHEN read_only = 1 THEN n ELSE 0 END) AS reads, sum(n) AS n FROM ct_name_rollup_day WHERE ${all} GROUP BY bucket`;
  });
}

/**
 * A group's counts per chart bucket from the index, item by item: the rows of each (item, store)
 * the group's prefixes hold (ct_rollup_names) that meet `where` (conditions on ct_entries, whose
 * broad columns the caller keeps out of SQLite's index choice), one seek each.
 */
export function folderIndexCounts(group: FolderGroup, where: RawBuilder<SqlBool>, chartWidth: number): RawBuilder<unknown>[] {
  return group.prefixes.map((prefix) => {
    const items = sql`SELECT item_name, store_id FROM ct_rollup_names WHERE item_name >= ${prefix} AND item_name < ${prefixEnd(prefix)} AND ${inStores(group.stores, sql<string>`store_id`)}`;
    return sql`SELECT substr(event_time, 1, ${sql.lit(chartWidth)}) AS b, sum(read_only) AS reads, count(*) AS n FROM ct_entries
      WHERE (item_name, store_id) IN (${items}) AND ${where} GROUP BY 1`;
  });
}
