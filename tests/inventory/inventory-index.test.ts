import { randomBytes } from 'node:crypto';
import picomatch from 'picomatch';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { globsPattern } from '@/lib/auth/path-glob';
import { CursorError, MAX_SEARCH_QUERY } from '@/lib/inventory/inventory-index';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { SORT_KEYS } from '@/lib/validations/browse';
import { createTestDatabase, DATABASES, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The inventory's queries, on the built-in store (its own inventory), on SQLite and PostgreSQL with
// the same expected answers: keyset pages visit every item exactly once in every sort order, grants
// cut pages inside SQL (as picomatch matches them), and search takes any text as text.

const BULK = 1234;

/** A built-in store on the dialect, in a place of its own; cleanup closes and removes it. */
async function openStore(kind: DatabaseKind, id = 'local') {
  const temp = makeTempDir('secrets-inventory-');
  const database = kind === 'postgres' ? await createTestDatabase() : null;
  const key = randomBytes(32).toString('base64');
  const open = async (storeId: string) =>
    (await EmbeddedStore.open(storeId, 'Built-in', { dataDir: temp.dir, masterKeyBase64: key, ...(database ? { databaseUrl: database.url } : {}) })).store;
  return {
    store: await open(id),
    reopen: open,
    cleanup: async () => {
      await database?.drop();
      temp.cleanup();
    },
  };
}

describe.each(DATABASES)('the inventory index (%s)', (kind) => {
  let store: EmbeddedStore;
  let cleanup: () => Promise<void>;

  beforeAll(async () => {
    ({ store, cleanup } = await openStore(kind));
    const inputs = Array.from({ length: BULK }, (_, i) => ({
      name: `/bulk/item-${String(i).padStart(5, '0')}`,
      value: 'v',
      actor: i % 3 === 0 ? 'alice' : i % 3 === 1 ? 'bob' : 'carol',
      kind: (['String', 'SecureString', 'StringList'] as const)[i % 3],
      // Many ties on the date, so the name tie-breaker is exercised.
      at: new Date(Date.UTC(2026, 0, 1 + (i % 17))),
    }));
    await store.putMany(inputs);
    await store.putMany([
      { name: '/prod/payments/stripe-key', value: 'v', actor: 'alice', description: 'Stripe live key for checkout', tags: { team: 'payments' } },
      { name: '/prod/payments/db/password', value: 'v', actor: 'alice', tags: { owner: 'dba-team' } },
      { name: '/prod/web/session-secret', value: 'v', actor: 'bob', description: 'Cookie signing' },
    ]);
    // A second version: counts must not grow, the version must.
    await store.putValue({ name: '/prod/payments/stripe-key', value: 'v2', actor: 'bob' });
  });
  afterAll(async () => {
    await store.close();
    await cleanup();
  });

  async function walkAll(sort: (typeof SORT_KEYS)[number], dir: 'asc' | 'desc', limit: number, namePattern: string | null = null, folder = '/bulk/') {
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.inventory.folderPage({ storeId: 'local', folder, sort, dir, cursor, limit, namePattern });
      names.push(...page.items.map((i) => i.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 1000);
    return names;
  }

  describe('folder pages', () => {
    describe.each(SORT_KEYS.flatMap((sort) => (['asc', 'desc'] as const).map((dir) => [sort, dir] as const)))('sorted by %s %s', (sort, dir) => {
      it('visits every item exactly once, in order', async () => {
        const names = await walkAll(sort, dir, 97);
        expect(names).toHaveLength(BULK);
        expect(new Set(names).size).toBe(BULK);
        if (sort === 'name') expect(names).toEqual([...names].sort((a, b) => (dir === 'asc' ? (a < b ? -1 : 1) : a < b ? 1 : -1)));
      });
    });

    it('counts, filters by part of the name and keeps the built-in store current on writes', async () => {
      expect(await store.inventory.getFolder('local', '/bulk/')).toEqual({ directItems: BULK, totalItems: BULK });
      expect(await store.inventory.getFolder('local', '/prod/')).toEqual({ directItems: 0, totalItems: 3 });
      expect(await store.inventory.countItems({ storeId: 'local', folder: '/bulk/', q: 'ITEM-0012', namePattern: null })).toBe(10);
      const item = await store.inventory.getItem('local', '/prod/payments/stripe-key');
      expect(item).toMatchObject({ version: '2', lastChangedBy: 'bob', description: 'Stripe live key for checkout', tags: { team: 'payments' } });
    });

    it('cuts pages and counts to a grant pattern inside SQL', async () => {
      const pattern = globsPattern(['/bulk/item-000**', '/prod/payments/**']);
      const names = await walkAll('changed', 'desc', 7, pattern);
      expect(names).toHaveLength(100);
      expect(names.every((n) => n.startsWith('/bulk/item-000'))).toBe(true);
      expect(await store.inventory.countItems({ storeId: 'local', folder: '/bulk/', namePattern: pattern })).toBe(100);
      expect(await store.inventory.anyItemBelow('local', '/prod/web/', pattern)).toBe(false);
      expect(await store.inventory.anyItemBelow('local', '/prod/', pattern)).toBe(true);
    });

    it('cuts to grant globs exactly as picomatch matches them (names without . or .. levels)', async () => {
      const everything = (await store.inventory.folderPage({ storeId: 'local', folder: '/', recursive: true, limit: 5000, namePattern: null })).items.map((i) => i.name);
      for (const globs of [
        ['/bulk/item-0001?'],
        ['/prod/{web,payments}/*'],
        ['/prod/**/password', '/bulk/item-01{2,3}*'],
        ['/**/stripe-*', '/bulk/*5'],
        ['/**'],
      ]) {
        const pattern = globsPattern(globs);
        const expected = everything.filter((name) => picomatch(globs, { dot: true })(name));
        const page = await store.inventory.folderPage({ storeId: 'local', folder: '/', recursive: true, limit: 5000, namePattern: pattern });
        expect(page.items.map((i) => i.name), globs.join(' ')).toEqual(expected);
        expect(await store.inventory.countItems({ storeId: 'local', folder: '/', recursive: true, namePattern: pattern })).toBe(expected.length);
      }
    });

    it('lists recursively below a folder', async () => {
      const page = await store.inventory.folderPage({ storeId: 'local', folder: '/prod/', recursive: true, limit: 10, namePattern: null });
      expect(page.items.map((i) => i.name)).toEqual(['/prod/payments/db/password', '/prod/payments/stripe-key', '/prod/web/session-secret']);
    });

    it('refuses a cursor from another sort order or a forged one', async () => {
      const first = await store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', sort: 'name', limit: 5, namePattern: null });
      await expect(store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', sort: 'kind', cursor: first.nextCursor, limit: 5, namePattern: null })).rejects.toBeInstanceOf(CursorError);
      await expect(store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', cursor: 'bm90LWpzb24', limit: 5, namePattern: null })).rejects.toBeInstanceOf(CursorError);
    });

    it('lists child folders with their counts', async () => {
      expect(await store.inventory.childFolders('local', '/prod/')).toEqual([
        { path: '/prod/payments/', name: 'payments', totalItems: 2 },
        { path: '/prod/web/', name: 'web', totalItems: 1 },
      ]);
    });
  });

  describe('search', () => {
    const scope = [{ storeId: 'local', namePattern: null }];

    it('finds substrings of names in any case, name matches first', async () => {
      const hits = await store.inventory.search(scope, 'STRIPE', 10);
      expect(hits[0]).toMatchObject({ name: '/prod/payments/stripe-key', matchedIn: 'name' });
      expect((await store.inventory.search(scope, 'm-0042', 5)).map((h) => h.name)).toEqual(['/bulk/item-00420', '/bulk/item-00421', '/bulk/item-00422', '/bulk/item-00423', '/bulk/item-00424']);
    });

    it('finds descriptions and tag keys and values, in any case', async () => {
      expect(await store.inventory.search(scope, 'cookie sign', 5)).toEqual([expect.objectContaining({ name: '/prod/web/session-secret', matchedIn: 'description' })]);
      expect(await store.inventory.search(scope, 'COOKIE Sign', 5)).toEqual([expect.objectContaining({ name: '/prod/web/session-secret', matchedIn: 'description' })]);
      expect(await store.inventory.search(scope, 'dba-te', 5)).toEqual([expect.objectContaining({ name: '/prod/payments/db/password', matchedIn: 'tags' })]);
      expect(await store.inventory.search(scope, 'OWNER', 5)).toEqual([expect.objectContaining({ name: '/prod/payments/db/password', matchedIn: 'tags' })]);
    });

    it('ranks the same candidates the same way', async () => {
      // More name matches than the candidates read (10 × the limit): the first by insertion, ranked by leaf, then length, then name.
      expect((await store.inventory.search(scope, 'item-01', 4)).map((h) => h.name)).toEqual([
        '/bulk/item-01000',
        '/bulk/item-01001',
        '/bulk/item-01002',
        '/bulk/item-01003',
      ]);
      expect((await store.inventory.search(scope, 'item', 3)).map((h) => h.name)).toEqual(['/bulk/item-00000', '/bulk/item-00001', '/bulk/item-00002']);
      expect((await store.inventory.search(scope, 'e', 3)).map((h) => h.name)).toEqual(['/bulk/item-00000', '/bulk/item-00001', '/bulk/item-00002']);
    });

    it('finds folders by part of their path, in any case', async () => {
      expect(await store.inventory.searchFolders(['local'], 'PAY', 10)).toEqual([
        { storeId: 'local', path: '/prod/payments/', totalItems: 2 },
        { storeId: 'local', path: '/prod/payments/db/', totalItems: 1 },
      ]);
      expect(await store.inventory.searchFolders(['local'], '%', 10)).toEqual([]);
    });

    it('matches short text against names', async () => {
      expect((await store.inventory.search(scope, 'db', 5)).map((h) => h.name)).toEqual(['/prod/payments/db/password']);
    });

    it('is cut to the grant pattern', async () => {
      const hits = await store.inventory.search([{ storeId: 'local', namePattern: globsPattern(['/prod/web/**']) }], 'e', 50);
      expect(hits.map((h) => h.name)).toEqual(['/prod/web/session-secret']);
    });

    it.each([
      ['FTS operators', 'stripe" OR "*'],
      ['column filter syntax', '{name}: NEAR(a b)'],
      ['SQL', "'; DROP TABLE inv_items; --"],
      ['regex', '.*(a|b)+$'],
      ['LIKE wildcards', '%_%'],
      ['quotes only', '""""'],
      ['10,000 characters', 'x'.repeat(10_000)],
    ])('takes %s as plain text', async (_label, text) => {
      const hits = await store.inventory.search(scope, text, 10);
      expect(hits).toEqual([]);
      expect(await store.inventory.countStore('local')).toBe(BULK + 3);
    });

    it('searches at most the first MAX_SEARCH_QUERY characters', async () => {
      const hits = await store.inventory.search(scope, `stripe-key${' '.repeat(5)}${'z'.repeat(MAX_SEARCH_QUERY)}`, 5);
      expect(hits).toEqual([]);
      expect(await store.inventory.search(scope, 'stripe-key', 5)).toHaveLength(1);
    });
  });

  describe('opening a store', () => {
    it('rebuilds a missing inventory from the items, and leaves a current one alone', async () => {
      const opened = await openStore(kind);
      try {
        const first = opened.store;
        await first.putMany([{ name: '/a/b', value: 'v', actor: 't' }, { name: '/a/c/d', value: 'v', actor: 't' }]);
        await first.close();
        // Opened under another id: the rows are rebuilt under the new one.
        const renamed = await opened.reopen('vault');
        expect(await renamed.inventory.countStore('vault')).toBe(2);
        expect(await renamed.inventory.countStore('local')).toBe(0);
        expect(await renamed.inventory.getFolder('vault', '/a/')).toEqual({ directItems: 1, totalItems: 2 });
        await renamed.close();
      } finally {
        await opened.cleanup();
      }
    });
  });
});
