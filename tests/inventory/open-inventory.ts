import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { postgresDb } from '@/lib/db/postgres';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import type { FreshnessPolicySet } from '@/lib/freshness/policies';
import { INVENTORY_DB_FILE, INVENTORY_SCHEMA, InventoryDb } from '@/lib/inventory/inventory-db';
import type { InventoryDatabase } from '@/lib/inventory/schema';
import { createTestDatabase, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// AWS-store inventories on either dialect for the suites that run on both: a temp DATA_DIR on
// SQLite, a database of its own on PostgreSQL.

export interface InventoryPlace {
  /** Opens (creating or migrating) the inventory here; close it when done. */
  open(policies?: FreshnessPolicySet): Promise<InventoryDb>;
  /** The tables without InventoryDb (its migrations must have run); release with done(). */
  raw(): { db: Kysely<InventoryDatabase>; done: () => Promise<void> };
  cleanup(): Promise<void>;
}

export async function inventoryPlace(kind: DatabaseKind): Promise<InventoryPlace> {
  if (kind === 'sqlite') {
    const temp = makeTempDir('secrets-inventory-');
    return {
      open: (policies) => InventoryDb.open(temp.dir, policies),
      raw: () => {
        const db = new Kysely<InventoryDatabase>({ dialect: sqliteDialect(new Database(path.join(temp.dir, INVENTORY_DB_FILE))) });
        return { db, done: () => db.destroy() };
      },
      cleanup: async () => temp.cleanup(),
    };
  }
  const database = await createTestDatabase();
  return {
    open: (policies) => InventoryDb.openPostgres(database.url, policies),
    // The process's pool for the schema; drop() ends it.
    raw: () => ({ db: postgresDb<InventoryDatabase>(database.url, INVENTORY_SCHEMA), done: async () => {} }),
    cleanup: () => database.drop(),
  };
}

/** Fresh inventories for a suite, each in a place of its own; cleanup() closes and removes them all. */
export function inventoryOpener(kind: DatabaseKind): {
  open: (policies?: FreshnessPolicySet) => Promise<InventoryDb>;
  cleanup: () => Promise<void>;
} {
  const undo: (() => Promise<void>)[] = [];
  return {
    async open(policies) {
      const place = await inventoryPlace(kind);
      undo.push(() => place.cleanup());
      const db = await place.open(policies);
      undo.push(() => db.close());
      return db;
    },
    async cleanup() {
      for (const step of undo.splice(0).reverse()) await step();
    },
  };
}
