import type Database from 'better-sqlite3';
import type { Generated } from 'kysely';
import picomatch from 'picomatch';
import { registerRegexp } from '@/lib/db/sqlite-regexp';

// The inventory's tables: every item's metadata, folder counts, a trigram search index and each
// store's sync record. The same tables live in DATA_DIR/inventory.db for the AWS stores (filled by
// the background sync) and inside the built-in store's own database (kept current by its writes),
// so one set of queries serves every store. Plain SQL types, so PostgreSQL can follow.

export interface InventoryItemsTable {
  id: Generated<number>;
  store_id: string;
  name: string;
  folder: string;
  leaf: string;
  kind: string;
  description: string | null;
  /** JSON object of tag key -> value. */
  tags: string;
  /** Tag keys and values joined by spaces, for search. */
  tag_text: string;
  kms_key_id: string | null;
  last_changed_at: string;
  last_changed_by: string | null;
  version: string;
  /** Sorts versions numerically where they are numbers (zero-padded), else as text. */
  version_key: string;
  /** JSON array of labels on the current version. */
  labels: string;
  /** JSON of the store-specific extras (rotation, tier, type, policies); metadata only. */
  extra: string;
  /** Hash of everything above that a walk sees, so a re-walk rewrites only what changed. */
  fingerprint: string;
  /** SSM tags cost a call each: when they were last fetched (null: not yet). */
  tags_synced_at: string | null;
  /** Freshness (lib/freshness/columns.ts): derived from the row and the policies when it is written. */
  fresh_due_at: string | null;
  fresh_warn_at: string | null;
  fresh_failing_at: string | null;
  fresh_first_version: number | null;
  fresh_age_from: string | null;
}

/** Small facts about the inventory itself (the freshness policies its rows were computed with). */
export interface InventoryMetaTable {
  key: string;
  value: string;
}

export interface InventoryFoldersTable {
  store_id: string;
  path: string;
  parent: string;
  direct_items: number;
  total_items: number;
}

export interface InventorySyncTable {
  store_id: string;
  synced_at: string | null;
  items: number;
  pages: number;
  duration_ms: number;
  calls: string;
  throttled: number;
  unreadable_items: number;
  unreadable_tags: number;
  error_code: string | null;
  error_message: string | null;
  error_at: string | null;
}

/** The FTS5 trigram index over inv_items (external content, kept by triggers). */
export interface InventorySearchTable {
  rowid: number;
  name: string;
  description: string | null;
  tag_text: string;
}

export interface InventoryDatabase {
  inv_items: InventoryItemsTable;
  inv_search: InventorySearchTable;
  inv_folders: InventoryFoldersTable;
  inv_sync: InventorySyncTable;
  inv_meta: InventoryMetaTable;
}

const ITEM_COLUMNS = `
  store_id TEXT NOT NULL,
  name TEXT NOT NULL,
  folder TEXT NOT NULL,
  leaf TEXT NOT NULL,
  kind TEXT NOT NULL,
  description TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  tag_text TEXT NOT NULL DEFAULT '',
  kms_key_id TEXT,
  last_changed_at TEXT NOT NULL,
  last_changed_by TEXT,
  version TEXT NOT NULL,
  version_key TEXT NOT NULL,
  labels TEXT NOT NULL DEFAULT '[]',
  extra TEXT NOT NULL DEFAULT '{}',
  fingerprint TEXT NOT NULL`;

export const INVENTORY_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS inv_items (
  id INTEGER PRIMARY KEY,
  ${ITEM_COLUMNS},
  tags_synced_at TEXT,
  UNIQUE (store_id, name)
);
CREATE INDEX IF NOT EXISTS inv_items_folder_name ON inv_items (store_id, folder, name);
CREATE INDEX IF NOT EXISTS inv_items_folder_changed ON inv_items (store_id, folder, last_changed_at, name);
CREATE INDEX IF NOT EXISTS inv_items_folder_kind ON inv_items (store_id, folder, kind, name);
CREATE INDEX IF NOT EXISTS inv_items_folder_version ON inv_items (store_id, folder, version_key, name);
CREATE INDEX IF NOT EXISTS inv_items_folder_by ON inv_items (store_id, folder, last_changed_by, name);
CREATE INDEX IF NOT EXISTS inv_items_tags_due ON inv_items (store_id, tags_synced_at);
CREATE VIRTUAL TABLE IF NOT EXISTS inv_search USING fts5(
  name, description, tag_text, content='inv_items', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS inv_items_ai AFTER INSERT ON inv_items BEGIN
  INSERT INTO inv_search (rowid, name, description, tag_text) VALUES (new.id, new.name, new.description, new.tag_text);
END;
CREATE TRIGGER IF NOT EXISTS inv_items_ad AFTER DELETE ON inv_items BEGIN
  INSERT INTO inv_search (inv_search, rowid, name, description, tag_text) VALUES ('delete', old.id, old.name, old.description, old.tag_text);
END;
CREATE TRIGGER IF NOT EXISTS inv_items_au AFTER UPDATE OF name, description, tag_text ON inv_items BEGIN
  INSERT INTO inv_search (inv_search, rowid, name, description, tag_text) VALUES ('delete', old.id, old.name, old.description, old.tag_text);
  INSERT INTO inv_search (rowid, name, description, tag_text) VALUES (new.id, new.name, new.description, new.tag_text);
END;
CREATE TABLE IF NOT EXISTS inv_folders (
  store_id TEXT NOT NULL,
  path TEXT NOT NULL,
  parent TEXT NOT NULL,
  direct_items INTEGER NOT NULL,
  total_items INTEGER NOT NULL,
  PRIMARY KEY (store_id, path)
);
CREATE INDEX IF NOT EXISTS inv_folders_parent ON inv_folders (store_id, parent, path);
CREATE TABLE IF NOT EXISTS inv_sync (
  store_id TEXT PRIMARY KEY,
  synced_at TEXT,
  items INTEGER NOT NULL DEFAULT 0,
  pages INTEGER NOT NULL DEFAULT 0,
  duration_ms INTEGER NOT NULL DEFAULT 0,
  calls TEXT NOT NULL DEFAULT '{}',
  throttled INTEGER NOT NULL DEFAULT 0,
  unreadable_items INTEGER NOT NULL DEFAULT 0,
  unreadable_tags INTEGER NOT NULL DEFAULT 0,
  error_code TEXT,
  error_message TEXT,
  error_at TEXT
);
CREATE TABLE IF NOT EXISTS inv_staging (
  ${ITEM_COLUMNS},
  PRIMARY KEY (store_id, name)
);
CREATE TABLE IF NOT EXISTS inv_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** Freshness columns of inv_items and inv_staging; added by ALTER TABLE to databases from before them. */
const FRESHNESS_COLUMN_TYPES = {
  fresh_due_at: 'TEXT',
  fresh_warn_at: 'TEXT',
  fresh_failing_at: 'TEXT',
  fresh_first_version: 'INTEGER',
  fresh_age_from: 'TEXT',
} as const;

// The due index carries the other dates too, so status counts and the worst-first list read the index alone.
const FRESHNESS_INDEX_SQL = `
CREATE INDEX IF NOT EXISTS inv_items_fresh_due ON inv_items (store_id, fresh_due_at, fresh_warn_at, fresh_failing_at, fresh_first_version);
CREATE INDEX IF NOT EXISTS inv_items_fresh_warn ON inv_items (store_id, fresh_warn_at);
CREATE INDEX IF NOT EXISTS inv_items_fresh_failing ON inv_items (store_id, fresh_failing_at);
CREATE INDEX IF NOT EXISTS inv_items_fresh_age ON inv_items (store_id, fresh_age_from);
`;

function addMissingColumns(conn: Database.Database, table: string): void {
  const present = new Set((conn.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[]).map((c) => c.name));
  for (const [column, type] of Object.entries(FRESHNESS_COLUMN_TYPES)) {
    if (!present.has(column)) conn.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/**
 * Sets up the inventory on a connection: its tables and the REGEXP function that cuts queries to
 * a caller's grants (their path globs compiled by picomatch), so grants filter inside SQL and
 * keyset pages stay exact.
 */
export function prepareInventoryConnection(conn: Database.Database): void {
  registerRegexp(conn);
  conn.exec(INVENTORY_SCHEMA_SQL);
  // Existing databases keep their rows; the columns are filled by syncFreshnessColumns.
  addMissingColumns(conn, 'inv_items');
  addMissingColumns(conn, 'inv_staging');
  conn.exec(FRESHNESS_INDEX_SQL);
}

/** One regular expression matching any of the globs, as picomatch matches them. */
export function globsToRegex(globs: string[]): string {
  return globs.map((glob) => `(?:${picomatch.makeRe(glob, { dot: true }).source})`).join('|');
}
