import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { listInventoryStatuses } from '@/lib/data/browse';
import { inventoryStatusFor } from '@/lib/data/inventory-status';
import { clearFolderCache } from '@/lib/inventory/folder-cache';
import { inventoryDb } from '@/lib/inventory/inventory';
import { inventoryStatusesOf, inventoryStatusOf } from '@/lib/inventory/store-status';
import { getStores } from '@/lib/stores/registry';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { inventoryRecord, walkInto } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';

// Every page's header shows the status of every store the caller may see. Those are read for all the
// stores at once (inventoryStatusesOf: one query for the records and root counts, not two a store),
// and must be exactly what each store's own status read says: a synced store, one whose last walk
// failed, one never synced, the built-in store; cut to a path-limited caller the same way.

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const ADMIN = principal({ role: 'admin', stores: null, paths: ['/**'] });
const ONLY_A = principal({ role: 'viewer', stores: null, paths: ['/a/**'] });

const CONFIG = [
  'stores:',
  '  - { id: local, kind: local, label: Built-in }',
  '  - { id: synced, kind: ssm, region: us-east-1 }',
  '  - { id: failed, kind: ssm, region: us-east-1 }',
  '  - { id: never, kind: secretsmanager, region: us-east-1 }',
  '  - { id: secrets, kind: secretsmanager, region: us-east-1 }',
  '',
].join('\n');

describe.each(DATABASES)('statuses of many stores at once (%s)', (database) => {
  const temp = makeTempDir('store-statuses-');
  let dashboard: { close(): Promise<void> };

  beforeAll(async () => {
    dashboard = await openInventoryDashboard(temp.dir, CONFIG, database);
    const db = await inventoryDb();
    await walkInto(db, 'synced', ['/a/one', '/a/two', '/b/three'].map((n) => inventoryRecord(n)));
    await walkInto(db, 'failed', ['/a/x'].map((n) => inventoryRecord(n)));
    await db.recordFailure('failed', 'throttled', 'DescribeParameters was throttled');
    await walkInto(db, 'secrets', ['/a/s1', '/b/s2'].map((n) => inventoryRecord(n, { kind: 'secret' })));
    clearFolderCache();
  });
  afterAll(async () => {
    await dashboard.close();
    temp.cleanup();
  });

  it('reads for all stores what each store’s own read says, in the order given', async () => {
    const stores = await getStores();
    const one = await Promise.all(stores.map((s) => inventoryStatusOf(s)));
    const all = await inventoryStatusesOf(stores);
    expect(all).toEqual(one);
    expect(all.map((s) => [s.storeId, s.items, s.syncedAt !== null, s.error?.code ?? null])).toEqual([
      ['local', 0, false, null],
      ['synced', 3, true, null],
      ['failed', 1, true, 'throttled'],
      ['never', 0, false, null],
      ['secrets', 2, true, null],
    ]);
    // A subset, in another order, answers for those stores only.
    const picked = [stores[4]!, stores[1]!];
    expect(await inventoryStatusesOf(picked)).toEqual([one[4], one[1]]);
    expect(await inventoryStatusesOf([])).toEqual([]);
  });

  it('the header’s list is each store’s status cut to the caller: whole for an admin, their own count for a viewer of /a', async () => {
    const stores = await getStores();
    for (const caller of [ADMIN, ONLY_A]) {
      const listed = await listInventoryStatuses(caller);
      expect(listed).toEqual(await Promise.all(stores.map((s) => inventoryStatusFor(caller, s))));
    }
    const viewer = await listInventoryStatuses(ONLY_A);
    expect(viewer.find((s) => s.storeId === 'synced')).toMatchObject({ scope: 'grants', items: 2, lastWalk: null });
    expect(viewer.find((s) => s.storeId === 'secrets')).toMatchObject({ scope: 'grants', items: 1 });
    expect((await listInventoryStatuses(ADMIN)).find((s) => s.storeId === 'synced')).toMatchObject({ scope: 'store', items: 3 });
    expect(await listInventoryStatuses(ONLY_A, 'failed')).toEqual([await inventoryStatusFor(ONLY_A, stores[2]!)]);
  });
});
