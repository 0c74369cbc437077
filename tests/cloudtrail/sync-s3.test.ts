import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventIndex } from '@/lib/cloudtrail/event-index';
import { parseS3Cursor, S3CloudTrailSource } from '@/lib/cloudtrail/s3-source';
import type { S3SourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync, type EventSink } from '@/lib/cloudtrail/sync';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { cloudTrailLogFile, cloudTrailLogKey, startSimulatedS3, type SimulatedS3 } from '@/simulator/simulated-s3';
import { makeTempDir } from '../support/temp-dir';
import { MemoryEventSink } from './support/memory-event-sink';
import { useSimulatedCredentials } from './support/lookup-harness';

// A trail's log bucket on the simulated S3 (real S3 client, path style): gzipped files under
// nested date prefixes, an organization trail, read incrementally by key, only the three audited
// services kept.

const BUCKET = 'org-trail-logs';
const ORG = 'o-a1b2c3d4e5';
let s3: SimulatedS3;
const temps: { cleanup: () => void }[] = [];

function record(id: string, eventSource: string, account: string, region: string, time: Date): CloudTrailRecord {
  return { eventID: id, eventSource, eventName: eventSource.startsWith('ssm') ? 'GetParameter' : 'Other', eventTime: time.toISOString(), recipientAccountId: account, awsRegion: region };
}

/** One log file: 3 audited events and 2 of other services. */
function putLog(where: { prefix: string; orgId?: string; account: string; region: string }, time: Date, tag: string): string[] {
  const key = cloudTrailLogKey({ ...where, time, unique: tag });
  const records = [
    record(`${tag}-ssm`, 'ssm.amazonaws.com', where.account, where.region, time),
    record(`${tag}-sm`, 'secretsmanager.amazonaws.com', where.account, where.region, time),
    record(`${tag}-kms`, 'kms.amazonaws.com', where.account, where.region, time),
    record(`${tag}-s3`, 's3.amazonaws.com', where.account, where.region, time),
    record(`${tag}-sts`, 'sts.amazonaws.com', where.account, where.region, time),
  ];
  s3.put({ bucket: BUCKET, key, body: cloudTrailLogFile(records) });
  return [`${tag}-ssm`, `${tag}-sm`, `${tag}-kms`];
}

const expected = new Set<string>();
const day = (n: number) => new Date(Date.UTC(2026, 0, 1 + n, 10, 5));

beforeAll(async () => {
  useSimulatedCredentials();
  s3 = await startSimulatedS3({ latencyMs: 1 });
  // Two accounts directly under AWSLogs/, one account under the organization's folder, two regions,
  // files over several days (keys sorted by date across month boundaries).
  for (let n = 0; n < 40; n++) {
    for (const id of putLog({ prefix: 'cloudtrail', account: '111111111111', region: 'us-east-1' }, day(n), `a-${n}`)) expected.add(id);
    if (n % 2 === 0) for (const id of putLog({ prefix: 'cloudtrail', account: '111111111111', region: 'eu-west-1' }, day(n), `b-${n}`)) expected.add(id);
    if (n % 3 === 0) for (const id of putLog({ prefix: 'cloudtrail', orgId: ORG, account: '222222222222', region: 'us-east-1' }, day(n), `o-${n}`)) expected.add(id);
  }
  // Not log files: a digest folder and another prefix.
  s3.put({ bucket: BUCKET, key: 'cloudtrail/AWSLogs/111111111111/CloudTrail-Digest/us-east-1/2026/01/01/digest.json.gz', body: cloudTrailLogFile([record('digest', 'ssm.amazonaws.com', '111111111111', 'us-east-1', day(0))]) });
  s3.put({ bucket: BUCKET, key: 'elsewhere/AWSLogs/333333333333/CloudTrail/us-east-1/2026/01/01/x.json.gz', body: cloudTrailLogFile([record('elsewhere', 'ssm.amazonaws.com', '333333333333', 'us-east-1', day(0))]) });
});
afterAll(async () => {
  await s3.close();
  for (const t of temps) t.cleanup();
});

function config(overrides: Partial<S3SourceConfig> = {}): S3SourceConfig {
  return { id: 'trail', kind: 'cloudtrail-s3', connection: { region: 'us-east-1', endpoint: s3.url }, account: null, bucket: BUCKET, prefix: 'cloudtrail', ...overrides };
}

function syncOf(sink: EventSink, source: S3CloudTrailSource) {
  return new CloudTrailSync(sink, [source], { intervalMs: 3_600_000, stores: [] });
}

describe('CloudTrail S3 source', () => {
  it('finds every account and region folder, including an organization trail', async () => {
    const folders = await new S3CloudTrailSource(config()).folders();
    expect(folders).toEqual([
      'cloudtrail/AWSLogs/111111111111/CloudTrail/eu-west-1/',
      'cloudtrail/AWSLogs/111111111111/CloudTrail/us-east-1/',
      `cloudtrail/AWSLogs/${ORG}/222222222222/CloudTrail/us-east-1/`,
    ]);
    expect(await new S3CloudTrailSource(config({ accounts: ['222222222222'] })).folders()).toEqual([`cloudtrail/AWSLogs/${ORG}/222222222222/CloudTrail/us-east-1/`]);
    expect(await new S3CloudTrailSource(config({ regions: ['eu-west-1'] })).folders()).toEqual(['cloudtrail/AWSLogs/111111111111/CloudTrail/eu-west-1/']);
  });

  it('indexes the three services of every gzipped file once, then reads only new files by key', async () => {
    const temp = makeTempDir('ct-s3-');
    temps.push(temp);
    const index = await EventIndex.open(temp.dir, { retentionDays: 3650 });
    try {
      s3.control({ resetStats: true });
      const sync = syncOf(index, new S3CloudTrailSource(config()));
      const first = (await sync.runOnce()).get('trail')!;
      expect(first.error).toBeNull();
      expect(first.inserted).toBe(expected.size);
      expect((await index.counts()).events).toBe(expected.size);
      const ids = new Set(await allEventIds(index));
      expect(ids).toEqual(expected);
      const state = (await index.sourceState('trail'))!;
      expect(state.lastError).toBeNull();
      expect(state.lastEventTime).toBe(day(39).toISOString());
      const cursor = parseS3Cursor(state.cursor);
      expect(cursor.folders['cloudtrail/AWSLogs/111111111111/CloudTrail/us-east-1/']).toMatch(/2026\/02\/09\/.*_a-39\.json\.gz$/);

      // New files: only they are fetched on the next run.
      const added = [...putLog({ prefix: 'cloudtrail', account: '111111111111', region: 'us-east-1' }, day(41), 'a-41'), ...putLog({ prefix: 'cloudtrail', orgId: ORG, account: '222222222222', region: 'us-east-1' }, day(41), 'o-41')];
      s3.control({ resetStats: true });
      const second = (await sync.runOnce()).get('trail')!;
      expect(second.inserted).toBe(added.length);
      expect(second.duplicates).toBe(0);
      expect(s3.stats().fetched).toHaveLength(2);
      expect((await index.counts()).events).toBe(expected.size + added.length);
    } finally {
      await index.close();
    }
  }, 30_000);

  it('a file that cannot be fetched keeps the position and shows the error; the next run goes on from there', async () => {
    const sink = new MemoryEventSink();
    const sync = syncOf(sink, new S3CloudTrailSource(config({ id: 'trail-failing', accounts: ['111111111111'], regions: ['us-east-1'] })));
    s3.control({ failNextGets: 0, resetStats: true });
    // Let 5 files through, then fail (past the client's retries).
    const run = sync.runOnce();
    while (s3.stats().get < 5) await new Promise((r) => setTimeout(r, 2));
    s3.control({ failNextGets: 10 });
    const failed = (await run).get('trail-failing')!;
    expect(failed.error).toMatch(/^Reading s3:\/\/org-trail-logs\/cloudtrail\/AWSLogs\/111111111111\/CloudTrail\/us-east-1\/2026\/01\/.*InternalError/);
    const state = (await sink.sourceState('trail-failing'))!;
    expect(state.lastError?.message).toBe(failed.error);
    const indexedFiles = failed.pages;
    expect(indexedFiles).toBeGreaterThan(0);
    s3.control({ failNextGets: 0, resetStats: true });
    const resumed = (await sync.runOnce()).get('trail-failing')!;
    expect(resumed.error).toBeNull();
    expect(resumed.duplicates).toBe(0);
    // 41 files in that folder (days 0-39 and 41): each read once over both runs.
    expect(indexedFiles + resumed.pages).toBe(41);
    expect(sink.events.size).toBe(41 * 3);
    expect((await sink.sourceState('trail-failing'))!.lastError).toBeNull();
  }, 30_000);

  it('a damaged file is passed over, said so on the source, and the rest is read', async () => {
    const sink = new MemoryEventSink();
    const folder = { prefix: 'broken', account: '444444444444', region: 'us-east-1' };
    s3.put({ bucket: BUCKET, key: cloudTrailLogKey({ ...folder, time: day(1), unique: 'bad' }), body: Buffer.from('not gzip, not json') });
    putLog(folder, day(2), 'after-bad');
    const sync = syncOf(sink, new S3CloudTrailSource(config({ id: 'trail-broken', prefix: 'broken' })));
    const result = (await sync.runOnce()).get('trail-broken')!;
    expect(result.error).toMatch(/_bad\.json\.gz is not a readable CloudTrail log file and was skipped/);
    expect((await sink.sourceState('trail-broken'))!.lastError?.message).toMatch(/was skipped/);
    expect([...sink.events.keys()].sort()).toEqual(['after-bad-kms', 'after-bad-sm', 'after-bad-ssm']);
  });
});

async function allEventIds(index: EventIndex): Promise<string[]> {
  // The raw rows, read directly: what the index holds.
  return (await index.db.selectFrom('ct_events').select('event_id').execute()).map((r) => r.event_id);
}
