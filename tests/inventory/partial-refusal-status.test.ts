import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('next/navigation', () => ({ useRouter: () => ({ refresh: () => undefined }) }));

import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { InventoryStatusStrip } from '@/components/inventory-status';
import { SyncSummary } from '@/components/sync-summary';
import { inventoryStatusFor } from '@/lib/data/inventory-status';
import { clearFolderCache } from '@/lib/inventory/folder-cache';
import { inventoryDb } from '@/lib/inventory/inventory';
import type { InventoryDb } from '@/lib/inventory/inventory-db';
import type { InventoryStatus } from '@/lib/inventory/status-types';
import { inventoryStatusOf } from '@/lib/inventory/store-status';
import { collectMetrics } from '@/lib/metrics/collect-metrics';
import { getStores } from '@/lib/stores/registry';
import { toInventoryRow } from '@/lib/inventory/records';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { inventoryRecord } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';

// A Parameter Store walk that AWS refused under some name prefixes only completed: it was swapped
// in, and only the items under those prefixes keep what the inventory had. Its status says so (the
// sync completed except under the named prefixes), not that the sync failed; a walk refused whole,
// or failing otherwise, still says it failed. A path-limited viewer's message names no prefix.

const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const ADMIN = principal({ role: 'admin', stores: null, paths: ['/**'] });
const ONLY_A = principal({ role: 'viewer', stores: null, paths: ['/a/**'] });
const HIDDEN_PREFIX = '/secret-team/';
const REFUSAL = `Store "params": AWS refused DescribeParameters under "${HIDDEN_PREFIX}" (AccessDeniedException); everything else synced, and the items there keep what the last sync found.`;

const CONFIG = ['stores:', '  - { id: params, kind: ssm, region: us-east-1 }', ''].join('\n');

async function walkRefused(db: InventoryDb, names: string[], refusedPrefixes: string[]): Promise<void> {
  await db.beginWalk('params');
  await db.stage(names.map((n) => toInventoryRow('params', inventoryRecord(n), false)));
  await db.applyWalk(
    'params',
    { items: names.length, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 },
    true,
    refusedPrefixes.length > 0 ? { prefixes: refusedPrefixes, warning: { code: 'access-denied', message: REFUSAL } } : undefined,
  );
  clearFolderCache();
}

const strip = (status: InventoryStatus) =>
  renderToStaticMarkup(createElement(InventoryStatusStrip, { status, canRefresh: false, refresh: async () => ({ ok: true as const, data: { state: 'started' as const } }) }));
/** The store's /metrics flags: a failing sync, and a walk that completed except under refused prefixes. */
const syncFlags = async () => {
  const store = (await collectMetrics(0)).stores.find((s) => s.storeId === 'params');
  return { syncError: store?.syncError, syncRefused: store?.syncRefused };
};
const summary = (status: InventoryStatus) => renderToStaticMarkup(createElement(SyncSummary, { statuses: [status] }));

describe.each(DATABASES)('a walk refused under some prefixes only (%s)', (database) => {
  const temp = makeTempDir('partial-refusal-');
  let dashboard: { close(): Promise<void> };

  beforeAll(async () => {
    dashboard = await openInventoryDashboard(temp.dir, CONFIG, database);
  });
  afterAll(async () => {
    await dashboard.close();
    temp.cleanup();
  });

  it('says the sync completed except under the named prefixes, for an admin; a viewer of /a sees no prefix', async () => {
    const db = await inventoryDb();
    await walkRefused(db, ['/a/one', '/a/two', '/b/three'], [HIDDEN_PREFIX]);
    const [store] = await getStores();
    const status = await inventoryStatusOf(store!);
    expect(status.error).toMatchObject({ code: 'access-denied', partial: true, message: REFUSAL });
    // The refusal belongs to the walk swapped in, not to a later failure (the sync-failing alert compares them).
    expect(status.error!.at).toBe(status.syncedAt);

    const html = strip(status);
    expect(html).toContain('data-testid="sync-partial"');
    expect(html).toContain('completed, except under name prefixes AWS refused (access-denied)');
    expect(html).toContain(HIDDEN_PREFIX);
    expect(html).not.toContain('data-testid="sync-error"');
    expect(html).not.toMatch(/failed/);
    expect(summary(status)).not.toMatch(/failed/);
    expect(summary(status)).toContain('except under prefixes AWS refused: access-denied');
    expect(await syncFlags()).toEqual({ syncError: false, syncRefused: true });

    const admin = await inventoryStatusFor(ADMIN, store!);
    expect(admin.error).toEqual(status.error);
    const viewer = await inventoryStatusFor(ONLY_A, store!);
    expect(viewer.error).toMatchObject({ code: 'access-denied', partial: true });
    expect(JSON.stringify(viewer)).not.toContain(HIDDEN_PREFIX);
    const viewerHtml = strip(viewer);
    expect(viewerHtml).toContain('completed, except under name prefixes AWS refused');
    expect(viewerHtml).not.toContain(HIDDEN_PREFIX);
    expect(viewerHtml).not.toMatch(/failed/);
  });

  it('still says the last sync failed when a later walk fails, and clears when a walk reads everything', async () => {
    const db = await inventoryDb();
    await walkRefused(db, ['/a/one'], [HIDDEN_PREFIX]);
    // A later walk (a walk takes at least a call: not in the swap's millisecond).
    await new Promise((resolve) => setTimeout(resolve, 5));
    await db.recordFailure('params', 'access-denied', 'Store "params": AWS refused DescribeParameters (AccessDeniedException).');
    const [store] = await getStores();
    const failed = await inventoryStatusOf(store!);
    expect(failed.error).toMatchObject({ code: 'access-denied' });
    expect(failed.error?.partial).toBeUndefined();
    expect(failed.error!.at > failed.syncedAt!).toBe(true);
    const html = strip(failed);
    expect(html).toContain('data-testid="sync-error"');
    expect(html).toContain('The last sync of');
    expect(html).toContain('failed (access-denied)');
    expect(html).not.toContain('data-testid="sync-partial"');
    expect(summary(failed)).toContain('last sync failed: access-denied');
    expect(await syncFlags()).toEqual({ syncError: true, syncRefused: false });

    await walkRefused(db, ['/a/one'], []);
    const healed = await inventoryStatusOf(store!);
    expect(healed.error).toBeNull();
    expect(strip(healed)).not.toContain('sync-partial');
    expect(await syncFlags()).toEqual({ syncError: false, syncRefused: false });
  });
});
