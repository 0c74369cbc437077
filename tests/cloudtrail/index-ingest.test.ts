import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS_DB_FILE, EventIndex } from '@/lib/cloudtrail/event-index';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { DATABASES } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { dropIndexPlaces, failCursorUpdates, newIndexPlace, type IndexPlace } from './support/index-databases';
import { LEGACY_EVENT_SCHEMA_SQL } from './support/legacy-event-schema';

// Writing the index: dedupe by eventID (and by content without one), events and the source's
// state in one transaction, the value guard on what is stored, errors, retention. On SQLite and
// PostgreSQL alike.

const NOW = new Date('2026-03-01T12:00:00.000Z');
const STORES: StoreLocator[] = [{ storeId: 'prod-params', kind: 'ssm', region: 'eu-west-1', account: '111122223333' }];
const WHERE = { account: '111122223333', region: 'eu-west-1' };

function getParameter(i: number, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  return {
    eventID: `ev-${i}`,
    eventTime: new Date(NOW.getTime() - i * 60_000).toISOString().replace('.000', ''),
    eventSource: 'ssm.amazonaws.com',
    eventName: 'GetParameter',
    awsRegion: 'eu-west-1',
    recipientAccountId: '111122223333',
    userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/alice' },
    requestParameters: { name: `/prod/item-${i % 3}`, withDecryption: true },
    ...extra,
  };
}

afterAll(() => dropIndexPlaces());

describe.each(DATABASES)('event index (%s)', (kind) => {
  let place: IndexPlace;
  let index: EventIndex;
  beforeEach(async () => {
    place = await newIndexPlace(kind);
    index = await place.open({ retentionDays: 400, now: () => NOW });
  });
  afterEach(async () => {
    await index.close();
  });

  const all = async () => (await index.queries.timeline({}, FULL_SCOPE, { limit: 500 })).entries;

  describe('ingest', () => {
    it('writes events and the state; a second delivery of the same events is all duplicates', async () => {
      const records = Array.from({ length: 5 }, (_, i) => getParameter(i));
      const first = await index.ingest('le-eu', 'lookup-events', WHERE, records, { cursor: { startTime: 'a' }, lastEventTime: records[0]!.eventTime!, lastSuccessAt: NOW.toISOString() }, STORES);
      expect(first).toEqual({ inserted: 5, duplicates: 0, expired: 0 });
      const again = await index.ingest('le-eu', 'lookup-events', WHERE, [...records, getParameter(5)], { cursor: { startTime: 'b' } }, STORES);
      expect(again).toEqual({ inserted: 1, duplicates: 5, expired: 0 });
      expect(await all()).toHaveLength(6);
      expect(await index.sourceState('le-eu')).toMatchObject({
        kind: 'lookup-events',
        account: '111122223333',
        region: 'eu-west-1',
        cursor: { startTime: 'b' },
        lastEventTime: records[0]!.eventTime,
        lastSuccessAt: NOW.toISOString(),
        eventsIndexed: 6,
        lastError: null,
      });
    });

    it('dedupes across sources (an S3 trail and LookupEvents deliver the same event)', async () => {
      await index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(1)], { cursor: {} }, STORES);
      expect(await index.ingest('s3-org', 'cloudtrail-s3', WHERE, [getParameter(1)], { cursor: {} }, STORES)).toMatchObject({ inserted: 0, duplicates: 1 });
    });

    it('dedupes records without an eventID by their content', async () => {
      const bare = getParameter(1, { eventID: undefined });
      expect(await index.ingest('s', 'cloudtrail-s3', WHERE, [bare, { ...bare }], { cursor: {} }, STORES)).toMatchObject({ inserted: 1, duplicates: 1 });
      expect(await index.ingest('s', 'cloudtrail-s3', WHERE, [structuredClone(bare)], { cursor: {} }, STORES)).toMatchObject({ inserted: 0, duplicates: 1 });
      const [entry] = await all();
      expect(entry!.eventId).toMatch(/^synthetic-/);
    });

    it('writes events and state in one transaction: a failing state write leaves no event behind', async () => {
      await index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { page: 1 } }, STORES);
      await failCursorUpdates(index);
      await expect(index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(1), getParameter(2)], { cursor: { page: 2 } }, STORES)).rejects.toThrow(/disk full/);
      expect((await all()).map((e) => e.eventId)).toEqual(['ev-0']);
      expect(await index.sourceState('le-eu')).toMatchObject({ cursor: { page: 1 }, eventsIndexed: 1 });
      expect(await index.counts()).toEqual({ events: 1, entries: 1 });
    });

    it('stores one row per item of a multi-item event, and one unmapped row for an event naming none', async () => {
      const multi = getParameter(0, { eventName: 'GetParameters', requestParameters: { names: ['/prod/a', '/prod/b', 'prod/c'] } });
      const none = getParameter(1, { eventName: 'DescribeParameters', requestParameters: {} });
      await index.ingest('le-eu', 'lookup-events', WHERE, [multi, none], { cursor: {} }, STORES);
      const rows = await all();
      expect(rows.map((r) => [r.eventId, r.storeId, r.itemName])).toEqual([
        ['ev-0', 'prod-params', '/prod/c'],
        ['ev-0', 'prod-params', '/prod/b'],
        ['ev-0', 'prod-params', '/prod/a'],
        ['ev-1', null, null],
      ]);
      expect(await index.counts()).toEqual({ events: 2, entries: 4 });
    });

    it("stores no value-like key and leaves the caller's records untouched", async () => {
      const record = getParameter(0, {
        eventName: 'PutParameter',
        requestParameters: { name: '/prod/a', value: 'HIDDEN_DUE_TO_SECURITY_REASONS', Nested: { SecretString: 'hunter2' } },
        responseElements: { version: 2, secretBinary: 'QUFB' },
      });
      const before = structuredClone(record);
      await index.ingest('le-eu', 'lookup-events', WHERE, [record], { cursor: {} }, STORES);
      expect(record).toEqual(before);
      const [entry] = await all();
      expect(entry!.raw.requestParameters).toEqual({ name: '/prod/a', Nested: {} });
      expect(entry!.raw.responseElements).toEqual({ version: 2 });
      const dump = (await index.db.selectFrom('ct_events').select('raw').execute()).map((r) => r.raw).join('\n');
      expect(dump).not.toMatch(/hunter2|QUFB|HIDDEN_DUE/);
    });

    it('keeps events with odd fields', async () => {
      const odd: CloudTrailRecord[] = [{}, { eventName: 42 as never, eventTime: 'garbage' }, { eventID: 'x', requestParameters: null, userIdentity: null as never }];
      expect(await index.ingest('s', 'cloudtrail-s3', WHERE, odd, { cursor: {} }, STORES)).toMatchObject({ inserted: 3 });
      const rows = await all();
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row).toMatchObject({ time: NOW.toISOString(), storeId: null, itemName: null, eventName: null });
    });

    it('stores each event once when two sources deliver overlapping pages at the same time', async () => {
      const records = Array.from({ length: 120 }, (_, i) => getParameter(i));
      const pages = await Promise.all([
        index.ingest('le-eu', 'lookup-events', WHERE, records.slice(0, 80), { cursor: { page: 'a' } }, STORES),
        index.ingest('s3-org', 'cloudtrail-s3', WHERE, [...records.slice(40)].reverse(), { cursor: { page: 'b' } }, STORES),
        index.ingest('le-eu-2', 'lookup-events', WHERE, records.slice(20, 100), { cursor: { page: 'c' } }, STORES),
      ]);
      expect(pages.reduce((n, p) => n + p.inserted, 0)).toBe(120);
      expect(pages.reduce((n, p) => n + p.duplicates, 0)).toBe(80 + 80 + 80 - 120);
      expect(await index.counts()).toEqual({ events: 120, entries: 120 });
      const states = await index.listSourceStates();
      expect(states.reduce((n, st) => n + st.eventsIndexed, 0)).toBe(120);
    });

    it("stores a NUL in a failed call's parameters as U+FFFD (PostgreSQL's text cannot hold one)", async () => {
      const odd = getParameter(0, { requestParameters: { name: '/prod/a\u0000b' }, errorCode: 'ValidationException', userAgent: 'agent\u0000' });
      expect(await index.ingest('le-eu', 'lookup-events', WHERE, [odd], { cursor: {} }, STORES)).toMatchObject({ inserted: 1 });
      const [entry] = await all();
      expect(entry).toMatchObject({ itemName: '/prod/a\uFFFDb', userAgent: 'agent\uFFFD' });
      expect((entry!.raw.requestParameters as { name: string }).name).toBe('/prod/a\u0000b');
    });

    it('skips events older than the retention', async () => {
      const old = getParameter(0, { eventID: 'old', eventTime: '2024-01-01T00:00:00Z' });
      expect(await index.ingest('s', 'cloudtrail-s3', WHERE, [old, getParameter(1)], { cursor: {} }, STORES)).toEqual({ inserted: 1, duplicates: 0, expired: 1 });
    });
  });

  describe('source state', () => {
    it('shows an error until the next successful page, keeping the position', async () => {
      await index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { token: 't1' }, lastSuccessAt: '2026-03-01T11:00:00.000Z' }, STORES);
      await index.recordSourceError('le-eu', 'ThrottlingException: Rate exceeded');
      expect(await index.sourceState('le-eu')).toMatchObject({
        cursor: { token: 't1' },
        lastSuccessAt: '2026-03-01T11:00:00.000Z',
        lastError: { message: 'ThrottlingException: Rate exceeded', at: NOW.toISOString() },
      });
      await index.ingest('le-eu', 'lookup-events', WHERE, [], { cursor: { token: 't2' }, lastSuccessAt: NOW.toISOString() }, STORES);
      expect(await index.sourceState('le-eu')).toMatchObject({ cursor: { token: 't2' }, lastError: null, eventsIndexed: 1 });
    });

    it('records an error of a source that never had a page, and lists every source', async () => {
      await index.registerSource('s3-org', 'cloudtrail-s3', { account: null, region: 'eu-west-1' });
      await index.recordSourceError('le-us', 'x'.repeat(5000));
      const states = await index.listSourceStates();
      expect(states.map((s) => s.sourceId)).toEqual(['le-us', 's3-org']);
      expect(states[0]!.lastError!.message.length).toBeLessThanOrEqual(1000);
      expect(states[1]).toMatchObject({ kind: 'cloudtrail-s3', cursor: null, eventsIndexed: 0, lastError: null });
      expect(await index.sourceState('nope')).toBeNull();
    });

    it('survives a reopen (restart) with the same state and events', async () => {
      await index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { token: 'keep' } }, STORES);
      await index.close();
      index = await place.open({ retentionDays: 400, now: () => NOW });
      expect((await index.sourceState('le-eu'))?.cursor).toEqual({ token: 'keep' });
      expect(await all()).toHaveLength(1);
    });
  });

  describe('purgeOlderThan', () => {
    it('deletes events (and all their rows) older than the given days, and nothing newer', async () => {
      const records = [
        getParameter(0, { eventID: 'new', eventTime: '2026-02-28T00:00:00Z' }),
        getParameter(1, { eventID: 'edge', eventTime: '2026-01-30T12:00:01Z' }),
        getParameter(2, { eventID: 'old', eventTime: '2026-01-30T11:59:59Z', eventName: 'GetParameters', requestParameters: { names: ['/a', '/b'] } }),
        getParameter(3, { eventID: 'older', eventTime: '2025-06-01T00:00:00Z' }),
      ];
      await index.ingest('s', 'cloudtrail-s3', WHERE, records, { cursor: {} }, STORES);
      expect(await index.purgeOlderThan(30)).toBe(2);
      expect((await all()).map((e) => e.eventId)).toEqual(['new', 'edge']);
      expect(await index.counts()).toEqual({ events: 2, entries: 2 });
      expect(await index.purgeOlderThan(30)).toBe(0);
    });
  });
});

describe('an audit-events.db from before migrations', () => {
  it('is adopted as it is: its events and sources are kept, and later pages go on from its position', async () => {
    const temp = makeTempDir('ct-legacy-');
    try {
      const legacy = new Database(path.join(temp.dir, AUDIT_EVENTS_DB_FILE));
      legacy.exec(LEGACY_EVENT_SCHEMA_SQL);
      legacy
        .prepare('INSERT INTO ct_events (event_id, source_id, event_time, raw, ingested_at) VALUES (?, ?, ?, ?, ?)')
        .run('ev-0', 'le-eu', '2026-03-01T11:00:00.000Z', JSON.stringify(getParameter(0)), '2026-03-01T11:00:01.000Z');
      legacy
        .prepare(
          `INSERT INTO ct_entries (event_pk, event_time, event_source, event_name, read_only, actor_arn, principal, store_id, item_name)
           VALUES (1, '2026-03-01T11:00:00.000Z', 'ssm.amazonaws.com', 'GetParameter', 1, 'arn:aws:iam::111122223333:user/alice', 'arn:aws:iam::111122223333:user/alice', 'prod-params', '/prod/item-0')`,
        )
        .run();
      legacy
        .prepare("INSERT INTO ct_sources (source_id, kind, account, region, cursor, events_indexed) VALUES ('le-eu', 'lookup-events', '111122223333', 'eu-west-1', ?, 1)")
        .run(JSON.stringify({ token: 'old' }));
      legacy.close();

      const index = await EventIndex.open(temp.dir, { retentionDays: 400, now: () => NOW });
      try {
        expect(await index.sourceState('le-eu')).toMatchObject({ cursor: { token: 'old' }, eventsIndexed: 1 });
        expect(await index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0), getParameter(1)], { cursor: { token: 'new' } }, STORES)).toMatchObject({ inserted: 1, duplicates: 1 });
        const entries = (await index.queries.timeline({}, FULL_SCOPE)).entries;
        expect(entries.map((e) => [e.eventId, e.itemName])).toEqual([
          ['ev-1', '/prod/item-1'],
          ['ev-0', '/prod/item-0'],
        ]);
        expect(await index.sourceState('le-eu')).toMatchObject({ cursor: { token: 'new' }, eventsIndexed: 2 });
      } finally {
        await index.close();
      }
    } finally {
      temp.cleanup();
    }
  });
});
