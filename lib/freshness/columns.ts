import type Database from 'better-sqlite3';
import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { InventoryExtra, InventoryRow } from '@/lib/inventory/records';
import { resolvePolicy, type FreshnessPolicySet } from './policies';
import { freshnessSchedule } from './status';
import { FRESHNESS_STATUSES, type FreshnessStatus } from './types';

// Freshness in the inventory: each row stores its due, warn and failing dates (computed from the
// row and the policies when it is written), so the status at any `now` is a comparison of indexed
// columns: counts and filters are index range scans, even at 100,000 items. When the policies
// change (their hash, kept in inv_meta, differs) every row is recomputed once at open.

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

export function freshnessColumnsOf(row: Source, policies: FreshnessPolicySet): FreshnessColumns {
  const s = freshnessSchedule(
    { storeId: row.store_id, name: row.name, lastChangedAt: row.last_changed_at, version: row.version, extra: JSON.parse(row.extra) as InventoryExtra },
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
export function syncFreshnessColumns(conn: Database.Database, policies: FreshnessPolicySet): number {
  const stored = conn.prepare('SELECT value FROM inv_meta WHERE key = ?').pluck().get(POLICY_HASH_KEY) as string | undefined;
  if (stored === stamp(policies)) return 0;
  return recomputeFreshness(conn, policies);
}

const CHUNK = 5000;

export function recomputeFreshness(conn: Database.Database, policies: FreshnessPolicySet): number {
  const select = conn.prepare('SELECT id, store_id, name, last_changed_at, version, extra FROM inv_items WHERE id > ? ORDER BY id LIMIT ?');
  const update = conn.prepare(
    `UPDATE inv_items SET ${FRESHNESS_COLUMNS.map((c) => `${c} = @${c}`).join(', ')} WHERE id = @id`,
  );
  return conn.transaction(() => {
    let after = 0;
    let total = 0;
    for (;;) {
      // In chunks: an open iterator would block the updates, and 100,000 rows at once cost memory.
      const rows = select.all(after, CHUNK) as (Source & { id: number })[];
      for (const row of rows) update.run({ id: row.id, ...freshnessColumnsOf(row, policies) });
      total += rows.length;
      if (rows.length < CHUNK) break;
      after = rows.at(-1)!.id;
    }
    conn.prepare('INSERT INTO inv_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(POLICY_HASH_KEY, stamp(policies));
    return total;
  })();
}

// --- SQL over the columns: the same rule as statusAt in status.ts ---

type Column = (typeof FRESHNESS_COLUMNS)[number];

/**
 * A column reference; only the one named `indexed` may drive an index. SQLite has no statistics
 * here and would otherwise pick, say, the warn index for a folder page and sort 80,000 rows: a
 * unary + keeps the other terms as plain filters.
 */
const col = (name: Column, indexed?: Column) => (name === indexed ? sql.ref(`inv_items.${name}`) : sql`+${sql.ref(`inv_items.${name}`)}`);

/** Failing at `now`. */
export const failingSql = (now: string, indexed?: Column) =>
  sql<SqlBool>`(${col('fresh_failing_at', indexed)} IS NOT NULL AND ${col('fresh_failing_at', indexed)} <= ${now})`;
const notFailingSql = (now: string) => sql<SqlBool>`(${col('fresh_failing_at')} IS NULL OR ${col('fresh_failing_at')} > ${now})`;

/** The status at `now`, as SQL. */
export function statusSql(now: string): RawBuilder<FreshnessStatus> {
  return sql<FreshnessStatus>`CASE
    WHEN ${failingSql(now)} THEN 'rotation-failing'
    WHEN ${col('fresh_due_at')} <= ${now} THEN (CASE WHEN ${col('fresh_first_version')} = 1 THEN 'never-rotated' ELSE 'overdue' END)
    WHEN ${col('fresh_warn_at')} <= ${now} THEN 'due-soon'
    ELSE 'fresh' END`;
}

/** Rows in one status at `now`; `indexed` names the one column an index may range over (none: a plain filter). */
export function statusConditionSql(status: FreshnessStatus, now: string, indexed?: Column): RawBuilder<SqlBool> {
  const c = (name: Column) => col(name, indexed);
  switch (status) {
    case 'rotation-failing':
      return failingSql(now, indexed);
    case 'overdue':
      return sql<SqlBool>`(${c('fresh_due_at')} <= ${now} AND ${c('fresh_first_version')} = 0 AND ${notFailingSql(now)})`;
    case 'never-rotated':
      return sql<SqlBool>`(${c('fresh_due_at')} <= ${now} AND ${c('fresh_first_version')} = 1 AND ${notFailingSql(now)})`;
    case 'due-soon':
      return sql<SqlBool>`(${c('fresh_due_at')} > ${now} AND ${c('fresh_warn_at')} <= ${now} AND ${notFailingSql(now)})`;
    case 'fresh':
      // warn <= due, so a fresh item's due date is after now too (a range the due index can walk).
      return sql<SqlBool>`(${c('fresh_due_at')} > ${now} AND ${c('fresh_warn_at')} > ${now} AND ${notFailingSql(now)})`;
  }
}

/** Rows in any of the statuses; null (no condition) for all of them or an empty list. */
export function statusesSql(statuses: readonly FreshnessStatus[] | undefined, now: string): RawBuilder<SqlBool> | null {
  const wanted = FRESHNESS_STATUSES.filter((s) => statuses?.includes(s));
  if (wanted.length === 0 || wanted.length === FRESHNESS_STATUSES.length) return null;
  // A plain filter: folder pages walk their own (folder, sort) indexes.
  return sql<SqlBool>`(${sql.join(wanted.map((s) => statusConditionSql(s, now)), sql` OR `)})`;
}
