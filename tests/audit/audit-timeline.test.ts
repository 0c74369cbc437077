import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { GET as exportRoute } from '@/app/api/v1/audit/export/route';
import { GET as auditRoute } from '@/app/api/v1/audit/route';
import { GET as accessRoute } from '@/app/api/v1/stores/[store]/access/[...name]/route';
import { appendAudit } from '@/lib/audit/audit-log';
import { principalForUser } from '@/lib/session';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { timelineChart, timelinePage, type TimelineEntry } from '@/lib/data/audit-timeline';
import { bearer, startHarness, type Harness } from '../auth/harness';

// The merged audit timeline: CloudTrail events from the event index and the dashboard's own log,
// newest first under one cursor, cut to view-audit grants (the harness's auditor holds
// /prod/payments/** only), and exported as exactly the filtered set.

const SENTINEL_OUTSIDE = '/prod/web/sentinel-outside-grants';
// The index maps events to stores by locator; the built-in store's id lets the grants apply.
const STORES: StoreLocator[] = [{ storeId: 'local', kind: 'ssm', region: 'us-east-1', account: null }];
const url = (path: string) => `http://localhost${path}`;

function record(i: number, name: string | null, eventName = 'GetParameter', extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventID: `evt-${i}`,
    // Recent, so the Access panel's 30- and 90-day windows hold them.
    eventTime: new Date(Math.floor(Date.now() / 60_000) * 60_000 - (30 - i) * 60_000).toISOString().replace('.000', ''),
    eventSource: 'ssm.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    recipientAccountId: '111122223333',
    sourceIPAddress: i % 2 ? '203.0.113.7' : '198.51.100.2',
    readOnly: eventName.startsWith('Get'),
    userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::111122223333:user/${i % 3 ? 'alice' : 'bob'}` },
    requestParameters: name ? { name } : {},
    ...extra,
  };
}

let h: Harness;
const events: CloudTrailRecord[] = [];

beforeAll(async () => {
  h = await startHarness();
  for (let i = 0; i < 12; i++) events.push(record(i, `/prod/payments/key-${i % 4}`, i % 5 === 0 ? 'PutParameter' : 'GetParameter'));
  events.push(record(20, SENTINEL_OUTSIDE));
  events.push(record(21, null, 'DescribeParameters'));
  await (await auditEventIndex()).ingest('test-source', 'lookup-events', { account: '111122223333', region: 'us-east-1' }, events, { cursor: {} }, STORES);
  for (let i = 0; i < 7; i++) await appendAudit({ actor: 'operator@example.com', action: i % 2 ? 'rotate' : 'reveal', target: `local:/prod/payments/key-${i}`, outcome: 'success' });
  await appendAudit({ actor: 'operator@example.com', action: 'rotate', target: `local:${SENTINEL_OUTSIDE}`, outcome: 'denied' });
}, 60_000);

afterAll(() => h.cleanup());

async function principal(subject: 'admin' | 'auditor') {
  return (await principalForUser(h.userIds[subject], 'token'))!;
}

async function everyPage(subject: 'admin' | 'auditor', filters = {}, limit = 4): Promise<TimelineEntry[]> {
  const who = await principal(subject);
  const all: TimelineEntry[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const page = await timelinePage(who, filters, { cursor, limit });
    expect(page.entries.length).toBeLessThanOrEqual(limit);
    all.push(...page.entries);
    if (!page.nextCursor) return all;
    cursor = page.nextCursor;
  }
  throw new Error('the cursor never ended');
}

describe('the merged audit timeline', () => {
  it('pages through both sources newest first, every entry exactly once', async () => {
    const all = await everyPage('admin', {}, 3);
    const keys = all.map((e) => e.key);
    expect(new Set(keys).size).toBe(keys.length);
    expect(all.filter((e) => e.source === 'cloudtrail')).toHaveLength(events.length);
    // The harness's own setup also writes entries (accounts, tokens); ours are all there.
    expect(all.filter((e) => e.source === 'dashboard' && e.action !== 'create-user' && e.action !== 'create-token').length).toBeGreaterThanOrEqual(8);
    const times = all.map((e) => e.time);
    expect([...times].sort().reverse()).toEqual(times);
    // One page of the same size at once gives the same entries in the same order.
    const once = await timelinePage(await principal('admin'), {}, { limit: 500 });
    expect(once.entries.map((e) => e.key)).toEqual(keys);
  });

  it('applies filters to both sources', async () => {
    const reads = await everyPage('admin', { access: 'read' });
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.every((e) => e.access === 'read')).toBe(true);
    expect(reads.some((e) => e.source === 'dashboard' && e.action === 'reveal')).toBe(true);
    expect(reads.some((e) => e.source === 'cloudtrail' && e.action === 'GetParameter')).toBe(true);

    const item = await everyPage('admin', { item: '/prod/payments/key-1' });
    expect(item.length).toBeGreaterThan(0);
    expect(item.every((e) => e.itemName === '/prod/payments/key-1')).toBe(true);
    expect(new Set(item.map((e) => e.source))).toEqual(new Set(['cloudtrail', 'dashboard']));

    // Source IP exists only in CloudTrail: the own log has no entry that could match.
    const byIp = await everyPage('admin', { ip: '203.0.113.7' });
    expect(byIp.length).toBeGreaterThan(0);
    expect(byIp.every((e) => e.source === 'cloudtrail' && e.sourceIp === '203.0.113.7')).toBe(true);

    // An actor no one is: an empty page, not a failing query (and no chart points).
    expect(await everyPage('admin', { actor: 'no-such-actor' })).toEqual([]);
    expect(await timelineChart(await principal('auditor'), { actor: 'no-such-actor' }, 'hour')).toEqual([]);

    const denied = await everyPage('admin', { outcome: 'error' });
    expect(denied.some((e) => e.source === 'dashboard' && e.errorCode === 'denied')).toBe(true);
    expect(denied.every((e) => e.outcome === 'error')).toBe(true);
  });

  it('shows an auditor only entries inside their grants: nothing outside, nothing unmapped', async () => {
    const admin = await everyPage('admin');
    expect(admin.some((e) => e.itemName === SENTINEL_OUTSIDE && e.source === 'cloudtrail')).toBe(true);
    expect(admin.some((e) => e.itemName === SENTINEL_OUTSIDE && e.source === 'dashboard')).toBe(true);
    expect(admin.some((e) => e.source === 'cloudtrail' && e.itemName === null)).toBe(true);

    const mine = await everyPage('auditor');
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.every((e) => e.itemName?.startsWith('/prod/payments/'))).toBe(true);

    for (const path of ['/api/v1/audit?limit=500', '/api/v1/audit/export?format=json', '/api/v1/audit/export?format=csv']) {
      const route = path.includes('export') ? exportRoute : auditRoute;
      const response = await route(new Request(url(path), bearer(h.tokens.auditor)));
      expect(response.status).toBe(200);
      expect(await response.text()).not.toContain('sentinel-outside-grants');
    }
  });

  it('exports exactly the filtered set, as JSON and as CSV', async () => {
    const filtered = await everyPage('admin', { actor: 'alice' });
    expect(filtered.length).toBeGreaterThan(0);
    const json = await exportRoute(new Request(url('/api/v1/audit/export?format=json&actor=alice'), bearer(h.tokens.admin)));
    expect(json.headers.get('content-disposition')).toMatch(/attachment; filename="audit-.*\.json"/);
    expect(json.headers.get('cache-control')).toBe('no-store');
    const exported = (await json.json()) as TimelineEntry[];
    expect(exported.map((e) => e.key)).toEqual(filtered.map((e) => e.key));

    const csv = await exportRoute(new Request(url('/api/v1/audit/export?format=csv&actor=alice'), bearer(h.tokens.admin)));
    const lines = (await csv.text()).trim().split('\r\n');
    expect(lines[0]).toBe('time,source,action,access,actor,actorType,storeId,itemName,sourceIp,outcome,errorCode,via');
    expect(lines).toHaveLength(filtered.length + 1);
  });

  it('counts reads and writes of the filtered set for the chart', async () => {
    const points = await timelineChart(await principal('admin'), { item: '/prod/payments/key-1' }, 'day');
    const entries = await everyPage('admin', { item: '/prod/payments/key-1' });
    const sum = points.reduce((n, p) => n + p.reads + p.writes, 0);
    expect(sum).toBe(entries.filter((e) => e.access !== null).length);
  });

  it.each([
    ['an unknown field', '/api/v1/audit?colour=red', /unknown filter "colour"/],
    ['an impossible date', '/api/v1/audit?from=2026-02-30', /from: 2026-02-30 is not a real date/],
    ['from after to', '/api/v1/audit?from=2026-03-01&to=2026-02-01', /from/],
    ['an oversized value', `/api/v1/audit?actor=${'a'.repeat(600)}`, /actor may be at most 512 characters/],
    ['a bad page size', '/api/v1/audit?limit=9999', /limit is at most 500/],
    ['a forged cursor', '/api/v1/audit?cursor=bm90LWEtY3Vyc29y', /cursor/],
    ['an unknown export format', '/api/v1/audit/export?format=xml', /format must be csv or json/],
  ])('answers %s with a 400 naming it', async (_label, path, message) => {
    const route = path.includes('export') ? exportRoute : auditRoute;
    const response = await route(new Request(url(path), bearer(h.tokens.admin)));
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it('refuses the timeline and the export to callers without view-audit, and to no one', async () => {
    for (const route of [auditRoute, exportRoute]) {
      expect((await route(new Request(url('/api/v1/audit'), bearer(h.tokens.viewer)))).status).toBe(403);
      expect((await route(new Request(url('/api/v1/audit')))).status).toBe(401);
    }
  });

  describe('the Access panel of an item', () => {
    const panel = (token: string, name: string[]) =>
      accessRoute(new Request(url(`/api/v1/stores/local/access/${name.join('/')}`), bearer(token)), { params: Promise.resolve({ store: 'local', name }) });

    it('names the readers of an item inside the grants, with counts and its latest events', async () => {
      const response = await panel(h.tokens.auditor, ['prod', 'payments', 'key-1']);
      expect(response.status).toBe(200);
      const body = (await response.json()) as { lastRead: { eventName: string } | null; readers90: { principal: string; reads: number }[]; recent: unknown[] };
      const reads = events.filter((e) => (e.requestParameters as { name?: string })?.name === '/prod/payments/key-1' && e.eventName === 'GetParameter');
      expect(body.lastRead?.eventName).toBe('GetParameter');
      expect(body.readers90.reduce((n, r) => n + r.reads, 0)).toBe(reads.length);
      expect(body.recent.length).toBeGreaterThanOrEqual(reads.length);
    });

    it('is refused outside the grants (404, as for a missing item) and to viewers (403)', async () => {
      expect((await panel(h.tokens.auditor, ['prod', 'web', 'sentinel-outside-grants'])).status).toBe(404);
      expect((await panel(h.tokens.viewer, ['prod', 'payments', 'key-1'])).status).toBe(403);
    });
  });
});
