import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { SIM_CT_ACCOUNT, startSimulatedCloudTrail, type SimulatedCloudTrail } from '@/simulator/simulated-cloudtrail';
import { cloudTrailLogFile, cloudTrailLogKey, startSimulatedS3, type SimulatedS3 } from '@/simulator/simulated-s3';

// The simulated CloudTrail and S3 speak the real wire protocols to the real SDK clients.

let sim: SimulatedCloudTrail;
let s3: SimulatedS3;
const NOW = Date.parse('2026-06-01T12:00:00Z');

beforeAll(async () => {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000', AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true' });
  sim = await startSimulatedCloudTrail({ now: NOW, latencyMs: 1, ratePerSecond: null, generate: [{ events: 400, items: 20, actors: 5, days: 10 }] });
  s3 = await startSimulatedS3({ latencyMs: 1 });
});
afterAll(async () => {
  await sim.close();
  await s3.close();
});

const client = (region = 'us-east-1') => new CloudTrailClient({ region, endpoint: sim.url, maxAttempts: 1 });
const bySource = (value: string) => [{ AttributeKey: 'EventSource' as const, AttributeValue: value }];

describe('simulated LookupEvents', () => {
  it('answers the API reference shapes, newest first, filtered by one attribute', async () => {
    const out = await client().send(new LookupEventsCommand({ LookupAttributes: bySource('ssm.amazonaws.com'), MaxResults: 50 }));
    expect(out.Events).toHaveLength(50);
    const first = out.Events![0]!;
    expect(first.EventTime).toBeInstanceOf(Date);
    expect(['true', 'false', undefined]).toContain(first.ReadOnly);
    expect(first.EventSource).toBe('ssm.amazonaws.com');
    const record = JSON.parse(first.CloudTrailEvent!) as { eventID: string; eventSource: string };
    expect(record.eventID).toBe(first.EventId);
    const times = out.Events!.map((e) => e.EventTime!.getTime());
    expect([...times].sort((a, b) => b - a)).toEqual(times);
    expect(out.Events!.every((e) => e.EventSource === 'ssm.amazonaws.com')).toBe(true);
    expect(out.NextToken).toBeTruthy();
  });

  it('pages with NextToken through every event of a source exactly once, within StartTime/EndTime', async () => {
    const start = new Date(NOW - 5 * 86_400_000);
    const end = new Date(NOW - 1 * 86_400_000);
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const out = await client().send(new LookupEventsCommand({ LookupAttributes: bySource('secretsmanager.amazonaws.com'), StartTime: start, EndTime: end, MaxResults: 20, NextToken: token }));
      for (const e of out.Events ?? []) {
        expect(e.EventTime!.getTime()).toBeGreaterThanOrEqual(start.getTime());
        expect(e.EventTime!.getTime()).toBeLessThanOrEqual(end.getTime());
        seen.push(e.EventId!);
      }
      token = out.NextToken;
      pages++;
    } while (token);
    expect(pages).toBeGreaterThan(2);
    expect(new Set(seen).size).toBe(seen.length);
    const expected = sim.count({ eventSource: 'secretsmanager.amazonaws.com' });
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.length).toBeLessThan(expected);
  });

  it('rejects a token it did not issue, one issued for other parameters, and expired ones', async () => {
    await expect(client().send(new LookupEventsCommand({ LookupAttributes: bySource('ssm.amazonaws.com'), NextToken: 'bogus' }))).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
    const first = await client().send(new LookupEventsCommand({ LookupAttributes: bySource('ssm.amazonaws.com') }));
    await expect(client().send(new LookupEventsCommand({ LookupAttributes: bySource('kms.amazonaws.com'), NextToken: first.NextToken }))).rejects.toMatchObject({
      name: 'InvalidNextTokenException',
    });
    sim.control({ expireTokens: true });
    await expect(client().send(new LookupEventsCommand({ LookupAttributes: bySource('ssm.amazonaws.com'), NextToken: first.NextToken }))).rejects.toMatchObject({
      name: 'InvalidNextTokenException',
    });
  });

  it('takes one lookup attribute and MaxResults up to 50', async () => {
    await expect(
      client().send(new LookupEventsCommand({ LookupAttributes: [...bySource('ssm.amazonaws.com'), { AttributeKey: 'EventName', AttributeValue: 'GetParameter' }] })),
    ).rejects.toMatchObject({ name: 'InvalidLookupAttributesException' });
    await expect(client().send(new LookupEventsCommand({ MaxResults: 51 }))).rejects.toMatchObject({ name: 'InvalidMaxResultsException' });
  });

  it('answers a third call within a second per account and region with HTTP 400 ThrottlingException', async () => {
    sim.control({ ratePerSecond: 2, resetStats: true });
    try {
      const calls = Array.from({ length: 3 }, () => client().send(new LookupEventsCommand({ LookupAttributes: bySource('kms.amazonaws.com'), MaxResults: 1 })));
      const results = await Promise.allSettled(calls);
      const rejected = results.filter((r) => r.status === 'rejected');
      expect(rejected).toHaveLength(1);
      expect((rejected[0] as PromiseRejectedResult).reason).toMatchObject({ name: 'ThrottlingException', $metadata: { httpStatusCode: 400 } });
      // Another region has its own limit.
      await expect(client('eu-west-1').send(new LookupEventsCommand({ MaxResults: 1 }))).resolves.toBeDefined();
      expect(sim.stats().throttled).toBe(1);
    } finally {
      sim.control({ ratePerSecond: null });
    }
  });

  it('adds events through the control endpoint and fails calls on demand', async () => {
    const before = sim.count();
    const res = await fetch(`${sim.url}/__control`, {
      method: 'POST',
      body: JSON.stringify({
        addEvents: [{ eventID: 'added-1', eventTime: new Date(NOW).toISOString(), eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', recipientAccountId: SIM_CT_ACCOUNT, awsRegion: 'us-east-1' }],
      }),
    });
    expect(res.status).toBe(200);
    expect(sim.count()).toBe(before + 1);
    const out = await client().send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventId', AttributeValue: 'added-1' }] }));
    expect(out.Events?.map((e) => e.EventId)).toEqual(['added-1']);
    expect((await fetch(`${sim.url}/__control`, { method: 'POST', body: '{"nonsense":1}' })).status).toBe(400);
    sim.control({ failNext: { count: 1, type: 'InternalFailure' } });
    await expect(client().send(new LookupEventsCommand({}))).rejects.toMatchObject({ $metadata: { httpStatusCode: 500 } });
    await expect(client().send(new LookupEventsCommand({}))).resolves.toBeDefined();
  });

  it('forgets events by id (a gateway bounding what it records), and only those', async () => {
    const record = (id: string) => ({ eventID: id, eventTime: new Date(NOW - 1000).toISOString(), eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', awsRegion: 'ap-south-1' });
    sim.control({ addEvents: [record('keep-1'), record('drop-1'), record('drop-2')] });
    expect(sim.count({ region: 'ap-south-1' })).toBe(3);
    expect(() => sim.control({ forgetEvents: 'drop-1' as unknown as string[] })).toThrow('forgetEvents is a list of event ids');
    sim.control({ forgetEvents: ['drop-1', 'drop-2', 'never-there'] });
    expect(sim.count({ region: 'ap-south-1' })).toBe(1);
    const out = await client('ap-south-1').send(new LookupEventsCommand({}));
    expect(out.Events?.map((e) => e.EventId)).toEqual(['keep-1']);
    // A forgotten id may be added again.
    expect(sim.control({ addEvents: [record('drop-1')] }).added).toBe(1);
  });

  it('generates the event kinds reviewers look for, some denied, some with missing fields', async () => {
    const names = new Set<string>();
    let denied = 0;
    let token: string | undefined;
    do {
      const out = await client().send(new LookupEventsCommand({ NextToken: token }));
      for (const e of out.Events ?? []) {
        const r = JSON.parse(e.CloudTrailEvent!) as { eventName: string; errorCode?: string };
        names.add(r.eventName);
        if (r.errorCode === 'AccessDenied') denied++;
      }
      token = out.NextToken;
    } while (token);
    expect([...names].sort()).toEqual(['BatchGetSecretValue', 'Decrypt', 'GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue', 'PutParameter', 'RotateSecret']);
    expect(denied).toBeGreaterThan(10);
  });

  it('requires a SigV4 signature', async () => {
    const res = await fetch(sim.url, { method: 'POST', headers: { 'x-amz-target': 'CloudTrail_20131101.LookupEvents' }, body: '{}' });
    expect(res.status).toBe(403);
  });
});

describe('simulated S3', () => {
  it('lists with a delimiter and StartAfter and serves gzipped log files (path style)', async () => {
    const day = new Date('2026-05-30T10:00:00Z');
    const keys = [0, 1, 2].map((i) => cloudTrailLogKey({ prefix: 'trail', account: '111122223333', region: 'us-east-1', time: new Date(day.getTime() + i * 86_400_000), unique: `u${i}` }));
    for (const key of keys) s3.put({ bucket: 'logs', key, body: cloudTrailLogFile([{ eventID: key, eventSource: 'ssm.amazonaws.com' }]) });
    const client = new S3Client({ region: 'us-east-1', endpoint: s3.url, forcePathStyle: true });
    const top = await client.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'trail/AWSLogs/', Delimiter: '/' }));
    expect(top.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['trail/AWSLogs/111122223333/']);
    const after = await client.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'trail/AWSLogs/111122223333/CloudTrail/us-east-1/', StartAfter: keys[0] }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(keys.slice(1));
    expect(keys[1]).toMatch(/^trail\/AWSLogs\/111122223333\/CloudTrail\/us-east-1\/2026\/05\/31\/111122223333_CloudTrail_us-east-1_20260531T1000Z_u1\.json\.gz$/);
    const paged = await client.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'trail/', MaxKeys: 2 }));
    expect(paged.IsTruncated).toBe(true);
    const rest = await client.send(new ListObjectsV2Command({ Bucket: 'logs', Prefix: 'trail/', ContinuationToken: paged.NextContinuationToken }));
    expect([...(paged.Contents ?? []), ...(rest.Contents ?? [])].map((c) => c.Key)).toEqual(keys);
    const object = await client.send(new GetObjectCommand({ Bucket: 'logs', Key: keys[2] }));
    const body = JSON.parse(gunzipSync(Buffer.from(await object.Body!.transformToByteArray())).toString('utf8')) as { Records: { eventID: string }[] };
    expect(body.Records[0]!.eventID).toBe(keys[2]);
    await expect(client.send(new GetObjectCommand({ Bucket: 'logs', Key: 'nope' }))).rejects.toMatchObject({ name: 'NoSuchKey' });
  });
});
