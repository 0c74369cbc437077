import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { getFolderShell, getFolderView, listInventoryStatuses } from '@/lib/data/browse';
import { BoundedLru, cachedForGrantSet, clearFolderCache, folderCacheSize, inventoryVersion, listGrantSet } from '@/lib/inventory/folder-cache';
import { inventoryDb } from '@/lib/inventory/inventory';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { inventoryRecord, walkInto } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';

// What folder pages keep per store, inventory version and grant set (lib/inventory/folder-cache.ts):
// kept once and found again, never handed to another grant set, dropped when a walk is swapped in,
// an item is added or the grants change; and the LRU under it stays within its bounds.

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const ADMIN = principal({ role: 'admin', stores: null, paths: ['/**'] });
const ONLY_A = principal({ role: 'viewer', stores: null, paths: ['/a/**'] });

describe('BoundedLru', () => {
  it('drops the least recently used entry past its count', () => {
    const lru = new BoundedLru<string>(2, 100);
    lru.set('a', 'A');
    lru.set('b', 'B');
    expect(lru.get('a')).toBe('A'); // a is now the most recent
    lru.set('c', 'C');
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual(['A', undefined, 'C']);
    expect(lru.size).toBe(2);
  });

  it('drops entries past its total weight, and never keeps one heavier than the whole', () => {
    const lru = new BoundedLru<string>(100, 10);
    lru.set('a', 'A', 6);
    lru.set('b', 'B', 3);
    lru.set('c', 'C', 4);
    expect([lru.get('a'), lru.get('b'), lru.get('c')]).toEqual([undefined, 'B', 'C']);
    expect(lru.totalWeight).toBe(7);
    lru.set('huge', 'H', 11);
    expect(lru.get('huge')).toBeUndefined();
    lru.reweigh('b', 'B', 8);
    expect(lru.totalWeight).toBeLessThanOrEqual(10);
    expect(lru.get('b')).toBe('B');
  });
});

describe('keys', () => {
  it('a grant set is the globs that allow listing in the store, whatever the role, order or repeats', () => {
    const viewer = principal({ role: 'viewer', stores: null, paths: ['/b/**', '/a/**'] });
    const operator = principal({ role: 'operator', stores: ['s'], paths: ['/a/**'] }, { role: 'viewer', stores: null, paths: ['/b/**', '/a/**'] });
    expect(listGrantSet(viewer, 's')).toBe(listGrantSet(operator, 's'));
    expect(listGrantSet(ONLY_A, 's')).not.toBe(listGrantSet(viewer, 's'));
    // A grant on another store does not count.
    expect(listGrantSet(principal({ role: 'viewer', stores: ['other'], paths: ['/b/**'] }, ...ONLY_A.grants), 's')).toBe(listGrantSet(ONLY_A, 's'));
    expect(listGrantSet(principal(), 's')).toBe('[]');
  });

  it('the version moves with a swap (syncedAt) and with an added item (the count)', () => {
    const base = { live: false, syncedAt: '2026-01-01T00:00:00.000Z', items: 10 };
    expect(inventoryVersion(base)).toBe(inventoryVersion({ ...base }));
    expect(inventoryVersion({ ...base, syncedAt: '2026-01-01T00:00:00.001Z' })).not.toBe(inventoryVersion(base));
    expect(inventoryVersion({ ...base, items: 11 })).not.toBe(inventoryVersion(base));
    expect(inventoryVersion({ live: true, syncedAt: null, items: 3 })).not.toBe(inventoryVersion({ live: true, syncedAt: null, items: 4 }));
  });
});

describe('cachedForGrantSet', () => {
  const inventory = {};
  const key = (over: Partial<Parameters<typeof cachedForGrantSet>[0]> = {}) => ({ inventory, storeId: 's', version: 'v1', grantSet: '["/**"]', what: 'count', ...over });
  beforeEach(() => clearFolderCache());

  it('computes once per key, callers meanwhile sharing the one computation', async () => {
    let calls = 0;
    const compute = async () => ++calls;
    const [a, b] = await Promise.all([cachedForGrantSet(key(), compute), cachedForGrantSet(key(), compute)]);
    expect([a, b, await cachedForGrantSet(key(), compute)]).toEqual([1, 1, 1]);
    // Any other part of the key is another entry.
    expect(await cachedForGrantSet(key({ grantSet: '["/a/**"]' }), compute)).toBe(2);
    expect(await cachedForGrantSet(key({ what: 'folder:/' }), compute)).toBe(3);
    expect(await cachedForGrantSet(key({ storeId: 't' }), compute)).toBe(4);
    expect(await cachedForGrantSet(key({ inventory: {} }), compute)).toBe(5);
    expect(calls).toBe(5);
  });

  it('keeps no failure', async () => {
    await expect(cachedForGrantSet(key(), async () => Promise.reject(new Error('database gone')))).rejects.toThrow('database gone');
    expect(await cachedForGrantSet(key(), async () => 7)).toBe(7);
  });

  it('a new version of a store drops the entries of the older ones, and only that store’s', async () => {
    await cachedForGrantSet(key(), async () => 1);
    await cachedForGrantSet(key({ what: 'folder:/' }), async () => 1);
    await cachedForGrantSet(key({ storeId: 't' }), async () => 1);
    expect(folderCacheSize().entries).toBe(3);
    expect(await cachedForGrantSet(key({ version: 'v2' }), async () => 2)).toBe(2);
    expect(folderCacheSize().entries).toBe(2);
    // The old version is computed again should a late request still ask for it.
    expect(await cachedForGrantSet(key(), async () => 3)).toBe(3);
  });
});

describe.each(DATABASES)('folder pages from the cache (%s)', (database) => {
  const temp = makeTempDir('secrets-folder-cache-');
  let dashboard: { close(): Promise<void> } | undefined;
  const NAMES = ['/a/one', '/a/two', '/a/deep/three', '/b/secret-1', '/b/secret-2', '/b/inner/secret-3'];

  beforeAll(async () => {
    dashboard = await openInventoryDashboard(temp.dir, 'stores:\n  - { id: params, kind: ssm, region: us-east-1 }\n', database);
    await walkInto(await inventoryDb(), 'params', NAMES.map((n) => inventoryRecord(n)));
  }, 60_000);

  afterAll(async () => {
    await dashboard?.close();
    temp.cleanup();
  });

  beforeEach(() => clearFolderCache());

  const folderPaths = (view: { folders: { path: string }[] } | null) => view?.folders.map((f) => f.path) ?? null;

  it('a viewer limited to /a never gets what an admin filled the cache with', async () => {
    // The admin fills every entry first: the root, /b/ and its counts, the store's count.
    const adminRoot = await getFolderShell(ADMIN, 'params', '/');
    expect(adminRoot?.folders).toEqual([
      { path: '/a/', name: 'a', totalItems: 3 },
      { path: '/b/', name: 'b', totalItems: 3 },
    ]);
    expect(folderPaths(await getFolderShell(ADMIN, 'params', '/b/'))).toEqual(['/b/inner/']);
    expect((await listInventoryStatuses(ADMIN))[0]).toMatchObject({ scope: 'store', items: 6 });

    // The viewer: no /b/ anywhere, no count of what they may not list, their own item count.
    const viewerRoot = await getFolderShell(ONLY_A, 'params', '/');
    expect(viewerRoot?.folders).toEqual([{ path: '/a/', name: 'a', totalItems: 3 }]);
    expect(viewerRoot?.tree.map((n) => n.path)).toEqual(['/a/']);
    expect(JSON.stringify(viewerRoot)).not.toContain('/b/');
    expect(await getFolderShell(ONLY_A, 'params', '/b/')).toBeNull();
    expect(await getFolderView(ONLY_A, 'params', '/b/', {})).toBeNull();
    expect(await getFolderShell(ONLY_A, 'params', '/b/inner/')).toBeNull();
    expect((await listInventoryStatuses(ONLY_A))[0]).toMatchObject({ scope: 'grants', items: 3 });

    // And the other way round: the admin's entries were not taken from the viewer's.
    expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/b/']);
  });

  it('a second request is answered from the cache, the same as the first', async () => {
    const first = await getFolderView(ONLY_A, 'params', '/a/', {});
    const entries = folderCacheSize().entries;
    expect(entries).toBeGreaterThan(0);
    const second = await getFolderView(ONLY_A, 'params', '/a/', {});
    expect(second).toEqual(first);
    expect(folderCacheSize().entries).toBe(entries);
    expect(first?.items.map((i) => i.name)).toEqual(['/a/one', '/a/two']);
    expect(first?.folders).toEqual([{ path: '/a/deep/', name: 'deep', totalItems: 1 }]);
  });

  it('a grant change shows the new grant set its own folders at once', async () => {
    const viewer = principal({ role: 'viewer', stores: null, paths: ['/a/**'] });
    expect(folderPaths(await getFolderShell(viewer, 'params', '/'))).toEqual(['/a/']);
    // The same user, granted /b as well on the next request (grants are read per request).
    viewer.grants = [...viewer.grants, { role: 'viewer', stores: null, paths: ['/b/inner/**'] }];
    expect(folderPaths(await getFolderShell(viewer, 'params', '/'))).toEqual(['/a/', '/b/']);
    expect(folderPaths(await getFolderShell(viewer, 'params', '/b/'))).toEqual(['/b/inner/']);
    expect((await listInventoryStatuses(viewer))[0]).toMatchObject({ items: 4 });
    // And a grant taken away is gone on the next request too.
    viewer.grants = viewer.grants.slice(0, 1);
    expect(await getFolderShell(viewer, 'params', '/b/')).toBeNull();
    expect((await listInventoryStatuses(viewer))[0]).toMatchObject({ items: 3 });
  });

  it('after a swap the new inventory shows, even one of as many items swapped in at once', async () => {
    const db = await inventoryDb();
    expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/b/']);
    expect((await listInventoryStatuses(ONLY_A))[0]).toMatchObject({ items: 3 });
    try {
      // The same number of items, /b/ gone and /c/ new, swapped in twice within the same millisecond or so.
      const swapped = NAMES.map((n) => n.replace('/b/', '/c/').replace('/a/two', '/a/deep/two'));
      await walkInto(db, 'params', swapped.map((n) => inventoryRecord(n)));
      expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/c/']);
      expect(await getFolderShell(ADMIN, 'params', '/b/')).toBeNull();
      expect((await getFolderShell(ONLY_A, 'params', '/a/'))?.folders).toEqual([{ path: '/a/deep/', name: 'deep', totalItems: 2 }]);
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
      expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/b/']);
      expect((await getFolderShell(ONLY_A, 'params', '/a/'))?.folders).toEqual([{ path: '/a/deep/', name: 'deep', totalItems: 1 }]);
    } finally {
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
    }
  });

  it('two swaps in one millisecond (or with the clock set back) are two versions', async () => {
    const db = await inventoryDb();
    const syncedAt = async () => (await db.index.syncRecord('params'))?.synced_at;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(Date.parse('2026-06-01T00:00:00.000Z'));
    try {
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
      const first = await syncedAt();
      expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/b/']);
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n.replace('/b/', '/c/'))));
      const second = await syncedAt();
      expect(second! > first!).toBe(true);
      expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/c/']);
      clock.mockReturnValue(Date.parse('2026-05-01T00:00:00.000Z'));
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
      expect((await syncedAt())! > second!).toBe(true);
      expect(folderPaths(await getFolderShell(ADMIN, 'params', '/'))).toEqual(['/a/', '/b/']);
    } finally {
      clock.mockRestore();
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
    }
  });

  it('an item the dashboard adds between walks shows at once, in the counts as well', async () => {
    const db = await inventoryDb();
    expect(folderPaths(await getFolderShell(ONLY_A, 'params', '/a/'))).toEqual(['/a/deep/']);
    try {
      await db.upsertItem('params', inventoryRecord('/a/new/written'), true);
      expect(folderPaths(await getFolderShell(ONLY_A, 'params', '/a/'))).toEqual(['/a/deep/', '/a/new/']);
      expect((await listInventoryStatuses(ONLY_A))[0]).toMatchObject({ items: 4 });
    } finally {
      await walkInto(db, 'params', NAMES.map((n) => inventoryRecord(n)));
    }
  });
});
