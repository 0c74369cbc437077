import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import type { InventoryDatabase } from '@/lib/inventory/schema';
import type { InventoryExtra, InventoryRow } from '@/lib/inventory/records';
import { resolvePolicy, type FreshnessPolicySet } from './policies';
import { freshnessSchedule } from './status';
import { FRESHNESS_STATUSES, type FreshnessStatus } from './types';

// Freshness in the inventory: each row stores its due, warn and failing dates (computed from the
// row and the policies when it is written), so the status at any `now` is a comparison of indexed
// columns: counts and filters are index range scans, even at 100,000 items. When the policies
// change (their hash, kept in inv_meta, differs) every row is recomputed once at open. The same
// on SQLite and PostgreSQL.

export const FRESHNESS_COLUMNS = ['fresh_due_at', 'fresh_warn_at', 'fresh_failing_at', 'fresh_first_version', 'fresh_age_from'] as const;

export interface FreshnessColumns {
  fresh_due_at: string;
  fresh_warn_at: string;
  fresh_failing_at: string | null;
  fresh_first_version: number;
  fresh_age_from: string;
}

/** Bumped when the computation of the columns changes, so stored rows are recomputed. */
const COLUMNS_VERSION = '1';
const POLICY_HASH_KEY = 'freshness_policies';

type Source = Pick<InventoryRow, 'store_id' | 'name' | 'last_changed_at' | 'version' | 'extra'>;

/** `extra`: the row's extras as an object when the caller has them (the sync maps them from AWS's answer), so they are not parsed again. */
export function freshnessColumnsOf(row: Source, policies: FreshnessPolicySet, extra: InventoryExtra = JSON.parse(row.extra) as InventoryExtra): FreshnessColumns {
  const s = freshnessSchedule(
    { storeId: row.store_id, name: row.name, lastChangedAt: row.last_changed_at, version: row.version, extra },
    resolvePolicy(policies, row.store_id, row.name),
  );
  return {
    fresh_due_at: s.dueAt,
    fresh_warn_at: s.warnAt,
    fresh_failing_at: s.failingAt,
    fresh_first_version: s.firstVersion ? 1 : 0,
    fresh_age_from: s.ageFrom,
  };
}

const stamp = (policies: FreshnessPolicySet) => `${COLUMNS_VERSION}:${policies.hash}`;

/**
 * Makes every row's columns agree with the policies: when the stored hash differs (new columns,
 * changed policies) all rows are recomputed in one transaction. Returns how many rows it rewrote.
 */
export async function syncFreshnessColumns(db: Kysely<InventoryDatabase>, policies: FreshnessPolicySet): Promise<number> {
  const stored = await db.selectFrom('inv_meta').select('value').where('key', '=', POLICY_HASH_KEY).executeTakeFirst();
  if (stored?.value === stamp(policies)) return 0;
  return recomputeFreshness(db, policies);
}

/** Rows read per round (100,000 rows at once would cost memory). */
const CHUNK = 5000;
/** Rows written per UPDATE statement (6 parameters each, far below either database's limit). */
const UPDATE_BATCH = 500;

type ColumnsRow = FreshnessColumns & { id: number };

/** One UPDATE for many rows: the new values as a VALUES list joined on id (both dialects have UPDATE … FROM). */
async function updateColumns(db: Kysely<InventoryDatabase>, rows: ColumnsRow[]): Promise<void> {
  const values = rows.map(
    (r) =>
      // Typed, so PostgreSQL needs no guess for the VALUES list's columns.
      sql`(CAST(${r.id} AS BIGINT), ${r.fresh_due_at}, ${r.fresh_warn_at}, ${r.fresh_failing_at}, CAST(${r.fresh_first_version} AS INTEGER), ${r.fresh_age_from})`,
  );
  await sql`WITH v (id, due, warn, failing, first_version, age_from) AS (VALUES ${sql.join(values)})
    UPDATE inv_items SET fresh_due_at = v.due, fresh_warn_at = v.warn, fresh_failing_at = v.failing,
      fresh_first_version = v.first_version, fresh_age_from = v.age_from
    FROM v WHERE inv_items.id = v.id`.execute(db);
}

export async function recomputeFreshness(db: Kysely<InventoryDatabase>, policies: FreshnessPolicySet): Promise<number> {
  return db.transaction().execute(async (trx) => {
    if (dialectOf(trx) === 'postgres') {
      // Replicas starting together recompute one after the other (the lock ends with the
      // transaction); the later ones find the rows done.
      await sql`SELECT pg_advisory_xact_lock(hashtext('secrets-dashboard:freshness:' || current_schema()))`.execute(trx);
      const stored = await trx.selectFrom('inv_meta').select('value').where('key', '=', POLICY_HASH_KEY).executeTakeFirst();
      if (stored?.value === stamp(policies)) return 0;
    }
    let after = 0;
    let total = 0;
    for (;;) {
      const rows = await trx
        .selectFrom('inv_items')
        .select(['id', 'store_id', 'name', 'last_changed_at', 'version', 'extra'])
        .where('id', '>', after)
        .orderBy('id')
        .limit(CHUNK)
        .execute();
      const computed = rows.map((row) => ({ id: Number(row.id), ...freshnessColumnsOf(row, policies) }));
      for (let i = 0; i < computed.length; i += UPDATE_BATCH) await updateColumns(trx, computed.slice(i, i + UPDATE_BATCH));
      total += rows.length;
      if (rows.length < CHUNK) break;
      after = Number(rows.at(-1)!.id);
    }
    await trx
      .insertInto('inv_meta')
      .values({ key: POLICY_HASH_KEY, value: stamp(policies) })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value: stamp(policies) }))
      .execute();
    return total;
  });
}

// --- SQL over the columns: the same rule as statusAt in status.ts ---

type Column = (typeof FRESHNESS_COLUMNS)[number];

/**
 * A column reference; only the one named `indexed` may drive an index. SQLite has no statistics
 * here and would otherwise pick, say, the warn index for a folder page and sort 80,000 rows: a
 * unary + keeps the other terms as plain filters. PostgreSQL plans by its statistics (and has no
 * unary + for text), so there every term is the plain column.
 */
const col = (dialect: DialectName, name: Column, indexed?: Column) =>
  dialect === 'postgres' || name === indexed ? sql.ref(`inv_items.${name}`) : sql`+${sql.ref(`inv_items.${name}`)}`;

/** Failing at `now`. */
export const failingSql = (dialect: DialectName, now: string, indexed?: Column) =>
  sql<SqlBool>`(${col(dialect, 'fresh_failing_at', indexed)} IS NOT NULL AND ${col(dialect, 'fresh_failing_at', indexed)} <= ${now})`;
const notFailingSql = (dialect: DialectName, now: string) =>
  sql<SqlBool>`(${col(dialect, 'fresh_failing_at')} IS NULL OR ${col(dialect, 'fresh_failing_at')} > ${now})`;

/** The status at `now`, as SQL. */
export function statusSql(dialect: DialectName, now: string): RawBuilder<FreshnessStatus> {
  const c = (name: Column) => col(dialect, name);
  return sql<FreshnessStatus>`CASE
    WHEN ${failingSql(dialect, now)} THEN 'rotation-failing'
    WHEN ${c('fresh_due_at')} <= ${now} THEN (CASE WHEN ${c('fresh_first_version')} = 1 THEN 'never-rotated' ELSE 'overdue' END)
    WHEN ${c('fresh_warn_at')} <= ${now} THEN 'due-soon'
    ELSE 'fresh' END`;
}

/** Rows in one status at `now`; `indexed` names the one column an index may range over (none: a plain filter). */
export function statusConditionSql(dialect: DialectName, status: FreshnessStatus, now: string, indexed?: Column): RawBuilder<SqlBool> {
  const c = (name: Column) => col(dialect, name, indexed);
  const notFailing = notFailingSql(dialect, now);
  switch (status) {
    case 'rotation-failing':
      return failingSql(dialect, now, indexed);
    case 'overdue':
      return sql<SqlBool>`(${c('fresh_due_at')} <= ${now} AND ${c('fresh_first_version')} = 0 AND ${notFailing})`;
    case 'never-rotated':
      return sql<SqlBool>`(${c('fresh_due_at')} <= ${now} AND ${c('fresh_first_version')} = 1 AND ${notFailing})`;
    case 'due-soon':
      return sql<SqlBool>`(${c('fresh_due_at')} > ${now} AND ${c('fresh_warn_at')} <= ${now} AND ${notFailing})`;
    case 'fresh':
      // warn <= due, so a fresh item's due date is after now too (a range the due index can walk).
      return sql<SqlBool>`(${c('fresh_due_at')} > ${now} AND ${c('fresh_warn_at')} > ${now} AND ${notFailing})`;
  }
}

/** Rows in any of the statuses; null (no condition) for all of them or an empty list. */
export function statusesSql(dialect: DialectName, statuses: readonly FreshnessStatus[] | undefined, now: string): RawBuilder<SqlBool> | null {
  const wanted = FRESHNESS_STATUSES.filter((s) => statuses?.includes(s));
  if (wanted.length === 0 || wanted.length === FRESHNESS_STATUSES.length) return null;
  // A plain filter: folder pages walk their own (folder, sort) indexes.
  return sql<SqlBool>`(${sql.join(wanted.map((s) => statusConditionSql(dialect, s, now)), sql` OR `)})`;
}
