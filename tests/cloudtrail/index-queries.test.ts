import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventIndex } from '@/lib/cloudtrail/event-index';
import { VALUE_READ_EVENTS } from '@/lib/cloudtrail/event-mapping';
import { AuditCursorError, type AuditEntry } from '@/lib/cloudtrail/event-queries';
import { FULL_SCOPE, type AuditScope } from '@/lib/cloudtrail/event-scope';
import type { EntryRow } from '@/lib/cloudtrail/event-schema';
import { globsPattern } from '@/lib/auth/path-glob';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { DATABASES } from '../support/databases';
import { ACTORS, IPS, PARAMS, prng, seedRecords, START, STORES, WHERE } from './index-fixtures';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';

// The timeline's filters against a brute-force filter in JavaScript over the same stored rows:
// random combinations, keyset pages that visit every row once, the grants cut, the export and
// the chart. Then the Access panel on a hand-written history. On SQLite and PostgreSQL alike: the
// brute force is the same JavaScript, so both dialects answer exactly the same rows.

const NOW = new Date('2026-03-15T00:00:00.000Z');
type Row = EntryRow & { event_id: string };

afterAll(() => dropIndexPlaces());

describe.each(DATABASES)('event queries (%s)', (kind) => {
  let index: EventIndex;
  let rows: Row[];

  beforeAll(async () => {
    index = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => NOW });
    const records = seedRecords(3000);
    for (let i = 0; i < records.length; i += 250) await index.ingest('le-eu', 'lookup-events', WHERE, records.slice(i, i + 250), { cursor: { i } }, STORES);
    rows = (await index.db
      .selectFrom('ct_entries as e')
      .innerJoin('ct_events as ev', 'ev.id', 'e.event_pk')
      .selectAll('e')
      .select('ev.event_id')
      .execute()) as Row[];
  }, 60_000);
  afterAll(async () => {
    await index.close();
  });

  /** The reference: every filter written out plainly over the rows. */
  function bruteForce(f: AuditFilters, scope: AuditScope): Row[] {
    const covers = (r: Row, item: string) => {
      const folder = folderOf(item);
      return r.item_name === item || r.item_name === folder || (r.path_recursive === 1 && ancestorsOf(folder).includes(r.item_name ?? '') && r.item_name !== folder);
    };
    const inScope = (r: Row) => {
      if (r.store_id === null) return scope.includeUnmapped;
      if (scope.stores === 'all') return true;
      const s = scope.stores.find((x) => x.storeId === r.store_id);
      if (!s) return false;
      if (s.namePattern === null || new RegExp(s.namePattern).test(r.item_name ?? '')) return true;
      // Under an item filter, the item's own scope opens its folders' rows.
      return f.item !== undefined && new RegExp(s.namePattern).test(f.item);
    };
    return rows
      .filter((r) => {
        if (f.actor !== undefined) {
          if (f.actorMatch === 'exact') {
            if (r.principal !== f.actor && r.actor_arn !== f.actor) return false;
          } else {
            const needle = f.actor.toLowerCase();
            if (!(r.actor_arn ?? '').toLowerCase().includes(needle) && !(r.principal ?? '').toLowerCase().includes(needle)) return false;
          }
        }
        if (f.event && !f.event.includes(r.event_name ?? '')) return false;
        if (f.access && (r.read_only === 1) !== (f.access === 'read')) return false;
        if (f.item !== undefined && !covers(r, f.item)) return false;
        if (f.path !== undefined) {
          const under = (r.item_name ?? '\0').startsWith(f.path);
          const above = r.path_recursive === 1 && ancestorsOf(folderOf(f.path)).includes(r.item_name ?? '') && r.item_name !== f.path;
          if (!under && !above) return false;
        }
        if (f.store !== undefined && r.store_id !== f.store) return false;
        if (f.ip !== undefined && r.source_ip !== f.ip) return false;
        if (f.from !== undefined && r.event_time < f.from) return false;
        if (f.to !== undefined && r.event_time > f.to) return false;
        if (f.error !== undefined) {
          if (r.error_code !== f.error) return false;
        } else if (f.outcome === 'success' && r.error_code !== null) return false;
        else if (f.outcome === 'error' && r.error_code === null) return false;
        return inScope(r);
      })
      .sort((a, b) => (a.event_time === b.event_time ? b.id - a.id : a.event_time < b.event_time ? 1 : -1));
  }

  async function walk(f: AuditFilters, scope: AuditScope, limit: number): Promise<AuditEntry[]> {
    const seen: AuditEntry[] = [];
    let cursor: string | undefined;
    do {
      const page = await index.queries.timeline(f, scope, { cursor, limit });
      expect(page.entries.length).toBeLessThanOrEqual(limit);
      seen.push(...page.entries);
      cursor = page.nextCursor;
    } while (cursor);
    return seen;
  }

  const day = (d: number) => new Date(START + d * 86_400_000).toISOString();
  const FILTER_POOL: ((r: () => number) => AuditFilters)[] = [
    (r) => ({ actor: ['alice', 'DEPLOY', 'i-0aaa', 'Admin_50%', '%', '_', 'secretsmanager'][Math.floor(r() * 7)] }),
    (r) => ({ actor: ACTORS.map((a) => ('role' in a ? a.role : 'arn' in a ? a.arn : a.invokedBy))[Math.floor(r() * ACTORS.length)], actorMatch: 'exact' }),
    (r) => ({ event: [['GetParameter'], ['GetSecretValue', 'Decrypt'], ['PutParameter', 'PutSecretValue'], ['GetParametersByPath']][Math.floor(r() * 4)] }),
    (r) => ({ access: r() < 0.5 ? 'read' : 'write' }),
    (r) => ({ item: [...PARAMS, '/prod/payments/db', '/nothing'][Math.floor(r() * (PARAMS.length + 2))] }),
    (r) => ({ path: ['/prod/', '/prod/payments/', '/prod/pay', '/dev/', '/'][Math.floor(r() * 5)] }),
    (r) => ({ store: r() < 0.5 ? 'prod-params' : 'prod-secrets' }),
    (r) => ({ ip: IPS[Math.floor(r() * IPS.length)] }),
    (r) => ({ from: day(Math.floor(r() * 50)) }),
    (r) => ({ to: day(10 + Math.floor(r() * 50)) }),
    (r) => ({ outcome: r() < 0.5 ? 'success' : 'error' }),
    (r) => ({ error: r() < 0.5 ? 'AccessDenied' : 'ParameterNotFound' }),
  ];

  const SCOPES: [string, AuditScope][] = [
    ['everything', FULL_SCOPE],
    ['every store, no unmapped', { stores: 'all', includeUnmapped: false }],
    ['payments paths of the parameters', { stores: [{ storeId: 'prod-params', namePattern: globsPattern(['/prod/payments/**']) }], includeUnmapped: false }],
    [
      'two globs and a whole store',
      { stores: [{ storeId: 'prod-params', namePattern: globsPattern(['/dev/*', '/prod/web/**']) }, { storeId: 'prod-secrets', namePattern: null }], includeUnmapped: false },
    ],
    ['nothing', { stores: [], includeUnmapped: false }],
  ];

  describe('timeline filters', () => {
    it('the seed covers every kind of row', () => {
      expect(rows.some((r) => r.store_id === null && r.item_name === null)).toBe(true);
      expect(rows.some((r) => r.store_id === null && r.item_name !== null)).toBe(true);
      expect(rows.some((r) => r.path_recursive === 1)).toBe(true);
      expect(rows.some((r) => r.error_code !== null)).toBe(true);
      expect(new Set(rows.map((r) => r.event_time)).size).toBeLessThan(rows.length);
    });

    it('every random combination of filters and scope returns exactly the brute-force rows, newest first, in pages visiting each once', async () => {
      const random = prng(42);
      let nonEmpty = 0;
      for (let n = 0; n < 120; n++) {
        const filters: AuditFilters = Object.assign({}, ...Array.from({ length: 1 + Math.floor(random() * 3) }, () => FILTER_POOL[Math.floor(random() * FILTER_POOL.length)]!(random)));
        if (filters.actorMatch && !filters.actor) delete filters.actorMatch;
        const [label, scope] = SCOPES[Math.floor(random() * SCOPES.length)]!;
        const expected = bruteForce(filters, scope).map((r) => r.id);
        const got = await walk(filters, scope, 1 + Math.floor(random() * 60));
        expect(got.map((e) => e.id), `${JSON.stringify(filters)} in scope ${label}`).toEqual(expected);
        if (expected.length > 0) nonEmpty++;
      }
      expect(nonEmpty).toBeGreaterThan(60);
    });

    it('pages of the whole index visit every row exactly once', async () => {
      const ids = (await walk({}, FULL_SCOPE, 37)).map((e) => e.id);
      expect(new Set(ids).size).toBe(rows.length);
      expect(ids).toHaveLength(rows.length);
    });

    it('refuses a malformed cursor', async () => {
      await expect(index.queries.timeline({}, FULL_SCOPE, { cursor: 'not-a-cursor' })).rejects.toThrow(AuditCursorError);
      await expect(index.queries.timeline({}, FULL_SCOPE, { cursor: Buffer.from('["x",-1]').toString('base64url') })).rejects.toThrow(AuditCursorError);
    });
  });

  describe('grants cut', () => {
    const payments: AuditScope = { stores: [{ storeId: 'prod-params', namePattern: globsPattern(['/prod/payments/**']) }], includeUnmapped: false };

    it('an auditor of payments parameters sees only those rows; admins see unmapped ones too', async () => {
      const seen = await walk({}, payments, 200);
      expect(seen.length).toBeGreaterThan(0);
      for (const e of seen) {
        expect(e.storeId).toBe('prod-params');
        expect(e.itemName).toMatch(/^\/prod\/payments\//);
      }
      const all = await walk({}, FULL_SCOPE, 500);
      expect(all.some((e) => e.storeId === null)).toBe(true);
      expect((await walk({}, { stores: 'all', includeUnmapped: false }, 500)).some((e) => e.storeId === null)).toBe(false);
    });

    it('a raw event naming several items names only those the caller may see', async () => {
      const seen = await walk({ event: ['GetParameters'] }, payments, 200);
      const multi = seen.filter((e) => rows.filter((r) => r.event_id === e.eventId).some((r) => !(r.item_name ?? '').startsWith('/prod/payments/')));
      expect(multi.length).toBeGreaterThan(0);
      for (const e of multi) {
        const names = (e.raw.requestParameters as { names: string[] }).names;
        for (const name of names) expect(name).toMatch(/^\/prod\/payments\//);
      }
      const admin = await walk({ event: ['GetParameters'] }, FULL_SCOPE, 500);
      expect(admin.some((e) => (e.raw.requestParameters as { names: string[] }).names.some((n) => !n.startsWith('/prod/payments/')))).toBe(true);
    });

    it('under an item filter, reads of the folders above an item the caller may see are shown', async () => {
      const seen = await walk({ item: '/prod/payments/a' }, payments, 200);
      expect(seen.some((e) => e.itemName === '/prod/')).toBe(true);
      expect(await walk({ item: '/prod/web/x' }, payments, 200)).toEqual([]);
    });
  });

  describe('export', () => {
    it('yields exactly the filtered set, in order', async () => {
      const filters: AuditFilters = { access: 'read', store: 'prod-params' };
      const scope: AuditScope = { stores: [{ storeId: 'prod-params', namePattern: globsPattern(['/prod/**']) }], includeUnmapped: false };
      const exported: number[] = [];
      for await (const entry of index.queries.exportEntries(filters, scope, 64)) exported.push(entry.id);
      expect(exported).toEqual(bruteForce(filters, scope).map((r) => r.id));
      const everything: number[] = [];
      for await (const entry of index.queries.exportEntries({}, FULL_SCOPE)) everything.push(entry.id);
      expect(everything).toHaveLength(rows.length);
    });
  });

  describe('chart', () => {
    it.each(['hour', 'day'] as const)('counts reads and writes per %s of the filtered set', async (bucket) => {
      const filters: AuditFilters = { path: '/prod/', outcome: 'success' };
      const chart = await index.queries.chart(filters, FULL_SCOPE, bucket);
      const expected = new Map<string, { reads: number; writes: number }>();
      for (const r of bruteForce(filters, FULL_SCOPE)) {
        const start = bucket === 'hour' ? `${r.event_time.slice(0, 13)}:00:00.000Z` : `${r.event_time.slice(0, 10)}T00:00:00.000Z`;
        const point = expected.get(start) ?? { reads: 0, writes: 0 };
        if (r.read_only) point.reads++;
        else point.writes++;
        expected.set(start, point);
      }
      expect(chart.points).toEqual([...expected].sort(([a], [b]) => (a < b ? -1 : 1)).map(([start, p]) => ({ start, ...p })));
      expect(chart.points.length).toBeGreaterThan(1);
    });

    it('is cut to grants like the timeline', async () => {
      const chart = await index.queries.chart({}, { stores: [], includeUnmapped: false }, 'day');
      expect(chart.points).toEqual([]);
    });
  });

  describe('Access panel', () => {
    let panelIndex: EventIndex;
    const now = new Date('2026-06-01T00:00:00.000Z');
    const daysAgo = (d: number) => new Date(now.getTime() - d * 86_400_000).toISOString();
    let n = 0;
    const event = (eventName: string, requestParameters: Record<string, unknown>, arn: string, at: string, extra: Record<string, unknown> = {}) => ({
      eventID: `p-${n++}`,
      eventTime: at,
      eventSource: eventName === 'Decrypt' ? 'kms.amazonaws.com' : eventName.includes('Secret') ? 'secretsmanager.amazonaws.com' : 'ssm.amazonaws.com',
      eventName,
      awsRegion: 'eu-west-1',
      recipientAccountId: WHERE.account,
      userIdentity: { type: 'IAMUser', arn },
      requestParameters,
      ...extra,
    });
    const user = (name: string) => `arn:aws:iam::${WHERE.account}:user/${name}`;
    const ITEM = '/prod/payments/a';

    beforeAll(async () => {
      panelIndex = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => now });
      const records = [
        // old-timer: reads regularly, so never new.
        event('GetParameter', { name: ITEM }, user('old-timer'), daysAgo(120)),
        event('GetParameter', { name: ITEM }, user('old-timer'), daysAgo(60)),
        event('GetParameter', { name: ITEM }, user('old-timer'), daysAgo(2)),
        // returner: read 200 days ago, then not for more than 90 days: new again.
        event('GetParameters', { names: [ITEM, '/prod/payments/b'] }, user('returner'), daysAgo(200)),
        event('GetParametersByPath', { path: '/prod/', recursive: true }, user('returner'), daysAgo(3)),
        // first-timer: first ever read a day ago, through KMS.
        event('Decrypt', { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:eu-west-1:${WHERE.account}:parameter${ITEM}` } }, user('first-timer'), daysAgo(1), { readOnly: true }),
        // A non-recursive read of a folder above does not read the item; a read of its own folder does.
        event('GetParametersByPath', { path: '/prod/', recursive: false }, user('shallow'), daysAgo(1)),
        event('GetParametersByPath', { path: '/prod/payments' }, user('folder-reader'), daysAgo(40)),
        // A failed read is an event but not a read; a write is an event.
        event('GetParameter', { name: ITEM }, user('denied'), daysAgo(1), { errorCode: 'AccessDenied' }),
        event('PutParameter', { name: ITEM }, user('writer'), daysAgo(0.5)),
        // Other items do not count.
        event('GetParameter', { name: '/prod/payments/b' }, user('other'), daysAgo(0.1)),
      ];
      await panelIndex.ingest('le-eu', 'lookup-events', WHERE, records, { cursor: {} }, STORES);
    });
    afterAll(async () => {
      await panelIndex.close();
    });

    it('shows the last read, readers over 30 and 90 days, new readers and recent events', async () => {
      const panel = await panelIndex.queries.accessPanel('prod-params', ITEM, { now, newReaderDays: 7 });
      expect(panel.lastRead).toMatchObject({ eventName: 'Decrypt', principal: user('first-timer') });
      expect(panel.readers30.map((r) => [r.principal, r.reads, r.isNew])).toEqual([
        [user('first-timer'), 1, true],
        [user('old-timer'), 1, false],
        [user('returner'), 1, true],
      ]);
      expect(panel.readers90.map((r) => [r.principal, r.reads])).toEqual([
        [user('old-timer'), 2],
        [user('first-timer'), 1],
        [user('returner'), 1],
        [user('folder-reader'), 1],
      ]);
      expect(panel.newReaders.map((r) => r.principal).sort()).toEqual([user('first-timer'), user('returner')]);
      expect(panel.recent.map((e) => e.principal)).toEqual([
        user('writer'),
        // Same time: the later row first.
        user('denied'),
        user('first-timer'),
        user('old-timer'),
        user('returner'),
        user('folder-reader'),
        user('old-timer'),
        user('old-timer'),
        user('returner'),
      ]);
      expect(panel.recent.every((e) => e.principal !== user('shallow') && e.principal !== user('other'))).toBe(true);
    });

    it('counts only the value reads', () => {
      expect([...VALUE_READ_EVENTS]).toEqual(expect.arrayContaining(['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue', 'BatchGetSecretValue', 'Decrypt']));
    });

    it('is empty for an item nobody touched', async () => {
      const panel = await panelIndex.queries.accessPanel('prod-params', '/nothing/here', { now });
      expect(panel).toMatchObject({ lastRead: null, readers30: [], readers90: [], newReaders: [], recent: [] });
    });
  });

  describe('an actor substring matching many principals', () => {
    it('is filtered row by row and still returns exactly the matching rows', async () => {
      const many = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => NOW });
      try {
        const records = Array.from({ length: 120 }, (_, i) => ({
          eventID: `a-${i}`,
          eventTime: new Date(START + (i % 40) * 3_600_000).toISOString(),
          eventSource: 'ssm.amazonaws.com',
          eventName: 'GetParameter',
          awsRegion: 'eu-west-1',
          recipientAccountId: WHERE.account,
          userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${WHERE.account}:user/${i % 3 === 0 ? 'human' : 'svc'}-${i}` },
          requestParameters: { name: '/prod/payments/a' },
        }));
        await many.ingest('le-eu', 'lookup-events', WHERE, records, { cursor: {} }, STORES);
        expect(await many.queries.principalsMatching('svc')).toBeNull();
        expect(await many.queries.principalsMatching('human-3')).toHaveLength(5); // human-3, -30, -33, -36, -39
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await many.queries.timeline({ actor: 'SVC' }, FULL_SCOPE, { cursor, limit: 7 });
          seen.push(...page.entries.map((e) => e.eventId));
          cursor = page.nextCursor;
        } while (cursor);
        expect(seen.sort()).toEqual(records.filter((_, i) => i % 3 !== 0).map((r) => r.eventID).sort());
      } finally {
        await many.close();
      }
    });
  });
});
