import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { getFolderView, listItemsPage } from '@/lib/data/browse';
import { inventoryDb } from '@/lib/inventory/inventory';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { inventoryRecord, walkInto } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';

// A folder page (lib/data/browse.ts getFolderView) over a real inventory, case by case: which folder
// opens for whom, which sub-folders it shows and which counts, and that a filtered page counts what
// it filters. The same cuts over random grants are in access-surfaces.property.test.ts; these are
// the edges a random run rarely meets (the root of someone holding nothing yet, an empty store, a
// store that is not there, filters).

const NAMES = ['/prod/payments/a', '/prod/payments/b', '/prod/payments/db/pw', '/prod/web/x', '/prod/web/db', '/dev/k'];

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const P = {
  admin: principal({ role: 'admin', stores: null, paths: ['/**'] }),
  payments: principal({ role: 'viewer', stores: null, paths: ['/prod/payments/**'] }),
  // A wildcard level: reaches /prod/payments/ too, which holds no "db" item.
  anyDb: principal({ role: 'viewer', stores: null, paths: ['/prod/*/db'] }),
  // Reaches the root on the way to a folder the inventory does not hold.
  nothingYet: principal({ role: 'viewer', stores: null, paths: ['/staging/**'] }),
  otherStore: principal({ role: 'admin', stores: ['empty'], paths: ['/**'] }),
};
type Who = keyof typeof P;

describe.each(DATABASES)('folder pages cut by the one check (%s)', (database) => {
  const temp = makeTempDir('secrets-folder-view-');
  let dashboard: { close(): Promise<void> } | undefined;

  beforeAll(async () => {
    dashboard = await openInventoryDashboard(temp.dir, 'stores:\n  - { id: params, kind: ssm, region: us-east-1 }\n  - { id: empty, kind: ssm, region: us-east-1 }\n', database);
    const db = await inventoryDb();
    for (const [storeId, names] of [['params', NAMES], ['empty', []]] as const) {
      await walkInto(db, storeId, names.map((n) => inventoryRecord(n)));
    }
  }, 60_000);

  afterAll(async () => {
    await dashboard?.close();
    temp.cleanup();
  });

  type Expected = { items: string[]; totalItems: number; folders: [string, number | null][] } | null;
  it.each<[Who, string, Expected]>([
    ['admin', '/', { items: [], totalItems: 0, folders: [['/dev/', 1], ['/prod/', 5]] }],
    ['admin', '/prod/payments/', { items: ['/prod/payments/a', '/prod/payments/b'], totalItems: 2, folders: [['/prod/payments/db/', 1]] }],
    ['admin', '/nowhere/', null],
    // Counts only where the caller may list everything counted.
    ['payments', '/', { items: [], totalItems: 0, folders: [['/prod/', null]] }],
    ['payments', '/prod/', { items: [], totalItems: 0, folders: [['/prod/payments/', 3]] }],
    ['payments', '/prod/payments/', { items: ['/prod/payments/a', '/prod/payments/b'], totalItems: 2, folders: [['/prod/payments/db/', 1]] }],
    ['payments', '/prod/web/', null],
    ['payments', '/dev/', null],
    // A folder reached by a wildcard is shown only when it holds one of the caller's items.
    ['anyDb', '/prod/', { items: [], totalItems: 0, folders: [['/prod/web/', null]] }],
    ['anyDb', '/prod/web/', { items: ['/prod/web/db'], totalItems: 1, folders: [] }],
    ['anyDb', '/prod/payments/', null],
    // The root opens (empty) for whoever may list it, even before any of their items exists.
    ['nothingYet', '/', { items: [], totalItems: 0, folders: [] }],
    ['nothingYet', '/staging/', null],
    ['otherStore', '/', null],
  ])('%s opens %s: %j', async (who, folder, expected) => {
    const view = await getFolderView(P[who], 'params', folder, {});
    if (expected === null) {
      expect(view).toBeNull();
      return;
    }
    expect(view).not.toBeNull();
    expect({ items: view!.items.map((i) => i.name), totalItems: view!.totalItems, folders: view!.folders.map((f) => [f.path, f.totalItems]) }).toEqual(expected);
  });

  it.each<[string, { q?: string; status?: ('rotation-failing' | 'fresh')[] }, string[]]>([
    ['a name filter', { q: 'b' }, ['/prod/payments/b']],
    ['a name filter with spaces around it', { q: ' b ' }, ['/prod/payments/b']],
    ['a status no item is in', { status: ['rotation-failing'] }, []],
  ])('counts what %s leaves, not the whole folder', async (_label, query, names) => {
    for (const who of ['admin', 'payments'] as const) {
      const view = await getFolderView(P[who], 'params', '/prod/payments/', query);
      expect(view!.items.map((i) => i.name)).toEqual(names);
      expect(view!.totalItems).toBe(names.length);
    }
  });

  it('opens the root of a store with an inventory but no items', async () => {
    expect(await getFolderView(P.admin, 'empty', '/', {})).toMatchObject({ items: [], totalItems: 0, folders: [], pending: false });
    expect(await getFolderView(P.payments, 'empty', '/', {})).toMatchObject({ items: [], totalItems: 0, folders: [], pending: false });
  });

  it.each<[Who, string]>([
    ['admin', 'gone'],
    ['otherStore', 'params'],
  ])('%s gets nothing of store %s, not even its root', async (who, storeId) => {
    expect(await getFolderView(P[who], storeId, '/', {})).toBeNull();
    expect(await listItemsPage(P[who], storeId, { path: '/', limit: 10 })).toBeNull();
  });
});
