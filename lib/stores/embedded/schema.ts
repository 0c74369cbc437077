import type { Generated } from 'kysely';

// Tables of the embedded store. Plain SQL types only, so the same schema can move to PostgreSQL.
export interface MetaTable {
  key: string;
  value: string;
}

export interface ItemsTable {
  id: Generated<number>;
  name: string;
  folder: string;
  kind: string;
  description: string | null;
  kms_key_id: string | null;
  /** JSON object of tag key -> value. */
  tags: string;
  current_version: number;
  created_at: string;
  updated_at: string;
  updated_by: string | null;
}

export interface VersionsTable {
  item_id: number;
  version: number;
  ciphertext: Buffer;
  wrapped_key: Buffer;
  created_at: string;
  created_by: string | null;
}

export interface LabelsTable {
  item_id: number;
  label: string;
  version: number;
}

/** The last failed rotation of an item, until its next successful write. A message, never a value. */
export interface RotationFailuresTable {
  item_id: number;
  at: string;
  message: string;
}

export interface EmbeddedDatabase {
  meta: MetaTable;
  items: ItemsTable;
  versions: VersionsTable;
  labels: LabelsTable;
  rotation_failures: RotationFailuresTable;
}

export const SCHEMA_VERSION = '1';

export const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  folder TEXT NOT NULL,
  kind TEXT NOT NULL,
  description TEXT,
  kms_key_id TEXT,
  tags TEXT NOT NULL DEFAULT '{}',
  current_version INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  updated_by TEXT
);
CREATE INDEX IF NOT EXISTS items_folder_name ON items (folder, name);
CREATE TABLE IF NOT EXISTS versions (
  item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  ciphertext BLOB NOT NULL,
  wrapped_key BLOB NOT NULL,
  created_at TEXT NOT NULL,
  created_by TEXT,
  PRIMARY KEY (item_id, version)
);
CREATE TABLE IF NOT EXISTS labels (
  item_id INTEGER NOT NULL REFERENCES items (id) ON DELETE CASCADE,
  label TEXT NOT NULL,
  version INTEGER NOT NULL,
  PRIMARY KEY (item_id, label)
);
CREATE TABLE IF NOT EXISTS rotation_failures (
  item_id INTEGER PRIMARY KEY REFERENCES items (id) ON DELETE CASCADE,
  at TEXT NOT NULL,
  message TEXT NOT NULL
);
`;
