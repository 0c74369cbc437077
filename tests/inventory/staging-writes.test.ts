import { afterAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { freshnessColumnsOf, FRESHNESS_COLUMNS } from '@/lib/freshness/columns';
import { policySet } from '@/lib/freshness/policies';
import type { StagedRow } from '@/lib/inventory/inventory-db';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import type { RotationStatus } from '@/lib/stores/types';
import { DATABASES } from '../support/databases';
import { inventoryRecord } from '../support/inventory-records';
import { inventoryPlace, type InventoryPlace } from './open-inventory';

// The walk's staging writes: pages go in as one ready INSERT per page size with a flat list of
// values (not built by kysely per value), and rows may carry freshness columns the sync computed
// from the record's extras as mapped. Whatever the page size (one row, a walk page, more than one
// INSERT's batch of 500), with or without those columns, the swap stores the same rows and the same
// freshness as a row whose columns are derived from its stored JSON; a name staged again replaces
// the earlier row, within a page and across pages.

const POLICIES = policySet([{ path: '/rotating/', maxAgeDays: 30, warnBeforeDays: 5 }]);
const DAY = 86_400_000;

const rotation = (enabled: boolean, lastRotatedAt: string | null, nextRotationAt: string | null): RotationStatus => ({
  enabled,
  schedule: enabled ? 'rate(30 days)' : null,
  lastRotatedAt,
  nextRotationAt,
  lastAccessedAt: null,
  lambdaArn: null,
});

/** Records of every kind of extras the freshness columns read: rotation, pending versions, SSM policies, a recorded failure. */
function recordOf(i: number): InventoryRecord {
  const base = Date.UTC(2026, 0, 1) + (i % 400) * DAY;
  const name = `${i % 2 ? '/rotating' : '/plain'}/team${i % 7}/item-${String(i).padStart(4, '0')}`;
  const variants: InventoryRecord['extra'][] = [
    {},
    { rotation: rotation(true, new Date(base + DAY).toISOString(), new Date(base + 20 * DAY).toISOString()), stagedVersions: 2 },
    { rotation: rotation(false, null, null), stagedVersions: 1 },
    { pendingVersion: 'v-pending' },
    { policies: [{ type: 'Expiration', status: 'Pending', text: JSON.stringify({ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: new Date(base + 10 * DAY).toISOString() } }) }] },
    { policies: [{ type: 'NoChangeNotification', status: 'Pending', text: JSON.stringify({ Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: '3', Unit: 'Days' } }) }] },
    { rotationFailure: { at: new Date(base).toISOString(), message: 'the Lambda failed' } },
  ];
  return inventoryRecord(name, { lastChangedAt: new Date(base).toISOString(), currentVersion: String(1 + (i % 3)), extra: variants[i % variants.length]! });
}

const withFreshness = (storeId: string, record: InventoryRecord): StagedRow => {
  const row = toInventoryRow(storeId, record, false);
  return Object.assign(row, freshnessColumnsOf(row, POLICIES, record.extra));
};

describe.each(DATABASES)('staging a walk (%s)', (kind) => {
  let place: InventoryPlace;
  afterAll(async () => {
    await place?.cleanup();
  });

  it('stores the same rows and freshness whatever the page size, with or without the sync’s freshness columns, the last of a repeated name winning', async () => {
    place = await inventoryPlace(kind);
    const db = await place.open(POLICIES);
    try {
      const records = Array.from({ length: 1203 }, (_, i) => recordOf(i));
      await db.beginWalk('s');
      // One row, a page of 50, a page of 501 (two INSERTs), the rest: half with the sync's columns.
      const pages = [records.slice(0, 1), records.slice(1, 51), records.slice(51, 552), records.slice(552)];
      for (const [p, page] of pages.entries()) await db.stage(page.map((r, i) => ((p + i) % 2 ? withFreshness('s', r) : toInventoryRow('s', r, false))));
      // A name again: within one page (the later one counts) and in a later page.
      const changedTwice = { ...records[7]!, currentVersion: '9' };
      await db.stage([toInventoryRow('s', { ...records[7]!, currentVersion: '8' }, false), withFreshness('s', changedTwice)]);
      await db.stage([toInventoryRow('s', { ...records[600]!, description: 'again' }, false)]);
      await db.applyWalk('s', { items: records.length, pages: pages.length + 2, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, true);

      const expected = records.map((r, i) => (i === 7 ? changedTwice : i === 600 ? { ...r, description: 'again' } : r));
      const { db: raw, done } = place.raw();
      try {
        const rows = await raw.selectFrom('inv_items').selectAll().where('store_id', '=', 's').orderBy('name').execute();
        expect(rows).toHaveLength(records.length);
        const byName = new Map(rows.map((r) => [r.name, r]));
        for (const record of expected) {
          const stored = byName.get(record.name)!;
          const row = toInventoryRow('s', record, false);
          // Every column as the walk's row says, and freshness as derived from the stored JSON.
          for (const [column, value] of Object.entries(row)) if (column !== 'tags' && column !== 'tag_text') expect(stored[column as keyof typeof stored], `${record.name} ${column}`).toEqual(value);
          const fresh = freshnessColumnsOf(stored, POLICIES);
          for (const column of FRESHNESS_COLUMNS) expect(stored[column] ?? null, `${record.name} ${column}`).toEqual(fresh[column] ?? null);
        }
        // The variants make the columns differ between rows (the comparison above is not of constants).
        expect(new Set(rows.map((r) => r.fresh_due_at)).size).toBeGreaterThan(100);
        expect(rows.some((r) => r.fresh_failing_at !== null)).toBe(true);
        expect(rows.some((r) => r.fresh_first_version === 1) && rows.some((r) => r.fresh_first_version === 0)).toBe(true);
        const left = await sql<{ n: number }>`SELECT count(*) AS n FROM inv_staging WHERE store_id = 's'`.execute(raw);
        expect(Number(left.rows[0]!.n)).toBe(0);
      } finally {
        await done();
      }
    } finally {
      await db.close();
    }
  }, 60_000);

  it('freshness from the mapped extras equals freshness parsed from the row’s JSON', () => {
    for (let i = 0; i < 200; i++) {
      const record = recordOf(i);
      const row = toInventoryRow('s', record, false);
      expect(freshnessColumnsOf(row, POLICIES, record.extra)).toEqual(freshnessColumnsOf(row, POLICIES));
    }
  });
});
