import 'server-only';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import { FRESHNESS_COLUMNS, freshnessColumnsOf, syncFreshnessColumns } from '@/lib/freshness/columns';
import { freshnessPolicies, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import { InventoryIndex, upsertInventoryItem } from './inventory-index';
import { ROW_COLUMNS, tagText, type InventoryRecord, type InventoryRow } from './records';
import { prepareInventoryConnection, type InventoryDatabase } from './schema';

// The AWS stores' inventory: DATA_DIR/inventory.db, a cache the sync can always rebuild. It is a
// file of its own because the sync writes in bulk: its transactions are synchronous (never held
// across an await) and no other writer shares the file, so neither the audit log nor a page waits
// on it. Readers see the last committed walk (WAL), never half of one.

export const INVENTORY_DB_FILE = 'inventory.db';

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
const STORED_COLUMNS = [...ROW_COLUMNS, ...FRESHNESS_COLUMNS];
const COLS = STORED_COLUMNS.join(', ');
const PARAMS = STORED_COLUMNS.map((c) => `@${c}`).join(', ');

const TAGS_PENDING_TTL_MS = 5_000;

export class InventoryDb {
  readonly index: InventoryIndex;
  private readonly kysely: Kysely<InventoryDatabase>;
  private readonly stageStmt: Database.Statement;
  private readonly pendingCounts = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly conn: Database.Database,
    private readonly policies: FreshnessPolicySet = freshnessPolicies(),
  ) {
    prepareInventoryConnection(conn);
    syncFreshnessColumns(conn, policies);
    this.kysely = new Kysely<InventoryDatabase>({ dialect: sqliteDialect(conn) });
    this.index = new InventoryIndex(this.kysely, policies);
    this.stageStmt = conn.prepare(`INSERT OR REPLACE INTO inv_staging (${COLS}) VALUES (${PARAMS})`);
  }

  static open(dataDir: string, policies?: FreshnessPolicySet): InventoryDb {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const conn = new Database(path.join(dataDir, INVENTORY_DB_FILE));
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = NORMAL');
    // A command-line reader (npm run report) may open it while the server's sync writes.
    conn.pragma('busy_timeout = 5000');
    return new InventoryDb(conn, policies);
  }

  close(): void {
    this.conn.close();
  }

  /**
   * One item the dashboard just wrote (rotate, generate), so pages show it before the next walk.
   * `keepTags`: Parameter Store records carry no tags, so the ones fetched separately stay.
   */
  async upsertItem(storeId: string, record: InventoryRecord, keepTags: boolean): Promise<void> {
    const existing = keepTags ? await this.index.getItem(storeId, record.name) : null;
    await upsertInventoryItem(this.kysely, storeId, existing ? { ...record, tags: existing.tags } : record);
  }

  /** Starts a walk: anything a failed earlier walk left in staging is dropped. */
  beginWalk(storeId: string): void {
    this.conn.prepare('DELETE FROM inv_staging WHERE store_id = ?').run(storeId);
  }

  /** One page of a walk, into staging (invisible to readers until applyWalk). */
  stage(rows: InventoryRow[]): void {
    this.conn.transaction((batch: InventoryRow[]) => {
      for (const row of batch) this.stageStmt.run({ ...row, ...freshnessColumnsOf(row, this.policies) });
    })(rows);
  }

  /**
   * Swaps a finished walk in, in one transaction: items gone from AWS are deleted, new and changed
   * ones written, folder counts rebuilt, the sync record updated. `keepTags` keeps tags fetched
   * separately (Parameter Store lists carry none).
   */
  applyWalk(storeId: string, totals: WalkTotals, keepTags: boolean): ApplyResult {
    this.pendingCounts.delete(storeId);
    const run = this.conn.transaction((): ApplyResult => {
      const deleted = this.conn
        .prepare('DELETE FROM inv_items WHERE store_id = ? AND NOT EXISTS (SELECT 1 FROM inv_staging s WHERE s.store_id = inv_items.store_id AND s.name = inv_items.name)')
        .run(storeId).changes;
      const before = this.countItems(storeId);
      const updatable = STORED_COLUMNS.filter((c) => c !== 'store_id' && c !== 'name' && !(keepTags && (c === 'tags' || c === 'tag_text')));
      const upsert = this.conn
        .prepare(
          `INSERT INTO inv_items (${COLS}) SELECT ${COLS} FROM inv_staging WHERE store_id = ? ` +
            `ON CONFLICT (store_id, name) DO UPDATE SET ${updatable.map((c) => `${c} = excluded.${c}`).join(', ')} ` +
            'WHERE inv_items.fingerprint != excluded.fingerprint',
        )
        .run(storeId).changes;
      const after = this.countItems(storeId);
      const added = after - before;
      this.rebuildFolders(storeId);
      this.conn.prepare('DELETE FROM inv_staging WHERE store_id = ?').run(storeId);
      this.conn
        .prepare(
          `INSERT INTO inv_sync (store_id, synced_at, items, pages, duration_ms, calls, throttled, unreadable_items, error_code, error_message, error_at)
           VALUES (@store_id, @synced_at, @items, @pages, @duration_ms, @calls, @throttled, @unreadable_items, NULL, NULL, NULL)
           ON CONFLICT (store_id) DO UPDATE SET synced_at = excluded.synced_at, items = excluded.items, pages = excluded.pages,
             duration_ms = excluded.duration_ms, calls = excluded.calls, throttled = excluded.throttled,
             unreadable_items = excluded.unreadable_items, error_code = NULL, error_message = NULL, error_at = NULL`,
        )
        .run({
          store_id: storeId,
          synced_at: new Date().toISOString(),
          items: after,
          pages: totals.pages,
          duration_ms: Math.round(totals.durationMs),
          calls: JSON.stringify(totals.calls),
          throttled: totals.throttled,
          unreadable_items: totals.unreadableItems,
        });
      return { added, changed: upsert - added, deleted };
    });
    return run();
  }

  /** A failed walk: the last inventory stays as it was; the record names the cause. */
  recordFailure(storeId: string, code: string, message: string): void {
    this.conn
      .prepare(
        `INSERT INTO inv_sync (store_id, error_code, error_message, error_at) VALUES (?, ?, ?, ?)
         ON CONFLICT (store_id) DO UPDATE SET error_code = excluded.error_code, error_message = excluded.error_message, error_at = excluded.error_at`,
      )
      .run(storeId, code, message, new Date().toISOString());
    this.conn.prepare('DELETE FROM inv_staging WHERE store_id = ?').run(storeId);
  }

  /** Items whose tags were never fetched, then those fetched longest ago (before `staleBefore`). */
  tagsDue(storeId: string, staleBefore: string, limit: number): string[] {
    const never = this.conn
      .prepare('SELECT name FROM inv_items WHERE store_id = ? AND tags_synced_at IS NULL LIMIT ?')
      .pluck()
      .all(storeId, limit) as string[];
    if (never.length >= limit) return never;
    const stale = this.conn
      .prepare('SELECT name FROM inv_items WHERE store_id = ? AND tags_synced_at < ? ORDER BY tags_synced_at LIMIT ?')
      .pluck()
      .all(storeId, staleBefore, limit - never.length) as string[];
    return [...never, ...stale];
  }

  /** Tags fetched for one item; null when AWS refused them (counted, and not asked again soon). */
  setTags(storeId: string, name: string, tags: Record<string, string> | null): void {
    const now = new Date().toISOString();
    if (tags === null) {
      this.conn.prepare("UPDATE inv_items SET tags_synced_at = ?, tags = '{}', tag_text = '' WHERE store_id = ? AND name = ?").run(now, storeId, name);
      return;
    }
    this.conn
      .prepare('UPDATE inv_items SET tags = ?, tag_text = ?, tags_synced_at = ? WHERE store_id = ? AND name = ?')
      .run(JSON.stringify(tags), tagText(tags), now, storeId, name);
  }

  setUnreadableTags(storeId: string, count: number): void {
    this.conn.prepare('UPDATE inv_sync SET unreadable_tags = ? WHERE store_id = ?').run(count, storeId);
  }

  /** Items whose tags are still to be fetched. Every page's status strip asks, and right after a first walk
   * the count covers the whole store, so it is remembered for a few seconds. */
  tagsPending(storeId: string): number {
    const known = this.pendingCounts.get(storeId);
    if (known && performance.now() - known.at < TAGS_PENDING_TTL_MS) return known.count;
    const count = this.conn.prepare('SELECT count(*) FROM inv_items WHERE store_id = ? AND tags_synced_at IS NULL').pluck().get(storeId) as number;
    this.pendingCounts.set(storeId, { count, at: performance.now() });
    return count;
  }

  private countItems(storeId: string): number {
    return this.conn.prepare('SELECT count(*) FROM inv_items WHERE store_id = ?').pluck().get(storeId) as number;
  }

  private rebuildFolders(storeId: string): void {
    const direct = this.conn.prepare('SELECT folder, count(*) AS n FROM inv_items WHERE store_id = ? GROUP BY folder').all(storeId) as {
      folder: string;
      n: number;
    }[];
    writeFolderCounts(this.conn, storeId, direct);
  }
}

/** Replaces a store's folder rows with counts derived from the items per folder. */
export function writeFolderCounts(conn: Database.Database, storeId: string, direct: { folder: string; n: number }[]): void {
  const folders = new Map<string, { direct: number; total: number }>([['/', { direct: 0, total: 0 }]]);
  for (const { folder, n } of direct) {
    for (const path of ancestorsOf(folder)) {
      const entry = folders.get(path) ?? { direct: 0, total: 0 };
      entry.total += n;
      if (path === folder) entry.direct += n;
      folders.set(path, entry);
    }
  }
  conn.prepare('DELETE FROM inv_folders WHERE store_id = ?').run(storeId);
  const insert = conn.prepare('INSERT INTO inv_folders (store_id, path, parent, direct_items, total_items) VALUES (?, ?, ?, ?, ?)');
  for (const [path, counts] of folders) insert.run(storeId, path, path === '/' ? '' : folderOf(path.slice(0, -1)), counts.direct, counts.total);
}
