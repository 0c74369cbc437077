import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InventoryDb } from '@/lib/inventory/inventory-db';
import { toInventoryRow } from '@/lib/inventory/records';
import { inventoryPlace, type InventoryPlace } from './open-inventory';

// PostgreSQL plans searches from statistics autovacuum refreshes only later; a walk that changed
// many rows refreshes them itself, so the first searches after a first sync use the indexes.

const TOTALS = { items: 0, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 };

function rows(count: number, version: string) {
  return Array.from({ length: count }, (_, i) =>
    toInventoryRow('params', {
      name: `/bulk/item-${String(i).padStart(5, '0')}`,
      folder: '/bulk/',
      kind: 'String',
      description: null,
      tags: {},
      kmsKeyId: null,
      lastChangedAt: '2026-01-01T00:00:00.000Z',
      lastChangedBy: null,
      currentVersion: version,
      labels: [],
      extra: {},
    }),
  );
}

describe('planner statistics after a walk (postgres)', () => {
  let place: InventoryPlace;
  let inventory: InventoryDb;
  beforeAll(async () => {
    place = await inventoryPlace('postgres');
    inventory = await place.open();
  });
  afterAll(async () => {
    await inventory.close();
    await place.cleanup();
  });

  async function analyzedTimes(): Promise<number> {
    const { db } = place.raw();
    const result = await sql<{ n: number }>`SELECT analyze_count::int AS n FROM pg_stat_user_tables WHERE relname = 'inv_items' AND schemaname = 'inventory'`.execute(db);
    return result.rows[0]?.n ?? 0;
  }

  async function walk(count: number, version: string) {
    await inventory.beginWalk('params');
    await inventory.stage(rows(count, version));
    return inventory.applyWalk('params', TOTALS, true);
  }

  it('a walk that changes a thousand rows or more analyzes the tables; a small one does not', async () => {
    const before = await analyzedTimes();
    expect(await walk(1200, '1')).toMatchObject({ added: 1200 });
    expect(await analyzedTimes()).toBe(before + 1);
    // Ten changed rows: left to autovacuum.
    const small = rows(1200, '1').map((row, i) => (i < 10 ? { ...rows(1200, '2')[i]! } : row));
    await inventory.beginWalk('params');
    await inventory.stage(small);
    expect(await inventory.applyWalk('params', TOTALS, true)).toMatchObject({ changed: 10 });
    expect(await analyzedTimes()).toBe(before + 1);
  });
});
