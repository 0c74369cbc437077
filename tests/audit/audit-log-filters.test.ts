import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { GET as exportRoute } from '@/app/api/v1/audit/export/route';
import { GET as auditRoute } from '@/app/api/v1/audit/route';
import { listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { AuditLogQueries, auditLogQueries, ownLogReach, OWN_READ_ACTIONS, OWN_WRITE_ACTIONS, subtreeFoldersPattern } from '@/lib/audit/audit-log-queries';
import type { Grant } from '@/lib/auth/grants';
import { globCoversSubtree } from '@/lib/auth/path-glob';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { appDb } from '@/lib/db/app-db';
import { mayRead, parseTarget } from '@/lib/data/audit';
import { timelineChart, timelinePage, type TimelineEntry } from '@/lib/data/audit-timeline';
import { principalForUser } from '@/lib/session';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { bearer, startHarness, type Harness } from '../auth/harness';
import { DATABASES } from '../support/databases';

// The own log's part of the /audit timeline in SQL (lib/audit/audit-log-queries.ts), on both
// dialects: the same decisions as the JavaScript it replaced (filters: the reference below, kept
// from the timeline before; grants: lib/data/audit.ts mayRead), and exact at a size where the old
// 20,000-row scan limit gave up: 30,000 own entries of which only a few, far back, match.

const STORES: StoreLocator[] = [{ storeId: 'local', kind: 'ssm', region: 'us-east-1', account: null }];
const url = (path: string) => `http://localhost${path}`;
const SENTINEL = '/prod/web/sentinel-b2-outside-grants';
const BULK = 30_000;
const FAR_ACTOR = 'far-back@example.com';
// Within CloudTrail's retention (older events are not indexed): the bulk from 40 days ago, one a
// minute for about 21 days; the matrix after it, one an hour.
const DAY_MS = 86_400_000;
const BULK_BASE = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 40 * DAY_MS).toISOString();
const MATRIX_BASE = new Date(Math.floor(Date.now() / DAY_MS) * DAY_MS - 10 * DAY_MS).toISOString();

/** The timeline's own-log filter as it was decided in JavaScript: the reference the SQL must agree with. */
function referenceMatches(entry: AuditEntry, filters: AuditFilters): boolean {
  if (filters.ip || filters.error) return false;
  const target = parseTarget(entry.target);
  const access = (OWN_READ_ACTIONS as readonly string[]).includes(entry.action) ? 'read' : (OWN_WRITE_ACTIONS as readonly string[]).includes(entry.action) ? 'write' : null;
  if (filters.actor) {
    const actor = entry.actor.toLowerCase();
    const wanted = filters.actor.toLowerCase();
    if (filters.actorMatch === 'exact' ? actor !== wanted : !actor.includes(wanted)) return false;
  }
  if (filters.event && !filters.event.includes(entry.action)) return false;
  if (filters.access && access !== filters.access) return false;
  if (filters.store && target?.storeId !== filters.store) return false;
  if (filters.item && target?.name !== filters.item) return false;
  if (filters.path && !target?.name.startsWith(filters.path)) return false;
  if (filters.from && entry.at < filters.from) return false;
  if (filters.to && entry.at > filters.to) return false;
  const failed = entry.outcome === 'denied' || entry.outcome === 'failure';
  if (filters.outcome === 'success' && failed) return false;
  if (filters.outcome === 'error' && !failed) return false;
  return true;
}

/** Targets that parse and do not, items and folders, inside and outside the grants below. */
const MATRIX_TARGETS = [
  'local:/prod/payments/stripe-key',
  'local:/prod/payments/',
  'local:/prod/payments/db/',
  'local:/prod/payments/db/host',
  'local:/prod/paymentsX/key',
  'local:/prod/',
  'local:/',
  'local:/prod/web/key',
  `local:${SENTINEL}`,
  'local:/prod/app-1/db-password',
  'local:/prod/app-1/db/',
  'local:/exact/name',
  'other-store:/prod/payments/key',
  'other-store:/prod/a/x',
  'other-store:/prod/b/',
  'other-store:/exact/name',
  'gone-store:/prod/payments/old',
  'a:/deep/down/secret',
  'a:/secret',
  'local:/prod/pay-a/x',
  'local:/prod/pay',
  'local:/a/b/',
  'local:/a/b/c/',
  'local:/a/x/b/c',
  // Dashboard-wide and malformed: only auditors of everything read them.
  'alice@example.com',
  'token:abc',
  '',
  'Local:/prod/payments/upper-store',
  'lo cal:/prod/payments/space',
  'local:prod/payments/no-slash',
  'local:/prod/payments/line\nbreak',
  'local:/prod/payments/carriage\rreturn',
  'local:/prod/payments/sep\u2028arator',
  `${'s'.repeat(63)}:/prod/payments/longest-store`,
  `${'s'.repeat(64)}:/prod/payments/too-long-store`,
  '-local:/prod/payments/leading-dash',
  'local-:/prod/payments/trailing-dash',
  'local::/prod/payments/double-colon',
  'local:/prod/payments/colon:inside',
  'local:/prod/payments/ünïcode',
];

const grant = (role: Grant['role'], paths: string[], stores: string[] | null = null): Grant => ({ role, paths, stores });
const GRANT_SETS: Record<string, Grant[]> = {
  everything: [grant('admin', ['/**'])],
  'payments anywhere': [grant('auditor', ['/prod/payments/**'])],
  'wildcards in local': [grant('auditor', ['/prod/*/db-*', '/prod/*/db/**'], ['local'])],
  'braces and an exact name in other-store': [grant('auditor', ['/prod/{a,b}/**', '/exact/name'], ['other-store'])],
  'all of local only': [grant('auditor', ['/**'], ['local'])],
  'a name at any depth': [grant('auditor', ['/**/secret'])],
  'literal then star': [grant('auditor', ['/prod/pay*/**'])],
  'view-audit not held': [grant('viewer', ['/**'])],
  // Names below /a/…/b/ are items of it, but no folder's whole subtree is (a "**" before the end).
  'a double star in the middle': [grant('auditor', ['/a/**/b/**'])],
  'two grants': [grant('viewer', ['/prod/web/**']), grant('auditor', ['/prod/payments/db/**'], ['local'])],
};
const principalWith = (grants: Grant[]): Principal => ({ via: 'session', userId: 'u', email: 'someone@example.com', name: null, role: null, grants });

function record(i: number, name: string, time: string, eventName = 'GetParameter'): CloudTrailRecord {
  return {
    eventID: `b2-evt-${i}`,
    eventTime: time,
    eventSource: 'ssm.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    recipientAccountId: '111122223333',
    sourceIPAddress: '203.0.113.7',
    readOnly: eventName.startsWith('Get'),
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${i % 2 ? 'alice' : 'far-back'}` },
    requestParameters: { name },
  };
}

type Row = { seq: number; at: string; actor: string; action: string; target: string; outcome: string; details: string; prev_hash: string; hash: string };

/** Rows straight into audit_log (the timeline reads no hashes), in batches, after the newest seq. */
async function insertRows(rows: Omit<Row, 'seq' | 'prev_hash' | 'hash' | 'details'>[]): Promise<void> {
  const db = await appDb();
  const last = await db.selectFrom('audit_log').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  let seq = Number(last?.seq ?? 0);
  const full: Row[] = rows.map((r) => ({ ...r, seq: ++seq, details: '{}', prev_hash: 'x', hash: 'x' }));
  for (let i = 0; i < full.length; i += 500) await db.insertInto('audit_log').values(full.slice(i, i + 500)).execute();
}

const iso = (base: string, seconds: number) => new Date(Date.parse(base) + seconds * 1000).toISOString();

describe.each(DATABASES)('the own log in SQL on %s', (database) => {
  let h: Harness;
  const trail: CloudTrailRecord[] = [];

  beforeAll(async () => {
    h = await startHarness({ database });
    // The reference set: every action kind, outcomes, actors in several cases, the target matrix.
    const actions = ['reveal', 'rotate', 'generate', 'schedule-rotation', 'import', 'sign-in', 'refresh', 'create-user'];
    const outcomes = ['success', 'allowed', 'denied', 'failure'];
    const actors = ['Matrix.Alice@Example.com', 'matrix.bob@example.com', 'matrix 100%_sure', 'os:matrix-cli'];
    await insertRows(
      MATRIX_TARGETS.flatMap((target, t) =>
        [0, 1, 2].map((k) => {
          const n = t * 3 + k;
          return { at: iso(MATRIX_BASE, n * 3600), actor: actors[n % actors.length]!, action: actions[n % actions.length]!, target, outcome: outcomes[n % outcomes.length]! };
        }),
      ),
    );
    // 30,000 entries before everything else; only the oldest few are the far-back actor's (and
    // one of them is outside the auditor's grants).
    await insertRows(
      Array.from({ length: BULK }, (_, i) => {
        const far = i < 4;
        const target = far ? (i === 3 ? `local:${SENTINEL}` : `local:/prod/payments/far-${i}`) : `local:/prod/payments/bulk-${i % 50}`;
        return { at: iso(BULK_BASE, i * 60), actor: far ? FAR_ACTOR : `bulk-${i % 7}@example.com`, action: i % 3 ? 'sign-in' : 'reveal', target, outcome: 'success' };
      }).sort((a, b) => (a.at < b.at ? -1 : 1)),
    );
    // CloudTrail events in between the own entries' times, some by the far-back actor.
    for (let i = 0; i < 30; i++) trail.push(record(i, i % 3 ? '/prod/payments/bulk-1' : SENTINEL, iso(BULK_BASE, 30 + i * 1800).replace('.000', '')));
    await (await auditEventIndex()).ingest('b2-source', 'lookup-events', { account: '111122223333', region: 'us-east-1' }, trail, { cursor: {} }, STORES);
  }, 120_000);

  afterAll(() => h?.cleanup());

  const who = async (subject: 'admin' | 'auditor') => (await principalForUser(h.userIds[subject], 'token'))!;

  async function everyPage(principal: Principal, filters: AuditFilters, limit: number): Promise<TimelineEntry[]> {
    const all: TimelineEntry[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 10_000; i++) {
      const page = await timelinePage(principal, filters, { cursor, limit });
      expect(page.entries.length).toBeLessThanOrEqual(limit);
      // "Older" is offered only when the next page holds something.
      if (page.nextCursor) expect(page.entries.length).toBe(limit);
      all.push(...page.entries);
      if (!page.nextCursor) return all;
      cursor = page.nextCursor;
    }
    throw new Error('the cursor never ended');
  }

  const matrixRows = async () => (await listAudit(100_000)).filter((e) => e.actor.toLowerCase().includes('matrix'));

  it('decides who reads which own entry exactly as mayRead does, for every kind of grant and target', async () => {
    const rows = await matrixRows();
    expect(rows).toHaveLength(MATRIX_TARGETS.length * 3);
    const queries = await auditLogQueries();
    // Both ways a page is found: the newest rows in time order, and by index (PostgreSQL: one SELECT per grant alternative).
    const byIndex = new AuditLogQueries(await appDb(), 0);
    for (const [label, grants] of Object.entries(GRANT_SETS)) {
      const principal = principalWith(grants);
      const expected = rows.filter((e) => mayRead(principal, e)).map((e) => e.target);
      for (const [way, q] of [['walk', queries], ['index', byIndex]] as const) {
        const got = (await q.page({ filters: { actor: 'matrix' }, reach: ownLogReach(principal) }, 10_000)).map((e) => e.target);
        expect({ label, way, targets: [...new Set(got)].sort() }).toEqual({ label, way, targets: [...new Set(expected)].sort() });
        expect(got.length, `${label} (${way})`).toBe(expected.length);
        const chart = await q.chart({ filters: { actor: 'matrix' }, reach: ownLogReach(principal) }, 'hour');
        const withAccess = rows.filter((e) => mayRead(principal, e) && [...OWN_READ_ACTIONS, ...OWN_WRITE_ACTIONS].includes(e.action as never));
        expect(chart.reduce((n, p) => n + p.reads + p.writes, 0), `${label} chart`).toBe(withAccess.length);
      }
    }
    // The cases the sets above are there for: allowed and refused both happen.
    const payments = principalWith(GRANT_SETS['payments anywhere']!);
    const seen = new Set((await queries.page({ filters: { actor: 'matrix' }, reach: ownLogReach(payments) }, 10_000)).map((e) => e.target));
    expect(seen.has('local:/prod/payments/stripe-key')).toBe(true);
    expect(seen.has('gone-store:/prod/payments/old')).toBe(true);
    expect(seen.has('local:/prod/payments/')).toBe(true);
    expect(seen.has(`local:${SENTINEL}`)).toBe(false);
    expect(seen.has('local:/prod/')).toBe(false);
    expect(seen.has('alice@example.com')).toBe(false);
    expect(seen.has('local:/prod/payments/line\nbreak')).toBe(false);
    expect(seen.has('Local:/prod/payments/upper-store')).toBe(false);
    expect(seen.has(`${'s'.repeat(64)}:/prod/payments/too-long-store`)).toBe(false);
    expect(seen.has(`${'s'.repeat(63)}:/prod/payments/longest-store`)).toBe(true);
    const middle = principalWith(GRANT_SETS['a double star in the middle']!);
    const inMiddle = new Set((await queries.page({ filters: { actor: 'matrix' }, reach: ownLogReach(middle) }, 10_000)).map((e) => e.target));
    expect([...inMiddle].sort()).toEqual(['local:/a/x/b/c']);
  });

  it.each<[string, AuditFilters]>([
    ['no filter', {}],
    ['actor contains, any case', { actor: 'ALICE' }],
    ['actor contains LIKE characters', { actor: '100%_s' }],
    ['actor contains a bare %', { actor: '%' }],
    ['actor exact, other case', { actor: 'matrix.alice@example.COM', actorMatch: 'exact' }],
    ['actor exact, a part only', { actor: 'matrix.alice', actorMatch: 'exact' }],
    ['events', { event: ['reveal', 'import'] }],
    ['reads', { access: 'read' }],
    ['writes', { access: 'write' }],
    ['a store', { store: 'local' }],
    ['another store', { store: 'other-store' }],
    ['an item', { item: '/prod/payments/stripe-key' }],
    ['an item in every store', { item: '/exact/name' }],
    ['an item with a line break', { item: '/prod/payments/line\nbreak' }],
    ['a folder as the item', { item: '/prod/payments/' }],
    ['a path', { path: '/prod/payments/' }],
    ['a path as a name prefix', { path: '/prod/pay' }],
    ['a store and a path', { store: 'local', path: '/prod/' }],
    ['a store and an item', { store: 'other-store', item: '/exact/name' }],
    ['a time range', { from: iso(MATRIX_BASE, 10 * 3600), to: iso(MATRIX_BASE, 34 * 3600) }],
    ['failures', { outcome: 'error' }],
    ['successes', { outcome: 'success' }],
    ['a source IP (CloudTrail only)', { ip: '203.0.113.7' }],
    ['an error code (CloudTrail only)', { error: 'AccessDenied' }],
    ['several at once', { actor: 'matrix', access: 'write', path: '/prod/', outcome: 'success', from: iso(MATRIX_BASE, 5 * 3600) }],
  ])('filters as the timeline did in JavaScript: %s', async (_label, filters) => {
    const rows = await matrixRows();
    const admin = principalWith(GRANT_SETS.everything!);
    // The matrix's entries only: they are the ones whose actor says "matrix".
    const mine = (e: AuditEntry) => e.actor.toLowerCase().includes('matrix');
    const expected = rows.filter((e) => referenceMatches(e, filters)).map((e) => e.seq);
    expected.sort((a, b) => a - b);
    for (const queries of [await auditLogQueries(), new AuditLogQueries(await appDb(), 0)]) {
      const got = (await queries.page({ filters, reach: ownLogReach(admin) }, 100_000)).filter(mine).map((e) => e.seq);
      expect(got.sort((a, b) => a - b)).toEqual(expected);
    }
    if (!filters.ip && !filters.error && Object.keys(filters).length) expect(expected.length).toBeLessThan(rows.length);
  });

  it('finds the few entries far back behind 30,000 others on the first page, and counts them exactly in the chart', async () => {
    const admin = await who('admin');
    const page = await timelinePage(admin, { actor: FAR_ACTOR, actorMatch: 'exact' }, { limit: 50 });
    expect(page.entries.map((e) => e.itemName)).toEqual([SENTINEL, '/prod/payments/far-2', '/prod/payments/far-1', '/prod/payments/far-0']);
    expect(page.nextCursor).toBeNull();
    // reveal (i % 3 === 0): entries 0 and 3.
    const chart = await timelineChart(admin, { actor: FAR_ACTOR, actorMatch: 'exact' }, 'hour');
    expect(chart.reduce((n, p) => n + p.reads, 0)).toBe(2);
    expect(chart.reduce((n, p) => n + p.writes, 0)).toBe(0);

    const item = await timelinePage(admin, { item: '/prod/payments/far-1' });
    expect(item.entries.map((e) => `${e.source}:${e.actor}`)).toEqual([`dashboard:${FAR_ACTOR}`]);
    expect(item.nextCursor).toBeNull();
  });

  it('pages through both sources, every matching entry once, with the chart equal to what the pages hold', async () => {
    const admin = await who('admin');
    const filters: AuditFilters = { path: '/prod/payments/bulk-1' };
    const all = await everyPage(admin, filters, 500);
    const keys = all.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    const own = all.filter((e) => e.source === 'dashboard');
    // bulk-1 and bulk-10..bulk-19: 11 of every 50 bulk entries, less entry 1 (one of the far-back ones).
    expect(own).toHaveLength((BULK / 50) * 11 - 1);
    expect(all.filter((e) => e.source === 'cloudtrail')).toHaveLength(trail.filter((r) => (r.requestParameters as { name: string }).name.startsWith('/prod/payments/bulk-1')).length);
    const times = all.map((e) => e.time);
    expect([...times].sort().reverse()).toEqual(times);
    const chart = await timelineChart(admin, filters, 'day');
    expect(chart.reduce((n, p) => n + p.reads + p.writes, 0)).toBe(all.filter((e) => e.access !== null).length);
    expect(all.filter((e) => e.access !== null).length).toBeGreaterThan(2000);
  });

  it('never shows a path-limited auditor an own entry of another path: list, chart and export', async () => {
    const auditor = await who('auditor');
    const admin = await who('admin');
    const filters: AuditFilters = { actor: FAR_ACTOR, actorMatch: 'exact' };
    // The admin sees the sentinel; the auditor (/prod/payments/** only) does not.
    expect((await timelinePage(admin, filters)).entries.some((e) => e.itemName === SENTINEL)).toBe(true);
    const mine = await timelinePage(auditor, filters);
    expect(mine.entries.map((e) => e.itemName)).toEqual(['/prod/payments/far-2', '/prod/payments/far-1', '/prod/payments/far-0']);
    // The sentinel is a reveal: counted for the admin, not for the auditor.
    const count = async (p: Principal) => (await timelineChart(p, filters, 'day')).reduce((n, x) => n + x.reads + x.writes, 0);
    expect(await count(admin)).toBe(2);
    expect(await count(auditor)).toBe(1);
    for (const path of ['/api/v1/audit?limit=500&actor=far-back', '/api/v1/audit/export?format=json', '/api/v1/audit/export?format=csv&actor=far-back']) {
      const route = path.includes('export') ? exportRoute : auditRoute;
      const response = await route(new Request(url(path), bearer(h.tokens.auditor)));
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('far-');
      expect(text).not.toContain('sentinel-b2-outside-grants');
    }
    const adminExport = await exportRoute(new Request(url('/api/v1/audit/export?format=csv&actor=far-back'), bearer(h.tokens.admin)));
    expect(await adminExport.text()).toContain('sentinel-b2-outside-grants');
  });
});

describe('subtreeFoldersPattern', () => {
  it('matches a folder exactly when globCoversSubtree says the glob covers it', () => {
    const globs = ['/**', '/prod/**', '/prod/*/db/**', '/prod/{a,b}/**', '/**/secret', '/prod/x', '/prod/pay*/**', '/a/**/**', '/a/?/**'];
    const folders = ['/', '/prod/', '/prod/a/', '/prod/a/db/', '/prod/a/db/x/', '/prod/c/', '/prod/pay/', '/prod/payments/', '/a/', '/a/b/', '/a/bc/', '/x//', '/prod//db/'];
    for (const glob of globs) {
      const pattern = subtreeFoldersPattern([glob]);
      for (const folder of folders) {
        const covered = globCoversSubtree(glob, folder);
        expect({ glob, folder, covered: pattern !== null && new RegExp(pattern, 'u').test(folder) }).toEqual({ glob, folder, covered });
      }
    }
  });
});
