import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAGES_PER_CALL } from '@/lib/stores/aws-paging';
import { StoreError } from '@/lib/stores/errors';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import { isWritable, type SecretStore } from '@/lib/stores/types';
import { startSimulatedAws, type SimulatedAws } from '@/simulator/simulated-aws';
import { SENTINEL } from '../contract/fixture';
import { FIXTURE_ACCOUNT, FIXTURE_REGION, ROTATION_FUNCTION, fixtureSecrets, fixtureVersionId, startFixtureAws } from './support/fixture-aws';
import { recordedSecretsManagerClient, recordedSsmClient } from './support/recorded-clients';

// What the contract suite does not pin down: the exact requests each adapter sends, the details
// they fill in, how they page over empty pages, and that bad names never reach AWS. AWS is the
// project's simulated AWS holding FIXTURE (tests/aws/support/fixture-aws.ts).

let sim: SimulatedAws;
beforeAll(async () => {
  sim = await startFixtureAws();
});
afterAll(() => sim.close());

function ssmStore(url = sim.url) {
  const client = recordedSsmClient(url, { region: FIXTURE_REGION });
  return { log: client.log, store: new SsmStore('params', 'params', () => client) };
}

function smStore(url = sim.url) {
  const client = recordedSecretsManagerClient(url, { region: FIXTURE_REGION });
  return { log: client.log, store: new SecretsManagerStore('secrets', 'secrets', () => client) };
}

/** A simulator of its own for one test (a different data set or scan window), closed at the end of the file. */
const ownSims: SimulatedAws[] = [];
afterAll(() => Promise.all(ownSims.map((s) => s.close())));
async function ownSim(options: Parameters<typeof startSimulatedAws>[0]): Promise<SimulatedAws> {
  const own = await startSimulatedAws({ account: FIXTURE_ACCOUNT, region: FIXTURE_REGION, latencyMs: 0, quotas: { 'ssm:DescribeParameters': null, 'secretsmanager:ListSecrets': null }, ...options });
  ownSims.push(own);
  return own;
}

describe('names AWS would reject are refused before any call', () => {
  const badNames = [
    '/prod/bad name!',
    'prod/no-leading-slash',
    '/prod//empty-level',
    '/prod/trailing/',
    `/${Array.from({ length: 16 }, (_, i) => `l${i}`).join('/')}`,
    `/${'x'.repeat(2048)}`,
    '/prod/caf\u00e9',
  ];
  const badFolders = ['prod/', '/prod', '/pro d/', '/prod//'];

  it.each([
    ['Parameter Store', () => ssmStore()],
    ['Secrets Manager', () => smStore()],
  ] as const)('%s', async (_label, make) => {
    const { store, log } = make();
    for (const name of badNames) await expect(store.getItem(name), name).rejects.toMatchObject({ code: 'invalid-name', storeId: store.id });
    for (const path of badFolders) {
      await expect(store.list({ path }), path).rejects.toMatchObject({ code: 'invalid-name' });
      await expect(store.listFolders(path), path).rejects.toMatchObject({ code: 'invalid-name' });
    }
    const foreignCursor = (await store.list({ path: '/bulk/', limit: 10 })).nextCursor!;
    log.clear();
    await expect(store.list({ path: '/prod/', cursor: foreignCursor })).rejects.toMatchObject({ code: 'invalid-name' });
    await expect(store.list({ path: '/prod/', cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(StoreError);
    expect(log.sent).toHaveLength(0);
    // The allowed side: a good name does reach AWS.
    await store.getItem('/prod/payments/stripe-key');
    expect(log.sent.length).toBeGreaterThan(0);
  });

  it('Parameter Store refuses the reserved aws/ssm prefixes; Secrets Manager, which has no such rule, looks them up', async () => {
    const ssm = ssmStore();
    await expect(ssm.store.getItem('/aws/reference/x')).rejects.toMatchObject({ code: 'invalid-name' });
    await expect(ssm.store.getItem('/ssm-config')).rejects.toMatchObject({ code: 'invalid-name' });
    expect(ssm.log.sent).toHaveLength(0);
    const sm = smStore();
    expect(await sm.store.getItem('/aws/reference/x')).toBeNull();
    expect(sm.log.sent.map((s) => [s.command, s.input.SecretId, s.error?.name])).toEqual([
      ['DescribeSecretCommand', 'aws/reference/x', 'ResourceNotFoundException'],
      ['DescribeSecretCommand', '/aws/reference/x', 'ResourceNotFoundException'],
    ]);
  });
});

describe('Parameter Store requests and paging', () => {
  it('uses a Path filter without the trailing slash (except the root), OneLevel or Recursive, MaxResults up to 50', async () => {
    const { store, log } = ssmStore();
    await store.list({ path: '/prod/payments/' });
    await store.list({ path: '/', recursive: true, limit: 500 });
    await store.list({ path: '/bulk/', limit: 7 });
    const inputs = log.inputsOf('DescribeParametersCommand').map((i) => [i.ParameterFilters, i.MaxResults]);
    expect(inputs).toContainEqual([[{ Key: 'Path', Option: 'OneLevel', Values: ['/prod/payments'] }], 50]);
    expect(inputs).toContainEqual([[{ Key: 'Path', Option: 'Recursive', Values: ['/'] }], 50]);
    expect(inputs).toContainEqual([[{ Key: 'Path', Option: 'OneLevel', Values: ['/bulk'] }], 7]);
  });

  it('follows empty pages that carry a NextToken within one call, and stops after a bound with a cursor', async () => {
    // AWS examines a window of names per call and may answer with none of them and a NextToken:
    // here 30 sub-folders come before the folder's own 4 parameters, each one name to examine.
    const parameters = [
      ...Array.from({ length: 30 }, (_, i) => ({ Name: `/paged/sub-${String(i).padStart(2, '0')}/deeper` })),
      ...[1, 2, 3, 4].map((i) => ({ Name: `/paged/zz-${i}` })),
    ];
    const windowed = await ownSim({ extraParameters: parameters, scanWindow: 10 });
    const { store, log } = ssmStore(windowed.url);
    const page = await store.list({ path: '/paged/' });
    expect(page.items.map((i) => i.name)).toEqual(['/paged/zz-1', '/paged/zz-2', '/paged/zz-3', '/paged/zz-4']);
    expect(page.nextCursor).toBeUndefined();
    // Three empty pages (ten names each), then the one with the items.
    expect(log.inputsOf('DescribeParametersCommand')).toHaveLength(4);

    const stubborn = await ownSim({ extraParameters: parameters, scanWindow: 1 });
    const slow = ssmStore(stubborn.url);
    const first = await slow.store.list({ path: '/paged/' });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toBeDefined();
    expect(slow.log.inputsOf('DescribeParametersCommand')).toHaveLength(MAX_PAGES_PER_CALL);
    // The cursor goes on where the bound stopped (AWS now examining enough names in one call).
    stubborn.control({ scanWindow: 1000 });
    const second = await slow.store.list({ path: '/paged/', cursor: first.nextCursor });
    expect(second.items).toHaveLength(4);
    expect(slow.log.inputsOf('DescribeParametersCommand')).toHaveLength(MAX_PAGES_PER_CALL + 1);
  });

  it('getItem fills in details, tags, labels and versions without a value', async () => {
    const { store } = ssmStore();
    const item = await store.getItem('/prod/payments/stripe-key');
    expect(item).toMatchObject({
      name: '/prod/payments/stripe-key',
      folder: '/prod/payments/',
      kind: 'SecureString',
      kmsKeyId: 'alias/aws/ssm',
      currentVersion: '3',
      labels: ['live'],
      tags: { team: 'payments', env: 'prod' },
      lastChangedBy: 'alice@example.com',
      details: {
        arn: `arn:aws:ssm:${FIXTURE_REGION}:${FIXTURE_ACCOUNT}:parameter/prod/payments/stripe-key`,
        type: 'SecureString',
        tier: 'Standard',
        dataType: 'text',
        policies: [{ type: 'Expiration', status: 'Pending', text: expect.stringContaining('"Expiration"') }],
      },
    });
    expect(item!.versions.map((v) => [v.id, v.createdBy, v.labels])).toEqual([
      ['3', 'alice@example.com', ['live']],
      ['2', 'bob@example.com', []],
      ['1', 'alice@example.com', []],
    ]);
    // Only named metadata fields, each version's own (what "what changed" compares), never the history's Value.
    for (const version of item!.versions) {
      expect(Object.keys(version).sort()).toEqual(['createdAt', 'createdBy', 'id', 'labels', 'metadata']);
      expect(Object.keys(version.metadata!).sort()).toEqual(['dataType', 'description', 'kmsKeyId', 'policies', 'tier', 'type']);
    }
    expect(item!.versions[0]!.metadata).toMatchObject({ type: 'SecureString', kmsKeyId: 'alias/aws/ssm', tier: 'Standard', dataType: 'text' });
    expect(JSON.stringify(item)).not.toContain(SENTINEL);
  });

  it('caches folder listings briefly per store', async () => {
    const { store, log } = ssmStore();
    expect(await store.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
    const calls = log.sent.length;
    expect(calls).toBeGreaterThan(0);
    expect(await store.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
    expect(log.sent).toHaveLength(calls);
  });
});

describe('Secrets Manager requests and mapping', () => {
  it('lists with a name prefix for each spelling, sorted by name, without planned deletions, MaxResults up to 100', async () => {
    const { store, log } = smStore();
    await store.list({ path: '/prod/', limit: 1000 });
    expect(log.inputsOf('ListSecretsCommand')).toEqual([
      { MaxResults: 100, IncludePlannedDeletion: false, SortBy: 'name', SortOrder: 'asc', Filters: [{ Key: 'name', Values: ['prod/'] }] },
      { MaxResults: 100, IncludePlannedDeletion: false, SortBy: 'name', SortOrder: 'asc', Filters: [{ Key: 'name', Values: ['/prod/'] }] },
    ]);
  });

  it('keeps only the exact level, across empty pages', async () => {
    // Secrets scheduled for deletion are examined but not listed: with a window of two names per
    // call, the first pages under prod/payments/ come back empty with a NextToken.
    const gone = [0, 1, 2, 3].map((i) => ({ Name: `prod/payments/archived-${i}`, DeletedDate: '2026-05-01T00:00:00.000Z' }));
    const windowed = await ownSim({ extraSecrets: [...fixtureSecrets(), ...gone], scanWindow: 2 });
    const { store, log } = smStore(windowed.url);
    expect((await store.list({ path: '/prod/payments/' })).items.map((i) => i.name)).toEqual(['/prod/payments/stripe-key']);
    // Both spellings' sequences, the first of them over several pages.
    expect(log.inputsOf('ListSecretsCommand').length).toBeGreaterThan(3);
  });

  it('getItem: versions by date with staging labels, AWSCURRENT as current, deprecated versions included, rotation and replication', async () => {
    const { store, log } = smStore();
    const item = await store.getItem('/prod/payments/stripe-key');
    expect(item).toMatchObject({ kind: 'secret', lastChangedBy: null, tags: { team: 'payments', env: 'prod' } });
    // The oldest version has no staging label (deprecated): listed only because asked for.
    expect(item!.versions.map((v) => v.labels)).toEqual([['AWSCURRENT', 'live'], ['AWSPREVIOUS'], []]);
    expect(log.inputsOf('ListSecretVersionIdsCommand')).toEqual([expect.objectContaining({ IncludeDeprecated: true })]);
    expect(item!.currentVersion).toBe(item!.versions[0]!.id);
    expect(item!.currentVersion).toBe(fixtureVersionId('prod/payments/stripe-key', 2));
    expect(item!.labels).toEqual(['AWSCURRENT', 'live']);
    expect(item!.details.replicationRegions).toEqual([{ region: 'eu-central-1', status: 'InSync' }]);
    expect(item!.details.arn).toMatch(new RegExp(`^arn:aws:secretsmanager:${FIXTURE_REGION}:${FIXTURE_ACCOUNT}:secret:prod/payments/stripe-key-`));

    const rotating = await store.getItem('/prod/payments/db/password');
    expect(rotating!.details.rotation).toMatchObject({
      enabled: true,
      schedule: 'rate(30 days)',
      lambdaArn: ROTATION_FUNCTION,
      lastRotatedAt: expect.any(String),
      nextRotationAt: expect.any(String),
      lastAccessedAt: expect.any(String),
    });
    expect((await store.getItem('/motd'))!.details.rotation).toMatchObject({ enabled: false, schedule: null });
  });

  it('opens a secret whose real name has a leading slash under the same item name', async () => {
    const slashed = await ownSim({ extraSecrets: fixtureSecrets({ keepLeadingSlash: ['/prod/payments/db/host'] }) });
    const { store, log } = smStore(slashed.url);
    const item = await store.getItem('/prod/payments/db/host');
    expect(item?.name).toBe('/prod/payments/db/host');
    expect(item?.details.arn).toContain(':secret:/prod/payments/db/host-');
    expect(log.sent[0]!.input).toEqual({ SecretId: 'prod/payments/db/host' });
    expect(log.sent[0]!.error?.name).toBe('ResourceNotFoundException');
    expect(log.sent[1]!.input).toEqual({ SecretId: '/prod/payments/db/host' });
  });
});

it('stores satisfy the SecretStore interface and are read-only unless CONFIG_FILE says writable: true', () => {
  const stores: SecretStore[] = [ssmStore().store, smStore().store];
  for (const store of stores) {
    expect(isWritable(store)).toBe(false);
    expect('putValue' in store).toBe(false);
  }
  expect(isWritable(SsmStore.fromConfig({ id: 'w', region: 'us-east-1', writable: true }))).toBe(true);
  expect(isWritable(SecretsManagerStore.fromConfig({ id: 'w', region: 'us-east-1', writable: true }))).toBe(true);
  expect(isWritable(SsmStore.fromConfig({ id: 'r', region: 'us-east-1', writable: false }))).toBe(false);
});
