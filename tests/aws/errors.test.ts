import { DescribeSecretCommand } from '@aws-sdk/client-secrets-manager';
import { CredentialsProviderError } from '@smithy/core/config';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { toStoreError } from '@/lib/stores/aws-errors';
import { StoreError, type StoreErrorCode } from '@/lib/stores/errors';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { SecretStore } from '@/lib/stores/types';
import { startSimulatedAws, type ScopeFailure, type SimCall, type SimulatedAws } from '@/simulator/simulated-aws';
import { FIXTURE, SENTINEL } from '../contract/fixture';
import { networkError } from './support/aws-errors';
import { FIXTURE_REGION, fixtureParameters, startFixtureAws } from './support/fixture-aws';
import { closedPort, startLoopbackAws, type LoopbackAws } from './support/loopback-aws';
import { recordedSecretsManagerClient, recordedSsmClient, type ClientOptions, type CommandLog } from './support/recorded-clients';

// Every AWS failure reaches pages as a StoreError with a typed code and a message that names the
// store and says what to do, and never repeats AWS's own message (which may echo input). AWS is the
// project's simulated AWS holding FIXTURE, failing as asked (every call with one error type, or an
// endpoint path under /fail/); failures of the connection itself are real where loopback can make
// them (a closed port) and thrown by the request handler where it cannot.

/** Put into every message made up here: it must never appear in a StoreError's message. */
const RAW = 'RAW-AWS-MESSAGE-d41d8';

interface FailureSource {
  /** The simulated AWS answers every call with this error type. */
  aws?: string;
  /** The store's endpoint is this failure path of the simulated AWS. */
  scope?: ScopeFailure;
  /** Nothing listens on the store's endpoint. */
  closedPort?: boolean;
  client?: Omit<ClientOptions, 'region'>;
}

const CASES: { label: string; via: FailureSource; code: StoreErrorCode; advice: RegExp }[] = [
  { label: 'AccessDeniedException', via: { aws: 'AccessDeniedException' }, code: 'access-denied', advice: /IAM policy/ },
  { label: 'AccessDenied (query protocol)', via: { aws: 'AccessDenied' }, code: 'access-denied', advice: /IAM policy/ },
  { label: 'KMSAccessDeniedException', via: { aws: 'KMSAccessDeniedException' }, code: 'access-denied', advice: /KMS key/ },
  { label: 'ThrottlingException', via: { aws: 'ThrottlingException' }, code: 'throttled', advice: /retry/ },
  { label: 'TooManyRequestsException', via: { aws: 'TooManyRequestsException' }, code: 'throttled', advice: /retry/ },
  { label: 'ResourceNotFoundException', via: { aws: 'ResourceNotFoundException' }, code: 'not-found', advice: /region/ },
  { label: 'ExpiredTokenException', via: { aws: 'ExpiredTokenException' }, code: 'credentials-expired', advice: /refresh/ },
  {
    label: 'CredentialsProviderError (no credentials)',
    via: { client: { credentialsError: () => new CredentialsProviderError(`Could not load credentials from any providers ${RAW}`) } },
    code: 'credentials-expired',
    advice: /refresh/,
  },
  { label: 'TimeoutError (never answered)', via: { scope: 'timeout', client: { requestTimeoutMs: 200 } }, code: 'timeout', advice: /did not answer in time/ },
  {
    label: 'ETIMEDOUT',
    via: { client: { transportError: () => networkError('ETIMEDOUT', `connect ETIMEDOUT 10.0.0.1:443 ${RAW}`) } },
    code: 'timeout',
    advice: /did not answer/,
  },
  {
    label: 'socket hang up',
    via: { client: { transportError: () => networkError('ECONNRESET', `socket hang up ${RAW}`) } },
    code: 'timeout',
    advice: /did not answer/,
  },
  { label: 'ECONNREFUSED (nothing listening)', via: { closedPort: true }, code: 'unavailable', advice: /could not be reached/ },
  { label: 'InternalServerError', via: { aws: 'InternalServerError' }, code: 'unavailable', advice: /could not be reached/ },
];

let sim: SimulatedAws;
beforeAll(async () => {
  sim = await startFixtureAws({ recordCalls: true });
});
afterAll(() => sim.close());
afterEach(() => {
  sim.control({ failAll: null, denyHistory: null });
});

/** What AWS itself said in the errors a client received: none of it may reach a StoreError. */
function awsMessages(log: CommandLog | undefined): string[] {
  return (log?.sent ?? []).flatMap((s) => (s.error && s.error.message.length >= 8 ? [s.error.message] : []));
}

function expectStoreError(error: unknown, storeId: string, code: StoreErrorCode, advice: RegExp, log?: CommandLog) {
  expect(error).toBeInstanceOf(StoreError);
  const storeError = error as StoreError;
  expect(storeError.code).toBe(code);
  expect(storeError.storeId).toBe(storeId);
  expect(storeError.message).toContain(`"${storeId}"`);
  expect(storeError.message).toMatch(advice);
  // The cause kept for logs is a summary, not the SDK error with its response.
  for (const text of [storeError.message, JSON.stringify(storeError.cause)]) {
    expect(text).not.toContain(RAW);
    expect(text).not.toContain(SENTINEL);
    for (const message of awsMessages(log)) expect(text).not.toContain(message);
  }
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

async function failingStore(kind: 'ssm' | 'secretsmanager', id: string, via: FailureSource) {
  let url = sim.url;
  if (via.closedPort) url = `http://127.0.0.1:${await closedPort()}`;
  if (via.scope) url = `${sim.url}/fail/${via.scope}`;
  if (via.aws) sim.control({ failAll: via.aws });
  const options = { region: FIXTURE_REGION, ...via.client };
  if (kind === 'ssm') {
    const client = recordedSsmClient(url, options);
    return { log: client.log, store: new SsmStore(id, id, () => client) as SecretStore };
  }
  const client = recordedSecretsManagerClient(url, options);
  return { log: client.log, store: new SecretsManagerStore(id, id, () => client) as SecretStore };
}

describe.each(CASES)('$label', ({ via, code, advice }) => {
  it.each([
    ['Parameter Store', 'ssm', 'prod-params'],
    ['Secrets Manager', 'secretsmanager', 'prod-secrets'],
  ] as const)('%s: list, listFolders and getItem fail with the mapped code', async (_label, kind, id) => {
    const { store, log } = await failingStore(kind, id, via);
    expectStoreError(await failure(() => store.list({ path: '/prod/' })), id, code, advice, log);
    expectStoreError(await failure(() => store.listFolders('/prod/')), id, code, advice, log);
    if (code !== 'not-found') expectStoreError(await failure(() => store.getItem('/motd')), id, code, advice, log);
    // An error AWS sent did come over the wire from the simulated AWS.
    if (via.aws) expect(log.sent.map((s) => s.error?.name)).toContain(via.aws);
  });
});

describe('KMS denials', () => {
  it('Parameter Store: a key policy refusing kms:Decrypt during GetParameterHistory is access-denied with KMS advice', async () => {
    sim.control({ denyHistory: ['/motd'] });
    const { store, log } = await failingStore('ssm', 'prod-params', {});
    expectStoreError(await failure(() => store.getItem('/motd')), 'prod-params', 'access-denied', /KMS key/, log);
    expect(log.sent.find((s) => s.command === 'GetParameterHistoryCommand')?.error?.message).toContain('kms:Decrypt');
    // The allowed side: the neighbours still open.
    expect(await store.getItem('/prod/payments/db/host')).not.toBeNull();
  });

  it('Secrets Manager: KMS access denied while listing versions is access-denied, not null', async () => {
    // The simulated AWS cannot refuse one Secrets Manager operation alone yet: a scripted answer.
    const loopback: LoopbackAws = await startLoopbackAws((target) =>
      target === 'secretsmanager.DescribeSecret'
        ? { status: 200, body: { Name: 'motd', ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:motd-AbCdEf', VersionIdsToStages: { v1: ['AWSCURRENT'] } } }
        : { status: 400, body: { __type: 'AccessDeniedException', message: `kms:Decrypt denied ${RAW}` } },
    );
    try {
      const client = recordedSecretsManagerClient(loopback.url, { region: FIXTURE_REGION });
      const store = new SecretsManagerStore('prod-secrets', 'prod', () => client);
      expectStoreError(await failure(() => store.getItem('/motd')), 'prod-secrets', 'access-denied', /KMS key/, client.log);
      expect(loopback.targets).toEqual(['secretsmanager.DescribeSecret', 'secretsmanager.ListSecretVersionIds']);
    } finally {
      await loopback.close();
    }
  });
});

describe('not found while reading an item', () => {
  let hookSim: SimulatedAws;
  let afterCall: ((call: SimCall) => void) | null = null;
  beforeAll(async () => {
    hookSim = await startSimulatedAws({ region: FIXTURE_REGION, latencyMs: 0, extraParameters: fixtureParameters(), onCall: (call) => afterCall?.(call) });
  });
  afterAll(() => hookSim.close());

  it('Parameter Store: getItem is null when the parameter is deleted between the calls (its history and tags say it is gone)', async () => {
    const client = recordedSsmClient(hookSim.url, { region: FIXTURE_REGION });
    const store = new SsmStore('prod-params', 'prod', () => client);
    expect(await store.getItem('/motd')).not.toBeNull();
    // Someone deletes it right after DescribeParameters found it.
    afterCall = (call) => {
      if (call.operation === 'DescribeParameters') hookSim.control({ deleteParameters: ['/motd'] });
    };
    client.log.clear();
    expect(await store.getItem('/motd')).toBeNull();
    afterCall = null;
    // getItem answers on the first of the two failures; let the other one come back too.
    await vi.waitFor(() => expect(client.log.sent.every((s) => s.command === 'DescribeParametersCommand' || s.error)).toBe(true));
    expect(client.log.sent.map((s) => [s.command, s.error?.name])).toEqual(
      expect.arrayContaining([
        ['GetParameterHistoryCommand', 'ParameterNotFound'],
        ['ListTagsForResourceCommand', 'InvalidResourceId'],
      ]),
    );
  });

  it('Secrets Manager: getItem is null on ResourceNotFoundException, and tries both spellings first', async () => {
    const client = recordedSecretsManagerClient(sim.url, { region: FIXTURE_REGION });
    const store = new SecretsManagerStore('prod-secrets', 'prod', () => client);
    expect(await store.getItem('/prod/payments/nothing-here')).toBeNull();
    expect(client.log.sent.map((s) => [s.input.SecretId, s.error?.name])).toEqual([
      ['prod/payments/nothing-here', 'ResourceNotFoundException'],
      ['/prod/payments/nothing-here', 'ResourceNotFoundException'],
    ]);
    // The allowed side: an existing secret is found on the first spelling.
    expect(await store.getItem('/motd')).not.toBeNull();
  });
});

describe('one failing store does not affect another', () => {
  it('two Parameter Stores: the denied one fails, the other lists and reads', async () => {
    const denied = recordedSsmClient(`${sim.url}/fail/access-denied`, { region: FIXTURE_REGION });
    const healthy = recordedSsmClient(sim.url, { region: FIXTURE_REGION });
    const stores: SecretStore[] = [new SsmStore('team-a', 'a', () => denied), new SsmStore('team-b', 'b', () => healthy)];
    const [a, b] = (await Promise.allSettled(stores.map((s) => s.list({ path: '/prod/', recursive: true })))) as [
      PromiseSettledResult<{ items: unknown[] }>,
      PromiseSettledResult<{ items: unknown[] }>,
    ];
    expect(a.status).toBe('rejected');
    expectStoreError((a as PromiseRejectedResult).reason, 'team-a', 'access-denied', /IAM policy/, denied.log);
    expect(b.status).toBe('fulfilled');
    expect((b as PromiseFulfilledResult<{ items: unknown[] }>).value.items.length).toBe(4);
    expect(await stores[1]!.getItem('/prod/payments/stripe-key')).not.toBeNull();
    expect(await stores[1]!.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
  });

  it('a throttled Secrets Manager store next to a working Parameter Store, and a failed folder listing is not cached', async () => {
    // ListSecrets over its quota: AWS answers ThrottlingException to every call.
    sim.control({ quotas: { 'secretsmanager:ListSecrets': 0 } });
    try {
      const sm = recordedSecretsManagerClient(sim.url, { region: FIXTURE_REGION });
      const secrets = new SecretsManagerStore('secrets', 's', () => sm);
      const params = new SsmStore('params', 'p', () => recordedSsmClient(sim.url, { region: FIXTURE_REGION }));
      const [a, b] = await Promise.allSettled([secrets.listFolders('/prod/'), params.listFolders('/prod/')]);
      expectStoreError((a as PromiseRejectedResult).reason, 'secrets', 'throttled', /retry/, sm.log);
      expect(sm.log.sent.map((s) => s.error?.name)).toContain('ThrottlingException');
      expect((b as PromiseFulfilledResult<string[]>).value).toEqual(['/prod/payments/', '/prod/web/']);
      sim.control({ quotas: { 'secretsmanager:ListSecrets': null } });
      expect(await secrets.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
    } finally {
      sim.control({ quotas: { 'secretsmanager:ListSecrets': null } });
    }
  });
});

describe('stores from CONFIG_FILE settings, through the SDK default chain, on the simulated AWS endpoint', () => {
  const own: SimulatedAws[] = [];
  beforeEach(() => {
    sim.control({ clearCalls: true });
  });
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(own.splice(0).map((s) => s.close()));
  });

  function offlineCredentials() {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  }

  it('maps a real AccessDeniedException answer and reaches a per-store endpoint', async () => {
    offlineCredentials();
    const store = SsmStore.fromConfig({ id: 'loop', region: FIXTURE_REGION, endpoint: `${sim.url}/fail/access-denied` });
    expectStoreError(await failure(() => store.list({ path: '/' })), 'loop', 'access-denied', /IAM policy/);
    expect(sim.calls().map((c) => [c.scope, c.operation, c.signed, c.error])).toEqual([['fail/access-denied', 'DescribeParameters', true, 'AccessDeniedException']]);
  });

  it('reads a real ListSecrets answer; the SDK\'s AWS_ENDPOINT_URL_SECRETS_MANAGER still works', async () => {
    offlineCredentials();
    const one = await startSimulatedAws({ region: FIXTURE_REGION, latencyMs: 0, recordCalls: true, extraSecrets: [{ Name: 'motd', LastChangedDate: 1767225600, VersionCount: 1, DeletedDate: null }] });
    own.push(one);
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', one.url);
    const store = SecretsManagerStore.fromConfig({ id: 'env-endpoint', region: FIXTURE_REGION });
    const page = await store.list({ path: '/' });
    expect(one.calls().map((c) => c.operation)).toEqual(['ListSecrets']);
    const described = await recordedSecretsManagerClient(one.url, { region: FIXTURE_REGION }).send(new DescribeSecretCommand({ SecretId: 'motd' }));
    const current = Object.entries(described.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSCURRENT'))![0];
    expect(page.items.map((i) => [i.name, i.currentVersion, i.lastChangedAt])).toEqual([['/motd', current, '2026-01-01T00:00:00.000Z']]);
  });

  it('a throttled answer is retried a bounded number of times, then throttled', async () => {
    offlineCredentials();
    const busy = await startSimulatedAws({ region: FIXTURE_REGION, latencyMs: 0, extraParameters: fixtureParameters(FIXTURE.slice(0, 1)), quotas: { 'ssm:DescribeParameters': 0 } });
    own.push(busy);
    const store = SsmStore.fromConfig({ id: 'busy', region: FIXTURE_REGION, endpoint: busy.url });
    expectStoreError(await failure(() => store.getItem('/motd')), 'busy', 'throttled', /retry/);
    expect(busy.stats().operations['ssm:DescribeParameters']).toMatchObject({ calls: 3, throttled: 3, ok: 0 });
  });

  it('nothing listening is unavailable; no answer in time is timeout', async () => {
    offlineCredentials();
    const port = await closedPort();
    const refused = SsmStore.fromConfig({ id: 'refused', region: FIXTURE_REGION, endpoint: `http://127.0.0.1:${port}` }, { maxAttempts: 1 });
    expectStoreError(await failure(() => refused.list({ path: '/' })), 'refused', 'unavailable', /could not be reached/);

    const slow = SecretsManagerStore.fromConfig({ id: 'slow', region: FIXTURE_REGION, endpoint: `${sim.url}/fail/timeout` }, { maxAttempts: 1, requestTimeoutMs: 200 });
    expectStoreError(await failure(() => slow.list({ path: '/' })), 'slow', 'timeout', /did not answer in time/);
    expect(sim.calls().map((c) => [c.scope, c.operation])).toEqual([['fail/timeout', 'ListSecrets']]);
  });

  it('missing credentials are credentials-expired, and nothing is sent', async () => {
    const empty = '/nonexistent-aws-dir';
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_CONFIG_FILE', `${empty}/config`);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', `${empty}/credentials`);
    // Never reach for instance metadata from a test.
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    const store = SsmStore.fromConfig({ id: 'no-creds', region: FIXTURE_REGION, endpoint: sim.url });
    expectStoreError(await failure(() => store.list({ path: '/' })), 'no-creds', 'credentials-expired', /refresh/);
    expect(sim.calls()).toEqual([]);
    // The allowed side: with credentials, the same store reaches AWS.
    offlineCredentials();
    await SsmStore.fromConfig({ id: 'creds', region: FIXTURE_REGION, endpoint: sim.url }).list({ path: '/' });
    expect(sim.calls().map((c) => c.operation)).toEqual(['DescribeParameters']);
  });

  it('constructing AWS stores makes no call (start-up works offline)', async () => {
    SsmStore.fromConfig({ id: 'lazy-a', region: FIXTURE_REGION, endpoint: sim.url, roleArn: 'arn:aws:iam::123456789012:role/x' });
    SecretsManagerStore.fromConfig({ id: 'lazy-b', region: FIXTURE_REGION, endpoint: sim.url, profile: 'nowhere' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(sim.calls()).toEqual([]);
  });
});

describe('toStoreError', () => {
  it('passes a StoreError through and falls back to unavailable for the unknown', () => {
    const original = new StoreError('invalid-name', 's', 'bad');
    expect(toStoreError('s', 'ssm:X', original)).toBe(original);
    const unknown = toStoreError('s', 'ssm:X', 'weird');
    expect(unknown.code).toBe('unavailable');
    expect(unknown.message).toContain('"s"');
  });
});
