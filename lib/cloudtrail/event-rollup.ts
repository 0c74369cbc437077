import 'server-only';
import { sql, type Kysely, type RawBuilder, type SqlBool, type Transaction } from 'kysely';
import type { DialectName } from '@/lib/db/dialect';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import type { CloudTrailDatabase } from './event-schema';
import type { AuditScope } from './event-scope';
import { clearFolderCounts, countByFolder, recountFolderWindow } from './name-rollup';

// Counts of ct_entries rows per hour and per day and per low-cardinality key (store, event name,
// read or write, error code), so the audit chart sums a few thousand rows instead of counting up
// to ten million. Kept in the transaction that writes or purges the rows it counts: ct_rollup_state
// holds the highest entry id counted, and a chart uses the rollup only while no entry lies above it
// (rows written around the index, as the benchmark's seed does, send charts to the index until
// catchUp recounts). Item names are no key: with tens of thousands of names an hour the rollup
// would be as big as the index; charts that cut by name (a path, an item) count the index's name
// ranges instead, and a path-limited grant's folders have a rollup of their own (name-rollup.ts),
// kept here with this one under the same counted_to.
//
// '' stands for "none" in the keys (a PRIMARY KEY cannot match NULLs): no store, no event name,
// no error. None of them is ever '' otherwise.

export const ROLLUP_TABLES = { hour: 'ct_rollup_hour', day: 'ct_rollup_day' } as const;
export type RollupWidth = keyof typeof ROLLUP_TABLES;
/** Key text lengths: 'YYYY-MM-DDTHH' and 'YYYY-MM-DD' of an ISO time. */
const WIDTH_CHARS: Record<RollupWidth, number> = { hour: 13, day: 10 };
/** Rows per upsert statement (6 bound values each). */
const UPSERT_CHUNK = 400;
/** Entry ids one recount statement covers (catchUpRollup). */
const RECOUNT_WINDOW = 20_000;

type Db = Kysely<CloudTrailDatabase> | Transaction<CloudTrailDatabase>;

/** What a rollup row counts of one entry. */
export interface RollupEntry {
  event_time: string;
  store_id: string | null;
  event_name: string | null;
  error_code: string | null;
  read_only: number;
  /** Counted by folder in the name rollup (name-rollup.ts); absent: the row is counted there as having no item. */
  item_name?: string | null;
}

interface RollupKey {
  bucket: string;
  store: string;
  event: string;
  error: string;
  readOnly: number;
}

function keysOf(entries: readonly RollupEntry[], width: RollupWidth): { key: RollupKey; n: number }[] {
  const counts = new Map<string, { key: RollupKey; n: number }>();
  for (const e of entries) {
    const key: RollupKey = { bucket: e.event_time.slice(0, WIDTH_CHARS[width]), store: e.store_id ?? '', event: e.event_name ?? '', error: e.error_code ?? '', readOnly: e.read_only };
    const id = JSON.stringify(key);
    const found = counts.get(id);
    if (found) found.n++;
    else counts.set(id, { key, n: 1 });
  }
  // Sorted: concurrent writers take the rows' locks in one order (PostgreSQL).
  return [...counts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, v]) => v);
}

async function addCounts(db: Db, width: RollupWidth, counts: { key: RollupKey; n: number }[], sign: 1 | -1): Promise<void> {
  const table = sql.table(ROLLUP_TABLES[width]);
  for (let i = 0; i < counts.length; i += UPSERT_CHUNK) {
    const chunk = counts.slice(i, i + UPSERT_CHUNK);
    const values = sql.join(chunk.map(({ key, n }) => sql`(${key.bucket}, ${key.store}, ${key.event}, ${key.error}, ${key.readOnly}, ${sign * n})`));
    await sql`INSERT INTO ${table} (bucket, store_id, event_name, error_code, read_only, n) VALUES ${values}
      ON CONFLICT (bucket, store_id, event_name, error_code, read_only) DO UPDATE SET n = ${table}.n + excluded.n`.execute(db);
  }
  if (sign < 0) await sql`DELETE FROM ${table} WHERE n <= 0`.execute(db);
}

/** The highest entry id counted, locked until the transaction ends (PostgreSQL; SQLite's writers are one at a time anyway). */
async function countedTo(trx: Db, dialect: DialectName): Promise<number> {
  const lock = sql.raw(dialect === 'postgres' ? ' FOR UPDATE' : '');
  const { rows } = await sql<{ counted_to: number }>`SELECT counted_to FROM ct_rollup_state WHERE id = 1${lock}`.execute(trx);
  return Number(rows[0]?.counted_to ?? 0);
}

async function maxEntryId(db: Db): Promise<number> {
  const { rows } = await sql<{ m: number | null }>`SELECT max(id) AS m FROM ct_entries`.execute(db);
  return Number(rows[0]?.m ?? 0);
}

/**
 * Call first in a transaction that will write entries: whether the rollup counts every row so far
 * (then the writer adds its own rows with `countWritten`; else it leaves them to catchUp). Takes
 * the rollup's lock on PostgreSQL, so writers and catchUp see each other's rows.
 */
export async function rollupIsCurrent(trx: Transaction<CloudTrailDatabase>, dialect: DialectName): Promise<boolean> {
  const counted = await countedTo(trx, dialect);
  return (await maxEntryId(trx)) <= counted;
}

/** Counts rows just written (their highest id `maxId`), in the writer's transaction, after rollupIsCurrent said true. */
export async function countWritten(trx: Transaction<CloudTrailDatabase>, entries: readonly RollupEntry[], maxId: number): Promise<void> {
  if (entries.length === 0) return;
  for (const width of ['hour', 'day'] as const) await addCounts(trx, width, keysOf(entries, width), 1);
  await countByFolder(trx, entries, 1);
  await sql`UPDATE ct_rollup_state SET counted_to = ${maxId} WHERE id = 1 AND counted_to < ${maxId}`.execute(trx);
}

/** Takes out the counted rows among the events about to be deleted (call before deleting them, in that transaction). */
export async function uncountEvents(trx: Transaction<CloudTrailDatabase>, dialect: DialectName, eventPks: readonly number[]): Promise<void> {
  if (eventPks.length === 0) return;
  const counted = await countedTo(trx, dialect);
  const { rows } = await sql<RollupEntry>`
    SELECT event_time, store_id, event_name, error_code, read_only, item_name FROM ct_entries WHERE event_pk IN (${sql.join(eventPks)}) AND id <= ${counted}`.execute(trx);
  for (const width of ['hour', 'day'] as const) await addCounts(trx, width, keysOf(rows, width), -1);
  await countByFolder(trx, rows, -1);
}

/**
 * Recounts the rollup from the index when rows were written around it (a restore, the benchmark's
 * seed, a migration that adds a rollup); nothing to do otherwise. One transaction, `window` entry
 * ids a statement: charts meanwhile count the index.
 */
export async function catchUpRollup(db: Kysely<CloudTrailDatabase>, dialect: DialectName, window = RECOUNT_WINDOW): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const counted = await countedTo(trx, dialect);
    const top = await maxEntryId(trx);
    if (top <= counted) return false;
    for (const width of ['hour', 'day'] as const) await sql`DELETE FROM ${sql.table(ROLLUP_TABLES[width])}`.execute(trx);
    await clearFolderCounts(trx);
    const { rows } = await sql<{ m: number | null }>`SELECT min(id) AS m FROM ct_entries`.execute(trx);
    // A window of ids at a time, yielding between them: on SQLite a statement holds the process's one
    // thread, and a recount of millions of rows in one statement would stall every request (health
    // checks too) for minutes at the first start after an upgrade.
    for (let above = Number(rows[0]?.m ?? 1) - 1; above < top; above += window) {
      const upTo = Math.min(above + window, top);
      for (const width of ['hour', 'day'] as const) {
        const table = sql.table(ROLLUP_TABLES[width]);
        await sql`INSERT INTO ${table} (bucket, store_id, event_name, error_code, read_only, n)
          SELECT substr(event_time, 1, ${sql.lit(WIDTH_CHARS[width])}), coalesce(store_id, ''), coalesce(event_name, ''), coalesce(error_code, ''), read_only, count(*)
          FROM ct_entries WHERE id > ${above} AND id <= ${upTo} GROUP BY 1, 2, 3, 4, 5
          ON CONFLICT (bucket, store_id, event_name, error_code, read_only) DO UPDATE SET n = ${table}.n + excluded.n`.execute(trx);
      }
      await recountFolderWindow(trx, above, upTo);
      await new Promise((resolve) => setImmediate(resolve));
    }
    await sql`UPDATE ct_rollup_state SET counted_to = ${top} WHERE id = 1`.execute(trx);
    return true;
  });
}

/** Whether charts may sum the rollup now (no entry above what it counted). */
export async function rollupCurrent(db: Db): Promise<boolean> {
  const { rows } = await sql<{ current: number }>`
    SELECT CASE WHEN coalesce((SELECT max(id) FROM ct_entries), 0) <= (SELECT counted_to FROM ct_rollup_state WHERE id = 1) THEN 1 ELSE 0 END AS current`.execute(db);
  return Number(rows[0]?.current ?? 0) === 1;
}

/**
 * The filters and scope as a condition on the rollup's keys, or null when they need the index
 * (an actor, an address, an item or a path, or a grant that cuts by name).
 */
export function rollupCondition(filters: AuditFilters, scope: AuditScope): RawBuilder<SqlBool> | null {
  if (filters.actor !== undefined || filters.ip !== undefined || filters.item !== undefined || filters.path !== undefined) return null;
  const parts: RawBuilder<SqlBool>[] = [];
  if (scope.stores !== 'all') {
    if (scope.stores.some((s) => s.namePattern !== null)) return null;
    const stores = [...scope.stores.map((s) => s.storeId), ...(scope.includeUnmapped ? [''] : [])];
    parts.push(stores.length ? sql<SqlBool>`store_id IN (${sql.join(stores)})` : sql<SqlBool>`1 = 0`);
  } else if (!scope.includeUnmapped) parts.push(sql<SqlBool>`store_id <> ''`);
  if (filters.event?.length) parts.push(sql<SqlBool>`event_name IN (${sql.join(filters.event)})`);
  if (filters.access) parts.push(sql<SqlBool>`read_only = ${filters.access === 'read' ? 1 : 0}`);
  if (filters.store !== undefined) parts.push(sql<SqlBool>`store_id = ${filters.store}`);
  if (filters.error !== undefined) parts.push(sql<SqlBool>`error_code = ${filters.error}`);
  else if (filters.outcome === 'success') parts.push(sql<SqlBool>`error_code = ''`);
  else if (filters.outcome === 'error') parts.push(sql<SqlBool>`error_code <> ''`);
  return parts.length ? sql<SqlBool>`${sql.join(parts, sql` AND `)}` : sql<SqlBool>`1 = 1`;
}

/** A span of whole buckets [from, to) of one width ('YYYY-MM-DDTHH' or 'YYYY-MM-DD' keys; null: open). */
export interface RollupSpan {
  width: RollupWidth;
  from: string | null;
  to: string | null;
}

/** Counts per chart bucket over spans of the rollup: `chartWidth` chars of the key (13 hour, 10 day). */
export function rollupCounts(span: RollupSpan, where: RawBuilder<SqlBool>, chartWidth: number): RawBuilder<unknown> {
  const table = sql.table(ROLLUP_TABLES[span.width]);
  const bounds = [
    ...(span.from !== null ? [sql<SqlBool>`bucket >= ${span.from}`] : []),
    ...(span.to !== null ? [sql<SqlBool>`bucket < ${span.to}`] : []),
  ];
  const all = sql.join([where, ...bounds], sql` AND `);
  return sql`SELECT substr(bucket, 1, ${sql.lit(chartWidth)}) AS b, sum(CASE WHEN read_only = 1 THEN n ELSE 0 END) AS reads, sum(n) AS n FROM ${table} WHERE ${all} GROUP BY 1`;
}
