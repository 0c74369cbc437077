import type { InventoryDb } from '@/lib/inventory/inventory-db';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import { folderOf } from '@/lib/validations/item-name';

// Inventories filled as a walk of an AWS store fills them, for tests of what the data layer reads.

/** An item's inventory record with plain metadata; `overrides` for what a test is about. */
export function inventoryRecord(name: string, overrides: Partial<InventoryRecord> = {}): InventoryRecord {
  return {
    name,
    folder: folderOf(name),
    kind: 'SecureString',
    description: null,
    tags: {},
    kmsKeyId: null,
    lastChangedAt: '2026-01-01T00:00:00.000Z',
    lastChangedBy: null,
    currentVersion: '1',
    labels: [],
    extra: {},
    ...overrides,
  };
}

/** A store's inventory as one finished walk (one page) holding exactly `records` leaves it. */
export async function walkInto(db: InventoryDb, storeId: string, records: InventoryRecord[]): Promise<void> {
  await db.beginWalk(storeId);
  await db.stage(records.map((r) => toInventoryRow(storeId, r, true)));
  await db.applyWalk(storeId, { items: records.length, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, true);
}
