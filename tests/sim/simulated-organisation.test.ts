import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { DecryptCommand, EncryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, ListSecretsCommand, PutSecretValueCommand, RotateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { gunzipSync } from 'node:zlib';
import { mapRecord } from '@/lib/cloudtrail/event-mapping';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { cloudTrailLogFile, cloudTrailLogKey } from '@/simulator/simulated-s3';
import { startSimulatedOrganisation, type SimulatedAccountSpec, type SimulatedOrganisation } from '@/simulator/simulated-organisation';

// One simulated organisation, two accounts in two regions, reached through the real SDK clients
// exactly as the dashboard reaches AWS: an endpoint, a key per account, a region.

const NOW = Date.now();
const PROD_VALUE = 'prod-db-password-value-7f3a';

function account(alias: string, id: string, region: string, key: string): SimulatedAccountSpec {
  const old: CloudTrailRecord = {
    eventID: `${alias}-old-1`,
    eventTime: new Date(NOW - 100 * 86_400_000).toISOString(),
    eventSource: 'ssm.amazonaws.com',
    eventName: 'GetParameter',
    requestParameters: { name: `/${alias}/old` },
  };
  return {
    account: id,
    alias,
    region,
    accessKeyId: key,
    secretAccessKey: `${alias}-secret-access-key`,
    principalArn: `arn:aws:sts::${id}:assumed-role/secrets-dashboard/dashboard`,
    parameters: [{ Name: `/${alias}/db/host`, Type: 'String', Value: `${alias}.db.internal` }, { Name: `/${alias}/feature-flags` }],
    secrets: [{ Name: `${alias}/db/password`, SecretString: alias === 'prod' ? PROD_VALUE : 'staging-value' }],
    events: [
      {
        eventID: `${alias}-history-1`,
        eventTime: new Date(NOW - 3_600_000).toISOString(),
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: 'GetSecretValue',
        readOnly: true,
        requestParameters: { secretId: `${alias}/db/password` },
      },
    ],
    trailBucket: `${alias}-trail-bucket`,
    trailObjects: [
      {
        bucket: `${alias}-trail-bucket`,
        key: cloudTrailLogKey({ prefix: 'org-trail', account: id, region, time: new Date(NOW - 100 * 86_400_000), unique: 'a1' }),
        body: cloudTrailLogFile([old]),
      },
    ],
  };
}

const PROD_KEY_ID = '0b7c5a2e-4f1d-4c3b-9a8e-6d5f4e3c2b1a';
const PROD: SimulatedAccountSpec = { ...account('prod', '111111111111', 'us-east-1', 'AKIAPRODSIMULATED001'), kmsKeys: [{ keyId: PROD_KEY_ID, aliases: ['alias/prod-app'] }] };
const STAGING = account('staging', '222222222222', 'eu-west-1', 'AKIASTAGINGSIMULATE1');

let org: SimulatedOrganisation;

beforeAll(async () => {
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  org = await startSimulatedOrganisation({ accounts: [PROD, STAGING], latencyMs: 0, now: NOW, trailDeliveryMs: null, awsOptions: { rotationDelayMs: 20 } });
  // LookupEvents' 2 calls a second are tested on their own below.
  org.cloudTrail.control({ ratePerSecond: null });
});
afterAll(async () => {
  await org?.close();
});

type Who = Pick<SimulatedAccountSpec, 'accessKeyId' | 'secretAccessKey'>;
const config = (who: Who, region: string) => ({
  region,
  endpoint: org.url,
  credentials: { accessKeyId: who.accessKeyId, secretAccessKey: who.secretAccessKey },
  maxAttempts: 1,
});
const ssm = (who: Who, region: string) => new SSMClient(config(who, region));
const sm = (who: Who, region: string) => new SecretsManagerClient(config(who, region));
const trail = (who: Who, region: string) => new CloudTrailClient(config(who, region));
const s3 = (who: Who, region: string) => new S3Client({ ...config(who, region), forcePathStyle: true });
const UNKNOWN: Who = { accessKeyId: 'AKIAUNKNOWNKEY000000', secretAccessKey: 'whatever' };

async function lookup(who: Who, region: string, eventName: string) {
  const out = await trail(who, region).send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: eventName }] }));
  return (out.Events ?? []).map((e) => ({ ...e, record: JSON.parse(e.CloudTrailEvent!) as CloudTrailRecord & Record<string, unknown> }));
}

describe('routing', () => {
  it("answers each account's own items, by access key and region, with that account and region in the ARNs", async () => {
    const prod = await ssm(PROD, 'us-east-1').send(new DescribeParametersCommand({}));
    expect(prod.Parameters!.map((p) => p.Name).sort()).toEqual(['/prod/db/host', '/prod/feature-flags']);
    const staging = await ssm(STAGING, 'eu-west-1').send(new DescribeParametersCommand({}));
    expect(staging.Parameters!.map((p) => p.Name).sort()).toEqual(['/staging/db/host', '/staging/feature-flags']);

    const host = await ssm(STAGING, 'eu-west-1').send(new GetParameterCommand({ Name: '/staging/db/host' }));
    expect(host.Parameter!.ARN).toBe('arn:aws:ssm:eu-west-1:222222222222:parameter/staging/db/host');
    expect(host.Parameter!.Value).toBe('staging.db.internal');
    const secrets = await sm(PROD, 'us-east-1').send(new ListSecretsCommand({}));
    expect(secrets.SecretList!.map((s) => s.ARN)).toEqual([expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:111111111111:secret:prod\/db\/password-/)]);
  });

  it("refuses another account's item through a key (it is not there), and shows a region the organisation does not list as empty", async () => {
    await expect(ssm(PROD, 'us-east-1').send(new GetParameterCommand({ Name: '/staging/db/host' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    const elsewhere = await ssm(PROD, 'eu-west-1').send(new DescribeParametersCommand({}));
    expect(elsewhere.Parameters).toEqual([]);
  });

  it('refuses an unknown access key as AWS does, for every service', async () => {
    await expect(ssm(UNKNOWN, 'us-east-1').send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 400 } });
    await expect(sm(UNKNOWN, 'us-east-1').send(new ListSecretsCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(trail(UNKNOWN, 'us-east-1').send(new LookupEventsCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
    await expect(s3(UNKNOWN, 'us-east-1').send(new ListObjectsV2Command({ Bucket: 'prod-trail-bucket' }))).rejects.toMatchObject({
      name: 'InvalidAccessKeyId',
      $metadata: { httpStatusCode: 403 },
    });
  });
});

describe('CloudTrail recording of the calls made to the organisation', () => {
  it('records a call in its own account and region, as CloudTrail does, never with the value, and LookupEvents finds it newest first', async () => {
    const value = await sm(PROD, 'us-east-1').send(new GetSecretValueCommand({ SecretId: 'prod/db/password' }));
    expect(value.SecretString).toBe(PROD_VALUE);

    const events = await lookup(PROD, 'us-east-1', 'GetSecretValue');
    // The recorded call is newer than the history's event.
    expect(events.map((e) => e.EventId)).toEqual([expect.any(String), 'prod-history-1']);
    const recorded = events[0]!.record;
    expect(recorded).toMatchObject({
      eventSource: 'secretsmanager.amazonaws.com',
      eventName: 'GetSecretValue',
      awsRegion: 'us-east-1',
      recipientAccountId: '111111111111',
      readOnly: true,
      eventType: 'AwsApiCall',
      requestParameters: { secretId: 'prod/db/password' },
      userIdentity: {
        type: 'AssumedRole',
        arn: PROD.principalArn,
        accountId: '111111111111',
        accessKeyId: PROD.accessKeyId,
        sessionContext: { sessionIssuer: { type: 'Role', arn: 'arn:aws:iam::111111111111:role/secrets-dashboard', userName: 'secrets-dashboard' } },
      },
      resources: [{ type: 'AWS::SecretsManager::Secret', ARN: expect.stringMatching(/^arn:aws:secretsmanager:us-east-1:111111111111:secret:prod\/db\/password-/) }],
    });
    expect(recorded.eventID).toBe(events[0]!.EventId);
    expect(typeof recorded.requestID).toBe('string');
    expect(Date.now() - Date.parse(recorded.eventTime!)).toBeLessThan(10_000);
    expect(events[0]!.CloudTrailEvent).not.toContain(PROD_VALUE);

    // Not in the other account, nor in the same account's other region.
    expect((await lookup(STAGING, 'eu-west-1', 'GetSecretValue')).map((e) => e.EventId)).toEqual(['staging-history-1']);
    expect(await lookup(PROD, 'eu-west-1', 'GetSecretValue')).toEqual([]);
  });

  it('records a refused call with its error code', async () => {
    await expect(ssm(PROD, 'us-east-1').send(new GetParameterCommand({ Name: '/prod/missing' }))).rejects.toMatchObject({ name: 'ParameterNotFound' });
    const events = await lookup(PROD, 'us-east-1', 'GetParameter');
    // Calls within one second have one eventTime (CloudTrail's are to the second): find it by its name.
    const refused = events.find((e) => (e.record.requestParameters as { name?: string } | null)?.name === '/prod/missing');
    expect(refused?.record).toMatchObject({ errorCode: 'ParameterNotFound', errorMessage: expect.any(String), readOnly: true });
  });

  it('records nothing when recordCalls is false', async () => {
    const quiet = await startSimulatedOrganisation({ accounts: [PROD], latencyMs: 0, recordCalls: false, trailDeliveryMs: null });
    try {
      await new SSMClient({ ...config(PROD, 'us-east-1'), endpoint: quiet.url }).send(new DescribeParametersCommand({}));
      expect(quiet.recorded()).toBe(0);
      expect(quiet.cloudTrail.count({ account: PROD.account, region: PROD.region })).toBe(1);
    } finally {
      await quiet.close();
    }
  });

  it('keeps at most recordLimit recorded events per account and region, the newest', async () => {
    const small = await startSimulatedOrganisation({ accounts: [PROD], latencyMs: 0, recordLimit: 5, trailDeliveryMs: null });
    try {
      const client = new SSMClient({ ...config(PROD, 'us-east-1'), endpoint: small.url });
      for (let i = 0; i < 20; i++) await client.send(new GetParameterCommand({ Name: '/prod/db/host' }));
      expect(small.recorded()).toBe(20);
      // The history's own event stays; recorded ones are bounded to the limit plus a tenth (forgotten in batches).
      const held = small.cloudTrail.count({ account: PROD.account, region: PROD.region, eventSource: 'ssm.amazonaws.com' });
      expect(held).toBeGreaterThanOrEqual(5);
      expect(held).toBeLessThanOrEqual(6);

      // The log files it delivers are bounded the same way; the bucket's own files stay.
      const listed = async () =>
        (await new S3Client({ ...config(PROD, 'us-east-1'), endpoint: small.url, forcePathStyle: true }).send(new ListObjectsV2Command({ Bucket: 'prod-trail-bucket' }))).Contents!.map((c) => c.Key!);
      expect(small.flushTrail()).toBe(1);
      const first = (await listed()).filter((k) => !k.endsWith('_a1.json.gz'));
      expect(first).toHaveLength(1);
      for (let i = 0; i < 5; i++) await client.send(new GetParameterCommand({ Name: '/prod/db/host' }));
      expect(small.flushTrail()).toBe(1);
      const second = await listed();
      expect(second).toHaveLength(2);
      expect(second.some((k) => k.endsWith('_a1.json.gz'))).toBe(true);
      expect(second).not.toContain(first[0]);
    } finally {
      await small.close();
    }
  });

  it("delivers recorded events to the account's trail bucket as a CloudTrail log file", async () => {
    await ssm(STAGING, 'eu-west-1').send(new GetParameterCommand({ Name: '/staging/feature-flags' }));
    expect(org.flushTrail()).toBeGreaterThanOrEqual(1);
    const listed = await s3(STAGING, 'eu-west-1').send(new ListObjectsV2Command({ Bucket: 'staging-trail-bucket', Prefix: 'org-trail/AWSLogs/222222222222/CloudTrail/eu-west-1/' }));
    const keys = listed.Contents!.map((c) => c.Key!);
    expect(keys).toHaveLength(2);
    const newest = keys.find((k) => !k.endsWith('_a1.json.gz'))!;
    const file = await s3(STAGING, 'eu-west-1').send(new GetObjectCommand({ Bucket: 'staging-trail-bucket', Key: newest }));
    const records = (JSON.parse(gunzipSync(Buffer.from(await file.Body!.transformToByteArray())).toString('utf8')) as { Records: CloudTrailRecord[] }).Records;
    expect(records.some((r) => r.eventName === 'GetParameter' && (r.requestParameters as { name?: string }).name === '/staging/feature-flags')).toBe(true);
    expect(records.every((r) => r.recipientAccountId === '222222222222')).toBe(true);
    // Nothing new: nothing written.
    expect(org.flushTrail()).toBe(0);
  });
});

// The demo's stores, as CONFIG_FILE names them.
const STORES: StoreLocator[] = [
  { storeId: 'sim-prod-ssm', kind: 'ssm', region: 'us-east-1', account: '111111111111' },
  { storeId: 'sim-prod-secrets', kind: 'secretsmanager', region: 'us-east-1', account: '111111111111' },
  { storeId: 'sim-staging-ssm', kind: 'ssm', region: 'eu-west-1', account: '222222222222' },
  { storeId: 'sim-staging-secrets', kind: 'secretsmanager', region: 'eu-west-1', account: '222222222222' },
];
const mapped = (record: CloudTrailRecord) => mapRecord(record, { account: null, region: null, ingestedAt: new Date().toISOString() }, STORES).items.map((i) => `${i.storeId} ${i.itemName}`);

describe("recorded events, read with the dashboard's own mapping", () => {
  it('map a reveal, a write and a rotation to their item in its store', async () => {
    const secrets = sm(PROD, 'us-east-1');
    await secrets.send(new PutSecretValueCommand({ SecretId: 'prod/db/password', SecretString: 'written-value-91c2' }));
    const { ARN: secretArn } = await secrets.send(new GetSecretValueCommand({ SecretId: 'prod/db/password' }));
    await secrets.send(new RotateSecretCommand({ SecretId: 'prod/db/password', RotationLambdaARN: 'arn:aws:lambda:us-east-1:111111111111:function:rotate-db' }));
    const parameters = ssm(STAGING, 'eu-west-1');
    await parameters.send(new PutParameterCommand({ Name: '/staging/db/host', Value: 'new-host.internal', Type: 'String', Overwrite: true }));
    await parameters.send(new GetParameterCommand({ Name: '/staging/db/host' }));
    // The rotation function finishes after rotationDelayMs and reports it as a service event.
    await new Promise((resolve) => setTimeout(resolve, 200));

    // The events CloudTrail lists for the item (by its ARN in resources; the mapping reads requestParameters).
    const ofItem = async (who: Who, region: string, arn: string, name: string) => {
      const out = await trail(who, region).send(new LookupEventsCommand({ LookupAttributes: [{ AttributeKey: 'ResourceName', AttributeValue: arn }] }));
      const events = (out.Events ?? []).filter((e) => e.EventName === name && e.EventTime!.getTime() >= NOW - 1000);
      expect(events.length, name).toBeGreaterThan(0);
      for (const e of events) expect(e.CloudTrailEvent).not.toMatch(/written-value-91c2|new-host\.internal/);
      return events.map((e) => JSON.parse(e.CloudTrailEvent!) as CloudTrailRecord);
    };
    for (const name of ['GetSecretValue', 'PutSecretValue', 'RotateSecret', 'RotationSucceeded']) {
      for (const record of await ofItem(PROD, 'us-east-1', secretArn!, name)) {
        expect(record.errorCode, name).toBeUndefined();
        expect(mapped(record), name).toEqual(['sim-prod-secrets /prod/db/password']);
      }
    }
    const [put] = await ofItem(PROD, 'us-east-1', secretArn!, 'PutSecretValue');
    expect(put!.readOnly).toBe(false);
    const [succeeded] = await ofItem(PROD, 'us-east-1', secretArn!, 'RotationSucceeded');
    expect(succeeded!.userIdentity).toEqual({ accountId: '111111111111', invokedBy: 'secretsmanager.amazonaws.com' });
    for (const name of ['PutParameter', 'GetParameter']) {
      for (const record of await ofItem(STAGING, 'eu-west-1', 'arn:aws:ssm:eu-west-1:222222222222:parameter/staging/db/host', name)) {
        expect(record.errorCode, name).toBeUndefined();
        expect(mapped(record), name).toEqual(['sim-staging-ssm /staging/db/host']);
      }
    }
    // A staging write is not prod's.
    expect((await lookup(PROD, 'us-east-1', 'PutParameter')).map((e) => mapped(e.record))).not.toContainEqual(['sim-staging-ssm /staging/db/host']);
  });
});

describe('S3 trail buckets', () => {
  it("lists and reads an account's trail objects", async () => {
    const listed = await s3(PROD, 'us-east-1').send(new ListObjectsV2Command({ Bucket: 'prod-trail-bucket' }));
    const key = listed.Contents!.map((c) => c.Key!).find((k) => k.endsWith('_a1.json.gz'))!;
    expect(key).toMatch(/^org-trail\/AWSLogs\/111111111111\/CloudTrail\/us-east-1\//);
    const file = await s3(PROD, 'us-east-1').send(new GetObjectCommand({ Bucket: 'prod-trail-bucket', Key: key }));
    const records = (JSON.parse(gunzipSync(Buffer.from(await file.Body!.transformToByteArray())).toString('utf8')) as { Records: CloudTrailRecord[] }).Records;
    expect(records.map((r) => r.eventID)).toEqual(['prod-old-1']);
  });

  it('answers a malformed path as S3 does, and goes on serving', async () => {
    const signed = { authorization: `AWS4-HMAC-SHA256 Credential=${PROD.accessKeyId}/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abcdef`, 'x-amz-date': '20260101T000000Z' };
    for (const path of ['/%E0%A4%A', '/prod-trail-bucket/%E0%A4%A']) {
      const res = await fetch(`${org.url}${path}`, { headers: signed });
      expect(res.status).toBe(400);
      expect(await res.text()).toContain('<Code>InvalidURI</Code>');
    }
    expect((await fetch(`${org.url}/__health`)).status).toBe(200);
  });

  it("refuses another account's bucket, and a bucket asked for in the wrong region names its region", async () => {
    await expect(s3(STAGING, 'us-east-1').send(new ListObjectsV2Command({ Bucket: 'prod-trail-bucket' }))).rejects.toMatchObject({
      name: 'AccessDenied',
      $metadata: { httpStatusCode: 403 },
    });
    await expect(s3(PROD, 'eu-west-1').send(new ListObjectsV2Command({ Bucket: 'prod-trail-bucket' }))).rejects.toMatchObject({
      name: 'AuthorizationHeaderMalformed',
      Region: 'us-east-1',
    });
  });
});

describe('KMS', () => {
  it("serves each account's keys in its region, and no other account's", async () => {
    const kms = new KMSClient(config(PROD, 'us-east-1'));
    const sealed = await kms.send(new EncryptCommand({ KeyId: 'alias/prod-app', Plaintext: Buffer.from('hello'), EncryptionContext: { purpose: 'test' } }));
    expect(sealed.KeyId).toBe(`arn:aws:kms:us-east-1:111111111111:key/${PROD_KEY_ID}`);
    const opened = await kms.send(new DecryptCommand({ CiphertextBlob: sealed.CiphertextBlob, EncryptionContext: { purpose: 'test' } }));
    expect(Buffer.from(opened.Plaintext!).toString('utf8')).toBe('hello');
    await expect(new KMSClient(config(STAGING, 'eu-west-1')).send(new EncryptCommand({ KeyId: sealed.KeyId, Plaintext: Buffer.from('x') }))).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(new KMSClient(config(UNKNOWN, 'us-east-1')).send(new EncryptCommand({ KeyId: 'alias/prod-app', Plaintext: Buffer.from('x') }))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });
});

describe('CloudTrail quota', () => {
  it('throttles LookupEvents at 2 calls a second per account and region, each account on its own', async () => {
    const limited = await startSimulatedOrganisation({ accounts: [PROD, STAGING], latencyMs: 0, trailDeliveryMs: null, recordCalls: false });
    try {
      const call = (who: Who, region: string) => new CloudTrailClient({ ...config(who, region), endpoint: limited.url }).send(new LookupEventsCommand({}));
      const prod = await Promise.allSettled([call(PROD, 'us-east-1'), call(PROD, 'us-east-1'), call(PROD, 'us-east-1')]);
      const staging = await Promise.allSettled([call(STAGING, 'eu-west-1'), call(STAGING, 'eu-west-1')]);
      expect(prod.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
      expect(prod.find((r) => r.status === 'rejected')).toMatchObject({ reason: { name: 'ThrottlingException' } });
      expect(staging.every((r) => r.status === 'fulfilled')).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

describe('control endpoints', () => {
  it('answers health with every account, forwards an account control, and refuses an unknown account', async () => {
    const health = (await (await fetch(`${org.url}/__health`)).json()) as { status: string; accounts: { alias: string; parameters: number; secrets: number }[] };
    expect(health.status).toBe('ok');
    expect(health.accounts.map((a) => [a.alias, a.parameters, a.secrets])).toEqual([
      ['prod', 2, 1],
      ['staging', 2, 1],
    ]);
    const denied = await fetch(`${org.url}/__control`, { method: 'POST', body: JSON.stringify({ account: 'staging', aws: { failAll: 'AccessDeniedException' } }) });
    expect(denied.status).toBe(200);
    await expect(ssm(STAGING, 'eu-west-1').send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
    await expect(ssm(PROD, 'us-east-1').send(new DescribeParametersCommand({}))).resolves.toBeDefined();
    await fetch(`${org.url}/__control`, { method: 'POST', body: JSON.stringify({ account: '222222222222', aws: { failAll: null } }) });
    await expect(ssm(STAGING, 'eu-west-1').send(new DescribeParametersCommand({}))).resolves.toBeDefined();

    const unknown = await fetch(`${org.url}/__control`, { method: 'POST', body: JSON.stringify({ account: 'nobody', aws: {} }) });
    expect(unknown.status).toBe(400);
    const forwarded = await fetch(`${org.url}/__accounts/prod/us-east-1/__health`);
    expect(await forwarded.json()).toMatchObject({ status: 'ok', account: '111111111111', region: 'us-east-1' });
  });
});
