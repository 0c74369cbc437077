import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { S3CloudTrailSource } from '@/lib/cloudtrail/s3-source';
import type { S3SourceConfig } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { startSimulatedS3, type SimulatedS3 } from '@/simulator/simulated-s3';
import { useSimulatedCredentials } from './support/lookup-harness';
import { MemoryEventSink } from './support/memory-event-sink';

// Bad input: a trail bucket in another account that denies these credentials, and a bucket that
// denies some account or region prefixes. The rest syncs; the source's error names every failing
// bucket, account, region and prefix, and goes once they can be read.

const SHARED = 'shared-org-trail';
const FOREIGN = 'other-account-trail';
let s3: SimulatedS3;

beforeAll(async () => {
  useSimulatedCredentials();
  s3 = await startSimulatedS3({ latencyMs: 1 });
});
afterAll(async () => s3.close());

function deliver(bucket: string, account: string, region: string, time: string, tag: string): void {
  const record: CloudTrailRecord = { eventID: tag, eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', eventTime: time, recipientAccountId: account, awsRegion: region };
  s3.control({ putLogFiles: [{ bucket, account, region, time, unique: tag, records: [record] }] });
}

function config(id: string, bucket: string): S3SourceConfig {
  return { id, kind: 'cloudtrail-s3', connection: { region: 'us-east-1', endpoint: s3.url }, account: null, bucket, prefix: '' };
}

describe('S3 trail sources that are denied', () => {
  it('the readable folders and buckets sync; the error names each denied bucket, account, region and prefix; it clears once they are readable', async () => {
    deliver(SHARED, '111111111111', 'eu-west-1', '2026-12-05T09:00:00Z', 'a-eu');
    deliver(SHARED, '111111111111', 'us-east-1', '2026-12-05T09:00:00Z', 'a-us');
    deliver(SHARED, '222222222222', 'us-east-1', '2026-12-05T09:00:00Z', 'b-us');
    deliver(SHARED, '333333333333', 'us-east-1', '2026-12-05T09:00:00Z', 'c-us');
    deliver(FOREIGN, '444444444444', 'us-east-1', '2026-12-05T09:00:00Z', 'foreign');
    s3.control({
      deny: [
        { bucket: FOREIGN },
        { bucket: SHARED, prefix: 'AWSLogs/222222222222/' },
        { bucket: SHARED, prefix: 'AWSLogs/111111111111/CloudTrail/eu-west-1/' },
      ],
    });
    const sink = new MemoryEventSink();
    const sync = new CloudTrailSync(sink, [new S3CloudTrailSource(config('org-trail', SHARED)), new S3CloudTrailSource(config('foreign-trail', FOREIGN))], {
      intervalMs: 3_600_000,
      stores: [],
      now: () => Date.parse('2026-12-05T10:00:00Z'),
    });
    try {
      const results = await sync.runOnce();

      // What could be read was read, including the folders after a denied one.
      expect([...sink.events.keys()].sort()).toEqual(['a-us', 'c-us']);
      expect(results.get('org-trail')!.inserted).toBe(2);

      const org = (await sink.sourceState('org-trail'))!.lastError!.message;
      expect(org).toMatch(/^2 parts of the bucket could not be read: /);
      expect(org).toContain('Listing s3://shared-org-trail/AWSLogs/111111111111/CloudTrail/eu-west-1/: AccessDenied (HTTP 403): Access Denied');
      expect(org).toContain('[account 111111111111, region eu-west-1]');
      expect(org).toContain('Listing s3://shared-org-trail/AWSLogs/222222222222/CloudTrail/: AccessDenied (HTTP 403)');
      expect(org).toContain('[account 222222222222]');
      expect(org).not.toContain('333333333333');
      expect(results.get('org-trail')!.error).toBe(org);

      const foreign = (await sink.sourceState('foreign-trail'))!.lastError!.message;
      expect(foreign).toMatch(/^Listing s3:\/\/other-account-trail\/AWSLogs\/: AccessDenied \(HTTP 403\): Access Denied/);
      expect(foreign).toContain('a bucket policy');

      // Still denied: the error stays, nothing is read twice.
      s3.control({ resetStats: true });
      await sync.runOnce();
      expect(s3.stats().fetched).toEqual([]);
      expect((await sink.sourceState('org-trail'))!.lastError).not.toBeNull();

      // The policies are fixed: the rest is read and both sources are healthy.
      s3.control({ deny: [] });
      const fixed = await sync.runOnce();
      expect(fixed.get('org-trail')!.error).toBeNull();
      expect(fixed.get('foreign-trail')!.error).toBeNull();
      expect([...sink.events.keys()].sort()).toEqual(['a-eu', 'a-us', 'b-us', 'c-us', 'foreign']);
      expect((await sink.sourceState('org-trail'))!.lastError).toBeNull();
      expect((await sink.sourceState('foreign-trail'))!.lastError).toBeNull();
      expect((await sink.sourceState('org-trail'))!.lastSuccessAt).toBe('2026-12-05T10:00:00.000Z');
    } finally {
      s3.control({ deny: [] });
    }
  }, 30_000);

  it('a failing folder no longer has its error cleared by the pages of the folders read after it', async () => {
    deliver('ordered-trail', '555555555555', 'ap-south-1', '2026-12-05T09:00:00Z', 'first-folder');
    deliver('ordered-trail', '555555555555', 'us-west-2', '2026-12-05T09:00:00Z', 'later-folder');
    s3.control({ deny: [{ bucket: 'ordered-trail', prefix: 'AWSLogs/555555555555/CloudTrail/ap-south-1/' }] });
    const sink = new MemoryEventSink();
    const sync = new CloudTrailSync(sink, [new S3CloudTrailSource(config('ordered', 'ordered-trail'))], { intervalMs: 3_600_000, stores: [] });
    try {
      await sync.runOnce();
      expect([...sink.events.keys()]).toEqual(['later-folder']);
      const state = (await sink.sourceState('ordered'))!;
      expect(state.lastError?.message).toMatch(/^Listing s3:\/\/ordered-trail\/AWSLogs\/555555555555\/CloudTrail\/ap-south-1\/: AccessDenied .*\[account 555555555555, region ap-south-1\]$/);
      expect(state.lastSuccessAt).toBeNull();
    } finally {
      s3.control({ deny: [] });
    }
  }, 30_000);
});
