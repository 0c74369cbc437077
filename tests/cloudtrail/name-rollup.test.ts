import Database from 'better-sqlite3';
import { sql } from 'kysely';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS_DB_FILE, EventIndex } from '@/lib/cloudtrail/event-index';
import { catchUpRollup, rollupCurrent } from '@/lib/cloudtrail/event-rollup';
import { scopeSql, type AuditScope } from '@/lib/cloudtrail/event-scope';
import { folderKey, splitScopeByFolder } from '@/lib/cloudtrail/name-rollup';
import { sqliteTables } from '@/lib/db/copy-tables';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { DATABASES } from '../support/databases';
import { prng, seedRecords, START, STORES, WHERE } from './index-fixtures';
import { makeTempDir } from '../support/temp-dir';
import { scopeOf } from './support/audit-scopes';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';

// The name rollup (lib/cloudtrail/name-rollup.ts): a path-limited auditor's day chart summed per
// item folder. For grants of several shapes, filters the rollup keeps and ranges that end mid-day,
// the chart equals counting the index under the grants' regular expression alone, on both
// databases, after pages delivered twice, rows written around the index, and retention purges.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

afterAll(() => dropIndexPlaces());

const both = (globs: string[]) => scopeOf({ 'prod-params': globs, 'prod-secrets': globs });

/** Grants of several shapes, and whether some of their rows are counted from the name rollup. */
const GRANTS: [string, AuditScope, boolean][] = [
  ['two team folders on both stores', both(['/prod/payments/**', '/prod/web/**']), true],
  ['a folder with a folder below it', scopeOf({ 'prod-params': ['/prod/payments/**'] }), true],
  ['only the deeper folder', scopeOf({ 'prod-params': ['/prod/payments/deep/**'] }), true],
  ['folders and names given one by one', scopeOf({ 'prod-params': ['/prod/web/**', '/top', '/dev/z'] }), true],
  ['a folder and a glob needing the pattern elsewhere', scopeOf({ 'prod-params': ['/dev/*/a', '/prod/web/**'] }), true],
  ['a folder inside a range needing the pattern', scopeOf({ 'prod-params': ['/prod/*/a', '/prod/web/**'] }), false],
  ['a whole store beside a folder', scopeOf({ 'prod-secrets': null, 'prod-params': ['/prod/payments/**'] }, true), true],
  ['a literal and a star (a prefix not ending in /)', scopeOf({ 'prod-params': ['/prod/pay*/**'] }), false],
  ['only a pattern', scopeOf({ 'prod-params': ['/prod/*/a'] }), false],
  ['nothing', { stores: [], includeUnmapped: false }, false],
];

/** Filters the rollups keep (the others go to the index whatever the grants). */
const FILTER_POOL: ((r: () => number) => AuditFilters)[] = [
  () => ({}),
  (r) => ({ event: [['GetParameter'], ['GetSecretValue', 'PutParameter'], ['Decrypt'], ['GetParametersByPath']][Math.floor(r() * 4)]! }),
  (r) => ({ access: r() < 0.5 ? 'read' : 'write' }),
  (r) => ({ store: r() < 0.5 ? 'prod-params' : 'prod-secrets' }),
  (r) => ({ outcome: r() < 0.5 ? 'success' : 'error' }),
  () => ({ error: 'AccessDenied' }),
];

/** A range from and to odd times, whole days, or open (the fixture's events span 60 days from START). */
function randomRange(r: () => number): Pick<AuditFilters, 'from' | 'to'> {
  const at = (ms: number) => new Date(ms).toISOString();
  const pick = () => START + Math.floor(r() * 62) * DAY + (r() < 0.6 ? Math.floor(r() * DAY) : 0);
  const a = r() < 0.8 ? pick() : null;
  const b = r() < 0.6 ? pick() : null;
  if (a !== null && b !== null) return { from: at(Math.min(a, b)), to: at(Math.max(a, b)) };
  return a !== null ? { from: at(a) } : b !== null ? { to: at(b) } : {};
}

describe.each(DATABASES)('the name rollup (%s)', (kind) => {
  let index: EventIndex;
  let now = new Date(START + 70 * DAY);

  beforeAll(async () => {
    index = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => now });
    const records = seedRecords(2000, 31);
    for (let i = 0; i < records.length; i += 250) await index.ingest('le-eu', 'lookup-events', WHERE, records.slice(i, i + 250), { cursor: { i } }, STORES);
    await index.ingest('s3-eu', 'cloudtrail-s3', WHERE, records.slice(0, 300), { cursor: { again: true } }, STORES);
  }, 120_000);
  afterAll(async () => {
    await index.close();
  });

  /** The index's rows per day under the filters and the grants' regular expression alone (no ranges, no rollup). */
  async function indexCounts(f: AuditFilters, scope: AuditScope): Promise<Record<string, { reads: number; writes: number }>> {
    const patternOnly: AuditScope = scope.stores === 'all' ? scope : { ...scope, stores: scope.stores.map(({ storeId, namePattern }) => ({ storeId, namePattern })) };
    const parts = [scopeSql(patternOnly, index.dialect)];
    if (f.actor !== undefined) {
      const like = sql.raw(index.dialect === 'postgres' ? 'ILIKE' : 'LIKE');
      const pattern = `%${f.actor.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      parts.push(sql`(actor_arn ${like} ${pattern} ESCAPE '\\' OR principal ${like} ${pattern} ESCAPE '\\')`);
    }
    if (f.event) parts.push(sql`event_name IN (${sql.join(f.event)})`);
    if (f.access) parts.push(sql`read_only = ${f.access === 'read' ? 1 : 0}`);
    if (f.store) parts.push(sql`store_id = ${f.store}`);
    if (f.error) parts.push(sql`error_code = ${f.error}`);
    if (f.outcome === 'success') parts.push(sql`error_code IS NULL`);
    if (f.outcome === 'error') parts.push(sql`error_code IS NOT NULL`);
    if (f.from) parts.push(sql`event_time >= ${f.from}`);
    if (f.to) parts.push(sql`event_time <= ${f.to}`);
    const { rows } = await sql<{ b: string; reads: number | string; n: number | string }>`
      SELECT substr(event_time, 1, 10) AS b, sum(read_only) AS reads, count(*) AS n FROM ct_entries WHERE ${sql.join(parts, sql` AND `)} GROUP BY 1`.execute(index.db);
    return Object.fromEntries(rows.map((r) => [r.b, { reads: Number(r.reads), writes: Number(r.n) - Number(r.reads) }]));
  }

  async function expectChartEqualsIndex(label: string, f: AuditFilters, scope: AuditScope): Promise<number> {
    const chart = await index.queries.chart(f, scope, 'day');
    const got = Object.fromEntries(chart.points.map((p) => [p.start.slice(0, 10), { reads: p.reads, writes: p.writes }]));
    const want = await indexCounts(f, scope);
    expect(got, label).toEqual(want);
    return Object.values(want).reduce((n, c) => n + c.reads + c.writes, 0);
  }

  /** The rollup's rows against the index's, counted here in JavaScript; and every (item, store) listed. */
  async function expectRollupEqualsIndex(): Promise<void> {
    expect(await rollupCurrent(index.db)).toBe(true);
    const { rows } = await sql<{ store_id: string; item_name: string; event_time: string; event_name: string | null; error_code: string | null; read_only: number }>`
      SELECT store_id, item_name, event_time, event_name, error_code, read_only FROM ct_entries WHERE store_id IS NOT NULL AND item_name IS NOT NULL`.execute(index.db);
    const want = new Map<string, number>();
    const pairs = new Set<string>();
    for (const r of rows) {
      const key = JSON.stringify([r.item_name.replace(/[^/]*$/, ''), r.store_id, r.event_time.slice(0, 10), r.event_name ?? '', r.error_code ?? '', Number(r.read_only)]);
      want.set(key, (want.get(key) ?? 0) + 1);
      pairs.add(JSON.stringify([r.item_name, r.store_id]));
    }
    const { rows: kept } = await sql<{ folder: string; store_id: string; bucket: string; event_name: string; error_code: string; read_only: number; n: number | string }>`
      SELECT folder, store_id, bucket, event_name, error_code, read_only, n FROM ct_name_rollup_day`.execute(index.db);
    const got = new Map(kept.map((r) => [JSON.stringify([r.folder, r.store_id, r.bucket, r.event_name, r.error_code, Number(r.read_only)]), Number(r.n)]));
    expect(Object.fromEntries(got)).toEqual(Object.fromEntries(want));
    const { rows: listed } = await sql<{ item_name: string; store_id: string }>`SELECT item_name, store_id FROM ct_rollup_names`.execute(index.db);
    const names = new Set(listed.map((r) => JSON.stringify([r.item_name, r.store_id])));
    for (const pair of pairs) expect(names.has(pair), pair).toBe(true);
  }

  it('holds per folder exactly the rows of the index, pages delivered twice counted once', async () => {
    await expectRollupEqualsIndex();
    const { rows } = await sql<{ n: number | string }>`SELECT sum(n) AS n FROM ct_name_rollup_day WHERE folder = '/prod/payments/'`.execute(index.db);
    expect(Number(rows[0]!.n)).toBeGreaterThan(0);
  });

  it('takes a folder from the SQL expression it is recounted by, for every kind of name', async () => {
    const names = ['/a/b/c', '/a/b/', '/', 'plain', '', 'prod/web/x', '/ünï/cödé/ẋ', '/a//b', '/a/b c/d e', 'trailing/'];
    for (const name of names) {
      const { rows } = await sql<{ f: string }>`SELECT rtrim(${name}, replace(${name}, '/', '')) AS f`.execute(index.db);
      expect(rows[0]!.f, name).toBe(folderKey(name));
    }
  });

  it('charts grants of every shape exactly as counting the index, under the rollup filters and ranges ending mid-day', async () => {
    const random = prng(41);
    let nonEmpty = 0;
    for (let n = 0; n < 70; n++) {
      const filters: AuditFilters = Object.assign({}, randomRange(random), ...Array.from({ length: Math.floor(random() * 3) }, () => FILTER_POOL[Math.floor(random() * FILTER_POOL.length)]!(random)));
      const [label, scope] = GRANTS[n % GRANTS.length]!;
      if ((await expectChartEqualsIndex(`${JSON.stringify(filters)} for ${label}`, filters, scope)) > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(35);
    // And over every filter alone, with the whole index in range, for each shape.
    for (const [label, scope] of GRANTS) for (const make of FILTER_POOL) await expectChartEqualsIndex(`${label}, whole range`, make(() => 0.3), scope);
  }, 120_000);

  it('charts an actor substring exactly under every grant shape, whether it names the principal, a session, or neither', async () => {
    const texts = ['deploy', 'DEPLOY', 'i-0aaa', 'I-0AAA', 'alice', 'secretsmanager', '%', 'nobody'];
    const check = async (label: string) => {
      let nonEmpty = 0;
      for (const [shape, scope] of GRANTS)
        for (const actor of texts) for (const extra of [{}, { access: 'read' as const }]) if ((await expectChartEqualsIndex(`${label} ${actor} ${shape}`, { actor, ...extra }, scope)) > 0) nonEmpty++;
      expect(nonEmpty).toBeGreaterThan(20);
    };
    await check('few principals:');
    // Principals whose sessions (not their own ARNs) hold "deploy": over MAX_BRANCHES, the count takes IN lists.
    const extra = Array.from({ length: 60 }, (_, i) => ({ principal: `arn:aws:iam::111122223333:role/extra-${i}`, actor_arn: `arn:aws:sts::111122223333:assumed-role/extra-${i}/deploy-s` }));
    await index.db.insertInto('ct_actors').values(extra).execute();
    await sql`INSERT INTO ct_entries (event_pk, event_time, event_source, event_name, read_only, principal, actor_arn, store_id, item_name)
      SELECT event_pk, event_time, event_source, event_name, read_only, 'arn:aws:iam::111122223333:role/extra-1', CASE WHEN id % 2 = 0 THEN 'arn:aws:sts::111122223333:assumed-role/extra-1/deploy-s' ELSE 'arn:aws:sts::111122223333:assumed-role/extra-1/other' END, store_id, item_name
      FROM ct_entries WHERE principal LIKE '%alice%'`.execute(index.db);
    await catchUpRollup(index.db, index.dialect);
    expect((await index.queries.principalsMatching('deploy', 1000))!.length).toBeGreaterThan(60);
    await check('many principals:');
  });

  it('gives an auditor of one folder none of the folder beside it', async () => {
    const web = scopeOf({ 'prod-params': ['/prod/web/**'] });
    const total = await expectChartEqualsIndex('web only', { from: new Date(START - DAY).toISOString() }, web);
    const { rows } = await sql<{ n: number | string }>`SELECT count(*) AS n FROM ct_entries WHERE store_id = 'prod-params' AND item_name LIKE '/prod/web/%'`.execute(index.db);
    expect(total).toBe(Number(rows[0]!.n));
    const payments = await expectChartEqualsIndex('payments only', { from: new Date(START - DAY).toISOString() }, scopeOf({ 'prod-params': ['/prod/payments/**'] }));
    const whole = await expectChartEqualsIndex('both', { from: new Date(START - DAY).toISOString() }, scopeOf({ 'prod-params': ['/prod/payments/**', '/prod/web/**'] }));
    expect(payments).toBeGreaterThan(0);
    expect(whole).toBe(total + payments);
  });

  it('stays exact when rows are written around the index (charts count it), and catches up', async () => {
    // A folder the rollup has never seen, and more rows of one it has.
    await sql`INSERT INTO ct_entries (event_pk, event_time, event_source, event_name, read_only, store_id, item_name)
      SELECT event_pk, event_time, event_source, event_name, read_only, store_id, replace(item_name, '/prod/web/', '/prod/web/new/') FROM ct_entries
      WHERE store_id = 'prod-params' AND item_name LIKE '/prod/web/%'`.execute(index.db);
    expect(await rollupCurrent(index.db)).toBe(false);
    const web = scopeOf({ 'prod-params': ['/prod/web/**'] });
    const stale = await expectChartEqualsIndex('stale rollup', { from: new Date(START + 3 * DAY + 5 * HOUR).toISOString() }, web);
    // Recounted a window of 37 ids at a time (the windows' sums must equal the index).
    expect(await catchUpRollup(index.db, index.dialect, 37)).toBe(true);
    await expectRollupEqualsIndex();
    expect(await expectChartEqualsIndex('caught up', { from: new Date(START + 3 * DAY + 5 * HOUR).toISOString() }, web)).toBe(stale);
    await expectChartEqualsIndex('caught up, writes', { access: 'write' }, scopeOf({ 'prod-params': ['/prod/web/new/**'] }));
  });

  it('loses exactly the purged rows at retention, and counts new pages on top', async () => {
    now = new Date(START + 400 * DAY + 21 * DAY + 7 * HOUR);
    expect(await index.purgeOlderThan(400)).toBeGreaterThan(0);
    await expectRollupEqualsIndex();
    for (const [label, scope] of GRANTS) await expectChartEqualsIndex(`after purge: ${label}`, { from: new Date(START).toISOString() }, scope);
    const later = seedRecords(300, 99).map((r, i) => ({ ...r, eventID: `later-${i}`, eventTime: new Date(START + 40 * DAY + i * 61_000).toISOString() }));
    await index.ingest('le-eu', 'lookup-events', WHERE, later, { cursor: { later: true } }, STORES);
    await expectRollupEqualsIndex();
    for (const [label, scope] of GRANTS) await expectChartEqualsIndex(`after more pages: ${label}`, { access: 'read', from: new Date(START + 39 * DAY + 13 * HOUR).toISOString() }, scope);
  });
});

describe('which grants the name rollup answers', () => {
  it('takes exact prefixes ending in "/" and leaves names, patterns and whole stores to the other ways', () => {
    for (const [label, scope, byFolder] of GRANTS) expect(splitScopeByFolder(scope) !== null, label).toBe(byFolder);
    const split = splitScopeByFolder(scopeOf({ 'prod-params': ['/prod/web/**', '/top', '/dev/*/a'], 'prod-secrets': null }, true))!;
    expect(split.groups).toEqual([{ stores: ['prod-params'], prefixes: ['/prod/web/'] }]);
    const rest = split.rest.stores as { storeId: string; namePattern: string | null; ranges?: { prefixes: string[]; names: string[]; exact: boolean } | null }[];
    expect(rest.map((s) => s.storeId)).toEqual(['prod-params', 'prod-secrets']);
    expect(rest[0]!.ranges).toMatchObject({ prefixes: ['/dev/'], exact: false });
    expect(rest[0]!.ranges!.names).toContain('/top');
    expect(rest[1]!.namePattern).toBeNull();
    expect(split.rest.includeUnmapped).toBe(true);
    // Every store takes one walk of the same folders.
    expect(splitScopeByFolder(both(['/prod/web/**']))!.groups).toEqual([{ stores: ['prod-params', 'prod-secrets'], prefixes: ['/prod/web/'] }]);
    expect(splitScopeByFolder({ stores: 'all', includeUnmapped: false })).toBeNull();
  });
});

describe('migrate-data and the name rollup', () => {
  it('leaves both of its tables out of a copy (the target recounts them) and copies the entries', async () => {
    const temp = makeTempDir('ct-name-rollup-');
    try {
      await (await EventIndex.open(temp.dir, { retentionDays: 400 })).close();
      const conn = new Database(path.join(temp.dir, AUDIT_EVENTS_DB_FILE), { readonly: true });
      try {
        const { tables, skipped } = sqliteTables(conn);
        expect(skipped.map((s) => s.table)).toEqual(expect.arrayContaining(['ct_name_rollup_day', 'ct_rollup_names', 'ct_rollup_day', 'ct_rollup_state']));
        expect(tables.map((t) => t.name)).toContain('ct_entries');
        expect(tables.map((t) => t.name)).not.toContain('ct_name_rollup_day');
      } finally {
        conn.close();
      }
    } finally {
      temp.cleanup();
    }
  });
});
