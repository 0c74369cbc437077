import { sql, type Kysely } from 'kysely';
import type { AreaMigration } from '../migrate';

// Migration 0002 of the inventory: inv_sync.error_partial says whether the recorded error is a
// Parameter Store walk that AWS refused under some name prefixes only. Such a walk completed and was
// swapped in (the refused prefixes keep what the inventory had), so the store's status says it
// synced except there, not that the sync failed. 0 for every record from before.

/* eslint-disable @typescript-eslint/no-explicit-any */
export const PARTIAL_REFUSAL_MIGRATION: AreaMigration = {
  async up(db: Kysely<any>, dialect) {
    if (dialect === 'postgres') {
      await sql`ALTER TABLE inv_sync ADD COLUMN IF NOT EXISTS error_partial INTEGER NOT NULL DEFAULT 0`.execute(db);
      return;
    }
    const present = await sql<{ name: string }>`SELECT name FROM pragma_table_info('inv_sync')`.execute(db);
    if (!present.rows.some((r) => r.name === 'error_partial')) await sql`ALTER TABLE inv_sync ADD COLUMN error_partial INTEGER NOT NULL DEFAULT 0`.execute(db);
  },
};
