import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { Role } from '@/lib/auth/roles';
import { getFolderView, listInventoryStatuses, listItemsPage } from '@/lib/data/browse';
import { getFreshnessOverview, listFreshness } from '@/lib/data/freshness';
import { searchEverything } from '@/lib/data/search';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { inventoryDb } from '@/lib/inventory/inventory';
import type { InventoryRecord } from '@/lib/inventory/records';
import { folderOf } from '@/lib/validations/item-name';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { inventoryRecord, walkInto } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';
import { FC_PARAMS, FC_SEED, foldersAbove, globArb, NAME_LEVELS } from './support/access-arbitraries';

// Every surface that lists or counts, against the brute-force answer of the one check: random grants
// (overlapping, nested, wildcards, several per user) over a random inventory of names chosen to trip
// prefix shortcuts (/prod/payments and /prod/paymentsx, dots, "." and ".." levels, look-alike
// unicode, deep paths). What each surface answers must be exactly what can(…'list'…) allows, item
// by item, on SQLite and PostgreSQL.

const STORES = ['params', 'secrets'] as const;
const ALL_STORES = ['local', ...STORES];
const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;

/** The inventory: names per store, from the run's seed (so a printed seed reproduces it too). */
function universe(storeId: string, seed: number): InventoryRecord[] {
  const levels = NAME_LEVELS.filter((l) => l !== '');
  const nameArb = fc
    .array(fc.oneof({ weight: 4, arbitrary: fc.constantFrom('prod', 'payments', 'paymentsx', 'staging', 'db', 'one') }, { weight: 3, arbitrary: fc.constantFrom(...levels) }), { minLength: 1, maxLength: 6 })
    .map((l) => `/${l.join('/')}`);
  const names = [...new Set(fc.sample(nameArb, { numRuns: 400, seed: seed + storeId.length }))];
  const folders = new Set(names.flatMap(foldersAbove));
  // A name that is also a folder of another is a valid AWS name, but keep it simple: items only at leaves.
  return names
    .filter((n) => !folders.has(`${n}/`))
    .map((name, i) =>
      inventoryRecord(name, {
        kind: storeId === 'params' ? 'SecureString' : 'secret',
        description: i % 5 === 0 ? `about ${name.split('/').at(-1)}` : null,
        tags: i % 7 === 0 ? { team: 'payments' } : {},
        lastChangedAt: new Date(NOW.getTime() - ((i * 37) % 400) * DAY).toISOString(),
        currentVersion: String(1 + (i % 4)),
      }),
    );
}

const principalOf = (grants: Principal['grants']): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });

/** A glob made from a name of the inventory (a folder of it with "/**", a level made "*", the name itself), so grants hit. */
function derivedGlobArb(names: () => string[]): fc.Arbitrary<string> {
  return fc.tuple(fc.nat(), fc.nat(), fc.constantFrom('folder', 'star', 'exact', 'prefix-star')).map(([a, b, how]) => {
    const all = names();
    const levels = all[a % all.length]!.split('/').slice(1).filter((l) => l !== '.' && l !== '..' && /^[a-zA-Z0-9_.-]+$/.test(l));
    if (levels.length === 0) return '/**';
    const k = 1 + (b % levels.length);
    if (how === 'folder') return `/${levels.slice(0, k).join('/')}/**`;
    if (how === 'star') return `/${levels.map((l, i) => (i === b % levels.length ? '*' : l)).join('/')}`;
    if (how === 'prefix-star') return `/${levels.slice(0, k - 1).concat(`${levels[k - 1]!.slice(0, 3)}*`).join('/')}/**`;
    return `/${levels.join('/')}`;
  });
}

describe.each(DATABASES)('every surface against the one check (%s)', (database) => {
  const temp = makeTempDir('secrets-access-property-');
  let dashboard: { close(): Promise<void> } | undefined;
  const items = new Map<string, InventoryRecord[]>();
  const statusOf = new Map<string, FreshnessStatus>();
  const key = (storeId: string, name: string) => `${storeId}\u0000${name}`;

  beforeAll(async () => {
    dashboard = await openInventoryDashboard(
      temp.dir,
      `stores:
  - { id: local, kind: local }
  - { id: params, kind: ssm, region: us-east-1 }
  - { id: secrets, kind: secretsmanager, region: eu-west-1 }
freshness:
  - { path: /prod/, maxAge: 90d, warnBefore: 10d }
  - { path: /staging/, maxAge: 30d }
`,
      database,
    );
    const db = await inventoryDb();
    for (const storeId of STORES) {
      const records = universe(storeId, FC_SEED);
      items.set(storeId, records);
      await walkInto(db, storeId, records);
    }
    items.set('local', []);
    // Each item's status as an admin sees it: the brute-force side only filters, never recomputes.
    const admin = principalOf([{ role: 'admin', stores: null, paths: ['/**'] }]);
    for (let cursor: string | undefined, n = 0; n < 100; n++) {
      const page = await listFreshness(admin, { limit: 1000, ...(cursor ? { cursor } : {}) }, NOW);
      for (const row of page.items) statusOf.set(key(row.storeId, row.name), row.status);
      if (!page.nextCursor) break;
      cursor = page.nextCursor;
    }
    expect(statusOf.size).toBe(STORES.reduce((n, s) => n + items.get(s)!.length, 0));
  }, 120_000);

  afterAll(async () => {
    await dashboard?.close();
    temp.cleanup();
  });

  /** What the one check allows the principal to list in a store, item by item. */
  const listable = (p: Principal, storeId: string) => items.get(storeId)!.map((r) => r.name).filter((name) => can(p, 'list', { storeId, name }));
  const sorted = (names: Iterable<string>) => [...names].sort();
  const allNames = () => STORES.flatMap((s) => items.get(s)!.map((r) => r.name));
  const roles: Role[] = ['viewer', 'auditor', 'operator', 'admin'];
  const grantsArbitrary = fc.array(
    fc.record({
      role: fc.constantFrom(...roles),
      stores: fc.oneof(fc.constant(null), fc.subarray([...ALL_STORES], { minLength: 1 })),
      paths: fc.array(fc.oneof({ weight: 1, arbitrary: globArb }, { weight: 3, arbitrary: derivedGlobArb(allNames) }), { minLength: 1, maxLength: 3 }),
    }),
    { minLength: 0, maxLength: 3 },
  );
  /** Grants, a store and a folder: mostly one above an item the grants list, so pages are rarely empty. */
  const grantsAndFolderArb = () =>
    fc.tuple(grantsArbitrary, fc.constantFrom(...STORES), fc.nat(), fc.integer({ min: 0, max: 9 })).map(([grants, storeId, n, roll]) => {
      const mine = listable(principalOf(grants), storeId);
      const pool = roll < 7 && mine.length ? mine : items.get(storeId)!.map((r) => r.name);
      const folders = ['/', '/nowhere/', ...new Set(pool.flatMap(foldersAbove))];
      return { grants, storeId, folder: folders[n % folders.length]! };
    });

  it('folder pages: sub-folders, items and counts', async () => {
    await fc.assert(
      fc.asyncProperty(grantsAndFolderArb(), async ({ grants, storeId, folder }) => {
        const p = principalOf(grants);
        const mine = listable(p, storeId);
        const all = items.get(storeId)!.map((r) => r.name);
        const view = await getFolderView(p, storeId, folder, {});
        const anyBelow = mine.some((n) => n.startsWith(folder));
        const expectView = folder === '/' ? can(p, 'list', { storeId, folder }) : anyBelow;
        expect(view !== null, `folder ${folder} shown`).toBe(expectView);
        if (!view) return;
        const names: string[] = view.items.map((i) => i.name);
        for (let after = view.nextCursor; after; ) {
          const next = await getFolderView(p, storeId, folder, { after });
          names.push(...next!.items.map((i) => i.name));
          after = next!.nextCursor;
        }
        const direct = mine.filter((n) => folderOf(n) === folder);
        expect(sorted(names)).toEqual(sorted(direct));
        expect(view.totalItems).toBe(direct.length);
        const children = new Set(mine.filter((n) => n.startsWith(folder) && folderOf(n) !== folder).map((n) => foldersAbove(n)[foldersAbove(folder).length]!));
        expect(sorted(view.folders.map((f) => f.path))).toEqual(sorted(children));
        for (const f of view.folders) {
          if (f.totalItems === null) continue;
          // A count is shown only where the caller may list everything it counts.
          const below = all.filter((n) => n.startsWith(f.path));
          expect(f.totalItems, `count of ${f.path}`).toBe(below.length);
          expect(mine.filter((n) => n.startsWith(f.path))).toHaveLength(below.length);
        }
      }),
      FC_PARAMS,
    );
  }, 600_000);

  it('the items API, recursive from the root', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArbitrary, fc.constantFrom(...STORES), async (grants, storeId) => {
        const p = principalOf(grants);
        const names: string[] = [];
        let page = await listItemsPage(p, storeId, { path: '/', recursive: true, limit: 200 });
        if (page === null) {
          expect(can(p, 'list', { storeId, folder: '/' })).toBe(false);
          return;
        }
        names.push(...page.items.map((i) => i.name));
        while (page?.nextCursor) {
          page = await listItemsPage(p, storeId, { path: '/', recursive: true, limit: 200, cursor: page.nextCursor });
          names.push(...page!.items.map((i) => i.name));
        }
        expect(sorted(names)).toEqual(sorted(listable(p, storeId)));
      }),
      FC_PARAMS,
    );
  }, 600_000);

  it('the inventory status (/api/v1/inventory, the browse strip): the caller’s own count', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArbitrary, fc.constantFrom(...STORES), async (grants, storeId) => {
        const p = principalOf(grants);
        const statuses = await listInventoryStatuses(p, storeId);
        if (!can(p, 'list', { storeId, folder: '/' })) {
          expect(statuses).toEqual([]);
          return;
        }
        expect(statuses).toHaveLength(1);
        expect(statuses[0]!.items).toBe(listable(p, storeId).length);
      }),
      FC_PARAMS,
    );
  }, 600_000);

  it('search: items and folders', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArbitrary, fc.constantFrom('pay', 'payments', 'one', 'prod', 'stag', '.hidden', 'x-1', 'ments.o'), async (grants, q) => {
        const p = principalOf(grants);
        const results = await searchEverything(p, q, 1000);
        const allowed = new Set(STORES.flatMap((s) => listable(p, s).map((n) => key(s, n))));
        for (const hit of results.items) expect(allowed.has(key(hit.storeId, hit.name)), `${hit.storeId}:${hit.name} found for ${q}`).toBe(true);
        const byName = STORES.flatMap((s) => listable(p, s).filter((n) => n.toLowerCase().includes(q)).map((n) => key(s, n)));
        const found = new Set(results.items.map((h) => key(h.storeId, h.name)));
        for (const k of byName) expect(found.has(k), `${k.replace('\u0000', ':')} missing for ${q}`).toBe(true);
        for (const f of results.folders) {
          const mine = listable(p, f.storeId);
          expect(mine.some((n) => n.startsWith(f.path)), `folder ${f.storeId}:${f.path} found for ${q}`).toBe(true);
          if (f.totalItems !== null) expect(f.totalItems).toBe(items.get(f.storeId)!.filter((r) => r.name.startsWith(f.path)).length);
        }
      }),
      FC_PARAMS,
    );
  }, 600_000);

  it('the freshness list and the overview counts', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArbitrary, async (grants) => {
        const p = principalOf(grants);
        const rows: string[] = [];
        for (let cursor: string | undefined, n = 0; n < 100; n++) {
          const page = await listFreshness(p, { limit: 1000, ...(cursor ? { cursor } : {}) }, NOW);
          rows.push(...page.items.map((r) => key(r.storeId, r.name)));
          if (!page.nextCursor) break;
          cursor = page.nextCursor;
        }
        const expected = STORES.flatMap((s) => listable(p, s).map((n) => key(s, n)));
        expect(sorted(rows)).toEqual(sorted(expected));
        const overview = await getFreshnessOverview(p, { now: NOW, worstLimit: 1000 });
        for (const storeId of STORES) {
          const summary = overview.stores.find((s) => s.storeId === storeId);
          const mine = listable(p, storeId);
          if (!summary) {
            expect(mine, `${storeId} left out of the overview`).toEqual([]);
            expect(can(p, 'list', { storeId, folder: '/' })).toBe(false);
            continue;
          }
          expect(summary.total).toBe(mine.length);
          for (const status of FRESHNESS_STATUSES) expect(summary.counts[status], `${storeId} ${status}`).toBe(mine.filter((n) => statusOf.get(key(storeId, n)) === status).length);
        }
        for (const row of overview.worst) expect(expected).toContain(key(row.storeId, row.name));
      }),
      FC_PARAMS,
    );
  }, 600_000);
});
