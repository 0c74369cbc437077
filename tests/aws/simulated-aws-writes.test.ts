import {
  CancelRotateSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand, GetParameterCommand, GetParameterHistoryCommand, GetParametersCommand, ListTagsForResourceCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { SimulatedAws, StoredValues } from '@/simulator/simulated-aws';
import {
  DB_CREDENTIALS_SECRET,
  FAILING_ROTATION_SECRET,
  HISTORY_SENTINEL,
  PAYMENTS_KEY_ARN,
  PENDING_ROTATION_SECRET,
  ROTATABLE_SECRET,
  VALUE_SENTINEL,
  WRITER_ARN,
  parameters,
} from '../../e2e/support/aws-fixtures';
import { startBrowserDataAws } from './support/browser-data-aws';

// The simulated AWS holding the browser tests' data set (e2e/support/aws-fixtures.ts) answers
// writes as AWS does, through the real SDK v3 clients over the AWS JSON 1.1 protocol: PutParameter
// versions, PutSecretValue idempotency, rotation with its AWSPENDING → AWSCURRENT promotion,
// schedules, quotas, and state kept per instance.

const ROTATION_DELAY_MS = 150;
const API_KEY = '/prod/payments/stripe/api-key';
const DAY = 86_400_000;

let sim: SimulatedAws;
let ssm: SSMClient;
let sm: SecretsManagerClient;

const clientConfig = (url: string) => ({
  endpoint: url,
  region: 'us-east-1',
  credentials: { accessKeyId: 'AKIAFAKETEST00000000', secretAccessKey: 'fake-secret-access-key' },
  // Errors reach the test as AWS sent them, never retried into success.
  maxAttempts: 1,
});

beforeEach(async () => {
  sim = await startBrowserDataAws({ rotationDelayMs: ROTATION_DELAY_MS, recordCalls: true });
  ssm = new SSMClient(clientConfig(sim.url));
  sm = new SecretsManagerClient(clientConfig(sim.url));
});

afterEach(async () => {
  ssm.destroy();
  sm.destroy();
  await sim.close();
});

const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

async function stages(secretId: string): Promise<Record<string, string[]>> {
  return (await sm.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
}

async function versionCount(secretId: string): Promise<number> {
  return (await sm.send(new ListSecretVersionIdsCommand({ SecretId: secretId, IncludeDeprecated: true }))).Versions?.length ?? 0;
}

async function currentValue(secretId: string): Promise<string | undefined> {
  return (await sm.send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString;
}

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number } }> {
  return promise.then(
    () => expect.fail('expected the call to be refused'),
    (error: unknown) => error as Error,
  );
}

describe('PutParameter', () => {
  it('overwrites with a new version, keeping the type, key, tier and data type sent, and records the writer', async () => {
    const before = Date.now();
    const out = await ssm.send(
      new PutParameterCommand({ Name: API_KEY, Value: 'sk_live_new', Type: 'SecureString', KeyId: PAYMENTS_KEY_ARN, Tier: 'Advanced', DataType: 'text', Overwrite: true }),
    );
    expect(out).toMatchObject({ Version: 4, Tier: 'Advanced' });

    const current = await ssm.send(new GetParameterCommand({ Name: API_KEY, WithDecryption: true }));
    expect(current.Parameter).toMatchObject({ Value: 'sk_live_new', Version: 4, Type: 'SecureString', DataType: 'text' });
    // A selector reads an older version, as AWS does.
    const v3 = await ssm.send(new GetParameterCommand({ Name: `${API_KEY}:3`, WithDecryption: true }));
    expect(v3.Parameter).toMatchObject({ Value: VALUE_SENTINEL, Version: 3, Selector: ':3' });
    // Without decryption a SecureString is ciphertext, never the value.
    const encrypted = await ssm.send(new GetParameterCommand({ Name: API_KEY }));
    expect(encrypted.Parameter?.Value).not.toContain('sk_live_new');

    const [meta] = (await ssm.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [API_KEY] }] }))).Parameters ?? [];
    expect(meta).toMatchObject({ Version: 4, KeyId: PAYMENTS_KEY_ARN, Tier: 'Advanced', Type: 'SecureString', LastModifiedUser: WRITER_ARN });
    expect(meta!.LastModifiedDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const history = (await ssm.send(new GetParameterHistoryCommand({ Name: API_KEY }))).Parameters ?? [];
    expect(history.map((h) => h.Version)).toEqual([1, 2, 3, 4]);
    expect(history.map((h) => h.Value)).toEqual([HISTORY_SENTINEL, HISTORY_SENTINEL, HISTORY_SENTINEL, HISTORY_SENTINEL]);
    expect(history[2]!.Labels).toEqual(['live']);
    expect(history[3]!.LastModifiedUser).toBe(WRITER_ARN);
  });

  it('creates a parameter with its tags at version 1, and refuses to create it again without Overwrite', async () => {
    const name = '/prod/payments/new/feature-flag';
    expect(await ssm.send(new PutParameterCommand({ Name: name, Value: 'on', Type: 'String', Tags: [{ Key: 'team', Value: 'payments' }] }))).toMatchObject({
      Version: 1,
      Tier: 'Standard',
    });
    expect((await ssm.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: name }))).TagList).toEqual([{ Key: 'team', Value: 'payments' }]);

    const error = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'off', Type: 'String' })));
    expect(error.name).toBe('ParameterAlreadyExists');
    expect((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter).toMatchObject({ Value: 'on', Version: 1 });
  });

  it('without Overwrite, an existing parameter is refused with ParameterAlreadyExists and keeps its version', async () => {
    const error = await rejection(ssm.send(new PutParameterCommand({ Name: API_KEY, Value: 'x', Type: 'SecureString' })));
    expect(error.name).toBe('ParameterAlreadyExists');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect((await ssm.send(new GetParameterCommand({ Name: API_KEY, WithDecryption: true }))).Parameter).toMatchObject({ Value: VALUE_SENTINEL, Version: 3 });
  });

  it('refuses Tags with Overwrite, and a downgrade from Advanced to Standard, with ValidationException', async () => {
    const withTags = await rejection(ssm.send(new PutParameterCommand({ Name: API_KEY, Value: 'x', Type: 'SecureString', Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] })));
    expect(withTags.name).toBe('ValidationException');
    expect(withTags.message).toContain("tags and overwrite can't be used together");
    const downgrade = await rejection(ssm.send(new PutParameterCommand({ Name: API_KEY, Value: 'x', Type: 'SecureString', Overwrite: true, Tier: 'Standard' })));
    expect(downgrade.name).toBe('ValidationException');
    expect(downgrade.message).toContain('advanced-parameter tier');
    expect((await ssm.send(new GetParameterCommand({ Name: API_KEY }))).Parameter?.Version).toBe(3);
  });

  it('limits a value to 4096 bytes in Standard and 8192 in Advanced', async () => {
    const name = '/prod/payments/db/host';
    const tooBigForStandard = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'a'.repeat(4097), Overwrite: true })));
    expect(tooBigForStandard.name).toBe('ValidationException');
    expect(await ssm.send(new PutParameterCommand({ Name: name, Value: 'a'.repeat(4097), Overwrite: true, Tier: 'Advanced' }))).toMatchObject({ Version: 3, Tier: 'Advanced' });
    const tooBigForAdvanced = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'a'.repeat(8193), Overwrite: true })));
    expect(tooBigForAdvanced.name).toBe('ValidationException');
  });

  it('an aws:ec2:image parameter takes an AMI id and refuses anything else', async () => {
    const name = '/prod/payments/ami-id';
    const bad = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'not-an-ami', Type: 'String', DataType: 'aws:ec2:image', Overwrite: true })));
    expect(bad.name).toBe('ValidationException');
    expect(bad.message).not.toContain('not-an-ami');
    expect(await ssm.send(new PutParameterCommand({ Name: name, Value: 'ami-0123456789abcdef0', Type: 'String', DataType: 'aws:ec2:image', Overwrite: true }))).toMatchObject({ Version: 2 });
  });

  it('answers a 4th PutParameter within one second with ThrottlingException (3/s), and admits calls again a second later', async () => {
    const name = '/prod/payments/db/host';
    for (let i = 0; i < 3; i++) await ssm.send(new PutParameterCommand({ Name: name, Value: `host-${i}`, Overwrite: true }));
    const throttled = await rejection(ssm.send(new PutParameterCommand({ Name: name, Value: 'host-3', Overwrite: true })));
    expect(throttled.name).toBe('ThrottlingException');
    expect(throttled.$metadata?.httpStatusCode).toBe(400);
    expect(sim.calls().at(-1)).toMatchObject({ operation: 'PutParameter', name, error: 'ThrottlingException' });
    expect((await ssm.send(new GetParameterCommand({ Name: name }))).Parameter).toMatchObject({ Value: 'host-2', Version: 5 });

    await new Promise((resolve) => setTimeout(resolve, 1_000));
    expect(await ssm.send(new PutParameterCommand({ Name: name, Value: 'host-4', Overwrite: true }))).toMatchObject({ Version: 6 });
  });

  it('GetParameter and GetParameters share a 40/s quota', async () => {
    const started = performance.now();
    const reads = await Promise.allSettled(
      Array.from({ length: 80 }, (_, i) =>
        i % 2 ? ssm.send(new GetParameterCommand({ Name: API_KEY })) : ssm.send(new GetParametersCommand({ Names: [API_KEY] })),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const admitted = reads.filter((r) => r.status === 'fulfilled').length;
    // A full bucket of 40, plus what refilled while the calls arrived.
    expect(admitted).toBeGreaterThanOrEqual(40);
    expect(admitted).toBeLessThanOrEqual(40 + Math.ceil(40 * seconds));
    const refusals = reads.flatMap((r) => (r.status === 'rejected' ? [(r.reason as Error).name] : []));
    expect(new Set(refusals)).toEqual(new Set(['ThrottlingException']));
    // Other operations have their own quotas.
    expect((await ssm.send(new DescribeParametersCommand({}))).Parameters?.length).toBeGreaterThan(0);
  });

  it('GetParameters answers unknown names and versions as InvalidParameters', async () => {
    const out = await ssm.send(new GetParametersCommand({ Names: [API_KEY, '/nope', `${API_KEY}:9`], WithDecryption: true }));
    expect(out.Parameters?.map((p) => [p.Name, p.Value])).toEqual([[API_KEY, VALUE_SENTINEL]]);
    expect(out.InvalidParameters).toEqual(['/nope', `${API_KEY}:9`]);
  });
});

describe('PutSecretValue', () => {
  it('makes a new AWSCURRENT version, the old one AWSPREVIOUS, and is idempotent for the same token and value', async () => {
    const secret = '/prod/payments/webhooks/signing-secret';
    const before = Date.now();
    const out = await sm.send(new PutSecretValueCommand({ SecretId: secret, SecretString: 'whsec_new', ClientRequestToken: token(1) }));
    expect(out).toMatchObject({ Name: secret, VersionId: token(1), VersionStages: ['AWSCURRENT'] });
    expect(out.ARN).toMatch(/:secret:\/prod\/payments\/webhooks\/signing-secret-/);
    expect(await stages(secret)).toEqual({ [token(1)]: ['AWSCURRENT'], 'c0000000-0002-4000-8000-000000000002': ['AWSPREVIOUS'] });
    expect(await currentValue(secret)).toBe('whsec_new');
    const described = await sm.send(new DescribeSecretCommand({ SecretId: secret }));
    expect(described.LastChangedDate!.getTime()).toBeGreaterThanOrEqual(before - 1000);

    const count = await versionCount(secret);
    const retry = await sm.send(new PutSecretValueCommand({ SecretId: secret, SecretString: 'whsec_new', ClientRequestToken: token(1) }));
    expect(retry).toMatchObject({ VersionId: token(1), VersionStages: ['AWSCURRENT'] });
    expect(await versionCount(secret)).toBe(count);
  });

  it('refuses the same token with a different value (ResourceExistsException) and changes nothing', async () => {
    const secret = 'staging/app/session-key';
    await sm.send(new PutSecretValueCommand({ SecretId: secret, SecretString: 'first', ClientRequestToken: token(2) }));
    const count = await versionCount(secret);
    const error = await rejection(sm.send(new PutSecretValueCommand({ SecretId: secret, SecretString: 'second', ClientRequestToken: token(2) })));
    expect(error.name).toBe('ResourceExistsException');
    expect(error.message).not.toContain('second');
    expect(await currentValue(secret)).toBe('first');
    expect(await versionCount(secret)).toBe(count);
  });

  it('the JSON database secret reads as its JSON, and GetSecretValue selects versions by id and stage', async () => {
    const value = JSON.parse((await currentValue(DB_CREDENTIALS_SECRET)) ?? '');
    expect(value).toEqual({ username: 'payments_app', password: VALUE_SENTINEL, host: 'db.internal' });
    const old = await sm.send(new GetSecretValueCommand({ SecretId: PENDING_ROTATION_SECRET, VersionStage: 'AWSPREVIOUS' }));
    expect(old.VersionId).toBe('a1b2c3d4-0001-4000-8000-00000000aaaa');
    const byId = await sm.send(new GetSecretValueCommand({ SecretId: PENDING_ROTATION_SECRET, VersionId: 'a1b2c3d4-0003-4000-8000-00000000cccc' }));
    expect(byId.VersionStages).toEqual(['AWSPENDING']);
    const missing = await rejection(sm.send(new GetSecretValueCommand({ SecretId: DB_CREDENTIALS_SECRET, VersionStage: 'AWSPREVIOUS' })));
    expect(missing.name).toBe('ResourceNotFoundException');
  });
});

describe('RotateSecret', () => {
  it('creates the AWSPENDING version named by the token, then the function promotes it to AWSCURRENT after the delay', async () => {
    const oldValue = await currentValue(ROTATABLE_SECRET);
    const oldCurrent = 'f0000000-0002-4000-8000-000000000002';
    const out = await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(3) }));
    expect(out).toMatchObject({ Name: ROTATABLE_SECRET, VersionId: token(3) });

    expect(await stages(ROTATABLE_SECRET)).toMatchObject({ [token(3)]: ['AWSPENDING'], [oldCurrent]: ['AWSCURRENT'] });
    const pending = await sm.send(new GetSecretValueCommand({ SecretId: ROTATABLE_SECRET, VersionStage: 'AWSPENDING' }));
    expect(pending.SecretString).not.toBe(oldValue);
    expect(await currentValue(ROTATABLE_SECRET)).toBe(oldValue);

    await vi.waitFor(async () => expect((await stages(ROTATABLE_SECRET))[token(3)]).toEqual(['AWSCURRENT']), { timeout: 3_000, interval: 50 });
    expect(await stages(ROTATABLE_SECRET)).toEqual({ [token(3)]: ['AWSCURRENT'], [oldCurrent]: ['AWSPREVIOUS'] });
    expect(await currentValue(ROTATABLE_SECRET)).toBe(pending.SecretString);
    const described = await sm.send(new DescribeSecretCommand({ SecretId: ROTATABLE_SECRET }));
    expect(Date.now() - described.LastRotatedDate!.getTime()).toBeLessThan(5_000);
    // rate(14 days) from the rotation just done.
    expect(described.NextRotationDate!.getTime() - Date.now()).toBeGreaterThan(13.9 * DAY);
    expect(described.NextRotationDate!.getTime() - Date.now()).toBeLessThan(14.1 * DAY);

    // The control endpoint tells a browser test the old and the new value.
    const values = (await (await fetch(`${sim.url}/__values?service=secretsmanager&name=${encodeURIComponent(ROTATABLE_SECRET)}`)).json()) as StoredValues;
    expect(values.current).toBe(pending.SecretString);
    expect(values.versions).toContainEqual({ id: oldCurrent, value: oldValue, stages: ['AWSPREVIOUS'] });
  });

  it('a retry with the same token rotates once: same VersionId, one new version', async () => {
    const count = await versionCount(ROTATABLE_SECRET);
    const first = await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(4) }));
    const retry = await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(4) }));
    expect(retry.VersionId).toBe(first.VersionId);
    expect(await versionCount(ROTATABLE_SECRET)).toBe(count + 1);
    await vi.waitFor(async () => expect(await stages(ROTATABLE_SECRET)).not.toHaveProperty([token(4)], ['AWSPENDING']), { timeout: 3_000, interval: 50 });
    await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(4) }));
    expect(await versionCount(ROTATABLE_SECRET)).toBe(count + 1);
    expect((await stages(ROTATABLE_SECRET))[token(4)]).toEqual(['AWSCURRENT']);
  });

  it('a failing rotation function leaves AWSPENDING on the new version and never promotes it; a second rotation is refused', async () => {
    const before = await currentValue(FAILING_ROTATION_SECRET);
    await sm.send(new RotateSecretCommand({ SecretId: FAILING_ROTATION_SECRET, ClientRequestToken: token(5) }));
    await new Promise((resolve) => setTimeout(resolve, ROTATION_DELAY_MS * 4));
    expect(await stages(FAILING_ROTATION_SECRET)).toEqual({ [token(5)]: ['AWSPENDING'], 'e0000000-0001-4000-8000-000000000001': ['AWSCURRENT'] });
    expect(await currentValue(FAILING_ROTATION_SECRET)).toBe(before);

    const again = await rejection(sm.send(new RotateSecretCommand({ SecretId: FAILING_ROTATION_SECRET, ClientRequestToken: token(6) })));
    expect(again.name).toBe('InvalidRequestException');
    expect(again.message).toBe("A previous rotation isn't complete. That rotation will be reattempted.");
    expect(await versionCount(FAILING_ROTATION_SECRET)).toBe(2);
  });

  it('once the failed AWSPENDING is removed (UpdateSecretVersionStage), a new rotation is accepted', async () => {
    await sm.send(new RotateSecretCommand({ SecretId: FAILING_ROTATION_SECRET, ClientRequestToken: token(10) }));
    const unnamed = await rejection(sm.send(new UpdateSecretVersionStageCommand({ SecretId: FAILING_ROTATION_SECRET, VersionStage: 'AWSPENDING', RemoveFromVersionId: token(99) })));
    expect(unnamed.name).toBe('InvalidParameterException');
    await sm.send(new UpdateSecretVersionStageCommand({ SecretId: FAILING_ROTATION_SECRET, VersionStage: 'AWSPENDING', RemoveFromVersionId: token(10) }));
    expect((await stages(FAILING_ROTATION_SECRET))[token(10)]).toBeUndefined();
    expect((await sm.send(new RotateSecretCommand({ SecretId: FAILING_ROTATION_SECRET, ClientRequestToken: token(11) }))).VersionId).toBe(token(11));
  });

  it('refuses a rotation while another is pending (a different token), and accepts it once the first finished', async () => {
    await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(7) }));
    const refused = await rejection(sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(8) })));
    expect(refused.name).toBe('InvalidRequestException');
    expect(refused.message).toContain("A previous rotation isn't complete");
    // The data set's stripe key is mid-rotation from the start.
    expect((await rejection(sm.send(new RotateSecretCommand({ SecretId: PENDING_ROTATION_SECRET })))).name).toBe('InvalidRequestException');

    await vi.waitFor(async () => expect((await stages(ROTATABLE_SECRET))[token(7)]).toEqual(['AWSCURRENT']), { timeout: 3_000, interval: 50 });
    expect((await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, ClientRequestToken: token(8) }))).VersionId).toBe(token(8));
  });

  it('refuses a secret with no rotation function, and rotates it once a function is given', async () => {
    const refused = await rejection(sm.send(new RotateSecretCommand({ SecretId: DB_CREDENTIALS_SECRET })));
    expect(refused.name).toBe('InvalidRequestException');
    expect(refused.message).toBe('No Lambda rotation function ARN is associated with this secret.');
    expect(await versionCount(DB_CREDENTIALS_SECRET)).toBe(1);

    await sm.send(
      new RotateSecretCommand({
        SecretId: DB_CREDENTIALS_SECRET,
        ClientRequestToken: token(9),
        RotationLambdaARN: 'arn:aws:lambda:us-east-1:123456789012:function:rotate-db',
        RotationRules: { AutomaticallyAfterDays: 30 },
      }),
    );
    await vi.waitFor(async () => expect((await stages(DB_CREDENTIALS_SECRET))[token(9)]).toEqual(['AWSCURRENT']), { timeout: 3_000, interval: 50 });
    // A JSON secret keeps its shape: the function changes the password only.
    const rotated = JSON.parse((await currentValue(DB_CREDENTIALS_SECRET)) ?? '');
    expect(rotated).toMatchObject({ username: 'payments_app', host: 'db.internal' });
    expect(rotated.password).not.toBe(VALUE_SENTINEL);
    expect((await sm.send(new DescribeSecretCommand({ SecretId: DB_CREDENTIALS_SECRET }))).RotationEnabled).toBe(true);
  });

  it('sets a schedule without rotating (RotateImmediately false), and CancelRotateSecret turns it off keeping the rules', async () => {
    const count = await versionCount(ROTATABLE_SECRET);
    await sm.send(
      new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, RotateImmediately: false, RotationRules: { ScheduleExpression: 'rate(10 days)', Duration: '2h' } }),
    );
    let described = await sm.send(new DescribeSecretCommand({ SecretId: ROTATABLE_SECRET }));
    expect(described.RotationEnabled).toBe(true);
    expect(described.RotationRules).toEqual({ AutomaticallyAfterDays: 10, ScheduleExpression: 'rate(10 days)', Duration: '2h' });
    // Last rotated 6 days ago: the next is 4 days away.
    const untilNext = described.NextRotationDate!.getTime() - Date.now();
    expect(untilNext).toBeGreaterThan(3.9 * DAY);
    expect(untilNext).toBeLessThan(4.1 * DAY);
    expect(await versionCount(ROTATABLE_SECRET)).toBe(count);

    await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, RotateImmediately: false, RotationRules: { ScheduleExpression: 'cron(0 16 ? * MON *)' } }));
    described = await sm.send(new DescribeSecretCommand({ SecretId: ROTATABLE_SECRET }));
    expect(described.RotationRules).toEqual({ ScheduleExpression: 'cron(0 16 ? * MON *)' });
    expect(described.NextRotationDate!.getTime()).toBeGreaterThan(Date.now());
    await sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, RotateImmediately: false, RotationRules: { ScheduleExpression: 'rate(4 hours)' } }));

    await sm.send(new CancelRotateSecretCommand({ SecretId: ROTATABLE_SECRET }));
    described = await sm.send(new DescribeSecretCommand({ SecretId: ROTATABLE_SECRET }));
    expect(described.RotationEnabled).toBe(false);
    expect(described.RotationRules).toEqual({ ScheduleExpression: 'rate(4 hours)' });
    expect(described.NextRotationDate).toBeUndefined();
    expect(await versionCount(ROTATABLE_SECRET)).toBe(count);
  });

  it.each([['rate(0 days)'], ['rate(1001 days)'], ['rate(3 hours)'], ['rate(24 hours)'], ['every day'], ['cron(0 16 * * * *)'], ['cron(0 16 ? *)']])(
    'refuses the schedule %s with InvalidParameterException and keeps the old one',
    async (expression) => {
      const error = await rejection(sm.send(new RotateSecretCommand({ SecretId: ROTATABLE_SECRET, RotateImmediately: false, RotationRules: { ScheduleExpression: expression } })));
      expect(error.name).toBe('InvalidParameterException');
      expect((await sm.send(new DescribeSecretCommand({ SecretId: ROTATABLE_SECRET }))).RotationRules).toEqual({ AutomaticallyAfterDays: 14, ScheduleExpression: 'rate(14 days)' });
    },
  );
});

describe('instances and control endpoints', () => {
  it('two instances do not share state, and the exported data set is never written', async () => {
    const other = await startBrowserDataAws();
    const otherSsm = new SSMClient(clientConfig(other.url));
    try {
      await ssm.send(new PutParameterCommand({ Name: API_KEY, Value: 'only-here', Type: 'SecureString', KeyId: PAYMENTS_KEY_ARN, Overwrite: true }));
      expect((await ssm.send(new GetParameterCommand({ Name: API_KEY, WithDecryption: true }))).Parameter?.Value).toBe('only-here');
      expect((await otherSsm.send(new GetParameterCommand({ Name: API_KEY, WithDecryption: true }))).Parameter).toMatchObject({ Value: VALUE_SENTINEL, Version: 3 });
      expect(parameters.find((p) => p.Name === API_KEY)!.History).toHaveLength(2);
      expect(other.values('ssm', API_KEY)?.current).toBe(VALUE_SENTINEL);
      expect(sim.values('ssm', API_KEY)?.versions.map((v) => v.value)).toEqual([VALUE_SENTINEL, VALUE_SENTINEL, VALUE_SENTINEL, 'only-here']);
    } finally {
      otherSsm.destroy();
      await other.close();
    }
  });

  it('/__control changes latency and rotation delay; bad input is a 400 naming the field', async () => {
    const bad = await fetch(`${sim.url}/__control`, { method: 'POST', body: JSON.stringify({ latencyMs: -5 }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('latencyMs');
    const unknown = await fetch(`${sim.url}/__control`, { method: 'POST', body: JSON.stringify({ speed: 1 }) });
    expect(unknown.status).toBe(400);
    expect(sim.stats().latencyMs).toBe(0);

    const ok = await fetch(`${sim.url}/__control`, { method: 'POST', body: JSON.stringify({ latencyMs: 200, rotationDelayMs: ROTATION_DELAY_MS }) });
    expect(ok.status).toBe(200);
    expect(sim.stats().latencyMs).toBe(200);
    const started = performance.now();
    await ssm.send(new GetParameterCommand({ Name: API_KEY }));
    expect(performance.now() - started).toBeGreaterThanOrEqual(190);
  });

  it('/__values names a bad query and an unknown item', async () => {
    expect((await fetch(`${sim.url}/__values?service=s3&name=x`)).status).toBe(400);
    expect((await fetch(`${sim.url}/__values?service=ssm&name=/nope`)).status).toBe(404);
    const found = (await (await fetch(`${sim.url}/__values?service=ssm&name=${encodeURIComponent(API_KEY)}`)).json()) as StoredValues;
    expect(found).toEqual({
      current: VALUE_SENTINEL,
      versions: [
        { id: 1, value: VALUE_SENTINEL, labels: [] },
        { id: 2, value: VALUE_SENTINEL, labels: ['previous'] },
        { id: 3, value: VALUE_SENTINEL, labels: ['live'] },
      ],
    });
  });

  it('records every call, writes included, by Name or SecretId', async () => {
    await ssm.send(new PutParameterCommand({ Name: '/prod/payments/db/host', Value: 'db2', Overwrite: true }));
    await sm.send(new PutSecretValueCommand({ SecretId: 'staging/app/session-key', SecretString: 'v' }));
    expect(sim.calls().map((c) => [c.service, c.operation, c.name, c.signed, c.error])).toEqual([
      ['ssm', 'PutParameter', '/prod/payments/db/host', true, null],
      ['secretsmanager', 'PutSecretValue', 'staging/app/session-key', true, null],
    ]);
  });
});
