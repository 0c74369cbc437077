import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventIndex } from '@/lib/cloudtrail/event-index';
import { dayPrefixOf, parseS3Cursor, S3CloudTrailSource, type S3SourceOptions } from '@/lib/cloudtrail/s3-source';
import type { S3SourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync, type EventSink } from '@/lib/cloudtrail/sync';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { startSimulatedS3, type SimulatedS3 } from '@/simulator/simulated-s3';
import { DATABASES } from '../support/databases';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';
import { useSimulatedCredentials } from './support/lookup-harness';
import { MemoryEventSink } from './support/memory-event-sink';

// Files CloudTrail delivers late, under keys older than files already read: the day prefixes of
// the lookback window are listed again and such a file is read once, never twice, across a
// restart too; day prefixes before the window are not listed again (ListObjectsV2 calls counted).

const BUCKET = 'late-trail-logs';
const ACCOUNT = '111111111111';
const REGION = 'us-east-1';
let s3: SimulatedS3;

beforeAll(async () => {
  useSimulatedCredentials();
  s3 = await startSimulatedS3({ latencyMs: 1 });
});
afterAll(async () => {
  await s3.close();
  await dropIndexPlaces();
});

const at = (iso: string) => new Date(iso).getTime();

/** Puts one log file (one audited event, id = tag) whose key names `time`; returns its key. */
function deliver(prefix: string, time: string, tag: string): string {
  const record: CloudTrailRecord = { eventID: tag, eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', eventTime: time, recipientAccountId: ACCOUNT, awsRegion: REGION };
  const { keys } = s3.control({ putLogFiles: [{ bucket: BUCKET, prefix, account: ACCOUNT, region: REGION, time, unique: tag, records: [record] }] });
  return keys![0]!;
}

function source(prefix: string, options: S3SourceOptions = {}, overrides: Partial<S3SourceConfig> = {}): S3CloudTrailSource {
  return new S3CloudTrailSource(
    { id: `trail-${prefix}`, kind: 'cloudtrail-s3', connection: { region: REGION, endpoint: s3.url }, account: null, bucket: BUCKET, prefix, ...overrides },
    options,
  );
}

/** A sync of one source whose wall clock reads `clock.now`. */
function syncOf(sink: EventSink, src: S3CloudTrailSource, clock: { now: number }) {
  return new CloudTrailSync(sink, [src], { intervalMs: 3_600_000, stores: [], now: () => clock.now });
}

async function runOnce(sync: CloudTrailSync, id: string) {
  s3.control({ resetStats: true });
  const result = (await sync.runOnce()).get(id)!;
  expect(result.error).toBeNull();
  return { result, fetched: s3.stats().fetched, lists: s3.stats().lists };
}

async function readFileRows(index: EventIndex, sourceId: string): Promise<string[]> {
  return (await index.db.selectFrom('ct_s3_read_files').select('file_key').where('source_id', '=', sourceId).orderBy('file_key').execute()).map((r) => r.file_key);
}

describe.each(DATABASES)('late S3 files on the event index (%s)', (kind) => {
  it('a file delivered under an older key after later ones were read is read once, across a restart, never twice', async () => {
    const prefix = `late-${kind}`;
    const id = `trail-${prefix}`;
    const clock = { now: at('2026-12-05T10:30:00Z') };
    const place = await newIndexPlace(kind);
    const firstKeys = [deliver(prefix, '2026-12-02T10:00:00Z', 'old'), deliver(prefix, '2026-12-05T09:00:00Z', 'a'), deliver(prefix, '2026-12-05T09:05:00Z', 'b'), deliver(prefix, '2026-12-05T09:10:00Z', 'c')];

    let index = await place.open({ retentionDays: 3650 });
    try {
      const sync = syncOf(index, source(prefix), clock);
      const first = await runOnce(sync, id);
      expect(first.fetched).toEqual([...firstKeys].sort());
      expect(first.result.inserted).toBe(4);

      // Late: its key (09:02) sorts before the last one read (09:10); a new file comes too.
      const late = deliver(prefix, '2026-12-05T09:02:00Z', 'late-1');
      const fresh = deliver(prefix, '2026-12-05T10:25:00Z', 'd');
      expect(late < firstKeys[3]!).toBe(true);
      clock.now = at('2026-12-05T10:35:00Z');
      const second = await runOnce(sync, id);
      expect(second.fetched).toEqual([late, fresh]);
      expect(second.result.inserted).toBe(2);
      expect(second.result.duplicates).toBe(0);
      // Only today's files are remembered: the one of Dec 2 is before the window.
      expect(await readFileRows(index, id)).toEqual([firstKeys[1], late, firstKeys[2], firstKeys[3], fresh]);
    } finally {
      await index.close();
    }

    // Stopped; another late file lands meanwhile; a new process on the same data.
    const late2 = deliver(prefix, '2026-12-05T09:07:00Z', 'late-2');
    index = await place.open({ retentionDays: 3650 });
    try {
      const sync = syncOf(index, source(prefix), clock);
      const third = await runOnce(sync, id);
      expect(third.fetched).toEqual([late2]);
      expect(third.result.inserted).toBe(1);
      const fourth = await runOnce(sync, id);
      expect(fourth.fetched).toEqual([]);
      expect(fourth.result.pages).toBe(0);
      // Every event once; the source is healthy.
      const ids = (await index.db.selectFrom('ct_events').select('event_id').where('source_id', '=', id).execute()).map((r) => r.event_id).sort();
      expect(ids).toEqual(['a', 'b', 'c', 'd', 'late-1', 'late-2', 'old']);
      const state = (await index.sourceState(id))!;
      expect(state.lastError).toBeNull();
      expect(state.eventsIndexed).toBe(7);

      // The next day, past the window: Dec 5's read files are forgotten, and its prefix is not listed again.
      clock.now = at('2026-12-06T03:00:00Z');
      const nextDay = await runOnce(sync, id);
      expect(nextDay.fetched).toEqual([]);
      expect(await readFileRows(index, id)).toEqual([]);
    } finally {
      await index.close();
    }
  }, 60_000);
});

describe('late S3 files and the lookback window', () => {
  it('shortly after midnight UTC the previous day prefix is listed again; the day before it is not; past the window it is forgotten', async () => {
    const prefix = 'midnight';
    const id = `trail-${prefix}`;
    const folder = `${prefix}/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`;
    const sink = new MemoryEventSink();
    const clock = { now: at('2026-12-06T00:30:00Z') };
    const sync = syncOf(sink, source(prefix), clock);
    deliver(prefix, '2026-12-05T23:40:00Z', 'y1');
    deliver(prefix, '2026-12-06T00:20:00Z', 't1');
    await runOnce(sync, id);

    const lateYesterday = deliver(prefix, '2026-12-05T23:45:00Z', 'y-late');
    const lateTwoDaysBack = deliver(prefix, '2026-12-04T23:50:00Z', 'old-late');
    const run = await runOnce(sync, id);
    expect(run.fetched).toEqual([lateYesterday]);
    // Listed from yesterday's day prefix (00:30 less 2 hours is Dec 5), not from before it.
    const folderLists = run.lists.filter((l) => l.prefix === folder);
    expect(folderLists).toEqual([{ bucket: BUCKET, prefix: folder, startAfter: `${folder}2026/12/05/`, delimiter: null, continued: false }]);
    expect(sink.events.has('old-late')).toBe(false);
    expect(lateTwoDaysBack < `${folder}2026/12/05/`).toBe(true);

    // 03:00: the window is today only; yesterday's read files are forgotten, and not listed again.
    clock.now = at('2026-12-06T03:00:00Z');
    const later = await runOnce(sync, id);
    expect(later.fetched).toEqual([]);
    expect(later.lists.filter((l) => l.prefix === folder).map((l) => l.startAfter)).toEqual([`${folder}2026/12/06/`]);
    expect([...sink.readFiles.get(id)!]).toEqual([expect.stringContaining('/2026/12/06/')]);
    expect([...sink.events.keys()].sort()).toEqual(['t1', 'y-late', 'y1']);
  }, 30_000);

  it('day prefixes before the window are not listed again: the ListObjectsV2 calls of a run stay one per folder', async () => {
    const prefix = 'history';
    const id = `trail-${prefix}`;
    const folder = `${prefix}/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`;
    const clock = { now: at('2026-12-05T12:00:00Z') };
    // 60 days of history (a file a day) and 3 files today; pages of 10 keys.
    for (let d = 60; d >= 1; d--) deliver(prefix, new Date(clock.now - d * 86_400_000).toISOString(), `h-${d}`);
    for (const t of ['08:00', '09:00', '10:00']) deliver(prefix, `2026-12-05T${t}:00Z`, `today-${t}`);
    const sink = new MemoryEventSink();
    const sync = syncOf(sink, source(prefix, { listPageSize: 10 }), clock);

    const first = await runOnce(sync, id);
    expect(first.fetched).toHaveLength(63);
    expect(first.lists.filter((l) => l.prefix === folder)).toHaveLength(7);

    // Nothing new: one page of today's prefix, nothing fetched.
    const second = await runOnce(sync, id);
    expect(second.fetched).toEqual([]);
    const folderLists = second.lists.filter((l) => l.prefix === folder);
    expect(folderLists).toHaveLength(1);
    expect(folderLists[0]!.startAfter).toBe(`${folder}${dayPrefixOf(clock.now)}`);
    // Only the window's files are remembered.
    expect(sink.readFiles.get(id)!.size).toBe(3);

    // A late file in the window is found; one in a day prefix before it is not (and costs no listing).
    const lateToday = deliver(prefix, '2026-12-05T08:30:00Z', 'late-today');
    deliver(prefix, '2026-11-20T08:30:00Z', 'late-november');
    const third = await runOnce(sync, id);
    expect(third.fetched).toEqual([lateToday]);
    expect(third.lists.filter((l) => l.prefix === folder)).toHaveLength(1);
    expect(sink.events.has('late-november')).toBe(false);
  }, 30_000);

  it('a position saved before read files were kept: the files it passed are not read again, later late files are', async () => {
    const prefix = 'upgrade';
    const id = `trail-${prefix}`;
    const folder = `${prefix}/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`;
    const clock = { now: at('2026-12-05T10:30:00Z') };
    deliver(prefix, '2026-12-05T09:00:00Z', 'u1');
    const last = deliver(prefix, '2026-12-05T09:10:00Z', 'u2');
    // What an earlier version wrote: the last key per folder, nothing else.
    const sink = new MemoryEventSink();
    await sink.ingest(id, 'cloudtrail-s3', { account: null, region: REGION }, [], { cursor: { version: 1, folders: { [folder]: last } } }, []);
    const sync = syncOf(sink, source(prefix), clock);

    const first = await runOnce(sync, id);
    expect(first.fetched).toEqual([]);
    expect(first.lists.filter((l) => l.prefix === folder).map((l) => l.startAfter)).toEqual([last]);

    const fresh = deliver(prefix, '2026-12-05T10:25:00Z', 'u3');
    expect((await runOnce(sync, id)).fetched).toEqual([fresh]);
    const late = deliver(prefix, '2026-12-05T10:00:00Z', 'u-late');
    const third = await runOnce(sync, id);
    expect(third.fetched).toEqual([late]);
    // Listed from the last key the earlier version read, not from the start of the day.
    expect(third.lists.filter((l) => l.prefix === folder).map((l) => l.startAfter)).toEqual([last]);
    expect((await runOnce(sync, id)).fetched).toEqual([]);

    // The next day the window has passed it: the marker goes.
    clock.now = at('2026-12-06T10:30:00Z');
    await runOnce(sync, id);
    expect(parseS3Cursor((await sink.sourceState(id))!.cursor).keptAfter).toEqual({});
  }, 30_000);

  it('a wider lookbackHours lists more day prefixes again', async () => {
    const prefix = 'wide';
    const id = `trail-${prefix}`;
    const folder = `${prefix}/AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/`;
    const clock = { now: at('2026-12-05T12:00:00Z') };
    deliver(prefix, '2026-12-02T10:00:00Z', 'w1');
    deliver(prefix, '2026-12-05T10:00:00Z', 'w2');
    const sink = new MemoryEventSink();
    const sync = syncOf(sink, source(prefix, {}, { lookbackHours: 72 }), clock);
    await runOnce(sync, id);
    const late = deliver(prefix, '2026-12-02T11:00:00Z', 'w-late');
    const run = await runOnce(sync, id);
    expect(run.lists.filter((l) => l.prefix === folder).map((l) => l.startAfter)).toEqual([`${folder}2026/12/02/`]);
    expect(run.fetched).toEqual([late]);
  }, 30_000);
});
