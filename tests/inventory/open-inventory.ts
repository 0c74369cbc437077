import type { FreshnessPolicySet } from '@/lib/freshness/policies';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { createTestDatabase, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// Opens fresh AWS-store inventories on either dialect for a suite: a temp DATA_DIR per inventory
// on SQLite, a database of its own per inventory on PostgreSQL. cleanup() closes and removes them all.

export function inventoryOpener(kind: DatabaseKind): {
  open: (policies?: FreshnessPolicySet) => Promise<InventoryDb>;
  cleanup: () => Promise<void>;
} {
  const undo: (() => Promise<void>)[] = [];
  return {
    async open(policies) {
      if (kind === 'sqlite') {
        const temp = makeTempDir('secrets-inventory-');
        const db = await InventoryDb.open(temp.dir, policies);
        undo.push(async () => {
          await db.close();
          temp.cleanup();
        });
        return db;
      }
      const database = await createTestDatabase();
      undo.push(() => database.drop());
      return InventoryDb.openPostgres(database.url, policies);
    },
    async cleanup() {
      for (const step of undo.splice(0).reverse()) await step();
    },
  };
}
