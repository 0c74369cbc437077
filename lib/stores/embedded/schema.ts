import type { Generated } from 'kysely';

// Tables of the embedded store: the same on SQLite and PostgreSQL (see lib/db/migrations/builtin.ts).
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
  /** JSON of the item's kind, description, tags and KMS key as this version was written; null for versions from before (migration 0002). */
  metadata: string | null;
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

/** Kept in meta for readers of the database; the tables themselves come from lib/db/migrations/builtin.ts. */
export const SCHEMA_VERSION = '1';

/** The PostgreSQL schema of the built-in store (its tables and its inventory's). */
export const BUILTIN_SCHEMA = 'builtin';
