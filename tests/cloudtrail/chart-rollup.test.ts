import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventIndex } from '@/lib/cloudtrail/event-index';
import type { ChartBucket } from '@/lib/cloudtrail/event-queries';
import { catchUpRollup, rollupCurrent } from '@/lib/cloudtrail/event-rollup';
import { FULL_SCOPE, scopeSql, type AuditScope } from '@/lib/cloudtrail/event-scope';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { DATABASES } from '../support/databases';
import { prng, seedRecords, START, STORES, WHERE } from './index-fixtures';
import { scopeOf } from './support/audit-scopes';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';

// The chart's rollup (lib/cloudtrail/event-rollup.ts) against the timeline's own walk: for random
// filters and grants, each bucket's reads and writes are exactly the rows the pages return, after
// pages delivered twice, retention purges, and rows written around the index. And the grant cut by
// name ranges selects exactly the rows the regular expression alone does.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** The fixture's events span 60 days from START; "now" is a little after. */
const NOW = new Date(START + 70 * DAY);

afterAll(() => dropIndexPlaces());

const SCOPES: [string, AuditScope][] = [
  ['everything', FULL_SCOPE],
  ['every store, nothing unmapped', { stores: 'all', includeUnmapped: false }],
  ['one whole store', scopeOf({ 'prod-params': null })],
  ['whole stores and unmapped', scopeOf({ 'prod-params': null, 'prod-secrets': null }, true)],
  ['payments parameters', scopeOf({ 'prod-params': ['/prod/payments/**'] })],
  ['a glob needing the pattern', scopeOf({ 'prod-params': ['/prod/*/a', '/top'], 'prod-secrets': ['prod/web/*'] })],
  ['web only', scopeOf({ 'prod-params': ['/prod/web/**'] })],
  ['one grant on both stores', scopeOf({ 'prod-params': ['/prod/payments/**', '/top'], 'prod-secrets': ['/prod/payments/**', '/top'] })],
  ['nothing', { stores: [], includeUnmapped: false }],
];

/** from/to at odd minutes, whole days, or absent: every way a range can cut the rollup's buckets. */
function randomRange(r: () => number): Pick<AuditFilters, 'from' | 'to'> {
  const at = (ms: number) => new Date(ms).toISOString();
  const pick = (): number => {
    const roll = r();
    const base = START + Math.floor(r() * 62) * DAY;
    if (roll < 0.4) return base + Math.floor(r() * 24) * HOUR + Math.floor(r() * 60) * 60_000 + Math.floor(r() * 1000);
    if (roll < 0.7) return base + Math.floor(r() * 24) * HOUR;
    return base;
  };
  const range: Pick<AuditFilters, 'from' | 'to'> = {};
  const a = r() < 0.7 ? pick() : null;
  const b = r() < 0.7 ? pick() : null;
  if (a !== null && b !== null) {
    range.from = at(Math.min(a, b));
    range.to = at(Math.max(a, b) + (r() < 0.5 ? DAY - 1 : 0));
  } else if (a !== null) range.from = at(a);
  else if (b !== null) range.to = at(b);
  return range;
}

const FILTER_POOL: ((r: () => number) => AuditFilters)[] = [
  () => ({}),
  (r) => ({ event: [['GetParameter'], ['GetSecretValue', 'PutParameter'], ['Decrypt'], ['DescribeParameters']][Math.floor(r() * 4)]! }),
  (r) => ({ access: r() < 0.5 ? 'read' : 'write' }),
  (r) => ({ store: r() < 0.5 ? 'prod-params' : 'prod-secrets' }),
  (r) => ({ outcome: r() < 0.5 ? 'success' : 'error' }),
  () => ({ error: 'AccessDenied' }),
  // Not rollup keys: these count the index.
  () => ({ path: '/prod/' }),
  () => ({ item: '/prod/payments/a' }),
  () => ({ actor: 'deploy' }),
  () => ({ ip: '203.0.113.7' }),
];

describe.each(DATABASES)('the chart rollup (%s)', (kind) => {
  let index: EventIndex;
  let now = NOW;

  beforeAll(async () => {
    index = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => now });
    const records = seedRecords(2500, 11);
    for (let i = 0; i < records.length; i += 250) await index.ingest('le-eu', 'lookup-events', WHERE, records.slice(i, i + 250), { cursor: { i } }, STORES);
    // Delivered again by a second source, and partly again in one page: stored once, counted once.
    const again = await index.ingest('s3-eu', 'cloudtrail-s3', WHERE, [...records.slice(100, 400), ...records.slice(100, 150)], { cursor: { again: true } }, STORES);
    expect(again.inserted).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await index.close();
  });

  async function walkCounts(f: AuditFilters, scope: AuditScope, bucket: ChartBucket): Promise<Map<string, { reads: number; writes: number }>> {
    const counts = new Map<string, { reads: number; writes: number }>();
    let cursor: string | undefined;
    do {
      const page = await index.queries.timeline(f, scope, { cursor, limit: 500 });
      for (const e of page.entries) {
        const key = e.time.slice(0, bucket === 'hour' ? 13 : 10);
        const c = counts.get(key) ?? { reads: 0, writes: 0 };
        if (e.access === 'read') c.reads++;
        else c.writes++;
        counts.set(key, c);
      }
      cursor = page.nextCursor;
    } while (cursor);
    return counts;
  }

  async function expectChartEqualsWalk(label: string, f: AuditFilters, scope: AuditScope, bucket: ChartBucket): Promise<number> {
    const chart = await index.queries.chart(f, scope, bucket);
    const got = new Map(chart.points.map((p) => [p.start.slice(0, bucket === 'hour' ? 13 : 10), { reads: p.reads, writes: p.writes }]));
    const want = await walkCounts(f, scope, bucket);
    expect(Object.fromEntries(got), label).toEqual(Object.fromEntries(want));
    return [...want.values()].reduce((n, c) => n + c.reads + c.writes, 0);
  }

  async function expectRollupEqualsIndex(): Promise<void> {
    expect(await rollupCurrent(index.db)).toBe(true);
    for (const [table, width] of [
      ['ct_rollup_hour', 13],
      ['ct_rollup_day', 10],
    ] as const) {
      const { rows: diff } = await sql<{ n: number }>`
        SELECT count(*) AS n FROM (
          SELECT substr(event_time, 1, ${sql.lit(width)}) AS bucket, coalesce(store_id, '') AS store_id, coalesce(event_name, '') AS event_name, coalesce(error_code, '') AS error_code, read_only, count(*) AS n
          FROM ct_entries GROUP BY 1, 2, 3, 4, 5
        ) AS counted
        FULL OUTER JOIN ${sql.table(table)} AS r USING (bucket, store_id, event_name, error_code, read_only)
        WHERE counted.n IS NULL OR r.n IS NULL OR counted.n <> r.n`
        .execute(index.db)
        .catch(async () =>
          // SQLite before 3.39 has no FULL OUTER JOIN: compare both ways with EXCEPT.
          sql<{ n: number }>`
            SELECT count(*) AS n FROM (
              SELECT * FROM (SELECT substr(event_time, 1, ${sql.lit(width)}), coalesce(store_id, ''), coalesce(event_name, ''), coalesce(error_code, ''), read_only, count(*) FROM ct_entries GROUP BY 1, 2, 3, 4, 5
                EXCEPT SELECT bucket, store_id, event_name, error_code, read_only, n FROM ${sql.table(table)}) AS a
              UNION ALL
              SELECT * FROM (SELECT bucket, store_id, event_name, error_code, read_only, n FROM ${sql.table(table)}
                EXCEPT SELECT substr(event_time, 1, ${sql.lit(width)}), coalesce(store_id, ''), coalesce(event_name, ''), coalesce(error_code, ''), read_only, count(*) FROM ct_entries GROUP BY 1, 2, 3, 4, 5) AS b
            ) AS d`.execute(index.db),
        );
      expect(Number(diff[0]!.n), table).toBe(0);
    }
  }

  it('holds exactly the counts of the index after pages and pages delivered twice', async () => {
    await expectRollupEqualsIndex();
    const { rows } = await sql<{ n: number }>`SELECT sum(n) AS n FROM ct_rollup_day`.execute(index.db);
    expect(Number(rows[0]!.n)).toBe((await index.counts()).entries);
  });

  it('charts exactly the rows the pages return, for random filters, ranges and grants', async () => {
    const random = prng(23);
    let nonEmpty = 0;
    for (let n = 0; n < 60; n++) {
      const filters: AuditFilters = Object.assign({}, randomRange(random), ...Array.from({ length: Math.floor(random() * 3) }, () => FILTER_POOL[Math.floor(random() * FILTER_POOL.length)]!(random)));
      const [label, scope] = SCOPES[Math.floor(random() * SCOPES.length)]!;
      const bucket: ChartBucket = random() < 0.5 ? 'day' : 'hour';
      if ((await expectChartEqualsWalk(`${JSON.stringify(filters)} ${bucket} in scope ${label}`, filters, scope, bucket)) > 0) nonEmpty++;
    }
    expect(nonEmpty).toBeGreaterThan(30);
  }, 120_000);

  it('counts an actor substring matching more principals than a page walks one by one (an IN list) exactly', async () => {
    // Principals known to ct_actors that have no rows: the substring now matches over MAX_BRANCHES of them.
    const extra = Array.from({ length: 60 }, (_, i) => ({ principal: `arn:aws:iam::111122223333:role/deploy-extra-${i}`, actor_arn: `arn:aws:sts::111122223333:assumed-role/deploy-extra-${i}/s` }));
    await index.db.insertInto('ct_actors').values(extra).execute();
    expect(await index.queries.principalsMatching('deploy')).toBeNull();
    expect((await index.queries.principalsMatching('deploy', 1000))!.length).toBeGreaterThan(60);
    for (const [label, scope] of SCOPES) {
      await expectChartEqualsWalk(`actor deploy in ${label}`, { actor: 'deploy' }, scope, 'day');
      await expectChartEqualsWalk(`actor i-0aaa read in ${label}`, { actor: 'I-0AAA', access: 'read' }, scope, 'hour');
    }
    expect(await expectChartEqualsWalk('actor deploy', { actor: 'deploy' }, FULL_SCOPE, 'day')).toBeGreaterThan(0);
  });

  it('an auditor of web parameters gets nothing of payments, in the chart or the pages', async () => {
    const web = SCOPES.find(([l]) => l === 'web only')![1];
    expect((await index.queries.chart({ path: '/prod/payments/' }, web, 'day')).points).toEqual([]);
    expect((await index.queries.timeline({ path: '/prod/payments/' }, web)).entries).toEqual([]);
    const own = await index.queries.chart({}, web, 'day');
    expect(own.points.length).toBeGreaterThan(0);
    const seen = await index.queries.timeline({}, web, { limit: 500 });
    for (const e of seen.entries) expect(e.itemName ?? '', 'a row outside /prod/web/').toMatch(/^\/prod\/web\//);
    // An admin's chart of payments is not empty: the refusal above is the grant's.
    expect((await index.queries.chart({ path: '/prod/payments/' }, FULL_SCOPE, 'day')).points.length).toBeGreaterThan(0);
  });

  it('a grant cut by name ranges selects exactly the rows the regular expression alone does', async () => {
    const levels = ['prod', 'dev', 'payments', 'web', 'deep', 'a', 'b', 'x', 'top', 'pay*', '*', '**', '{payments,web}', 'db', 'session', 'token'];
    const glob = fc.array(fc.constantFrom(...levels), { minLength: 1, maxLength: 4 }).map((parts) => `/${parts.join('/')}`);
    const secretGlob = fc.array(fc.constantFrom(...levels), { minLength: 2, maxLength: 3 }).map((parts) => `/${parts.join('/')}`);
    const ids = async (scope: AuditScope) =>
      (await sql<{ id: number }>`SELECT id FROM ct_entries WHERE ${scopeSql(scope, index.dialect)} ORDER BY id`.execute(index.db)).rows.map((r) => Number(r.id));
    await fc.assert(
      fc.asyncProperty(fc.array(glob, { minLength: 1, maxLength: 3 }), fc.array(secretGlob, { minLength: 1, maxLength: 2 }), fc.boolean(), fc.boolean(), async (paramGlobs, secretGlobs, unmapped, sameGrant) => {
        // sameGrant: one grant on both stores, whose ranges are walked once for both.
        const withRanges = scopeOf({ 'prod-params': paramGlobs, 'prod-secrets': sameGrant ? paramGlobs : secretGlobs }, unmapped);
        const patternOnly: AuditScope = { ...withRanges, stores: (withRanges.stores as { storeId: string; namePattern: string | null }[]).map(({ storeId, namePattern }) => ({ storeId, namePattern })) };
        expect(await ids(withRanges)).toEqual(await ids(patternOnly));
        const chart = await index.queries.chart({}, withRanges, 'day');
        expect(chart.points.reduce((n, p) => n + p.reads + p.writes, 0)).toBe((await ids(patternOnly)).length);
      }),
      { numRuns: 40, seed: 5 },
    );
  }, 120_000);

  it('stays exact when rows are written around the index, and catches up', async () => {
    await sql`INSERT INTO ct_entries (event_pk, event_time, event_source, event_name, read_only, store_id, item_name)
      SELECT event_pk, event_time, event_source, event_name, read_only, store_id, item_name FROM ct_entries WHERE store_id = 'prod-params' AND event_name = 'PutParameter'`.execute(index.db);
    expect(await rollupCurrent(index.db)).toBe(false);
    await expectChartEqualsWalk('stale rollup', { store: 'prod-params' }, FULL_SCOPE, 'day');
    // Recounted a window of 37 ids at a time (the windows' sums must equal the index).
    expect(await catchUpRollup(index.db, index.dialect, 37)).toBe(true);
    await expectRollupEqualsIndex();
    await expectChartEqualsWalk('caught up', { store: 'prod-params', access: 'write' }, FULL_SCOPE, 'hour');
  });

  it('loses exactly the purged rows at retention', async () => {
    now = new Date(START + 30 * DAY + 7 * HOUR + 123);
    const purged = await index.purgeOlderThan(0);
    expect(purged).toBeGreaterThan(0);
    await expectRollupEqualsIndex();
    await expectChartEqualsWalk('after purge', {}, FULL_SCOPE, 'day');
    await expectChartEqualsWalk('after purge, one store', { store: 'prod-secrets', outcome: 'success' }, scopeOf({ 'prod-secrets': null }), 'hour');
    // New pages after the purge are counted on top.
    const later = seedRecords(300, 99).map((r, i) => ({ ...r, eventID: `later-${i}`, eventTime: new Date(START + 40 * DAY + i * 60_000).toISOString() }));
    await index.ingest('le-eu', 'lookup-events', WHERE, later, { cursor: { later: true } }, STORES);
    await expectRollupEqualsIndex();
    await expectChartEqualsWalk('after more pages', { access: 'read' }, FULL_SCOPE, 'day');
  });
});
