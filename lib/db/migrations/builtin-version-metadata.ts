import { sql, type Kysely } from 'kysely';
import type { AreaMigration } from '../migrate';

// Migration 0002 of the built-in store: versions.metadata, the item's kind, description, tags and
// KMS key as each version was written (JSON text), so "what changed" can compare two versions.
// Versions written before have none (NULL): the page says so instead of guessing. Nothing here
// reads or decrypts a value.

/* eslint-disable @typescript-eslint/no-explicit-any */
export const VERSION_METADATA_MIGRATION: AreaMigration = {
  async up(db: Kysely<any>, dialect) {
    if (dialect === 'postgres') {
      await sql`ALTER TABLE versions ADD COLUMN IF NOT EXISTS metadata text`.execute(db);
      return;
    }
    const present = await sql<{ name: string }>`SELECT name FROM pragma_table_info('versions')`.execute(db);
    if (!present.rows.some((r) => r.name === 'metadata')) await sql`ALTER TABLE versions ADD COLUMN metadata TEXT`.execute(db);
  },
};
