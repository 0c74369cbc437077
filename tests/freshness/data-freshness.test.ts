import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@/lib/auth/principal';
import { getFreshnessOverview, listFreshness } from '@/lib/data/freshness';
import { resetFreshnessPolicies } from '@/lib/freshness/policies';
import { FRESHNESS_STATUSES, type FreshnessRow, type FreshnessStatus } from '@/lib/freshness/types';
import { closeInventoryDb, inventoryDb } from '@/lib/inventory/inventory';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';
import { getStores } from '@/lib/stores/registry';
import { makeTempDir } from '../support/temp-dir';

// lib/data/freshness.ts over the registry's stores: the demo built-in store, a Parameter Store
// inventory filled as a walk would, and a Secrets Manager store whose first sync is pending. Every
// figure and row is cut to the caller's grants: a scoped viewer never gets an item outside them.

const temp = makeTempDir('secrets-freshness-data-');
// A minute ahead: the demo's rotation failure is recorded while the stores open, after this module loads.
const NOW = new Date(Date.now() + 60_000);
const DAY = 86_400_000;

const principal = (grants: Principal['grants']): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });
const ADMIN = principal([{ role: 'admin', stores: null, paths: ['/**'] }]);
const PAYMENTS = principal([{ role: 'viewer', stores: null, paths: ['/prod/payments/**'] }]);
const LOCAL_ONLY = principal([{ role: 'viewer', stores: ['local'], paths: ['/**'] }]);
const NOBODY = principal([]);

const PARAMS: InventoryRecord[] = Array.from({ length: 300 }, (_, i) => {
  const folder = ['/prod/payments/', '/prod/web/', '/staging/payments/'][i % 3]!;
  return {
    name: `${folder}param-${String(i).padStart(3, '0')}`,
    folder,
    kind: 'SecureString',
    description: null,
    tags: (i % 4 === 0 ? { owner: 'alice' } : i % 4 === 1 ? { team: 'payments' } : {}) as Record<string, string>,
    kmsKeyId: null,
    lastChangedAt: new Date(NOW.getTime() - (i % 200) * DAY).toISOString(),
    lastChangedBy: null,
    currentVersion: String(1 + (i % 5)),
    labels: [],
    extra: {},
  };
});

beforeAll(async () => {
  const config = path.join(temp.dir, 'dashboard.yaml');
  writeFileSync(
    config,
    `stores:
  - { id: local, kind: local }
  - { id: prod-params, kind: ssm, region: us-east-1 }
  - { id: prod-secrets, kind: secretsmanager, region: us-east-1 }
freshness:
  - { path: /prod/payments/, maxAge: 60d, warnBefore: 10d }
`,
  );
  delete process.env.MASTER_KEY;
  Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: config, DEMO_DATA: '1', LOG_LEVEL: 'silent' });
  resetFreshnessPolicies();
  await getStores();
  const db = await inventoryDb();
  await db.beginWalk('prod-params');
  await db.stage(PARAMS.map((r) => toInventoryRow('prod-params', r, false)));
  await db.applyWalk('prod-params', { items: PARAMS.length, pages: 6, durationMs: 10, calls: {}, throttled: 0, unreadableItems: 0 }, true);
});
afterAll(async () => {
  for (const store of await getStores()) await (store as { close?: () => Promise<void> }).close?.();
  await closeInventoryDb();
  temp.cleanup();
});

async function everything(p: Principal, query: { storeIds?: string[]; statuses?: FreshnessStatus[] } = {}, limit = 37): Promise<FreshnessRow[]> {
  const rows: FreshnessRow[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 500; pages++) {
    const page = await listFreshness(p, { ...query, limit, ...(cursor ? { cursor } : {}) }, NOW);
    rows.push(...page.items);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return rows;
}

const RANK: Record<FreshnessStatus, number> = { 'rotation-failing': 0, overdue: 1, 'never-rotated': 1, 'due-soon': 2, fresh: 3 };

describe('an admin', () => {
  it('sees every store, a pending one as pending, counts adding up to the totals', async () => {
    const overview = await getFreshnessOverview(ADMIN, { now: NOW });
    expect(overview.stores.map((s) => s.storeId)).toEqual(['local', 'prod-params', 'prod-secrets']);
    const [local, params, secrets] = overview.stores;
    expect(secrets).toMatchObject({ pending: true, total: 0, counts: { overdue: 0, fresh: 0 } });
    expect(params).toMatchObject({ pending: false, total: PARAMS.length });
    for (const s of [local!, params!]) {
      expect(FRESHNESS_STATUSES.reduce((n, st) => n + s.counts[st], 0)).toBe(s.total);
      expect(s.ages.reduce((n, a) => n + a.count, 0)).toBe(s.total);
    }
    // Not fresh only, worst first, the failed rotation on top.
    expect(overview.worst).toHaveLength(20);
    expect(overview.worst.every((r) => r.status !== 'fresh')).toBe(true);
    expect(overview.worst[0]).toMatchObject({ storeId: 'local', status: 'rotation-failing', href: `/items/local${overview.worst[0]!.name}` });
  });

  it('pages every item of every store once, worst first across stores', async () => {
    const rows = await everything(ADMIN);
    const overview = await getFreshnessOverview(ADMIN, { now: NOW });
    expect(rows).toHaveLength(overview.stores.reduce((n, s) => n + s.total, 0));
    expect(new Set(rows.map((r) => `${r.storeId}${r.name}`)).size).toBe(rows.length);
    const ranks = rows.map((r) => RANK[r.status]);
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    // Within overdue, the oldest due date first, whatever the store.
    const overdue = rows.filter((r) => RANK[r.status] === 1).map((r) => r.dueAt!);
    expect(overdue).toEqual([...overdue].sort());
    expect(new Set(rows.map((r) => r.storeId))).toEqual(new Set(['local', 'prod-params']));
  });

  it('gets owners from the owner tag, else the team tag, and the age in days', async () => {
    const rows = (await everything(ADMIN, { storeIds: ['prod-params'] }, 1000)).sort((a, b) => (a.name < b.name ? -1 : 1));
    const byName = new Map(rows.map((r) => [r.name, r]));
    for (const [i, record] of PARAMS.entries()) {
      const row = byName.get(record.name)!;
      expect(row.owner).toBe(i % 4 === 0 ? 'alice' : i % 4 === 1 ? 'payments' : null);
      expect(row.ageDays).toBe(i % 200);
    }
    // The /prod/payments/ policy (60 days) applies there, the default (90) elsewhere.
    expect(byName.get('/prod/payments/param-066')!.status).toBe('overdue');
    expect(byName.get('/prod/web/param-079')!.status).toBe('due-soon');
  });

  it('filters by status', async () => {
    const rows = await everything(ADMIN, { statuses: ['never-rotated', 'due-soon'] });
    const overview = await getFreshnessOverview(ADMIN, { now: NOW });
    const expected = overview.stores.reduce((n, s) => n + s.counts['never-rotated'] + s.counts['due-soon'], 0);
    expect(rows).toHaveLength(expected);
    expect(rows.every((r) => r.status === 'never-rotated' || r.status === 'due-soon')).toBe(true);
  });

  it('refuses a cursor that is not one', async () => {
    await expect(listFreshness(ADMIN, { limit: 10, cursor: 'bogus' })).rejects.toMatchObject({ name: 'CursorError' });
  });
});

describe('a viewer scoped to /prod/payments/**', () => {
  it('counts only the items inside the grant', async () => {
    const all = await everything(ADMIN);
    const overview = await getFreshnessOverview(PAYMENTS, { now: NOW });
    for (const s of overview.stores.filter((x) => !x.pending)) {
      const inside = all.filter((r) => r.storeId === s.storeId && r.name.startsWith('/prod/payments/'));
      expect(s.total, s.storeId).toBe(inside.length);
      for (const status of FRESHNESS_STATUSES) expect(s.counts[status], `${s.storeId} ${status}`).toBe(inside.filter((r) => r.status === status).length);
    }
    expect(overview.worst.length).toBeGreaterThan(0);
    expect(overview.worst.every((r) => r.name.startsWith('/prod/payments/'))).toBe(true);
  });

  it('never gets an item outside the grant, in any page or status', async () => {
    const all = await everything(ADMIN);
    const mine = await everything(PAYMENTS, {}, 11);
    expect(mine.map((r) => `${r.storeId}${r.name}`)).toEqual(all.filter((r) => r.name.startsWith('/prod/payments/')).map((r) => `${r.storeId}${r.name}`));
    for (const status of FRESHNESS_STATUSES) {
      const rows = await everything(PAYMENTS, { statuses: [status] }, 50);
      expect(rows.every((r) => r.name.startsWith('/prod/payments/'))).toBe(true);
    }
    // A cursor taken from an admin's page leads to nothing outside the grant either.
    const adminPage = await listFreshness(ADMIN, { limit: 5 }, NOW);
    const next = await listFreshness(PAYMENTS, { limit: 500, cursor: adminPage.nextCursor! }, NOW);
    expect(next.items.every((r) => r.name.startsWith('/prod/payments/'))).toBe(true);
  });
});

describe('other callers', () => {
  it('a viewer of one store sees only that store, even when asking for another', async () => {
    const overview = await getFreshnessOverview(LOCAL_ONLY, { now: NOW });
    expect(overview.stores.map((s) => s.storeId)).toEqual(['local']);
    expect(overview.worst.every((r) => r.storeId === 'local')).toBe(true);
    expect((await listFreshness(LOCAL_ONLY, { storeIds: ['prod-params'], limit: 100 }, NOW)).items).toEqual([]);
  });

  it('someone without grants gets nothing', async () => {
    expect(await getFreshnessOverview(NOBODY, { now: NOW })).toMatchObject({ stores: [], worst: [] });
    expect(await listFreshness(NOBODY, { limit: 100 }, NOW)).toEqual({ items: [], nextCursor: null });
  });
});
