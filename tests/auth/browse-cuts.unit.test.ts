import { beforeEach, describe, expect, it, vi } from 'vitest';

// The grant cuts of lib/data/browse.ts that decide from the one check alone, case by case: which
// stores a caller sees, which folders are shown, which items open. The stores and the inventory are
// stand-ins here; the folder pages and lists over a real inventory are checked against can() item by
// item in tests/auth/access-surfaces.property.test.ts.
vi.mock('@/lib/stores/registry', () => ({ getStores: vi.fn(), getStore: vi.fn() }));
vi.mock('@/lib/data/inventory-status', () => ({
  hasInventory: vi.fn(() => true),
  inventoryIndexOf: vi.fn(),
  inventoryStatusFor: vi.fn(),
  inventoryStatusOf: vi.fn(async () => ({ live: true, syncedAt: null })),
}));

import { globsPattern, nameRanges } from '@/lib/auth/path-glob';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { findStore, folderVisible, getItemFreshness, getItemView, listStoreSummaries } from '@/lib/data/browse';
import { hasInventory, inventoryIndexOf } from '@/lib/data/inventory-status';
import type { InventoryIndex } from '@/lib/inventory/inventory-index';
import { getStore, getStores } from '@/lib/stores/registry';
import type { SecretStore } from '@/lib/stores/types';

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const P = {
  nobody: principal(),
  everything: principal({ role: 'viewer', stores: null, paths: ['/**'] }),
  payments: principal({ role: 'viewer', stores: ['local'], paths: ['/prod/payments/**'] }),
  // A wildcard level reaches every folder at that level, holding the names or not.
  anyApp: principal({ role: 'viewer', stores: null, paths: ['/prod/*/db'] }),
  twoStores: principal({ role: 'viewer', stores: ['aws'], paths: ['/a/**'] }, { role: 'viewer', stores: ['local'], paths: ['/b/**'] }),
};
type Who = keyof typeof P;

const STORES = ['local', 'aws', 'other'].map((id) => ({ id, label: `Store ${id}`, kind: id === 'local' ? 'local' : 'ssm', writable: id === 'local', writeValue: async () => undefined, getItem: vi.fn() }));
beforeEach(() => {
  vi.mocked(getStores).mockResolvedValue(STORES as unknown as SecretStore[]);
  vi.mocked(getStore).mockImplementation(async (id) => (STORES.find((s) => s.id === id) ?? null) as unknown as SecretStore | null);
});

describe('the stores a caller sees', () => {
  it.each<[Who, string[]]>([
    ['nobody', []],
    ['everything', ['local', 'aws', 'other']],
    ['payments', ['local']],
    ['twoStores', ['local', 'aws']],
  ])('%s sees %j', async (who, ids) => {
    const summaries = await listStoreSummaries(P[who]);
    expect(summaries.map((s) => s.id)).toEqual(ids);
    for (const id of ['local', 'aws', 'other']) expect((await findStore(P[who], id))?.id ?? null).toBe(ids.includes(id) ? id : null);
  });

  it('describes a store by id, label, kind and whether it is writable, nothing more', async () => {
    expect(await listStoreSummaries(P.everything)).toEqual([
      { id: 'local', label: 'Store local', kind: 'local', writable: true },
      { id: 'aws', label: 'Store aws', kind: 'ssm', writable: false },
      { id: 'other', label: 'Store other', kind: 'ssm', writable: false },
    ]);
  });
});

describe('folderVisible', () => {
  /** An inventory holding these names (any store). */
  const index = (names: string[]) => {
    const anyItemBelow = vi.fn(async (_storeId: string, path: string, pattern: string | null) =>
      names.some((n) => n.startsWith(path) && (pattern === null || new RegExp(pattern, 'u').test(n))),
    );
    return { anyItemBelow } as unknown as InventoryIndex & { anyItemBelow: typeof anyItemBelow };
  };

  it.each<[Who, string, string, string[], boolean]>([
    // [who, store, folder, names in the inventory, shown]
    ['nobody', 'local', '/', ['/a'], false],
    ['everything', 'local', '/nothing/here/', [], true],
    ['payments', 'local', '/prod/', ['/prod/payments/k'], true],
    ['payments', 'local', '/prod/', [], false],
    ['payments', 'local', '/prod/', ['/prod/paymentsx/k'], false],
    ['payments', 'local', '/prod/web/', ['/prod/web/k'], false],
    ['payments', 'aws', '/prod/', ['/prod/payments/k'], false],
    ['anyApp', 'local', '/prod/web/', ['/prod/web/db'], true],
    ['anyApp', 'local', '/prod/web/', ['/prod/web/cache'], false],
    ['anyApp', 'local', '/prod/api/', ['/prod/web/db', '/prod/api/k'], false],
  ])('%s in %s: %s with %j is shown: %s', async (who, storeId, folder, names, shown) => {
    expect(await folderVisible(P[who], index(names), storeId, folder)).toBe(shown);
  });

  it('asks the inventory only when the grants do not decide, with the grants\' pattern', async () => {
    const decided = index([]);
    await folderVisible(P.everything, decided, 'local', '/x/');
    await folderVisible(P.payments, decided, 'local', '/prod/payments/db/');
    await folderVisible(P.payments, decided, 'local', '/dev/');
    expect(decided.anyItemBelow).not.toHaveBeenCalled();
    // "/prod/web/" is reached by the grant without all of it being granted: the inventory decides.
    const asked = index(['/prod/web/db']);
    expect(await folderVisible(P.anyApp, asked, 'local', '/prod/web/')).toBe(true);
    // With the ranges the grants' names lie in, so the inventory seeks them (lib/auth/path-glob.ts nameRanges).
    expect(asked.anyItemBelow).toHaveBeenCalledExactlyOnceWith('local', '/prod/web/', globsPattern(['/prod/*/db']), nameRanges(['/prod/*/db']));
  });
});

describe('opening an item', () => {
  const DETAIL = {
    name: '/prod/payments/k',
    folder: '/prod/payments/',
    kind: 'SecureString',
    description: null,
    tags: {},
    kmsKeyId: null,
    lastChangedAt: '2026-01-01T00:00:00.000Z',
    lastChangedBy: null,
    currentVersion: '1',
    labels: [],
    versions: [],
    details: {},
  };
  const FRESHNESS = { status: 'fresh', reason: 'ok', dueAt: null, warnAt: null, policy: null };
  const indexed = { getItem: vi.fn(async (_storeId: string, name: string) => (name === DETAIL.name ? { ...DETAIL, freshness: FRESHNESS } : null)) };
  beforeEach(() => {
    for (const s of STORES) s.getItem.mockImplementation(async (name: string) => (name.startsWith('/prod/') ? { ...DETAIL, name } : null));
    vi.mocked(inventoryIndexOf).mockResolvedValue(indexed as unknown as InventoryIndex);
    vi.mocked(hasInventory).mockReturnValue(true);
    indexed.getItem.mockClear();
  });

  it.each<[Who, string, string, boolean]>([
    ['payments', 'local', '/prod/payments/k', true],
    ['payments', 'local', '/prod/web/k', false],
    ['payments', 'aws', '/prod/payments/k', false],
    ['nobody', 'local', '/prod/payments/k', false],
    ['everything', 'local', '/prod/web/k', true],
    ['everything', 'gone', '/prod/payments/k', false],
  ])('%s opens %s %s: %s', async (who, storeId, name, opens) => {
    const view = await getItemView(P[who], storeId, name);
    expect(view?.item.name ?? null).toBe(opens ? name : null);
    if (view) expect(view.store.id).toBe(storeId);
  });

  it('opens nothing the store does not hold', async () => {
    expect(await getItemView(P.everything, 'local', '/dev/missing')).toBeNull();
  });

  it.each<[Who, string, string, boolean]>([
    ['payments', 'local', '/prod/payments/k', true],
    ['payments', 'local', '/prod/web/k', false],
    ['payments', 'aws', '/prod/payments/k', false],
    ['nobody', 'local', '/prod/payments/k', false],
    ['everything', 'gone', '/prod/payments/k', false],
  ])('%s reads the freshness of %s %s: %s', async (who, storeId, name, reads) => {
    expect(await getItemFreshness(P[who], storeId, name)).toEqual(reads ? FRESHNESS : null);
    if (!reads) expect(indexed.getItem).not.toHaveBeenCalled();
  });

  it('has no freshness before the first inventory, or for an item the inventory does not hold', async () => {
    expect(await getItemFreshness(P.everything, 'local', '/prod/payments/other')).toBeNull();
    vi.mocked(hasInventory).mockReturnValue(false);
    expect(await getItemFreshness(P.everything, 'local', '/prod/payments/k')).toBeNull();
  });
});
