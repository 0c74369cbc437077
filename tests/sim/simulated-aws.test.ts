import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  CancelRotateSecretCommand,
  DescribeSecretCommand,
  GetResourcePolicyCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  RotateSecretCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  ListTagsForResourceCommand,
  PutParameterCommand,
  SSMClient,
  type ParameterStringFilter,
} from '@aws-sdk/client-ssm';
import { isThrottlingError } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIM_VALUE_SENTINEL, createSimulatedAws, startSimulatedAws, type SimCall, type SimulatedAws } from '@/simulator/simulated-aws';

// The simulated AWS against the real SDK v3 clients: paging, path levels, filters, validation,
// throttling as the SDK classifies it, runtime control, and signatures. Each test checks both what
// is allowed and what fails.

const credentials = { accessKeyId: 'AKIDSIMULATED', secretAccessKey: 'simulated-secret' };
let sim: SimulatedAws;
const ssm = (maxAttempts = 1) => new SSMClient({ endpoint: sim.url, region: 'us-east-1', credentials, maxAttempts });
const sm = (maxAttempts = 1) => new SecretsManagerClient({ endpoint: sim.url, region: 'us-east-1', credentials, maxAttempts });

async function rejection(promise: Promise<unknown>): Promise<Error & { $metadata?: { httpStatusCode?: number }}> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the call to fail');
}

async function describeAll(filters?: ParameterStringFilter[], maxResults = 50): Promise<{ names: string[]; pages: number[] }> {
  const client = ssm();
  const names: string[] = [];
  const pages: number[] = [];
  let token: string | undefined;
  do {
    const out = await client.send(new DescribeParametersCommand({ ParameterFilters: filters, MaxResults: maxResults, NextToken: token }));
    pages.push(out.Parameters?.length ?? 0);
    names.push(...(out.Parameters ?? []).map((p) => p.Name!));
    token = out.NextToken;
  } while (token);
  return { names, pages };
}

async function listAllSecrets(input: { Filters?: { Key: 'name'; Values: string[] }[]; IncludePlannedDeletion?: boolean; SortOrder?: 'asc' | 'desc' }): Promise<SecretListEntry[]> {
  const client = sm();
  const out: SecretListEntry[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListSecretsCommand({ ...input, MaxResults: 100, NextToken: token }));
    out.push(...(page.SecretList ?? []));
    token = page.NextToken;
  } while (token);
  return out;
}

type SdkError = Parameters<typeof isThrottlingError>[0];

const sorted = (names: string[]) => [...names].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

async function control(body: unknown): Promise<Response> {
  return fetch(`${sim.url}/__control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

beforeAll(async () => {
  sim = await startSimulatedAws({
    latencyMs: 1,
    ssm: [
      { pattern: 'hierarchy', count: 450 },
      { pattern: 'flat:bulk', count: 120 },
    ],
    extraParameters: [
      { Name: '/scale/team1/direct', Type: 'SecureString', Description: 'Stripe token', Tags: [{ Key: 'team', Value: 'payments' }] },
      { Name: 'toplevel' },
    ],
    secretsmanager: [{ pattern: 'hierarchy', count: 300 }],
    extraSecrets: [{ Name: 'Scale/upper-case' }, { Name: 'app/prod/db', DeletedDate: null }],
    denyTags: ['/bulk/item-000007'],
  });
});

afterAll(async () => {
  await sim?.close();
});

beforeEach(() => {
  sim.control({ quotas: { 'ssm:DescribeParameters': null, 'ssm:ListTagsForResource': null }, failAll: null, scanWindow: 1000 });
});

describe('DescribeParameters', () => {
  it('pages through every parameter exactly once, in name order, and refuses MaxResults 51 or a bad token', async () => {
    const { names, pages } = await describeAll();
    expect(names).toHaveLength(450 + 120 + 2);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toEqual(sorted(names));
    expect(names).toContain('/scale/team2/svc2/key1');
    expect(names).toContain('/bulk/item-000120');
    expect(pages.slice(0, -1).every((n) => n === 50)).toBe(true);

    // With a small scan window pages come back short (as AWS's may), and still cover everything once.
    sim.control({ scanWindow: 30 });
    const recursive = await describeAll([{ Key: 'Path', Option: 'Recursive', Values: ['/scale'] }]);
    expect(recursive.pages.some((n) => n < 50 && n > 0)).toBe(true);
    expect(recursive.names).toEqual(names.filter((n) => n.startsWith('/scale/')));

    const tooMany = await rejection(ssm().send(new DescribeParametersCommand({ MaxResults: 51 })));
    expect(tooMany.name).toBe('ValidationException');
    const badToken = await rejection(ssm().send(new DescribeParametersCommand({ NextToken: 'not-a-token' })));
    expect(badToken.name).toBe('InvalidNextToken');
  });

  it('lists one level or the whole subtree of a path, and finds a name with Equals', async () => {
    const oneLevel = await describeAll([{ Key: 'Path', Option: 'OneLevel', Values: ['/scale/team1'] }]);
    expect(oneLevel.names).toEqual(['/scale/team1/direct']);
    const leaf = await describeAll([{ Key: 'Path', Option: 'OneLevel', Values: ['/scale/team1/svc1'] }]);
    expect(leaf.names.length).toBeGreaterThan(100);
    expect(leaf.names.every((n) => /^\/scale\/team1\/svc1\/key\d+$/.test(n))).toBe(true);
    const recursive = await describeAll([{ Key: 'Path', Option: 'Recursive', Values: ['/scale/team1'] }]);
    expect(recursive.names.length).toBeGreaterThan(200);
    expect(recursive.names).toContain('/scale/team1/direct');
    expect(recursive.names).toContain('/scale/team1/svc2/key1');
    const root = await describeAll([{ Key: 'Path', Option: 'OneLevel', Values: ['/'] }]);
    expect(root.names).toEqual(['toplevel']);

    const equals = await describeAll([{ Key: 'Name', Option: 'Equals', Values: ['/scale/team1/direct'] }]);
    expect(equals.names).toEqual(['/scale/team1/direct']);
    const wrongOption = await rejection(ssm().send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Path', Option: 'Equals', Values: ['/scale'] }] })));
    expect(wrongOption.name).toBe('InvalidFilterOption');
  });
});

describe('GetParametersByPath and the other Parameter Store reads', () => {
  it('answers MaxResults 10 and refuses 11; values are the sentinel', async () => {
    const out = await ssm().send(new GetParametersByPathCommand({ Path: '/bulk', MaxResults: 10, WithDecryption: true }));
    expect(out.Parameters).toHaveLength(10);
    expect(out.Parameters!.every((p) => p.Value === SIM_VALUE_SENTINEL)).toBe(true);
    expect(out.NextToken).toBeTruthy();
    const error = await rejection(ssm().send(new GetParametersByPathCommand({ Path: '/bulk', MaxResults: 11 })));
    expect(error.name).toBe('ValidationException');
    expect(error.$metadata?.httpStatusCode).toBe(400);
    expect(sim.stats().operations['ssm:GetParametersByPath']).toMatchObject({ calls: 2, ok: 1, errors: 1, withDecryption: 1 });
  });

  it('gives a history with one entry per version, and tags unless denied', async () => {
    const meta = (await ssm().send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/bulk/item-000007'] }] }))).Parameters![0]!;
    const history = await ssm().send(new GetParameterHistoryCommand({ Name: '/bulk/item-000007', WithDecryption: true }));
    expect(history.Parameters).toHaveLength(meta.Version!);
    expect(history.Parameters!.at(-1)!.LastModifiedDate).toEqual(meta.LastModifiedDate);
    expect(history.Parameters!.every((p) => p.Value === SIM_VALUE_SENTINEL)).toBe(true);

    const tags = await ssm().send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/scale/team1/direct' }));
    expect(tags.TagList).toEqual([{ Key: 'team', Value: 'payments' }]);
    const denied = await rejection(ssm().send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/bulk/item-000007' })));
    expect(denied.name).toBe('AccessDeniedException');
    const missing = await rejection(ssm().send(new GetParameterHistoryCommand({ Name: '/no/such' })));
    expect(missing.name).toBe('ParameterNotFound');
  });
});

describe('ListSecrets', () => {
  it('filters by name prefix, case-sensitively, with ! negation and OR-ed values', async () => {
    const all = (await listAllSecrets({ IncludePlannedDeletion: true })).map((s) => s.Name!);
    expect(all).toHaveLength(302);
    expect(new Set(all).size).toBe(302);
    expect(all).toEqual(sorted(all));
    expect(all.filter((n) => n.startsWith('/scale/'))).toHaveLength(6);

    const team1 = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['scale/team1/'] }] })).map((s) => s.Name!);
    expect(team1.length).toBeGreaterThan(50);
    expect(team1).toEqual(all.filter((n) => n.startsWith('scale/team1/')));
    const upper = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['Scale/'] }] })).map((s) => s.Name!);
    expect(upper).toEqual(['Scale/upper-case']);
    const shouting = await listAllSecrets({ Filters: [{ Key: 'name', Values: ['SCALE/team1/'] }] });
    expect(shouting).toEqual([]);

    const negated = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['!scale/'] }] })).map((s) => s.Name!);
    expect(negated).toEqual(all.filter((n) => !n.startsWith('scale/')));
    expect(negated).toContain('/scale/team1/svc1/secret50');
    const either = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['app/', 'Scale/'] }] })).map((s) => s.Name!);
    expect(either).toEqual(['Scale/upper-case', 'app/prod/db']);

    const desc = (await listAllSecrets({ IncludePlannedDeletion: true, SortOrder: 'desc' })).map((s) => s.Name!);
    expect(desc).toEqual([...all].reverse());
    const tooMany = await rejection(sm().send(new ListSecretsCommand({ MaxResults: 101 })));
    expect(tooMany.name).toBe('ValidationException');
  });

  it('ANDs filters, excludes a name matching any negated value, and steps over negated prefixes in one scan', async () => {
    const all = (await listAllSecrets({ IncludePlannedDeletion: true })).map((s) => s.Name!);
    // A positive prefix and a negation in separate filters: both must hold.
    const team1NotSvc1 = (
      await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['scale/team1/'] }, { Key: 'name', Values: ['!scale/team1/svc1/'] }] })
    ).map((s) => s.Name!);
    expect(team1NotSvc1.length).toBeGreaterThan(0);
    expect(team1NotSvc1).toEqual(all.filter((n) => n.startsWith('scale/team1/') && !n.startsWith('scale/team1/svc1/')));
    // Several negated values in one filter: a name matching any of them is left out.
    const neither = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['!scale/', '!/scale/'] }] })).map((s) => s.Name!);
    expect(neither).toEqual(all.filter((n) => !n.startsWith('scale/') && !n.startsWith('/scale/')));
    expect(neither).toEqual(['Scale/upper-case', 'app/prod/db']);
    // The negated prefix 'scale/' is one range of the sorted names: with a scan window far smaller
    // than it, the listing still ends in one call instead of one per window.
    sim.control({ scanWindow: 20, resetStats: true });
    const out = await sm().send(new ListSecretsCommand({ IncludePlannedDeletion: true, MaxResults: 100, Filters: [{ Key: 'name', Values: ['!scale/', '!/scale/'] }] }));
    expect(out.SecretList?.map((s) => s.Name)).toEqual(['Scale/upper-case', 'app/prod/db']);
    expect(out.NextToken).toBeUndefined();
    expect(sim.stats().operations['secretsmanager:ListSecrets']?.calls).toBe(1);
    // Negations are not a prefix match on any other character: '!scale' keeps 'Scale/…' (case-sensitive).
    const lower = (await listAllSecrets({ IncludePlannedDeletion: true, Filters: [{ Key: 'name', Values: ['!scale'] }] })).map((s) => s.Name!);
    expect(lower).toContain('Scale/upper-case');
    expect(lower.some((n) => n.startsWith('scale'))).toBe(false);
  });

  it('counts the calls of the busiest second, so a test can prove a rate ceiling', async () => {
    sim.control({ resetStats: true });
    await Promise.all(Array.from({ length: 12 }, () => sm().send(new ListSecretsCommand({ MaxResults: 1 }))));
    const stats = sim.stats().operations['secretsmanager:ListSecrets']!;
    expect(stats.calls).toBe(12);
    expect(stats.maxCallsPerSecond).toBe(12);
    sim.control({ resetStats: true });
    for (let i = 0; i < 3; i++) {
      await sm().send(new ListSecretsCommand({ MaxResults: 1 }));
      await new Promise((resolve) => setTimeout(resolve, 1050));
    }
    expect(sim.stats().operations['secretsmanager:ListSecrets']?.maxCallsPerSecond).toBe(1);
  }, 10_000);

  it('hides secrets planned for deletion unless asked, and describes secrets by name or ARN', async () => {
    const all = await listAllSecrets({ IncludePlannedDeletion: true });
    const live = await listAllSecrets({});
    expect(live.every((s) => s.DeletedDate === undefined)).toBe(true);
    expect(all.filter((s) => s.DeletedDate === undefined).map((s) => s.Name)).toEqual(live.map((s) => s.Name));

    const first = live[0]!;
    expect(first.SecretVersionsToStages && Object.values(first.SecretVersionsToStages).flat()).toContain('AWSCURRENT');
    const byArn = await sm().send(new DescribeSecretCommand({ SecretId: first.ARN }));
    expect(byArn.Name).toBe(first.Name);
    expect(byArn.VersionIdsToStages).toEqual(first.SecretVersionsToStages);
    const versions = await sm().send(new ListSecretVersionIdsCommand({ SecretId: first.Name }));
    expect(versions.Versions!.some((v) => v.VersionStages?.includes('AWSCURRENT'))).toBe(true);
    const value = await sm().send(new GetSecretValueCommand({ SecretId: first.Name }));
    expect(value.SecretString).toBe(SIM_VALUE_SENTINEL);

    const wrongSuffix = await rejection(sm().send(new DescribeSecretCommand({ SecretId: `${first.ARN!.slice(0, -6)}zzzzzz` })));
    expect(wrongSuffix.name).toBe('ResourceNotFoundException');
  });
});

describe('quotas', () => {
  it('throttles a burst over the quota with a ThrottlingException the SDK classifies as throttling', async () => {
    sim.control({ quotas: { 'ssm:DescribeParameters': 5 }, resetStats: true });
    const client = ssm(1);
    const started = performance.now();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => client.send(new DescribeParametersCommand({ MaxResults: 5 }))));
    const seconds = (performance.now() - started) / 1000;
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error & { $metadata: { httpStatusCode?: number; attempts?: number } });
    // The burst of 5, plus what the bucket refilled (5/s) while the SDK was still sending.
    expect(ok.length).toBeGreaterThanOrEqual(5);
    expect(ok.length).toBeLessThanOrEqual(5 + Math.ceil(5 * seconds));
    expect(ok.length).toBeLessThan(15);
    expect(failed.length).toBe(20 - ok.length);
    for (const error of failed) {
      expect(error.name).toBe('ThrottlingException');
      expect(error.message).toBe('Rate exceeded');
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.$metadata.attempts).toBe(1);
      // The retry strategy's own test. `$retryable` is set only for errors whose model carries
      // @retryable, which SSM's ThrottlingException does not; the SDK recognises it by its name.
      expect(isThrottlingError(error as unknown as SdkError)).toBe(true);
    }
    const stats = sim.stats().operations['ssm:DescribeParameters']!;
    expect(stats).toMatchObject({ calls: 20, ok: ok.length, throttled: failed.length, errors: 0, maxCallsPerSecond: 20 });
    expect(stats.maxAcceptedPerSecond).toBe(ok.length);

    // Secrets Manager has no modelled ThrottlingException; the SDK still names and classifies it.
    sim.control({ quotas: { 'secretsmanager:ListSecrets': 1 } });
    const listed = await Promise.allSettled([1, 2, 3].map(() => sm(1).send(new ListSecretsCommand({ MaxResults: 1 }))));
    expect(listed.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    for (const r of listed.filter((x): x is PromiseRejectedResult => x.status === 'rejected')) {
      expect((r.reason as Error).name).toBe('ThrottlingException');
      expect(isThrottlingError(r.reason as SdkError)).toBe(true);
    }
    sim.control({ quotas: { 'secretsmanager:ListSecrets': null } });

    // An unlimited operation is never throttled, and the SDK's retries get a throttled call through.
    const tags = await Promise.all(Array.from({ length: 20 }, () => client.send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/bulk/item-000001' }))));
    expect(tags).toHaveLength(20);
    sim.control({ quotas: { 'ssm:DescribeParameters': 2 } });
    const retried = await Promise.all(Array.from({ length: 3 }, () => ssm(6).send(new DescribeParametersCommand({ MaxResults: 5 }))));
    expect(Math.max(...retried.map((r) => r.$metadata.attempts ?? 1))).toBeGreaterThan(1);
  });

  it('fails every call while failAll is set, and recovers when it is cleared', async () => {
    const off = await control({ failAll: 'AccessDeniedException' });
    expect(off.status).toBe(200);
    const denied = await rejection(sm().send(new ListSecretsCommand({})));
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('secretsmanager:ListSecrets');
    await control({ failAll: null });
    expect((await sm().send(new ListSecretsCommand({ MaxResults: 1 }))).SecretList).toHaveLength(1);
    const bad = await control({ failAll: 42 });
    expect(bad.status).toBe(400);
  });
});

describe('control and signatures', () => {
  it('deletes and adds parameters through /__control', async () => {
    const name = '/bulk/item-000042';
    expect((await ssm().send(new GetParameterCommand({ Name: name }))).Parameter?.Value).toBe(SIM_VALUE_SENTINEL);
    const res = await control({ deleteParameters: [name, '/no/such'], addParameters: [{ Name: '/bulk/zz-new', Type: 'String' }] });
    expect(await res.json()).toMatchObject({ ok: true, deleted: 1, added: 1, notFound: ['/no/such'] });

    const gone = await rejection(ssm().send(new GetParameterCommand({ Name: name })));
    expect(gone.name).toBe('ParameterNotFound');
    const listed = (await describeAll([{ Key: 'Path', Option: 'OneLevel', Values: ['/bulk'] }])).names;
    expect(listed).not.toContain(name);
    expect(listed).toContain('/bulk/zz-new');
    expect(listed).toHaveLength(120);

    const bad = await control({ deleteParameters: 'not-a-list' });
    expect(bad.status).toBe(400);
  });

  it('answers 403 MissingAuthenticationTokenException to an unsigned request', async () => {
    const unsigned = await fetch(sim.url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AmazonSSM.DescribeParameters' },
      body: '{}',
    });
    expect(unsigned.status).toBe(403);
    expect(unsigned.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await unsigned.json()).toMatchObject({ __type: 'MissingAuthenticationTokenException' });

    const signed = await ssm().send(new DescribeParametersCommand({ MaxResults: 1 }));
    expect(signed.$metadata.httpStatusCode).toBe(200);
    expect(signed.Parameters).toHaveLength(1);
    const health = await (await fetch(`${sim.url}/__health`)).json();
    expect(health).toMatchObject({ status: 'ok', secrets: 302 });
  });
});

// ---------------------------------------------------------------------------------------------
// One account of a simulated organisation: its own account and region, writes, the rotation
// function, the call hook, failure scopes and the call log.

describe('an account of its own: writes, rotation, the call hook, failure scopes', () => {
  const ACCOUNT = '111111111111';
  const REGION = 'eu-west-1';
  const KEY = 'AKIDPRODWRITER';
  const PRINCIPAL = `arn:aws:sts::${ACCOUNT}:assumed-role/secrets-dashboard/dashboard`;
  // Values only this block writes or gives: no SimCall may ever contain one.
  const GIVEN_PARAMETER_VALUE = 'S1-GIVEN-PARAMETER-VALUE-7f3a';
  const WRITTEN_PARAMETER_VALUE = 'S1-WRITTEN-PARAMETER-VALUE-91bc';
  const GIVEN_SECRET_VALUE = JSON.stringify({ username: 'app', password: 'S1-GIVEN-SECRET-PASSWORD-44d0' });
  const WRITTEN_SECRET_VALUE = 'S1-WRITTEN-SECRET-VALUE-0e6d';
  const VALUES = ['S1-GIVEN-PARAMETER-VALUE', 'S1-WRITTEN-PARAMETER-VALUE', 'S1-GIVEN-SECRET-PASSWORD', 'S1-WRITTEN-SECRET-VALUE'];
  const LAMBDA = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-db`;
  const token = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

  let org: SimulatedAws;
  const hooked: SimCall[] = [];
  const orgCredentials = { accessKeyId: KEY, secretAccessKey: 'simulated' };
  const orgSsm = (path = '', extra: Partial<ConstructorParameters<typeof SSMClient>[0]> = {}) =>
    new SSMClient({ endpoint: `${org.url}${path}`, region: REGION, credentials: orgCredentials, maxAttempts: 1, ...extra });
  const orgSm = (path = '', extra: Partial<ConstructorParameters<typeof SecretsManagerClient>[0]> = {}) =>
    new SecretsManagerClient({ endpoint: `${org.url}${path}`, region: REGION, credentials: orgCredentials, maxAttempts: 1, ...extra });
  const stagesOf = async (id: string) => (await orgSm().send(new DescribeSecretCommand({ SecretId: id }))).VersionIdsToStages ?? {};
  const waitFor = async (check: () => Promise<boolean>, ms = 3000) => {
    const until = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > until) throw new Error('timed out waiting');
      await new Promise((r) => setTimeout(r, 25));
    }
  };

  beforeAll(async () => {
    org = await startSimulatedAws({
      account: ACCOUNT,
      region: REGION,
      latencyMs: 0,
      rotationDelayMs: 150,
      recordCalls: true,
      principals: { [KEY]: PRINCIPAL },
      onCall: (call) => hooked.push(call),
      quotas: { 'ssm:PutParameter': null },
      ssm: [{ pattern: 'flat:gen', count: 5 }],
      secretsmanager: [{ pattern: 'flat:gen', count: 3 }],
      extraParameters: [
        {
          Name: '/prod/db/password',
          Type: 'SecureString',
          Value: GIVEN_PARAMETER_VALUE,
          Version: 3,
          LastModifiedDate: '2026-11-01T00:00:00Z',
          History: [
            { Version: 1, LastModifiedDate: '2026-01-01T00:00:00Z', LastModifiedUser: `arn:aws:iam::${ACCOUNT}:user/alice` },
            { Version: 2, LastModifiedDate: '2026-06-01T00:00:00Z', Labels: ['previous'] },
          ],
        },
      ],
      extraSecrets: [
        { Name: 'prod/db/credentials', SecretString: GIVEN_SECRET_VALUE, RotationLambdaARN: LAMBDA, RotationDays: 30, LastRotatedDate: '2026-11-20T00:00:00Z' },
        { Name: 'prod/legacy/credential', RotationLambdaARN: LAMBDA, RotationFails: true },
        { Name: 'prod/stuck/credential', RotationLambdaARN: LAMBDA, PendingSince: '2026-12-01T00:00:00Z' },
        { Name: 'prod/plain/token', RotationEnabled: false, ResourcePolicy: '{"Version":"2012-10-17","Statement":[]}' },
      ],
    });
  });

  afterAll(async () => {
    await org?.close();
  });

  it('names its own account and region in every ARN and message, and refuses an ARN of another account', async () => {
    const params = (await orgSsm().send(new DescribeParametersCommand({ MaxResults: 50 }))).Parameters!;
    expect(params.map((p) => p.ARN)).toContain(`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/prod/db/password`);
    expect(params.every((p) => p.ARN!.startsWith(`arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/`))).toBe(true);
    const secrets = (await orgSm().send(new ListSecretsCommand({}))).SecretList!;
    expect(secrets.every((s) => s.ARN!.startsWith(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:`) && s.PrimaryRegion === REGION)).toBe(true);
    const own = secrets.find((s) => s.Name === 'prod/db/credentials')!;
    expect((await orgSm().send(new DescribeSecretCommand({ SecretId: own.ARN }))).Name).toBe('prod/db/credentials');
    const foreign = await rejection(orgSm().send(new DescribeSecretCommand({ SecretId: own.ARN!.replace(ACCOUNT, '123456789012') })));
    expect(foreign.name).toBe('ResourceNotFoundException');
    const denied = await rejection(orgSm('/fail/access-denied').send(new ListSecretsCommand({})));
    expect(denied.message).toContain(`arn:aws:sts::${ACCOUNT}:`);
    expect(denied.message).not.toContain('123456789012');
  });

  it('PutParameter overwrites with a new version by the caller, keeps the history, and refuses to overwrite without Overwrite', async () => {
    const name = '/prod/db/password';
    const before = await orgSsm().send(new GetParameterCommand({ Name: name, WithDecryption: true }));
    expect(before.Parameter).toMatchObject({ Value: GIVEN_PARAMETER_VALUE, Version: 3 });
    // Without decryption a SecureString is ciphertext, never the value.
    const cipher = await orgSsm().send(new GetParameterCommand({ Name: name }));
    expect(cipher.Parameter!.Value).not.toContain(GIVEN_PARAMETER_VALUE);

    const refused = await rejection(orgSsm().send(new PutParameterCommand({ Name: name, Value: WRITTEN_PARAMETER_VALUE, Type: 'SecureString' })));
    expect(refused.name).toBe('ParameterAlreadyExists');
    const put = await orgSsm().send(new PutParameterCommand({ Name: name, Value: WRITTEN_PARAMETER_VALUE, Type: 'SecureString', Overwrite: true }));
    expect(put.Version).toBe(4);
    expect((await orgSsm().send(new GetParameterCommand({ Name: name, WithDecryption: true }))).Parameter).toMatchObject({ Value: WRITTEN_PARAMETER_VALUE, Version: 4 });
    expect((await orgSsm().send(new GetParameterCommand({ Name: `${name}:3`, WithDecryption: true }))).Parameter!.Value).toBe(GIVEN_PARAMETER_VALUE);
    expect((await orgSsm().send(new GetParameterCommand({ Name: `${name}:previous`, WithDecryption: true }))).Parameter!.Version).toBe(2);

    const history = (await orgSsm().send(new GetParameterHistoryCommand({ Name: name, WithDecryption: false }))).Parameters!;
    expect(history.map((h) => h.Version)).toEqual([1, 2, 3, 4]);
    expect(history[0]!.LastModifiedUser).toBe(`arn:aws:iam::${ACCOUNT}:user/alice`);
    expect(history[0]!.LastModifiedDate).toEqual(new Date('2026-01-01T00:00:00Z'));
    expect(history[3]!.LastModifiedUser).toBe(PRINCIPAL);
    expect(history.some((h) => VALUES.some((v) => h.Value!.includes(v)))).toBe(false);
    const described = (await orgSsm().send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: [name] }] }))).Parameters![0]!;
    expect(described).toMatchObject({ Version: 4, LastModifiedUser: PRINCIPAL, Type: 'SecureString', KeyId: 'alias/aws/ssm' });

    // A generated parameter becomes a written one; a new parameter starts at version 1.
    const generated = await orgSsm().send(new GetParameterHistoryCommand({ Name: '/gen/item-000001' }));
    const next = await orgSsm().send(new PutParameterCommand({ Name: '/gen/item-000001', Value: 'plain-new', Overwrite: true }));
    expect(next.Version).toBe(generated.Parameters!.length + 1);
    const created = await orgSsm().send(new PutParameterCommand({ Name: '/gen/new-one', Value: 'v1', Type: 'String', Tags: [{ Key: 'team', Value: 'x' }] }));
    expect(created.Version).toBe(1);
    expect((await orgSsm().send(new ListTagsForResourceCommand({ ResourceType: 'Parameter', ResourceId: '/gen/new-one' }))).TagList).toEqual([{ Key: 'team', Value: 'x' }]);
    const untyped = await rejection(orgSsm().send(new PutParameterCommand({ Name: '/gen/untyped', Value: 'v' })));
    expect(untyped.name).toBe('ValidationException');

    const values = (await (await fetch(`${org.url}/__values?service=ssm&name=${encodeURIComponent(name)}`)).json()) as { current: string; versions: { value: string }[] };
    expect(values.current).toBe(WRITTEN_PARAMETER_VALUE);
    expect(values.versions.map((v) => v.value)).toEqual([SIM_VALUE_SENTINEL, SIM_VALUE_SENTINEL, GIVEN_PARAMETER_VALUE, WRITTEN_PARAMETER_VALUE]);
  });

  it("PutParameter applies AWS's validation: tags with overwrite, tier limits and downgrades, AMI ids, reserved prefixes", async () => {
    const put = (input: Partial<ConstructorParameters<typeof PutParameterCommand>[0]>) =>
      orgSsm().send(new PutParameterCommand({ Name: '/limits/p', Value: 'v', Type: 'String', ...input }));
    expect((await put({})).Tier).toBe('Standard');
    expect((await rejection(put({ Overwrite: true, Tags: [{ Key: 'a', Value: 'b' }] }))).name).toBe('ValidationException');
    expect((await rejection(put({ Overwrite: true, Value: 'x'.repeat(4097) }))).message).toMatch(/^Standard tier parameters support a maximum/);
    expect((await put({ Overwrite: true, Value: 'x'.repeat(4097), Tier: 'Intelligent-Tiering' })).Tier).toBe('Advanced');
    expect((await rejection(put({ Overwrite: true, Tier: 'Standard' }))).message).toMatch(/can't downgrade/);
    expect((await rejection(put({ Overwrite: true, Value: 'x'.repeat(8193) }))).message).toMatch(/^Advanced tier parameters support a maximum/);
    expect((await put({ Name: '/limits/ami', Value: 'ami-0123456789abcdef0', DataType: 'aws:ec2:image' })).Version).toBe(1);
    const notAmi = await rejection(put({ Name: '/limits/ami', Value: 'S1-not-an-ami', DataType: 'aws:ec2:image', Overwrite: true }));
    expect(notAmi.name).toBe('ValidationException');
    expect(notAmi.message).not.toContain('S1-not-an-ami');
    expect((await rejection(put({ Name: '/aws/reserved' }))).name).toBe('ValidationException');
    const history = (await orgSsm().send(new GetParameterHistoryCommand({ Name: '/limits/p' }))).Parameters!;
    expect(history.map((h) => [h.Version, h.Tier])).toEqual([
      [1, 'Standard'],
      [2, 'Advanced'],
    ]);
  });

  it('PutSecretValue makes a new AWSCURRENT, the old one AWSPREVIOUS, once per token; the same token with another value is refused', async () => {
    const id = 'prod/plain/token';
    const [oldId] = Object.entries(await stagesOf(id)).find(([, stages]) => stages.includes('AWSCURRENT'))!;
    const put = await orgSm().send(new PutSecretValueCommand({ SecretId: id, SecretString: WRITTEN_SECRET_VALUE, ClientRequestToken: token(1) }));
    expect(put).toMatchObject({ VersionId: token(1), VersionStages: ['AWSCURRENT'] });
    const again = await orgSm().send(new PutSecretValueCommand({ SecretId: id, SecretString: WRITTEN_SECRET_VALUE, ClientRequestToken: token(1) }));
    expect(again.VersionId).toBe(token(1));
    const stages = await stagesOf(id);
    expect(stages[token(1)]).toEqual(['AWSCURRENT']);
    expect(stages[oldId]).toEqual(['AWSPREVIOUS']);
    const versions = (await orgSm().send(new ListSecretVersionIdsCommand({ SecretId: id }))).Versions!;
    expect(versions.filter((v) => v.VersionId === token(1))).toHaveLength(1);
    expect((await orgSm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(WRITTEN_SECRET_VALUE);
    expect((await orgSm().send(new GetSecretValueCommand({ SecretId: id, VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe(SIM_VALUE_SENTINEL);

    const changed = await rejection(orgSm().send(new PutSecretValueCommand({ SecretId: id, SecretString: 'another', ClientRequestToken: token(1) })));
    expect(changed.name).toBe('ResourceExistsException');
    expect((await orgSm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(WRITTEN_SECRET_VALUE);
    const policy = await orgSm().send(new GetResourcePolicyCommand({ SecretId: id }));
    expect(JSON.parse(policy.ResourcePolicy!)).toEqual({ Version: '2012-10-17', Statement: [] });
    expect((await orgSm().send(new GetResourcePolicyCommand({ SecretId: 'prod/db/credentials' }))).ResourcePolicy).toBeUndefined();
  });

  it('RotateSecret creates AWSPENDING, refuses a second rotation while it is pending, and the function promotes it after the delay', async () => {
    const id = 'prod/db/credentials';
    const before = await orgSm().send(new DescribeSecretCommand({ SecretId: id }));
    expect(before).toMatchObject({ RotationEnabled: true, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 30 } });
    expect(before.LastRotatedDate).toEqual(new Date('2026-11-20T00:00:00Z'));
    const [oldId] = Object.entries(before.VersionIdsToStages!).find(([, s]) => s.includes('AWSCURRENT'))!;

    const started = Date.now();
    const rotated = await orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(10), RotateImmediately: true }));
    expect(rotated.VersionId).toBe(token(10));
    expect((await stagesOf(id))[token(10)]).toEqual(['AWSPENDING']);
    expect((await orgSm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString).toBe(GIVEN_SECRET_VALUE);
    // A retry with the same token rotates once; another rotation is refused while this one runs.
    expect((await orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(10) }))).VersionId).toBe(token(10));
    const second = await rejection(orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(11) })));
    expect(second.name).toBe('InvalidRequestException');
    expect(second.message).toBe("A previous rotation isn't complete. That rotation will be reattempted.");

    await waitFor(async () => (await stagesOf(id))[token(10)]?.includes('AWSCURRENT') === true);
    const after = await orgSm().send(new DescribeSecretCommand({ SecretId: id }));
    expect(after.VersionIdsToStages![token(10)]).toEqual(['AWSCURRENT']);
    expect(after.VersionIdsToStages![oldId]).toEqual(['AWSPREVIOUS']);
    expect(after.LastRotatedDate!.getTime()).toBeGreaterThanOrEqual(started - 1000);
    expect(after.NextRotationDate!.getTime() - after.LastRotatedDate!.getTime()).toBe(30 * 86_400_000);
    // The function kept the JSON shape with a new password.
    const value = JSON.parse((await orgSm().send(new GetSecretValueCommand({ SecretId: id }))).SecretString!) as { username: string; password: string };
    expect(value.username).toBe('app');
    expect(value.password).not.toBe('S1-GIVEN-SECRET-PASSWORD-44d0');
    expect(hooked.filter((c) => c.eventType === 'AwsServiceEvent' && c.resources[0]?.arn === after.ARN).map((c) => c.operation)).toEqual(['RotationStarted', 'RotationSucceeded']);
  });

  it('a failing rotation function leaves AWSPENDING and AWSCURRENT as they were; a secret left pending or without a function is refused', async () => {
    const id = 'prod/legacy/credential';
    const [currentId] = Object.entries(await stagesOf(id)).find(([, s]) => s.includes('AWSCURRENT'))!;
    await orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(20) }));
    await waitFor(async () => hooked.some((c) => c.operation === 'RotationFailed'));
    const stages = await stagesOf(id);
    expect(stages[token(20)]).toEqual(['AWSPENDING']);
    expect(stages[currentId]).toEqual(['AWSCURRENT']);
    const failed = hooked.find((c) => c.operation === 'RotationFailed')!;
    expect(failed).toMatchObject({ service: 'secretsmanager', eventType: 'AwsServiceEvent', errorCode: 'RotationFailed', readOnly: false });
    expect((await rejection(orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(21) })))).name).toBe('InvalidRequestException');
    // Once the failed AWSPENDING is taken away (naming the version it is on), a new rotation is accepted.
    const unnamed = await rejection(orgSm().send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSPENDING', RemoveFromVersionId: token(99) })));
    expect(unnamed.name).toBe('InvalidParameterException');
    await orgSm().send(new UpdateSecretVersionStageCommand({ SecretId: id, VersionStage: 'AWSPENDING', RemoveFromVersionId: token(20) }));
    expect((await orgSm().send(new RotateSecretCommand({ SecretId: id, ClientRequestToken: token(24) }))).VersionId).toBe(token(24));

    const stuck = await stagesOf('prod/stuck/credential');
    expect(Object.values(stuck).filter((s) => s.includes('AWSPENDING'))).toHaveLength(1);
    expect((await rejection(orgSm().send(new RotateSecretCommand({ SecretId: 'prod/stuck/credential', ClientRequestToken: token(22) })))).name).toBe('InvalidRequestException');

    const noFunction = await rejection(orgSm().send(new RotateSecretCommand({ SecretId: 'prod/plain/token', ClientRequestToken: token(23) })));
    expect(noFunction.name).toBe('InvalidRequestException');
    expect(noFunction.message).toBe('No Lambda rotation function ARN is associated with this secret.');
  });

  it('RotateImmediately false sets the schedule without a new version; CancelRotateSecret turns rotation off, keeping the function and the rules', async () => {
    const id = 'prod/plain/token';
    const versionsBefore = Object.keys(await stagesOf(id)).length;
    await orgSm().send(
      new RotateSecretCommand({ SecretId: id, RotationLambdaARN: LAMBDA, RotationRules: { ScheduleExpression: 'rate(10 days)', Duration: '2h' }, RotateImmediately: false }),
    );
    const on = await orgSm().send(new DescribeSecretCommand({ SecretId: id }));
    expect(on).toMatchObject({ RotationEnabled: true, RotationLambdaARN: LAMBDA, RotationRules: { AutomaticallyAfterDays: 10, ScheduleExpression: 'rate(10 days)', Duration: '2h' } });
    expect(on.NextRotationDate).toBeInstanceOf(Date);
    expect(Object.keys(on.VersionIdsToStages!)).toHaveLength(versionsBefore);
    const badRules = await rejection(orgSm().send(new RotateSecretCommand({ SecretId: id, RotationRules: { ScheduleExpression: 'rate(2 hours)' }, RotateImmediately: false })));
    expect(badRules.name).toBe('InvalidParameterException');

    await orgSm().send(new CancelRotateSecretCommand({ SecretId: id }));
    const off = await orgSm().send(new DescribeSecretCommand({ SecretId: id }));
    expect(off).toMatchObject({ RotationEnabled: false, RotationLambdaARN: LAMBDA, RotationRules: { ScheduleExpression: 'rate(10 days)' } });
    expect(off.NextRotationDate).toBeUndefined();
    const listed = (await orgSm().send(new ListSecretsCommand({ Filters: [{ Key: 'name', Values: [id] }] }))).SecretList![0]!;
    expect(listed).toMatchObject({ RotationEnabled: false, RotationLambdaARN: LAMBDA });
  });

  it('the call hook gets every answered call with its caller, parameters and resources, and never a value', async () => {
    const calls = hooked.filter((c) => c.eventType === undefined);
    const json = JSON.stringify(hooked);
    for (const value of VALUES) expect(json).not.toContain(value);
    expect(json).not.toContain('"value"');
    expect(json).not.toContain('secretString');

    const put = calls.find((c) => c.operation === 'PutParameter' && c.errorCode === undefined)!;
    expect(put).toMatchObject({
      service: 'ssm',
      accessKeyId: KEY,
      readOnly: false,
      requestParameters: { name: '/prod/db/password', type: 'SecureString', overwrite: true },
      resources: [{ type: 'AWS::SSM::Parameter', arn: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/prod/db/password` }],
    });
    expect(put.userAgent).toContain('aws-sdk-js');
    const refused = calls.find((c) => c.operation === 'PutParameter' && c.errorCode !== undefined)!;
    expect(refused.errorCode).toBe('ParameterAlreadyExists');
    const read = calls.find((c) => c.operation === 'GetSecretValue')!;
    expect(read.readOnly).toBe(true);
    expect(read.resources[0]!.arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/plain/token-[A-Za-z0-9]{6}$`));
    const putSecret = calls.find((c) => c.operation === 'PutSecretValue')!;
    expect(putSecret.requestParameters).toEqual({ secretId: 'prod/plain/token', clientRequestToken: token(1) });
  });

  it('fails calls sent to /fail/<failure> as AWS does (timeout: never answered), records scopes, and /__reset restores the data set', async () => {
    const expectations = { 'access-denied': 'AccessDeniedException', throttled: 'ThrottlingException', 'not-found': 'ResourceNotFoundException', 'expired-token': 'ExpiredTokenException' };
    for (const [path, type] of Object.entries(expectations)) {
      const error = await rejection(orgSsm(`/fail/${path}`).send(new DescribeParametersCommand({})));
      expect(error.name).toBe(type);
    }
    const started = Date.now();
    const timedOut = await rejection(orgSm('/fail/timeout', { requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } }).send(new ListSecretsCommand({})));
    expect(timedOut.name).toBe('TimeoutError');
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
    // Any other path serves as usual, and is recorded as the call's scope.
    expect((await orgSsm('/writes').send(new GetParameterCommand({ Name: '/gen/item-000002', WithDecryption: true }))).Parameter!.Value).toBe(SIM_VALUE_SENTINEL);
    await orgSsm().send(new DescribeParametersCommand({ MaxResults: 1 }));

    const { calls } = (await (await fetch(`${org.url}/__calls`)).json()) as { calls: { scope: string; operation: string; name: string | null; error: string | null; withDecryption: boolean; signed: boolean }[] };
    expect(calls.find((c) => c.scope === 'fail/throttled')).toMatchObject({ operation: 'DescribeParameters', error: 'ThrottlingException', signed: true });
    expect(calls.find((c) => c.scope === 'fail/timeout')).toMatchObject({ operation: 'ListSecrets', error: null });
    expect(calls.find((c) => c.scope === 'writes')).toMatchObject({ operation: 'GetParameter', name: '/gen/item-000002', withDecryption: true, error: null });
    expect(calls.filter((c) => c.scope === 'ok').at(-1)).toMatchObject({ operation: 'DescribeParameters', error: null });
    expect(JSON.stringify(calls)).not.toContain('S1-');
    // The healthy instance records nothing unless asked.
    expect(((await (await fetch(`${sim.url}/__calls`)).json()) as { calls: unknown[] }).calls).toEqual([]);

    expect((await fetch(`${org.url}/__reset`, { method: 'POST' })).status).toBe(200);
    expect((await orgSsm().send(new GetParameterCommand({ Name: '/prod/db/password', WithDecryption: true }))).Parameter).toMatchObject({ Value: GIVEN_PARAMETER_VALUE, Version: 3 });
    expect((await rejection(orgSsm().send(new GetParameterCommand({ Name: '/gen/new-one' })))).name).toBe('ParameterNotFound');
    expect((await fetch(`${org.url}/__values?service=secretsmanager&name=no/such`)).status).toBe(404);
    expect((await fetch(`${org.url}/__values?service=kms&name=x`)).status).toBe(400);
  });

  it('takes an item whole from its input: labels, policies, older values, no description, explicit secret versions and replicas', async () => {
    const policy = { PolicyType: 'Expiration', PolicyStatus: 'Pending', PolicyText: '{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2031-01-01T00:00:00.000Z"}}' };
    const given = await startSimulatedAws({
      latencyMs: 0,
      extraParameters: [
        {
          Name: '/given/key',
          Type: 'String',
          Tier: 'Advanced',
          Description: null,
          Value: 'current-value',
          Labels: ['live'],
          Policies: [policy],
          History: [{ Version: 1, LastModifiedDate: 1_700_000_000, Value: 'first-value', Labels: ['old'] }],
        },
      ],
      extraSecrets: [
        {
          Name: 'given/secret',
          Description: null,
          KmsKeyId: null,
          Versions: [
            { VersionId: 'a1b2c3d4-0001-4000-8000-00000000aaaa', CreatedDate: '2026-01-01T00:00:00Z', Stages: ['AWSPREVIOUS'], SecretString: 'older' },
            { VersionId: 'a1b2c3d4-0002-4000-8000-00000000bbbb', CreatedDate: '2026-02-01T00:00:00Z', Stages: ['AWSCURRENT'] },
          ],
          SecretString: 'newest',
          ReplicationStatus: [{ Region: 'eu-west-1', Status: 'InSync' }],
        },
        { Name: 'given/rotating', RotationRules: { ScheduleExpression: 'rate(14 days)' }, LastRotatedDate: '2026-11-01T00:00:00Z' },
      ],
    });
    try {
      const client = new SSMClient({ endpoint: given.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      const described = (await client.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Values: ['/given/key'] }] }))).Parameters![0]!;
      expect(described).toMatchObject({ Version: 2, Tier: 'Advanced', Policies: [policy] });
      expect(described.Description).toBeUndefined();
      expect((await client.send(new GetParameterCommand({ Name: '/given/key:live' }))).Parameter).toMatchObject({ Value: 'current-value', Version: 2 });
      expect((await client.send(new GetParameterCommand({ Name: '/given/key:old' }))).Parameter).toMatchObject({ Value: 'first-value', Version: 1 });
      const missing = await rejection(client.send(new GetParameterCommand({ Name: '/given/key:3' })));
      expect(missing.name).toBe('ParameterVersionNotFound');

      const sm2 = new SecretsManagerClient({ endpoint: given.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      const secret = await sm2.send(new DescribeSecretCommand({ SecretId: 'given/secret' }));
      expect(secret.VersionIdsToStages).toEqual({ 'a1b2c3d4-0001-4000-8000-00000000aaaa': ['AWSPREVIOUS'], 'a1b2c3d4-0002-4000-8000-00000000bbbb': ['AWSCURRENT'] });
      expect(secret.Description).toBeUndefined();
      expect(secret.KmsKeyId).toBeUndefined();
      expect(secret.CreatedDate).toEqual(new Date('2026-01-01T00:00:00Z'));
      expect(secret.ReplicationStatus).toEqual([{ Region: 'eu-west-1', Status: 'InSync', KmsKeyId: 'alias/aws/secretsmanager' }]);
      expect((await sm2.send(new GetSecretValueCommand({ SecretId: 'given/secret' }))).SecretString).toBe('newest');
      expect((await sm2.send(new GetSecretValueCommand({ SecretId: 'given/secret', VersionStage: 'AWSPREVIOUS' }))).SecretString).toBe('older');
      await expect(startSimulatedAws({ extraSecrets: [{ Name: 'bad', Versions: [{ VersionId: 'x', CreatedDate: 1, Stages: [] }] }] })).rejects.toThrow(/exactly one with AWSCURRENT/);
      const rotating = await sm2.send(new DescribeSecretCommand({ SecretId: 'given/rotating' }));
      expect(rotating).toMatchObject({ RotationEnabled: true, RotationRules: { AutomaticallyAfterDays: 14, ScheduleExpression: 'rate(14 days)' } });
      expect(rotating.RotationLambdaARN).toMatch(/^arn:aws:lambda:us-east-1:123456789012:function:/);
      expect(rotating.NextRotationDate).toEqual(new Date('2026-11-15T00:00:00Z'));
      await expect(startSimulatedAws({ extraSecrets: [{ Name: 'bad', RotationRules: { ScheduleExpression: 'rate(2 hours)' } }] })).rejects.toThrow(/RotationRules/);
    } finally {
      await given.close();
    }
  });

  it('a server-less handler answers requests routed to it, and PutParameter keeps its 3/s quota', async () => {
    const handler = createSimulatedAws({ account: '222222222222', region: 'eu-west-1', latencyMs: 0, extraParameters: [{ Name: '/h/one', Value: 'x' }] });
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => handler.handle(req, res, Buffer.concat(chunks)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new SSMClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'eu-west-1', credentials, maxAttempts: 1 });
      const got = await client.send(new GetParameterCommand({ Name: '/h/one', WithDecryption: true }));
      expect(got.Parameter).toMatchObject({ ARN: 'arn:aws:ssm:eu-west-1:222222222222:parameter/h/one' });
      const results = await Promise.allSettled([1, 2, 3, 4].map((n) => client.send(new PutParameterCommand({ Name: '/h/one', Value: `v${n}`, Overwrite: true }))));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(3);
      expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason.name).toBe('ThrottlingException');
      expect(() => createSimulatedAws({ account: '12' })).toThrow(/12 digits/);
    } finally {
      handler.close();
      server.close();
      server.closeAllConnections();
    }
  });
});
