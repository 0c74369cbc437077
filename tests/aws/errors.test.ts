import { CredentialsProviderError } from '@smithy/core/config';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { toStoreError } from '@/lib/stores/aws-errors';
import { StoreError, type StoreErrorCode } from '@/lib/stores/errors';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { SecretStore } from '@/lib/stores/types';
import { SENTINEL } from '../contract/fixture';
import { networkError, serviceError, timeoutError } from './support/aws-errors';
import { fakeSecretsManagerClient } from './support/fake-secrets-manager';
import { fakeSsmClient } from './support/fake-ssm';
import { closedPort, startLoopbackAws, type LoopbackAws } from './support/loopback-aws';

// Every AWS failure reaches pages as a StoreError with a typed code and a message that names the
// store and says what to do, and never repeats AWS's own message (which may echo input).

/** Put into every injected AWS message: it must never appear in a StoreError's message. */
const RAW = 'RAW-AWS-MESSAGE-d41d8';

const CASES: { label: string; error: () => Error; code: StoreErrorCode; advice: RegExp }[] = [
  {
    label: 'AccessDeniedException',
    error: () => serviceError('AccessDeniedException', `User: arn:aws:iam::123456789012:user/bob is not authorized ${RAW}`),
    code: 'access-denied',
    advice: /IAM policy/,
  },
  { label: 'AccessDenied (query protocol)', error: () => serviceError('AccessDenied', RAW, 403), code: 'access-denied', advice: /IAM policy/ },
  {
    label: 'KMS access denied inside the call',
    error: () => serviceError('AccessDeniedException', `Access to KMS is not allowed: kms:DescribeKey ${RAW} ${SENTINEL}`),
    code: 'access-denied',
    advice: /KMS key/,
  },
  { label: 'KMSAccessDeniedException', error: () => serviceError('KMSAccessDeniedException', RAW), code: 'access-denied', advice: /KMS key/ },
  { label: 'ThrottlingException', error: () => serviceError('ThrottlingException', `Rate exceeded ${RAW}`), code: 'throttled', advice: /retry/ },
  { label: 'TooManyRequestsException', error: () => serviceError('TooManyRequestsException', RAW, 429), code: 'throttled', advice: /retry/ },
  { label: 'ResourceNotFoundException', error: () => serviceError('ResourceNotFoundException', RAW), code: 'not-found', advice: /region/ },
  {
    label: 'ExpiredTokenException',
    error: () => serviceError('ExpiredTokenException', `The security token included in the request is expired ${RAW}`),
    code: 'credentials-expired',
    advice: /refresh/,
  },
  {
    label: 'CredentialsProviderError (no credentials)',
    error: () => new CredentialsProviderError(`Could not load credentials from any providers ${RAW}`),
    code: 'credentials-expired',
    advice: /refresh/,
  },
  { label: 'TimeoutError', error: timeoutError, code: 'timeout', advice: /did not answer in time/ },
  { label: 'ETIMEDOUT', error: () => networkError('ETIMEDOUT', `connect ETIMEDOUT 10.0.0.1:443 ${RAW}`), code: 'timeout', advice: /did not answer/ },
  { label: 'socket hang up', error: () => networkError('ECONNRESET', `socket hang up ${RAW}`), code: 'timeout', advice: /did not answer/ },
  { label: 'ECONNREFUSED', error: () => networkError('ECONNREFUSED', `connect ECONNREFUSED 127.0.0.1:443 ${RAW}`), code: 'unavailable', advice: /could not be reached/ },
  { label: 'InternalServerError', error: () => serviceError('InternalServerError', RAW, 500), code: 'unavailable', advice: /could not be reached/ },
];

function expectStoreError(error: unknown, storeId: string, code: StoreErrorCode, advice: RegExp) {
  expect(error).toBeInstanceOf(StoreError);
  const storeError = error as StoreError;
  expect(storeError.code).toBe(code);
  expect(storeError.storeId).toBe(storeId);
  expect(storeError.message).toContain(`"${storeId}"`);
  expect(storeError.message).toMatch(advice);
  expect(storeError.message).not.toContain(RAW);
  expect(storeError.message).not.toContain(SENTINEL);
  // The cause kept for logs is a summary, not the SDK error with its response.
  expect(JSON.stringify(storeError.cause)).not.toContain(RAW);
}

async function failure(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe.each(CASES)('$label', ({ error, code, advice }) => {
  it('Parameter Store: list, listFolders and getItem fail with the mapped code', async () => {
    const { client, mock, fake } = fakeSsmClient();
    const store = new SsmStore('prod-params', 'prod', () => client);
    fake.failWith('DescribeParameters', error);
    expectStoreError(await failure(() => store.list({ path: '/prod/' })), 'prod-params', code, advice);
    expectStoreError(await failure(() => store.listFolders('/prod/')), 'prod-params', code, advice);
    if (code !== 'not-found') expectStoreError(await failure(() => store.getItem('/motd')), 'prod-params', code, advice);
    mock.restore();
  });

  it('Secrets Manager: list, listFolders and getItem fail with the mapped code', async () => {
    const { client, mock, fake } = fakeSecretsManagerClient();
    const store = new SecretsManagerStore('prod-secrets', 'prod', () => client);
    fake.failWith('ListSecrets', error);
    fake.failWith('DescribeSecret', error);
    expectStoreError(await failure(() => store.list({ path: '/' })), 'prod-secrets', code, advice);
    expectStoreError(await failure(() => store.listFolders('/')), 'prod-secrets', code, advice);
    if (code !== 'not-found') expectStoreError(await failure(() => store.getItem('/motd')), 'prod-secrets', code, advice);
    mock.restore();
  });
});

describe('not found while reading an item', () => {
  it('Parameter Store: getItem is null when the history or the tags say the parameter is gone', async () => {
    const { client, mock, fake } = fakeSsmClient();
    const store = new SsmStore('prod-params', 'prod', () => client);
    expect(await store.getItem('/motd')).not.toBeNull();
    fake.failWith('GetParameterHistory', () => serviceError('ParameterNotFound', RAW));
    expect(await store.getItem('/motd')).toBeNull();
    fake.failures.clear();
    fake.failWith('ListTagsForResource', () => serviceError('InvalidResourceId', RAW));
    expect(await store.getItem('/motd')).toBeNull();
    mock.restore();
  });

  it('Secrets Manager: getItem is null on ResourceNotFoundException, and tries both spellings first', async () => {
    const { client, mock } = fakeSecretsManagerClient();
    const store = new SecretsManagerStore('prod-secrets', 'prod', () => client);
    expect(await store.getItem('/prod/payments/nothing-here')).toBeNull();
    const tried = mock.calls().map((c) => (c.args[0].input as { SecretId?: string }).SecretId);
    expect(tried).toEqual(['prod/payments/nothing-here', '/prod/payments/nothing-here']);
    mock.restore();
  });

  it('KMS access denied while listing versions is access-denied, not null', async () => {
    const { client, mock, fake } = fakeSecretsManagerClient();
    const store = new SecretsManagerStore('prod-secrets', 'prod', () => client);
    fake.failWith('ListSecretVersionIds', () => serviceError('AccessDeniedException', `kms:Decrypt denied ${RAW}`));
    expectStoreError(await failure(() => store.getItem('/motd')), 'prod-secrets', 'access-denied', /KMS key/);
    mock.restore();
  });
});

describe('one failing store does not affect another', () => {
  it('two Parameter Stores: the denied one fails, the other lists and reads', async () => {
    const denied = fakeSsmClient();
    const healthy = fakeSsmClient();
    denied.fake.failWith('DescribeParameters', () => serviceError('AccessDeniedException', RAW));
    const stores: SecretStore[] = [
      new SsmStore('team-a', 'a', () => denied.client),
      new SsmStore('team-b', 'b', () => healthy.client),
    ];
    const [a, b] = (await Promise.allSettled(stores.map((s) => s.list({ path: '/prod/', recursive: true })))) as [
      PromiseSettledResult<{ items: unknown[] }>,
      PromiseSettledResult<{ items: unknown[] }>,
    ];
    expect(a.status).toBe('rejected');
    expectStoreError((a as PromiseRejectedResult).reason, 'team-a', 'access-denied', /IAM policy/);
    expect(b.status).toBe('fulfilled');
    expect((b as PromiseFulfilledResult<{ items: unknown[] }>).value.items.length).toBe(4);
    expect(await stores[1]!.getItem('/prod/payments/stripe-key')).not.toBeNull();
    expect(await stores[1]!.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
    denied.mock.restore();
    healthy.mock.restore();
  });

  it('a throttled Secrets Manager store next to a working Parameter Store, and a failed folder listing is not cached', async () => {
    const sm = fakeSecretsManagerClient();
    const ssm = fakeSsmClient();
    sm.fake.failWith('ListSecrets', () => serviceError('ThrottlingException', RAW));
    const secrets = new SecretsManagerStore('secrets', 's', () => sm.client);
    const params = new SsmStore('params', 'p', () => ssm.client);
    const [a, b] = await Promise.allSettled([secrets.listFolders('/prod/'), params.listFolders('/prod/')]);
    expectStoreError((a as PromiseRejectedResult).reason, 'secrets', 'throttled', /retry/);
    expect((b as PromiseFulfilledResult<string[]>).value).toEqual(['/prod/payments/', '/prod/web/']);
    sm.fake.failures.clear();
    expect(await secrets.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
    sm.mock.restore();
    ssm.mock.restore();
  });
});

describe('through the real SDK on a loopback endpoint', () => {
  let server: LoopbackAws | undefined;
  afterEach(async () => {
    vi.unstubAllEnvs();
    await server?.close();
    server = undefined;
  });

  function offlineCredentials() {
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'example-secret');
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
  }

  it('maps a real AccessDeniedException response and reaches a per-store endpoint', async () => {
    offlineCredentials();
    server = await startLoopbackAws(() => ({
      status: 400,
      body: { __type: 'com.amazon.coral.service#AccessDeniedException', message: `not authorized ${RAW}` },
    }));
    const store = SsmStore.fromConfig({ id: 'loop', region: 'eu-west-1', endpoint: server.url });
    expectStoreError(await failure(() => store.list({ path: '/' })), 'loop', 'access-denied', /IAM policy/);
    expect(server.targets).toEqual(['AmazonSSM.DescribeParameters']);
  });

  it('reads a real DescribeParameters answer; the SDK\'s AWS_ENDPOINT_URL_SECRETS_MANAGER still works', async () => {
    offlineCredentials();
    server = await startLoopbackAws((target) =>
      target === 'secretsmanager.ListSecrets'
        ? { status: 200, body: { SecretList: [{ Name: 'motd', LastChangedDate: 1767225600, SecretVersionsToStages: { v1: ['AWSCURRENT'] } }] } }
        : { status: 400, body: { __type: 'ValidationException', message: RAW } },
    );
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', server.url);
    const store = SecretsManagerStore.fromConfig({ id: 'env-endpoint', region: 'eu-west-1' });
    const page = await store.list({ path: '/' });
    expect(page.items.map((i) => [i.name, i.currentVersion, i.lastChangedAt])).toEqual([['/motd', 'v1', '2026-01-01T00:00:00.000Z']]);
    expect(server.targets).toEqual(['secretsmanager.ListSecrets']);
  });

  it('a throttled answer is retried a bounded number of times, then throttled', async () => {
    offlineCredentials();
    server = await startLoopbackAws(() => ({ status: 400, body: { __type: 'ThrottlingException', message: RAW } }));
    const store = SsmStore.fromConfig({ id: 'busy', region: 'eu-west-1', endpoint: server.url });
    expectStoreError(await failure(() => store.getItem('/motd')), 'busy', 'throttled', /retry/);
    expect(server.targets).toEqual(['AmazonSSM.DescribeParameters', 'AmazonSSM.DescribeParameters', 'AmazonSSM.DescribeParameters']);
  });

  it('nothing listening is unavailable; no answer in time is timeout', async () => {
    offlineCredentials();
    const port = await closedPort();
    const refused = SsmStore.fromConfig({ id: 'refused', region: 'eu-west-1', endpoint: `http://127.0.0.1:${port}` }, { maxAttempts: 1 });
    expectStoreError(await failure(() => refused.list({ path: '/' })), 'refused', 'unavailable', /could not be reached/);

    server = await startLoopbackAws(() => ({ status: 200, hang: true }));
    const slow = SecretsManagerStore.fromConfig({ id: 'slow', region: 'eu-west-1', endpoint: server.url }, { maxAttempts: 1, requestTimeoutMs: 200 });
    expectStoreError(await failure(() => slow.list({ path: '/' })), 'slow', 'timeout', /did not answer in time/);
  });

  it('missing credentials are credentials-expired, and nothing is sent', async () => {
    const empty = '/nonexistent-aws-dir';
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE', 'AWS_WEB_IDENTITY_TOKEN_FILE', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI'])
      vi.stubEnv(name, undefined);
    vi.stubEnv('AWS_CONFIG_FILE', `${empty}/config`);
    vi.stubEnv('AWS_SHARED_CREDENTIALS_FILE', `${empty}/credentials`);
    // Never reach for instance metadata from a test.
    vi.stubEnv('AWS_EC2_METADATA_DISABLED', 'true');
    server = await startLoopbackAws(() => ({ status: 200, body: {} }));
    const store = SsmStore.fromConfig({ id: 'no-creds', region: 'eu-west-1', endpoint: server.url });
    expectStoreError(await failure(() => store.list({ path: '/' })), 'no-creds', 'credentials-expired', /refresh/);
    expect(server.targets).toEqual([]);
  });

  it('constructing AWS stores makes no call (start-up works offline)', async () => {
    server = await startLoopbackAws(() => ({ status: 200, body: {} }));
    SsmStore.fromConfig({ id: 'lazy-a', region: 'eu-west-1', endpoint: server.url, roleArn: 'arn:aws:iam::123456789012:role/x' });
    SecretsManagerStore.fromConfig({ id: 'lazy-b', region: 'eu-west-1', endpoint: server.url, profile: 'nowhere' });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(server.targets).toEqual([]);
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
