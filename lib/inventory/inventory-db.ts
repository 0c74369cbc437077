import 'server-only';
import path from 'node:path';
import { openPostgresArea, openSqliteArea } from '@/lib/db/area-db';
import { CompiledQuery, Kysely, sql, type QueryResult, type RawBuilder } from 'kysely';
import { migrateArea } from '@/lib/db/migrate';
import { INVENTORY_MIGRATIONS } from '@/lib/db/migrations/inventory';
import { dialectOf } from '@/lib/db/dialect';
import { freshnessColumnsOf, syncFreshnessColumns, type FreshnessColumns } from '@/lib/freshness/columns';
import { freshnessPolicies, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import { InventoryIndex, upsertInventoryItem } from './inventory-index';
import { ROW_COLUMNS, tagText, type InventoryRecord, type InventoryRow } from './records';
import type { InventoryDatabase, InventoryStagingTable } from './schema';

// The AWS stores' inventory, a cache the sync can always rebuild: DATA_DIR/inventory.db, or the
// "inventory" schema of DATABASE_URL. On SQLite it is a file of its own because the sync writes in
// bulk and no other writer shares the file, so neither the audit log nor a page waits on it.
// Readers see the last committed walk, never half of one: a walk is staged, then swapped in by
// one transaction.

export const INVENTORY_DB_FILE = 'inventory.db';
export const INVENTORY_SCHEMA = 'inventory';

export interface WalkTotals {
  items: number;
  pages: number;
  durationMs: number;
  calls: Record<string, number>;
  throttled: number;
  unreadableItems: number;
}

export interface ApplyResult {
  added: number;
  changed: number;
  deleted: number;
}

// Rows carry their freshness columns from staging on, so the swap copies them as they are.
const FRESH_COLUMNS = ['fresh_due_at', 'fresh_warn_at', 'fresh_failing_at', 'fresh_first_version', 'fresh_age_from'] as const satisfies readonly (keyof InventoryStagingTable)[];
const STORED_COLUMNS = [...ROW_COLUMNS, ...FRESH_COLUMNS] as const satisfies readonly (keyof InventoryStagingTable)[];
const COLS = sql.raw(STORED_COLUMNS.join(', '));
/** An upsert's SET list taking `columns` from the row that conflicted. */
const excludedUpdates = (columns: readonly string[]) => columns.map((c) => `${c} = excluded.${c}`).join(', ');
const STAGING_UPDATES_TEXT = excludedUpdates(STORED_COLUMNS.filter((c) => c !== 'store_id' && c !== 'name'));

/** A walk's row for staging, with its freshness columns when the caller computed them. */
export type StagedRow = InventoryRow & Partial<FreshnessColumns>;

/** Rows per INSERT when staging or writing folder counts (a walk page is 50–100 rows; 21 parameters each). */
const INSERT_BATCH = 500;
/** Rows a walk must change before the planner's statistics are refreshed (PostgreSQL). */
const ANALYZE_AFTER_CHANGED_ROWS = 1000;

const TAGS_PENDING_TTL_MS = 5_000;

type Db = Kysely<InventoryDatabase>;

/** Name prefixes a walk could not read (AWS refused them), and what the store's status says about it. */
export interface RefusedPrefixes {
  prefixes: readonly string[];
  warning: { code: string; message: string };
}

export class InventoryDb {
  readonly index: InventoryIndex;
  private readonly pendingCounts = new Map<string, { count: number; at: number }>();
  /** The staging INSERT's text per number of rows (see stage). */
  private readonly stageStatements = new Map<number, string>();

  /** Over a migrated database whose freshness columns agree with `policies` (see the open functions). */
  constructor(
    private readonly db: Db,
    private readonly policies: FreshnessPolicySet = freshnessPolicies(),
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.index = new InventoryIndex(db, policies);
  }

  /** DATA_DIR/inventory.db, created or brought up to date (a file from an earlier version keeps its rows). */
  static async open(dataDir: string, policies: FreshnessPolicySet = freshnessPolicies()): Promise<InventoryDb> {
    // A command-line reader (npm run report) may open it while the server's sync writes.
    const db = await openSqliteArea<InventoryDatabase>(dataDir, INVENTORY_DB_FILE, (d) => prepareInventory(d, INVENTORY_SCHEMA, policies), {
      // Pages read beside the sync's swap (see applyWalk).
      reader: true,
    });
    return new InventoryDb(db, policies, () => db.destroy());
  }

  /** The "inventory" schema of a PostgreSQL database, migrated. Its pool is the process's (closePostgres ends it). */
  static async openPostgres(url: string, policies: FreshnessPolicySet = freshnessPolicies()): Promise<InventoryDb> {
    const db = await openPostgresArea<InventoryDatabase>(url, INVENTORY_SCHEMA, (d) => prepareInventory(d, INVENTORY_SCHEMA, policies));
    return new InventoryDb(db, policies);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  /**
   * One item the dashboard just wrote (rotate, generate), so pages show it before the next walk.
   * `keepTags`: Parameter Store records carry no tags, so the ones fetched separately stay.
   */
  async upsertItem(storeId: string, record: InventoryRecord, keepTags: boolean): Promise<void> {
    const existing = keepTags ? await this.index.getItem(storeId, record.name) : null;
    await upsertInventoryItem(this.db, storeId, existing ? { ...record, tags: existing.tags } : record, this.policies);
  }

  /** Starts a walk: anything a failed earlier walk left in staging is dropped. */
  async beginWalk(storeId: string): Promise<void> {
    await this.db.deleteFrom('inv_staging').where('store_id', '=', storeId).execute();
  }

  /**
   * One page of a walk, into staging (invisible to readers until applyWalk). A name seen again
   * replaces the earlier row. Rows may carry their freshness columns already (the sync computes
   * them from the record it mapped, without parsing `extra` again); those without get them here.
   */
  async stage(rows: StagedRow[]): Promise<void> {
    // One statement may not touch a row twice (PostgreSQL refuses), so a page's repeats are folded first.
    const byKey = new Map<string, StagedRow>();
    for (const row of rows) byKey.set(`${row.store_id}\n${row.name}`, row);
    const staged = [...byKey.values()];
    for (let i = 0; i < staged.length; i += INSERT_BATCH) {
      const batch = staged.slice(i, i + INSERT_BATCH);
      const values: unknown[] = [];
      for (const row of batch) {
        const fresh = row.fresh_due_at === undefined ? freshnessColumnsOf(row, this.policies) : (row as FreshnessColumns);
        // NULL where a column has no value (undefined is no SQL value).
        for (const c of ROW_COLUMNS) values.push(row[c] ?? null);
        for (const c of FRESH_COLUMNS) values.push(fresh[c] ?? null);
      }
      // A ready statement and a flat list of values: built by kysely, a page's INSERT cost a node per
      // value and a compile (about a third of the staging's CPU); the text is the same for every page
      // of the same size, so SQLite's statement cache re-uses the prepared statement too.
      await this.db.executeQuery(CompiledQuery.raw(this.stageStatement(batch.length), values));
    }
  }

  private stageStatement(rows: number): string {
    let text = this.stageStatements.get(rows);
    if (text === undefined) {
      const pg = dialectOf(this.db) === 'postgres';
      const width = STORED_COLUMNS.length;
      const tuples = Array.from({ length: rows }, (_, r) => `(${Array.from({ length: width }, (_, c) => (pg ? `$${r * width + c + 1}` : '?')).join(', ')})`);
      text = `INSERT INTO inv_staging (${STORED_COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ON CONFLICT (store_id, name) DO UPDATE SET ${STAGING_UPDATES_TEXT}`;
      this.stageStatements.set(rows, text);
    }
    return text;
  }

  /**
   * Swaps a finished walk in, in one transaction: items gone from AWS are deleted, new and changed
   * ones written, folder counts rebuilt, the sync record updated. `keepTags` keeps tags fetched
   * separately (Parameter Store lists carry none).
   */
  async applyWalk(storeId: string, totals: WalkTotals, keepTags: boolean, refused?: RefusedPrefixes): Promise<ApplyResult> {
    this.pendingCounts.delete(storeId);
    const updatable = STORED_COLUMNS.filter((c) => c !== 'store_id' && c !== 'name' && !(keepTags && (c === 'tags' || c === 'tag_text')));
    // Items under a prefix AWS refused to list were not seen, not deleted: they stay as they were.
    const kept = (refused?.prefixes ?? []).map((prefix) => sql` AND substr(name, 1, ${prefix.length}) <> ${prefix}`);
    // better-sqlite3 runs each statement on Node's one thread: SQLite's swap goes in name ranges,
    // yielding between them, so pages are served meanwhile (from the reader connection; see
    // openSqliteArea). Still one transaction: other connections see the old inventory until COMMIT.
    const chunked = dialectOf(this.db) === 'sqlite';
    const result = await this.db.transaction().execute(async (trx) => {
      const deleted = await inNameRanges(trx, 'inv_items', storeId, chunked, (range) =>
        sql`DELETE FROM inv_items WHERE store_id = ${storeId}
        AND NOT EXISTS (SELECT 1 FROM inv_staging s WHERE s.store_id = inv_items.store_id AND s.name = inv_items.name)${sql.join(kept, sql``)}${range}`.execute(trx),
      );
      const before = await countItems(trx, storeId);
      // New rows get ids in name order on both dialects (search reads candidates in id order); SQLite
      // reads staging in that order anyway, and its ranges follow one another in name order. The
      // WHERE also keeps SQLite from reading ON CONFLICT as a join's ON.
      const upserted = await inNameRanges(trx, 'inv_staging', storeId, chunked, (range) =>
        sql`INSERT INTO inv_items (${COLS}) SELECT ${COLS} FROM inv_staging WHERE store_id = ${storeId}${range} ORDER BY name
        ON CONFLICT (store_id, name) DO UPDATE SET ${sql.raw(excludedUpdates(updatable))}
        WHERE inv_items.fingerprint != excluded.fingerprint`.execute(trx),
      );
      const after = await countItems(trx, storeId);
      if (chunked) await yieldToEventLoop();
      await rebuildFolders(trx, storeId);
      if (chunked) await yieldToEventLoop();
      await inNameRanges(trx, 'inv_staging', storeId, chunked, (range) => sql`DELETE FROM inv_staging WHERE store_id = ${storeId}${range}`.execute(trx));
      const syncedAt = await nextSyncedAt(trx, storeId);
      const record = {
        synced_at: syncedAt,
        items: after,
        pages: totals.pages,
        duration_ms: Math.round(totals.durationMs),
        calls: JSON.stringify(totals.calls),
        throttled: totals.throttled,
        unreadable_items: totals.unreadableItems,
        error_code: refused?.warning.code ?? null,
        error_message: refused?.warning.message ?? null,
        // A refusal of some prefixes belongs to this walk, which completed: not later than the swap
        // (a failure recorded after it is; the sync-failing alert reads it so).
        error_at: refused ? syncedAt : null,
        error_partial: refused ? 1 : 0,
      };
      await trx
        .insertInto('inv_sync')
        .values({ store_id: storeId, ...record })
        .onConflict((oc) => oc.column('store_id').doUpdateSet(record))
        .execute();
      const added = after - before;
      return { added, changed: upserted - added, deleted };
    });
    this.pendingCounts.delete(storeId);
    await this.refreshPlannerStatistics(result);
    return result;
  }

  /**
   * PostgreSQL plans from statistics that autovacuum refreshes only later: right after a first walk
   * it still believes the table nearly empty and scans every row for a search (0.1–0.8 s at
   * 100,000 items instead of milliseconds through the trigram indexes). A walk that changed many
   * rows refreshes them at once. SQLite plans without them.
   */
  private async refreshPlannerStatistics(result: ApplyResult): Promise<void> {
    if (dialectOf(this.db) !== 'postgres') return;
    if (result.added + result.changed + result.deleted < ANALYZE_AFTER_CHANGED_ROWS) return;
    await sql`ANALYZE inv_items, inv_folders`.execute(this.db);
  }

  /** A failed walk: the last inventory stays as it was; the record names the cause. */
  async recordFailure(storeId: string, code: string, message: string): Promise<void> {
    const failure = { error_code: code, error_message: message, error_at: new Date().toISOString(), error_partial: 0 };
    await this.db
      .insertInto('inv_sync')
      .values({ store_id: storeId, ...failure })
      .onConflict((oc) => oc.column('store_id').doUpdateSet(failure))
      .execute();
    await this.db.deleteFrom('inv_staging').where('store_id', '=', storeId).execute();
  }

  /** Items whose tags were never fetched, then those fetched longest ago (before `staleBefore`). */
  async tagsDue(storeId: string, staleBefore: string, limit: number): Promise<string[]> {
    const never = await this.db.selectFrom('inv_items').select('name').where('store_id', '=', storeId).where('tags_synced_at', 'is', null).limit(limit).execute();
    if (never.length >= limit) return never.map((r) => r.name);
    const stale = await this.db
      .selectFrom('inv_items')
      .select('name')
      .where('store_id', '=', storeId)
      .where('tags_synced_at', '<', staleBefore)
      .orderBy('tags_synced_at')
      .limit(limit - never.length)
      .execute();
    return [...never, ...stale].map((r) => r.name);
  }

  /** Tags fetched for one item; null when AWS refused them (counted, and not asked again soon). */
  async setTags(storeId: string, name: string, tags: Record<string, string> | null): Promise<void> {
    const known = tags ?? {};
    await this.db
      .updateTable('inv_items')
      .set({ tags: JSON.stringify(known), tag_text: tagText(known), tags_synced_at: new Date().toISOString() })
      .where('store_id', '=', storeId)
      .where('name', '=', name)
      .execute();
  }

  async setUnreadableTags(storeId: string, count: number): Promise<void> {
    await this.db.updateTable('inv_sync').set({ unreadable_tags: count }).where('store_id', '=', storeId).execute();
  }

  /** Items whose tags are still to be fetched. Every page's status strip asks, and right after a first walk
   * the count covers the whole store, so it is remembered for a few seconds. */
  async tagsPending(storeId: string): Promise<number> {
    const known = this.pendingCounts.get(storeId);
    if (known && performance.now() - known.at < TAGS_PENDING_TTL_MS) return known.count;
    const row = await this.db
      .selectFrom('inv_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store_id', '=', storeId)
      .where('tags_synced_at', 'is', null)
      .executeTakeFirstOrThrow();
    const count = Number(row.n);
    this.pendingCounts.set(storeId, { count, at: performance.now() });
    return count;
  }
}

/** Applies the inventory's migrations and brings the freshness columns in line with the policies. */
async function prepareInventory(db: Db, schema: string, policies: FreshnessPolicySet): Promise<void> {
  await migrateArea(db, 'inventory', INVENTORY_MIGRATIONS, schema);
  await syncFreshnessColumns(db, policies);
}

/**
 * Now, or just after the store's last swap when the clock has not moved past it (two swaps in one
 * millisecond, a clock set back): synced_at grows with every swap, so it versions the inventory
 * (lib/inventory/folder-cache.ts keys what it keeps by it).
 */
async function nextSyncedAt(db: Db, storeId: string): Promise<string> {
  const last = await db.selectFrom('inv_sync').select('synced_at').where('store_id', '=', storeId).executeTakeFirst();
  const lastMs = last?.synced_at ? Date.parse(last.synced_at) : Number.NaN;
  return new Date(Number.isNaN(lastMs) ? Date.now() : Math.max(Date.now(), lastMs + 1)).toISOString();
}

/** Rows of a store's part of the swap per statement on SQLite (about 25 ms of the thread each at 20,000 items). */
const SWAP_CHUNK_ROWS = 2_000;

const yieldToEventLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Runs `statement` over a store's rows of `table`, in ranges of SWAP_CHUNK_ROWS names yielding to
 * the event loop between them when `chunked`, else once over all of them (`range` is then empty).
 * `range` is SQL to append to the statement's WHERE (it names the column `name` unqualified);
 * each range's upper bound is read before its statement runs, so a statement that deletes rows of
 * its range leaves the next ranges' bounds as they were. Answers the rows affected, added up.
 */
async function inNameRanges(
  trx: Db,
  table: 'inv_items' | 'inv_staging',
  storeId: string,
  chunked: boolean,
  statement: (range: RawBuilder<unknown>) => Promise<QueryResult<unknown>>,
): Promise<number> {
  if (!chunked) return Number((await statement(sql``)).numAffectedRows ?? 0);
  let affected = 0;
  let after: string | null = null;
  for (;;) {
    const lower: RawBuilder<unknown> = after === null ? sql`` : sql` AND name > ${after}`;
    const bound: QueryResult<{ name: string }> = await sql<{ name: string }>`SELECT name FROM ${sql.table(table)} WHERE store_id = ${storeId}${lower} ORDER BY name LIMIT 1 OFFSET ${SWAP_CHUNK_ROWS - 1}`.execute(trx);
    const upTo: string | undefined = bound.rows[0]?.name;
    affected += Number((await statement(upTo === undefined ? lower : sql`${lower} AND name <= ${upTo}`)).numAffectedRows ?? 0);
    if (upTo === undefined) return affected;
    after = upTo;
    await yieldToEventLoop();
  }
}

async function countItems(db: Db, storeId: string): Promise<number> {
  const row = await db.selectFrom('inv_items').select((eb) => eb.fn.countAll<number>().as('n')).where('store_id', '=', storeId).executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Rebuilds a store's folder rows from its items (pass a transaction to keep them in step). */
export async function rebuildFolders(db: Db, storeId: string): Promise<void> {
  const direct = await db
    .selectFrom('inv_items')
    .select((eb) => ['folder', eb.fn.countAll<number>().as('n')])
    .where('store_id', '=', storeId)
    .groupBy('folder')
    .execute();
  await writeFolderCounts(db, storeId, direct.map((r) => ({ folder: r.folder, n: Number(r.n) })));
}

/**
 * Replaces a store's folder rows with counts derived from the items per folder. Pass a transaction
 * (kysely's `trx`) to make it part of a larger write, as the walk's swap and the built-in store do.
 */
async function writeFolderCounts(db: Db, storeId: string, direct: { folder: string; n: number }[]): Promise<void> {
  const folders = new Map<string, { direct: number; total: number }>([['/', { direct: 0, total: 0 }]]);
  for (const { folder, n } of direct) {
    for (const path of ancestorsOf(folder)) {
      const entry = folders.get(path) ?? { direct: 0, total: 0 };
      entry.total += n;
      if (path === folder) entry.direct += n;
      folders.set(path, entry);
    }
  }
  await db.deleteFrom('inv_folders').where('store_id', '=', storeId).execute();
  const rows = [...folders].map(([path, counts]) => ({
    store_id: storeId,
    path,
    parent: path === '/' ? '' : folderOf(path.slice(0, -1)),
    direct_items: counts.direct,
    total_items: counts.total,
  }));
  for (let i = 0; i < rows.length; i += INSERT_BATCH) await db.insertInto('inv_folders').values(rows.slice(i, i + INSERT_BATCH)).execute();
}
