import type { Generated, Selectable } from 'kysely';

// The inventory's tables: every item's metadata, folder counts, a trigram search index and each
// store's sync record. The same tables live in DATA_DIR/inventory.db for the AWS stores (filled by
// the background sync) and inside the built-in store's own database (kept current by its writes),
// so one set of queries serves every store. The tables come from INVENTORY_MIGRATIONS
// (lib/db/migrations/inventory.ts), the same on SQLite and PostgreSQL but for the search index.

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

/** Each store's last walk; the counters default to 0 (a failure may be recorded before any walk). */
export interface InventorySyncTable {
  store_id: string;
  synced_at: string | null;
  items: Generated<number>;
  pages: Generated<number>;
  duration_ms: Generated<number>;
  calls: Generated<string>;
  throttled: Generated<number>;
  unreadable_items: Generated<number>;
  unreadable_tags: Generated<number>;
  error_code: string | null;
  error_message: string | null;
  error_at: string | null;
  /** 1: the error is a walk AWS refused under some name prefixes only; it completed and was swapped in. */
  error_partial: Generated<number>;
}

export type InventorySyncRecord = Selectable<InventorySyncTable>;

/** A walk's rows until it is swapped in: the item columns without id and tags_synced_at. */
export type InventoryStagingTable = Omit<InventoryItemsTable, 'id' | 'tags_synced_at'>;

/** SQLite only: the FTS5 trigram index over inv_items (external content, kept by triggers). PostgreSQL searches inv_items through pg_trgm indexes. */
export interface InventorySearchTable {
  rowid: number;
  name: string;
  description: string | null;
  tag_text: string;
}

export interface InventoryDatabase {
  inv_items: InventoryItemsTable;
  inv_search: InventorySearchTable;
  inv_staging: InventoryStagingTable;
  inv_folders: InventoryFoldersTable;
  inv_sync: InventorySyncTable;
  inv_meta: InventoryMetaTable;
}
