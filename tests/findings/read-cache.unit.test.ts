import { describe, expect, it } from 'vitest';
import type { EventQueries, StoreRead } from '@/lib/cloudtrail/event-queries';
import { StoreReadCache } from '@/lib/findings/read-cache';

// The findings' cache of a store's reads: after new rows are ingested, what it answers equals a whole
// pass over the index; rows read twice (the overlap) change nothing; a new day reads the window whole.

interface Row {
  id: number;
  storeId: string;
  itemName: string;
  principal: string | null;
  at: string;
}

/** An index of rows answering the two queries the cache asks, as the SQL does (grouped per name and principal). */
function fakeIndex(rows: Row[]) {
  const calls: number[] = [];
  const grouped = (list: Row[]): StoreRead[] => {
    const out = new Map<string, StoreRead>();
    for (const r of list) {
      const key = `${r.itemName}\n${r.principal}`;
      const known = out.get(key);
      out.set(key, known ? { ...known, firstAt: r.at < known.firstAt ? r.at : known.firstAt, lastAt: r.at > known.lastAt ? r.at : known.lastAt } : { itemName: r.itemName, recursive: false, principal: r.principal, firstAt: r.at, lastAt: r.at });
    }
    return [...out.values()];
  };
  const events = {
    async storeCoverage(storeId: string) {
      const times = rows.filter((r) => r.storeId === storeId).map((r) => r.at).sort();
      return times[0] ?? null;
    },
    async readsOfStoreAfter(storeId: string, from: string, afterId: number) {
      calls.push(afterId);
      const list = rows.filter((r) => r.id > afterId && r.storeId === storeId && r.at >= from);
      return { reads: grouped(list), maxId: Math.max(0, ...rows.map((r) => r.id)) };
    },
  } as unknown as EventQueries;
  return { events, calls, whole: (storeId: string, from: string) => grouped(rows.filter((r) => r.storeId === storeId && r.at >= from)) };
}

const sorted = (reads: StoreRead[]) => [...reads].sort((a, b) => `${a.itemName}${a.principal}`.localeCompare(`${b.itemName}${b.principal}`));
const day1 = new Date('2026-12-01T10:00:00Z');

describe('StoreReadCache', () => {
  it('answers after new rows what a whole pass answers, reading only the rows since its last pass', async () => {
    const rows: Row[] = [
      { id: 200_001, storeId: 's', itemName: '/a', principal: 'p1', at: '2026-11-20T00:00:00Z' },
      { id: 200_002, storeId: 's', itemName: '/a', principal: 'p2', at: '2026-11-25T00:00:00Z' },
      { id: 200_003, storeId: 'other', itemName: '/a', principal: 'p1', at: '2026-11-26T00:00:00Z' },
    ];
    const { events, calls, whole } = fakeIndex(rows);
    const cache = new StoreReadCache();
    const from = '2026-09-01T00:00:00Z';
    expect(sorted((await cache.readsOf(events, 's', from, day1)).reads)).toEqual(sorted(whole('s', from)));
    rows.push(
      { id: 260_004, storeId: 's', itemName: '/a', principal: 'p1', at: '2026-11-30T00:00:00Z' },
      { id: 260_005, storeId: 's', itemName: '/b', principal: 'p3', at: '2026-11-30T01:00:00Z' },
      { id: 260_006, storeId: 's', itemName: '/a', principal: 'p2', at: '2026-11-01T00:00:00Z' }, // delivered late, older
    );
    const again = await cache.readsOf(events, 's', from, day1);
    expect(sorted(again.reads)).toEqual(sorted(whole('s', from)));
    expect(again.coverage).toBe('2026-11-20T00:00:00Z');
    // The second pass started below the last id seen (the overlap), not from the start of the index.
    expect(calls.slice(0, 2)).toEqual([0, 200_003 - 50_000]);
    // Read again with nothing new: the same answer (merging rows twice changes nothing).
    expect(sorted((await cache.readsOf(events, 's', from, day1)).reads)).toEqual(sorted(whole('s', from)));
  });

  it('reads the window whole on a new day, so reads that aged out of it go', async () => {
    const rows: Row[] = [{ id: 1, storeId: 's', itemName: '/a', principal: 'p1', at: '2026-08-01T00:00:00Z' }];
    const { events } = fakeIndex(rows);
    const cache = new StoreReadCache();
    expect((await cache.readsOf(events, 's', '2026-07-01T00:00:00Z', day1)).reads).toHaveLength(1);
    const nextDay = new Date('2026-12-02T10:00:00Z');
    expect((await cache.readsOf(events, 's', '2026-09-01T00:00:00Z', nextDay)).reads).toEqual([]);
  });

  it('forgets a store on request (a forced evaluation reads it whole)', async () => {
    const rows: Row[] = [{ id: 1, storeId: 's', itemName: '/a', principal: 'p1', at: '2026-11-01T00:00:00Z' }];
    const { events, calls } = fakeIndex(rows);
    const cache = new StoreReadCache();
    await cache.readsOf(events, 's', '2026-09-01T00:00:00Z', day1);
    cache.forget('s');
    await cache.readsOf(events, 's', '2026-09-01T00:00:00Z', day1);
    expect(calls).toEqual([0, 0]);
  });
});
