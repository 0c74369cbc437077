import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { can, listableNamePattern, listableNamePatternBelow, listableNameRanges } from '@/lib/auth/authorize';
import type { Grant } from '@/lib/auth/grants';
import { nameRanges } from '@/lib/auth/path-glob';
import type { Principal } from '@/lib/auth/principal';
import { FRESHNESS_STATUSES } from '@/lib/freshness/types';
import type { InventoryDb } from '@/lib/inventory/inventory-db';
import type { InventoryIndex, SearchScope } from '@/lib/inventory/inventory-index';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import { DATABASES } from '../support/databases';
import { inventoryRecord, walkInto } from '../support/inventory-records';
import { inventoryOpener } from './open-inventory';

// Every inventory query the grants cut, with the cut as name ranges (the regular expression only in
// ranges that hold names the grants do not): for each shape of grant, on SQLite and PostgreSQL, a
// path-limited viewer gets exactly the rows can(…'list'…) allows item by item, nothing more.

const STORES = ['params', 'secrets'] as const;
const NOW = new Date('2026-12-01T00:00:00Z');
const DAY = 86_400_000;

/** Names that sit on both sides of every range edge the grants below draw. */
const NAMES = [
  '/prod/app/key', '/prod/app/db/password', '/prod/app', '/prod/appx/key', '/prod/app-web/key', '/prod/app-web/deep/er/key',
  '/prod/api/db-main', '/prod/api/db-replica', '/prod/api/cache', '/prod/web/db-main', '/prod/web/deep/db-main', '/prod/db-top',
  '/staging/api/db-main', '/staging/app/key', '/prodx/app/key', '/prod', '/dev/k', '/dev/k2', '/dev/sub/k', '/zzz/db-main',
];

const viewer = (...grants: Omit<Grant, 'role'>[]): Principal => ({
  via: 'session', userId: 'v', email: 'v@example.com', name: null, role: null,
  grants: grants.map((g) => ({ role: 'viewer', ...g })),
});

/** [shape, principal]: each draws ranges of another kind. */
const SHAPES: [string, Principal][] = [
  ['exact prefix (a subtree)', viewer({ stores: null, paths: ['/prod/app/**'] })],
  ['exact prefix from text and a star (/prod/app-*/**)', viewer({ stores: null, paths: ['/prod/app-*/**'] })],
  ['glob mid-path (/prod/*/db-*)', viewer({ stores: null, paths: ['/prod/*/db-*'] })],
  ['several grants, exact and not', viewer({ stores: null, paths: ['/prod/app/**', '/staging/*/db-*'] }, { stores: null, paths: ['/dev/k'] })],
  ['an exact prefix inside an inexact one', viewer({ stores: null, paths: ['/prod/*/db-main', '/prod/app/**'] })],
  ['several stores, other grants in each', viewer({ stores: ['params'], paths: ['/prod/**'] }, { stores: ['secrets'], paths: ['/staging/api/*', '/dev/**'] })],
  ['unbounded (any first level)', viewer({ stores: null, paths: ['/*/api/db-*'] })],
  ['none (a grant on another store only)', viewer({ stores: ['elsewhere'], paths: ['/**'] })],
  ['none (a path no item has)', viewer({ stores: null, paths: ['/nothing/**'] })],
  ['admin-like (every name)', viewer({ stores: null, paths: ['/**'] })],
];

describe.each(DATABASES)('grant cuts as name ranges (%s)', (kind) => {
  const opener = inventoryOpener(kind);
  let db: InventoryDb;
  let index: InventoryIndex;

  beforeAll(async () => {
    db = await opener.open();
    index = db.index;
    for (const storeId of STORES) {
      await walkInto(
        db,
        storeId,
        NAMES.map((name, i) =>
          inventoryRecord(name, {
            description: i % 3 === 0 ? `about db ${name}` : null,
            lastChangedAt: new Date(NOW.getTime() - ((i * 53) % 500) * DAY).toISOString(),
          }),
        ),
      );
    }
  });
  afterAll(() => opener.cleanup());

  const allowed = (who: Principal, storeId: string) => NAMES.filter((name) => can(who, 'list', { storeId, name })).sort();
  const folders = [...new Set(NAMES.flatMap((n) => ancestorsOf(folderOf(n))))];

  describe.each(SHAPES)('%s', (_shape, who) => {
    const scope = (storeId: string): SearchScope | null => {
      const pattern = listableNamePattern(who, storeId);
      return pattern === false ? null : { storeId, namePattern: pattern, nameRanges: pattern === null ? null : listableNameRanges(who, storeId) };
    };

    it('search: exactly the allowed names that contain the text, over both stores', async () => {
      const scopes = STORES.map(scope).filter((s): s is SearchScope => s !== null);
      for (const text of ['db', 'app', 'key', 'about db']) {
        const hits = await index.search(scopes, text, 500, NOW);
        for (const storeId of STORES) {
          const expected = allowed(who, storeId).filter((n) => n.toLowerCase().includes(text) || (text.length >= 3 && (NAMES.indexOf(n) % 3 === 0) && `about db ${n}`.includes(text)));
          expect(hits.filter((h) => h.storeId === storeId).map((h) => h.name).sort(), `${storeId} "${text}"`).toEqual(expected);
        }
      }
    });

    it('search of short text with a small limit: the first candidates in (store, name) order, merged over the ranges, ranked', async () => {
      const scopes = STORES.map(scope).filter((s): s is SearchScope => s !== null);
      for (const [text, limit] of [['db', 1], ['ap', 1], ['k', 2]] as const) {
        // As one walk over every allowed name would cut them: limit * 10 candidates, closest leaf first.
        const candidates = STORES.flatMap((storeId) => allowed(who, storeId).filter((n) => n.toLowerCase().includes(text)).map((name) => ({ storeId, name })))
          .sort((a, b) => (a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : a.name < b.name ? -1 : 1))
          .slice(0, limit * 10);
        const rank = (name: string) => {
          const leaf = name.split('/').at(-1)!.toLowerCase();
          return leaf === text ? 0 : leaf.startsWith(text) ? 1 : 2;
        };
        const expected = candidates.sort((a, b) => rank(a.name) - rank(b.name) || a.name.length - b.name.length || (a.name < b.name ? -1 : 1)).slice(0, limit);
        const hits = await index.search(scopes, text, limit, NOW);
        expect(hits.map((h) => ({ storeId: h.storeId, name: h.name })), `"${text}" limit ${limit}`).toEqual(expected);
      }
    });

    it.each(STORES)('folder pages, counts and anyItemBelow in %s: exactly the allowed names', async (storeId) => {
      const mine = allowed(who, storeId);
      for (const folder of folders) {
        const pattern = listableNamePatternBelow(who, storeId, folder);
        if (pattern === false) {
          expect(mine, `nothing in ${storeId} for this viewer`).toEqual([]);
          continue;
        }
        const nameRanges = pattern === null ? null : listableNameRanges(who, storeId);
        for (const recursive of [false, true]) {
          const expected = mine.filter((n) => (recursive ? n.startsWith(folder) : folderOf(n) === folder));
          const query = { storeId, folder, recursive, namePattern: pattern, nameRanges, now: NOW };
          const names: string[] = [];
          let cursor: string | undefined;
          do {
            const page = await index.folderPage({ ...query, limit: 3, cursor });
            names.push(...page.items.map((i) => i.name));
            cursor = page.nextCursor;
          } while (cursor);
          expect(names, `${folder}${recursive ? ' and below' : ''}`).toEqual(expected);
          expect(await index.countItems(query), `count of ${folder}`).toBe(expected.length);
        }
        expect(await index.anyItemBelow(storeId, folder, pattern, nameRanges), `anything below ${folder}`).toBe(mine.some((n) => n.startsWith(folder)));
      }
    });

    it.each(STORES)('freshness summary and worst pages in %s: exactly the allowed names', async (storeId) => {
      const s = scope(storeId);
      if (!s) return expect(allowed(who, storeId)).toEqual([]);
      const summary = await index.freshnessSummary(storeId, s.namePattern, NOW, s.nameRanges);
      expect(summary.total).toBe(allowed(who, storeId).length);
      expect(Object.values(summary.counts).reduce((a, b) => a + b, 0)).toBe(summary.total);
      const names: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await index.worstPage({ storeId, namePattern: s.namePattern, nameRanges: s.nameRanges, statuses: [...FRESHNESS_STATUSES], limit: 4, cursor, now: NOW });
        names.push(...page.items.map((i) => i.name));
        cursor = page.nextCursor;
      } while (cursor);
      expect(names.sort()).toEqual(allowed(who, storeId));
    });
  });

  it('search of short text cuts its candidates in (store, name) order across ranges that each hold more than the cut', async () => {
    // Three ranges (an exact prefix, an inexact one, an exact name) in two stores, each range with more matches than the candidates kept.
    const many = ['many-a', 'many-b'];
    const names = [...Array.from({ length: 15 }, (_, i) => [`/a/x/k-${i}`, `/a/x/n-${i}`, `/b/y/k${i}`]).flat(), '/c/k', '/c/kk'];
    for (const storeId of many) await walkInto(db, storeId, names.map((name) => inventoryRecord(name)));
    const who = viewer({ stores: many, paths: ['/b/**', '/a/*/k-*', '/c/k'] });
    const scopes = many.map((storeId) => ({ storeId, namePattern: listableNamePattern(who, storeId) as string, nameRanges: listableNameRanges(who, storeId) }));
    expect(scopes[0]!.nameRanges).toMatchObject({ prefixes: ['/a/', '/b/'], names: ['/b', '/c/k'], exact: false });
    for (const [text, limit] of [['k', 1], ['k', 2], ['-1', 1]] as const) {
      const candidates = many
        .flatMap((storeId) => names.filter((n) => can(who, 'list', { storeId, name: n }) && n.includes(text)).map((name) => ({ storeId, name })))
        .sort((a, b) => (a.storeId < b.storeId ? -1 : a.storeId > b.storeId ? 1 : a.name < b.name ? -1 : 1))
        .slice(0, limit * 10);
      const rank = (name: string) => {
        const leaf = name.split('/').at(-1)!;
        return leaf === text ? 0 : leaf.startsWith(text) ? 1 : 2;
      };
      const expected = candidates.sort((a, b) => rank(a.name) - rank(b.name) || a.name.length - b.name.length || (a.name < b.name ? -1 : 1)).slice(0, limit);
      const hits = await index.search(scopes, text, limit, NOW);
      expect(hits.map((h) => ({ storeId: h.storeId, name: h.name })), `"${text}" limit ${limit}`).toEqual(expected);
    }
  });

  it('refuses what no grant allows: a denied viewer gets nothing from any query', async () => {
    const denied = viewer({ stores: null, paths: ['/nothing/**'] });
    const pattern = listableNamePattern(denied, 'params') as string;
    const ranges = listableNameRanges(denied, 'params');
    expect(await index.search([{ storeId: 'params', namePattern: pattern, nameRanges: ranges }], 'key', 50, NOW)).toEqual([]);
    expect((await index.folderPage({ storeId: 'params', folder: '/', recursive: true, namePattern: pattern, nameRanges: ranges, limit: 50, now: NOW })).items).toEqual([]);
    expect(await index.anyItemBelow('params', '/prod/', pattern, ranges)).toBe(false);
    expect((await index.freshnessSummary('params', pattern, NOW, ranges)).total).toBe(0);
  });

  it('does not apply the regular expression inside exact ranges (a pattern matching nothing still lets them through), and does outside them', async () => {
    // Only a faster way to the same rows: with a pattern that matches no name, what still comes back was taken on the ranges alone.
    const never = '^$';
    const ranges = nameRanges(['/prod/app/**', '/prod/*/db-*'])!;
    expect(ranges.exactPrefixes).toBeUndefined(); // /prod/app/ lies inside the inexact /prod/
    const exact = nameRanges(['/prod/app/**', '/staging/*/db-*'])!;
    expect(exact.exactPrefixes).toEqual(['/prod/app/']);
    const page = await index.folderPage({ storeId: 'params', folder: '/', recursive: true, namePattern: never, nameRanges: exact, limit: 100, now: NOW });
    expect(page.items.map((i) => i.name)).toEqual(['/prod/app', '/prod/app/db/password', '/prod/app/key']);
    const hits = await index.search([{ storeId: 'params', namePattern: never, nameRanges: exact }], 'db', 100, NOW);
    expect(hits.map((h) => h.name)).toEqual(['/prod/app/db/password']);
    expect((await index.freshnessSummary('params', never, NOW, exact)).total).toBe(3);
  });
});
