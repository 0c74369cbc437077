import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoItems, DEMO_FRESHNESS_EXAMPLES } from '@/lib/demo/demo-data';
import { seedDemoData } from '@/lib/demo/seed';
import { resetFreshnessPolicies } from '@/lib/freshness/policies';
import { FRESHNESS_STATUSES } from '@/lib/freshness/types';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { makeTempDir } from '../support/temp-dir';

// The demo data (DEMO_DATA=1) shows every status under the default policy on the day it is seeded;
// the built-in store records a failed rotation until the next successful write, keeps it when its
// inventory is rebuilt, and recomputes freshness when the policies change.

const temp = makeTempDir('secrets-freshness-demo-');
const key = randomBytes(32).toString('base64');
const NOW = new Date();
let store: EmbeddedStore;

beforeAll(async () => {
  delete process.env.CONFIG_FILE;
  resetFreshnessPolicies();
  store = (await EmbeddedStore.open('local', 'Built-in', { dataDir: temp.dir, masterKeyBase64: key })).store;
  await seedDemoData(store, NOW);
});
afterAll(async () => {
  await store.close();
  temp.cleanup();
});
afterEach(() => {
  delete process.env.CONFIG_FILE;
  resetFreshnessPolicies();
});

describe('the demo data', () => {
  it('reaches every status with the default policy', async () => {
    const { counts, total } = await store.inventory.freshnessSummary('local', null, NOW);
    expect(total).toBe(buildDemoItems(NOW).length);
    for (const status of FRESHNESS_STATUSES) expect(counts[status], status).toBeGreaterThan(0);
  });

  it.each(Object.entries(DEMO_FRESHNESS_EXAMPLES))('shows %s on %s, with a reason', async (status, name) => {
    const item = await store.inventory.getItem('local', name, NOW);
    expect(item?.freshness.status).toBe(status);
    expect(item?.freshness.reason.length).toBeGreaterThan(10);
  });

  it('puts the failed rotation first in the worst list, its reason naming the cause and no value', async () => {
    const page = await store.inventory.worstPage({ storeId: 'local', namePattern: null, limit: 5, now: NOW });
    expect(page.items[0]!.name).toBe(DEMO_FRESHNESS_EXAMPLES['rotation-failing']);
    expect(page.items[0]!.freshness.reason).toMatch(/^The last rotation failed .* ago: rotation-lambda: the identity provider refused/);
    const values = buildDemoItems(NOW).flatMap((i) => i.versions.map((v) => v.value));
    expect(values.some((v) => page.items[0]!.freshness.reason.includes(v))).toBe(false);
  });
});

describe('rotation failures in the built-in store', () => {
  const name = DEMO_FRESHNESS_EXAMPLES.fresh;

  it('make an item "rotation failing" until the next successful write', async () => {
    await store.recordRotationFailure(name, 'generator: length 4 is below 16\nsecond line', NOW);
    const failing = await store.inventory.getItem('local', name, NOW);
    expect(failing?.freshness.status).toBe('rotation-failing');
    expect(failing?.freshness.reason).toContain('generator: length 4 is below 16 second line');
    expect((await store.inventory.freshnessSummary('local', null, NOW)).counts['rotation-failing']).toBe(2);

    await store.writeValue({ name, value: 'new-value', actor: 'test', labels: ['rotated'], requestId: '00000000-0000-4000-8000-000000000001' });
    const later = await store.inventory.getItem('local', name);
    expect(later?.freshness.status).toBe('fresh');
    expect(later?.extra.rotationFailure).toBeUndefined();
  });

  it('refuse an item that does not exist, and cut long messages', async () => {
    await expect(store.recordRotationFailure('/prod/nowhere/key', 'x')).rejects.toMatchObject({ code: 'not-found' });
    await store.recordRotationFailure(name, 'y'.repeat(2000), NOW);
    expect((await store.inventory.getItem('local', name, NOW))?.extra.rotationFailure?.message).toHaveLength(300);
  });

  it('survive an inventory rebuild, and freshness follows changed policies at open', async () => {
    await store.close();
    const Database = (await import('better-sqlite3')).default;
    const conn = new Database(path.join(temp.dir, 'secrets.db'));
    conn.prepare('DELETE FROM inv_items WHERE name = ?').run(DEMO_FRESHNESS_EXAMPLES['rotation-failing']);
    conn.close();

    const config = path.join(temp.dir, 'dashboard.yaml');
    writeFileSync(config, 'freshness:\n  - { path: /, maxAge: 1000d, warnBefore: 10d }\n');
    process.env.CONFIG_FILE = config;
    resetFreshnessPolicies();
    store = (await EmbeddedStore.open('local', 'Built-in', { dataDir: temp.dir, masterKeyBase64: key })).store;
    expect((await store.inventory.getItem('local', DEMO_FRESHNESS_EXAMPLES['rotation-failing'], NOW))?.freshness.status).toBe('rotation-failing');
    const overdue = await store.inventory.getItem('local', DEMO_FRESHNESS_EXAMPLES.overdue, NOW);
    expect(overdue?.freshness).toMatchObject({ status: 'fresh', policy: { path: '/', maxAgeDays: 1000 } });
    const { counts } = await store.inventory.freshnessSummary('local', null, NOW);
    expect(counts.overdue + counts['never-rotated'] + counts['due-soon']).toBe(0);
  });
});
