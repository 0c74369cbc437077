import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager';
import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  ListTagsForResourceCommand,
  SSMClient,
  type ParameterStringFilter,
} from '@aws-sdk/client-ssm';
import { isThrottlingError } from '@smithy/core/retry';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SIM_VALUE_SENTINEL, startSimulatedAws, type SimulatedAws } from '@/simulator/simulated-aws';

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
