import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AUDIT_EVENTS_DB_FILE, EventIndex } from '@/lib/cloudtrail/event-index';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { makeTempDir } from '../support/temp-dir';

// Writing the index: dedupe by eventID (and by content without one), events and the source's
// state in one transaction, the value guard on what is stored, errors, retention.

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

let temp: ReturnType<typeof makeTempDir>;
let index: EventIndex;
beforeEach(() => {
  temp = makeTempDir('ct-ingest-');
  index = EventIndex.open(temp.dir, { retentionDays: 400, now: () => NOW });
});
afterEach(() => {
  index.close();
  temp.cleanup();
});

const all = async () => (await index.queries.timeline({}, FULL_SCOPE, { limit: 500 })).entries;

describe('ingest', () => {
  it('writes events and the state; a second delivery of the same events is all duplicates', async () => {
    const records = Array.from({ length: 5 }, (_, i) => getParameter(i));
    const first = index.ingest('le-eu', 'lookup-events', WHERE, records, { cursor: { startTime: 'a' }, lastEventTime: records[0]!.eventTime!, lastSuccessAt: NOW.toISOString() }, STORES);
    expect(first).toEqual({ inserted: 5, duplicates: 0, expired: 0 });
    const again = index.ingest('le-eu', 'lookup-events', WHERE, [...records, getParameter(5)], { cursor: { startTime: 'b' } }, STORES);
    expect(again).toEqual({ inserted: 1, duplicates: 5, expired: 0 });
    expect(await all()).toHaveLength(6);
    expect(index.sourceState('le-eu')).toMatchObject({
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

  it('dedupes across sources (an S3 trail and LookupEvents deliver the same event)', () => {
    index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(1)], { cursor: {} }, STORES);
    expect(index.ingest('s3-org', 'cloudtrail-s3', WHERE, [getParameter(1)], { cursor: {} }, STORES)).toMatchObject({ inserted: 0, duplicates: 1 });
  });

  it('dedupes records without an eventID by their content', async () => {
    const bare = getParameter(1, { eventID: undefined });
    expect(index.ingest('s', 'cloudtrail-s3', WHERE, [bare, { ...bare }], { cursor: {} }, STORES)).toMatchObject({ inserted: 1, duplicates: 1 });
    expect(index.ingest('s', 'cloudtrail-s3', WHERE, [structuredClone(bare)], { cursor: {} }, STORES)).toMatchObject({ inserted: 0, duplicates: 1 });
    const [entry] = await all();
    expect(entry!.eventId).toMatch(/^synthetic-/);
  });

  it('writes events and state in one transaction: a failing state write leaves no event behind', async () => {
    index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { page: 1 } }, STORES);
    const other = new Database(path.join(temp.dir, AUDIT_EVENTS_DB_FILE));
    other.exec("CREATE TRIGGER fail_state BEFORE UPDATE OF cursor ON ct_sources BEGIN SELECT RAISE(ABORT, 'disk full'); END;");
    other.close();
    expect(() => index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(1), getParameter(2)], { cursor: { page: 2 } }, STORES)).toThrow(/disk full/);
    expect((await all()).map((e) => e.eventId)).toEqual(['ev-0']);
    expect(index.sourceState('le-eu')).toMatchObject({ cursor: { page: 1 }, eventsIndexed: 1 });
    expect(index.counts()).toEqual({ events: 1, entries: 1 });
  });

  it('stores one row per item of a multi-item event, and one unmapped row for an event naming none', async () => {
    const multi = getParameter(0, { eventName: 'GetParameters', requestParameters: { names: ['/prod/a', '/prod/b', 'prod/c'] } });
    const none = getParameter(1, { eventName: 'DescribeParameters', requestParameters: {} });
    index.ingest('le-eu', 'lookup-events', WHERE, [multi, none], { cursor: {} }, STORES);
    const rows = await all();
    expect(rows.map((r) => [r.eventId, r.storeId, r.itemName])).toEqual([
      ['ev-0', 'prod-params', '/prod/c'],
      ['ev-0', 'prod-params', '/prod/b'],
      ['ev-0', 'prod-params', '/prod/a'],
      ['ev-1', null, null],
    ]);
    expect(index.counts()).toEqual({ events: 2, entries: 4 });
  });

  it("stores no value-like key and leaves the caller's records untouched", async () => {
    const record = getParameter(0, {
      eventName: 'PutParameter',
      requestParameters: { name: '/prod/a', value: 'HIDDEN_DUE_TO_SECURITY_REASONS', Nested: { SecretString: 'hunter2' } },
      responseElements: { version: 2, secretBinary: 'QUFB' },
    });
    const before = structuredClone(record);
    index.ingest('le-eu', 'lookup-events', WHERE, [record], { cursor: {} }, STORES);
    expect(record).toEqual(before);
    const [entry] = await all();
    expect(entry!.raw.requestParameters).toEqual({ name: '/prod/a', Nested: {} });
    expect(entry!.raw.responseElements).toEqual({ version: 2 });
    const file = new Database(path.join(temp.dir, AUDIT_EVENTS_DB_FILE), { readonly: true });
    const dump = (file.prepare('SELECT raw FROM ct_events').pluck().all() as string[]).join('\n');
    file.close();
    expect(dump).not.toMatch(/hunter2|QUFB|HIDDEN_DUE/);
  });

  it('keeps events with odd fields', async () => {
    const odd: CloudTrailRecord[] = [{}, { eventName: 42 as never, eventTime: 'garbage' }, { eventID: 'x', requestParameters: null, userIdentity: null as never }];
    expect(index.ingest('s', 'cloudtrail-s3', WHERE, odd, { cursor: {} }, STORES)).toMatchObject({ inserted: 3 });
    const rows = await all();
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row).toMatchObject({ time: NOW.toISOString(), storeId: null, itemName: null, eventName: null });
  });

  it('skips events older than the retention', () => {
    const old = getParameter(0, { eventID: 'old', eventTime: '2024-01-01T00:00:00Z' });
    expect(index.ingest('s', 'cloudtrail-s3', WHERE, [old, getParameter(1)], { cursor: {} }, STORES)).toEqual({ inserted: 1, duplicates: 0, expired: 1 });
  });
});

describe('source state', () => {
  it('shows an error until the next successful page, keeping the position', () => {
    index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { token: 't1' }, lastSuccessAt: '2026-03-01T11:00:00.000Z' }, STORES);
    index.recordSourceError('le-eu', 'ThrottlingException: Rate exceeded');
    expect(index.sourceState('le-eu')).toMatchObject({
      cursor: { token: 't1' },
      lastSuccessAt: '2026-03-01T11:00:00.000Z',
      lastError: { message: 'ThrottlingException: Rate exceeded', at: NOW.toISOString() },
    });
    index.ingest('le-eu', 'lookup-events', WHERE, [], { cursor: { token: 't2' }, lastSuccessAt: NOW.toISOString() }, STORES);
    expect(index.sourceState('le-eu')).toMatchObject({ cursor: { token: 't2' }, lastError: null, eventsIndexed: 1 });
  });

  it('records an error of a source that never had a page, and lists every source', () => {
    index.registerSource('s3-org', 'cloudtrail-s3', { account: null, region: 'eu-west-1' });
    index.recordSourceError('le-us', 'x'.repeat(5000));
    const states = index.listSourceStates();
    expect(states.map((s) => s.sourceId)).toEqual(['le-us', 's3-org']);
    expect(states[0]!.lastError!.message.length).toBeLessThanOrEqual(1000);
    expect(states[1]).toMatchObject({ kind: 'cloudtrail-s3', cursor: null, eventsIndexed: 0, lastError: null });
    expect(index.sourceState('nope')).toBeNull();
  });

  it('survives a reopen (restart) with the same state and events', async () => {
    index.ingest('le-eu', 'lookup-events', WHERE, [getParameter(0)], { cursor: { token: 'keep' } }, STORES);
    index.close();
    index = EventIndex.open(temp.dir, { retentionDays: 400, now: () => NOW });
    expect(index.sourceState('le-eu')?.cursor).toEqual({ token: 'keep' });
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
    index.ingest('s', 'cloudtrail-s3', WHERE, records, { cursor: {} }, STORES);
    expect(index.purgeOlderThan(30)).toBe(2);
    expect((await all()).map((e) => e.eventId)).toEqual(['new', 'edge']);
    expect(index.counts()).toEqual({ events: 2, entries: 2 });
    expect(index.purgeOlderThan(30)).toBe(0);
  });
});
