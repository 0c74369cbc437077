import Database from 'better-sqlite3';
import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, sql, SqliteDialect, type SqlBool } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { globsPattern } from '@/lib/auth/path-glob';
import {
  allOf,
  ALWAYS,
  anyOf,
  coversItemBranches,
  FULL_SCOPE,
  isFullScope,
  NEVER,
  scopeAllows,
  scopeForItem,
  scopeSql,
  underPathBranches,
  type AuditScope,
  type SqlCondition,
} from '@/lib/cloudtrail/event-scope';
import { registerRegexp } from '@/lib/db/sqlite-regexp';

// Who may see which CloudTrail rows: each condition run for real against a small ct_entries table in
// SQLite (with the REGEXP the app registers), next to its JavaScript twin, row by row.

interface Row {
  id: number;
  store_id: string | null;
  item_name: string | null;
  path_recursive: number;
}

const ROWS: Row[] = [
  { id: 1, store_id: 'local', item_name: '/prod/payments/k', path_recursive: 0 },
  { id: 2, store_id: 'local', item_name: '/prod/web/k', path_recursive: 0 },
  { id: 3, store_id: 'aws', item_name: '/prod/payments/k', path_recursive: 0 },
  { id: 4, store_id: null, item_name: null, path_recursive: 0 },
  { id: 5, store_id: 'local', item_name: null, path_recursive: 0 },
  { id: 6, store_id: 'local', item_name: '/prod/payments/', path_recursive: 1 },
  { id: 7, store_id: 'local', item_name: '/prod/', path_recursive: 1 },
  { id: 8, store_id: 'local', item_name: '/prod/', path_recursive: 0 },
  { id: 9, store_id: 'local', item_name: '/prod/payments/db/pw', path_recursive: 0 },
  { id: 10, store_id: 'local', item_name: '/prod/paymentsx/k', path_recursive: 0 },
  { id: 11, store_id: 'local', item_name: '/', path_recursive: 1 },
  { id: 12, store_id: 'local', item_name: '/', path_recursive: 0 },
  { id: 13, store_id: 'local', item_name: '/prod/payments/db/', path_recursive: 1 },
  { id: 14, store_id: 'local', item_name: '/prod/payments/db/', path_recursive: 0 },
  { id: 15, store_id: 'local', item_name: '/prod/payments/db/pw2', path_recursive: 0 },
  { id: 16, store_id: 'local', item_name: '/prod/pay', path_recursive: 0 },
  { id: 17, store_id: 'local', item_name: '/prod/pay/ments', path_recursive: 0 },
];

const conn = new Database(':memory:');
registerRegexp(conn);
conn.exec('CREATE TABLE ct_entries (id INTEGER PRIMARY KEY, store_id TEXT, item_name TEXT, path_recursive INTEGER NOT NULL)');
const insert = conn.prepare('INSERT INTO ct_entries (id, store_id, item_name, path_recursive) VALUES (@id, @store_id, @item_name, @path_recursive)');
for (const row of ROWS) insert.run(row);
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const db = new Kysely<any>({ dialect: new SqliteDialect({ database: conn }) });
afterAll(() => db.destroy());

// A PostgreSQL compiler without a server: only the SQL text is looked at.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const pg = new Kysely<any>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (k) => new PostgresIntrospector(k),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

async function idsWhere(condition: SqlCondition): Promise<number[]> {
  const rows = await db.selectFrom('ct_entries').select('id').where(condition).orderBy('id').execute();
  return rows.map((r) => r.id as number);
}

const payments = globsPattern(['/prod/payments/**']);
const mapped = ROWS.filter((r) => r.store_id !== null).map((r) => r.id);

describe('scopeSql and scopeAllows', () => {
  it.each<[string, AuditScope, number[]]>([
    ['everything', FULL_SCOPE, ROWS.map((r) => r.id)],
    ['every store, nothing unmapped', { stores: 'all', includeUnmapped: false }, mapped],
    ['no store', { stores: [], includeUnmapped: false }, []],
    ['only unmapped events', { stores: [], includeUnmapped: true }, [4]],
    ['one whole store', { stores: [{ storeId: 'aws', namePattern: null }], includeUnmapped: false }, [3]],
    ['names of one store', { stores: [{ storeId: 'local', namePattern: payments }], includeUnmapped: false }, [1, 6, 9, 13, 14, 15]],
    [
      'names of one store, another whole, and unmapped events',
      { stores: [{ storeId: 'local', namePattern: payments }, { storeId: 'aws', namePattern: null }], includeUnmapped: true },
      [1, 3, 4, 6, 9, 13, 14, 15],
    ],
    ['one name of one store', { stores: [{ storeId: 'local', namePattern: globsPattern(['/prod/web/k']) }], includeUnmapped: false }, [2]],
    ['a store with no rows', { stores: [{ storeId: 'other', namePattern: null }], includeUnmapped: false }, []],
  ])('%s', async (_label, scope, expected) => {
    expect(await idsWhere(scopeSql(scope, 'sqlite'))).toEqual(expected);
    // The JavaScript twin decides each row the same way.
    expect(ROWS.filter((r) => scopeAllows(scope, r.store_id, r.item_name)).map((r) => r.id)).toEqual(expected);
  });

  it('is written for PostgreSQL with ~ and bound values', () => {
    const scope: AuditScope = { stores: [{ storeId: 'local', namePattern: payments }, { storeId: 'aws', namePattern: null }], includeUnmapped: true };
    const compiled = pg.selectFrom('ct_entries').select('id').where(scopeSql(scope, 'postgres')).compile();
    expect(compiled.sql).toBe(
      'select "id" from "ct_entries" where ((store_id = $1 AND (\'\' = $2 AND CASE WHEN ("item_name" || \'\') ~ $3 THEN true ELSE false END)) OR store_id = $4 OR store_id IS NULL)',
    );
    expect(compiled.parameters).toEqual(['local', '', payments, 'aws']);
    const sqlite = db.selectFrom('ct_entries').select('id').where(scopeSql(scope, 'sqlite')).compile();
    expect(sqlite.sql).toContain('"item_name" REGEXP ?');
  });

  it.each<[AuditScope, boolean]>([
    [FULL_SCOPE, true],
    [{ stores: 'all', includeUnmapped: false }, false],
    [{ stores: [], includeUnmapped: true }, false],
    [{ stores: [{ storeId: 'local', namePattern: null }], includeUnmapped: true }, false],
  ])('isFullScope(%j) is %s', (scope, expected) => {
    expect(isFullScope(scope)).toBe(expected);
  });
});

describe('scopeForItem', () => {
  it('leaves the whole index as it is', () => {
    expect(scopeForItem(FULL_SCOPE, '/any')).toBe(FULL_SCOPE);
    const allStores: AuditScope = { stores: 'all', includeUnmapped: false };
    expect(scopeForItem(allStores, '/any')).toBe(allStores);
  });

  it('opens the stores whose pattern holds the item, and only those', () => {
    const web = globsPattern(['/prod/web/**']);
    const scope: AuditScope = {
      stores: [
        { storeId: 'local', namePattern: payments },
        { storeId: 'aws', namePattern: web },
        { storeId: 'other', namePattern: null },
      ],
      includeUnmapped: false,
    };
    expect(scopeForItem(scope, '/prod/payments/db/pw')).toEqual({
      stores: [
        { storeId: 'local', namePattern: null },
        { storeId: 'aws', namePattern: web },
        { storeId: 'other', namePattern: null },
      ],
      includeUnmapped: false,
    });
    expect(scopeForItem(scope, '/prod/api/k')).toEqual(scope);
    expect(scope.stores).toEqual([
      { storeId: 'local', namePattern: payments },
      { storeId: 'aws', namePattern: web },
      { storeId: 'other', namePattern: null },
    ]);
  });
});

describe('rows about an item or below a path', () => {
  it.each<[string, number[]]>([
    // Its own rows, reads of its folder, recursive reads of the folders above.
    ['/prod/payments/db/pw', [6, 7, 9, 11, 13, 14]],
    ['/prod/payments/k', [1, 3, 6, 7, 11]],
    ['/prod/pay', [7, 8, 11, 16]],
  ])('coversItemBranches(%s)', async (name, expected) => {
    expect(await idsWhere(anyOf(coversItemBranches(name)))).toEqual(expected);
  });

  it.each<[string, number[]]>([
    ['/prod/payments/', [1, 3, 6, 7, 9, 11, 13, 14, 15]],
    ['/prod/payments/db/pw', [6, 7, 9, 11, 13, 15]],
    ['/prod/pay', [1, 3, 6, 7, 9, 10, 11, 13, 14, 15, 16, 17]],
    ['/', ROWS.filter((r) => r.item_name !== null).map((r) => r.id)],
  ])('underPathBranches(%s)', async (prefix, expected) => {
    expect(await idsWhere(anyOf(underPathBranches(prefix)))).toEqual(expected);
  });

  // Each alternative is walked and counted on its own (lib/cloudtrail/event-queries.ts), so a row
  // matched by two of them would be counted twice.
  const disjoint = async (branches: SqlCondition[]) => {
    const matched = (await Promise.all(branches.map(idsWhere))).flat();
    expect(matched.length).toBeGreaterThan(0);
    expect(matched).toEqual([...new Set(matched)]);
  };
  it.each([['/prod/payments/db/pw'], ['/prod/payments/k'], ['/prod/pay']])('splits the rows about item %s into disjoint alternatives', async (name) => {
    await disjoint(coversItemBranches(name));
  });
  it.each([['/prod/payments/db/pw'], ['/prod/payments/'], ['/prod/pay'], ['/']])('splits the rows below %s into disjoint alternatives', async (prefix) => {
    await disjoint(underPathBranches(prefix));
  });

  it('reaches names going on in any script below a prefix', async () => {
    conn.prepare('INSERT INTO ct_entries (id, store_id, item_name, path_recursive) VALUES (100, ?, ?, 0)').run('local', '/prod/payments/😀');
    try {
      expect(await idsWhere(anyOf(underPathBranches('/prod/payments/')))).toContain(100);
    } finally {
      conn.prepare('DELETE FROM ct_entries WHERE id = 100').run();
    }
  });
});

describe('allOf and anyOf', () => {
  const is = (id: number) => sql<SqlBool>`id = ${id}`;
  const over = (id: number) => sql<SqlBool>`id > ${id}`;

  it.each<[string, SqlCondition, number[]]>([
    ['ALWAYS', ALWAYS, ROWS.map((r) => r.id)],
    ['NEVER', NEVER, []],
    ['allOf of nothing', allOf([]), ROWS.map((r) => r.id)],
    ['allOf of one', allOf([over(15)]), [16, 17]],
    ['allOf of two', allOf([over(10), is(12)]), [12]],
    ['allOf of two that exclude each other', allOf([is(1), is(2)]), []],
    ['anyOf of nothing', anyOf([]), []],
    ['anyOf of one', anyOf([is(3)]), [3]],
    ['anyOf of two', anyOf([is(3), is(5)]), [3, 5]],
    ['anyOf inside allOf keeps its parentheses', allOf([anyOf([is(1), is(2)]), over(1)]), [2]],
  ])('%s', async (_label, condition, expected) => {
    expect(await idsWhere(condition)).toEqual(expected);
  });
});
