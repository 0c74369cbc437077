import { ListSecretsCommand } from '@aws-sdk/client-secrets-manager';
import { DescribeParametersCommand } from '@aws-sdk/client-ssm';
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_PAGES_PER_CALL } from '@/lib/stores/aws-paging';
import { StoreError } from '@/lib/stores/errors';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import { isWritable, type SecretStore } from '@/lib/stores/types';
import { fakeSecretsManagerClient } from './support/fake-secrets-manager';
import { fakeSsmClient } from './support/fake-ssm';

// What the contract suite does not pin down: the exact requests each adapter sends, the details
// they fill in, how they page over empty pages, and that bad names never reach AWS.

const restores: (() => void)[] = [];
afterEach(() => {
  while (restores.length) restores.pop()!();
});

function ssmStore(options?: Parameters<typeof fakeSsmClient>[0]) {
  const fake = fakeSsmClient(options);
  restores.push(() => fake.mock.restore());
  return { ...fake, store: new SsmStore('params', 'params', () => fake.client) };
}

function smStore(options?: Parameters<typeof fakeSecretsManagerClient>[0]) {
  const fake = fakeSecretsManagerClient(options);
  restores.push(() => fake.mock.restore());
  return { ...fake, store: new SecretsManagerStore('secrets', 'secrets', () => fake.client) };
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
    const { store, mock } = make();
    for (const name of badNames) await expect(store.getItem(name), name).rejects.toMatchObject({ code: 'invalid-name', storeId: store.id });
    for (const path of badFolders) {
      await expect(store.list({ path }), path).rejects.toMatchObject({ code: 'invalid-name' });
      await expect(store.listFolders(path), path).rejects.toMatchObject({ code: 'invalid-name' });
    }
    const foreignCursor = (await store.list({ path: '/bulk/', limit: 10 })).nextCursor!;
    mock.resetHistory();
    await expect(store.list({ path: '/prod/', cursor: foreignCursor })).rejects.toMatchObject({ code: 'invalid-name' });
    await expect(store.list({ path: '/prod/', cursor: 'not-a-cursor' })).rejects.toBeInstanceOf(StoreError);
    expect(mock.calls()).toHaveLength(0);
    // The allowed side: a good name does reach AWS.
    await store.getItem('/prod/payments/stripe-key');
    expect(mock.calls().length).toBeGreaterThan(0);
  });

  it('Parameter Store refuses the reserved aws/ssm prefixes; Secrets Manager, which has no such rule, looks them up', async () => {
    const ssm = ssmStore();
    await expect(ssm.store.getItem('/aws/reference/x')).rejects.toMatchObject({ code: 'invalid-name' });
    await expect(ssm.store.getItem('/ssm-config')).rejects.toMatchObject({ code: 'invalid-name' });
    expect(ssm.mock.calls()).toHaveLength(0);
    const sm = smStore();
    expect(await sm.store.getItem('/aws/reference/x')).toBeNull();
    expect(sm.mock.calls().length).toBe(2);
  });
});

describe('Parameter Store requests and paging', () => {
  it('uses a Path filter without the trailing slash (except the root), OneLevel or Recursive, MaxResults up to 50', async () => {
    const { store, mock } = ssmStore();
    await store.list({ path: '/prod/payments/' });
    await store.list({ path: '/', recursive: true, limit: 500 });
    await store.list({ path: '/bulk/', limit: 7 });
    const inputs = mock.commandCalls(DescribeParametersCommand).map((c) => c.args[0].input);
    expect(inputs.map((i) => [i.ParameterFilters, i.MaxResults])).toContainEqual([[{ Key: 'Path', Option: 'OneLevel', Values: ['/prod/payments'] }], 50]);
    expect(inputs.map((i) => [i.ParameterFilters, i.MaxResults])).toContainEqual([[{ Key: 'Path', Option: 'Recursive', Values: ['/'] }], 50]);
    expect(inputs.map((i) => [i.ParameterFilters, i.MaxResults])).toContainEqual([[{ Key: 'Path', Option: 'OneLevel', Values: ['/bulk'] }], 7]);
  });

  it('follows empty pages that carry a NextToken within one call, and stops after a bound with a cursor', async () => {
    const { store, mock } = ssmStore({ emptyPages: 3 });
    const page = await store.list({ path: '/prod/', recursive: true });
    expect(page.items).toHaveLength(4);
    expect(mock.commandCalls(DescribeParametersCommand)).toHaveLength(4);

    const stubborn = ssmStore({ emptyPages: MAX_PAGES_PER_CALL + 5 });
    const first = await stubborn.store.list({ path: '/prod/', recursive: true });
    expect(first.items).toEqual([]);
    expect(first.nextCursor).toBeDefined();
    expect(stubborn.mock.commandCalls(DescribeParametersCommand)).toHaveLength(MAX_PAGES_PER_CALL);
    const second = await stubborn.store.list({ path: '/prod/', recursive: true, cursor: first.nextCursor });
    expect(second.items).toHaveLength(4);
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
        arn: 'arn:aws:ssm:eu-west-1:123456789012:parameter/prod/payments/stripe-key',
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
    for (const version of item!.versions) expect(Object.keys(version).sort()).toEqual(['createdAt', 'createdBy', 'id', 'labels']);
  });

  it('caches folder listings briefly per store', async () => {
    const { store, mock } = ssmStore();
    expect(await store.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
    const calls = mock.calls().length;
    expect(await store.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
    expect(mock.calls()).toHaveLength(calls);
  });
});

describe('Secrets Manager requests and mapping', () => {
  it('lists with a name prefix for each spelling, sorted by name, without planned deletions, MaxResults up to 100', async () => {
    const { store, mock } = smStore({ emptyPages: 0 });
    await store.list({ path: '/prod/', limit: 1000 });
    const inputs = mock.commandCalls(ListSecretsCommand).map((c) => c.args[0].input);
    expect(inputs).toEqual([
      { MaxResults: 100, IncludePlannedDeletion: false, SortBy: 'name', SortOrder: 'asc', Filters: [{ Key: 'name', Values: ['prod/'] }] },
      { MaxResults: 100, IncludePlannedDeletion: false, SortBy: 'name', SortOrder: 'asc', Filters: [{ Key: 'name', Values: ['/prod/'] }] },
    ]);
  });

  it('keeps only the exact level, across empty pages', async () => {
    const { store } = smStore({ emptyPages: 2 });
    expect((await store.list({ path: '/prod/payments/' })).items.map((i) => i.name)).toEqual(['/prod/payments/stripe-key']);
  });

  it('getItem: versions by date with staging labels, AWSCURRENT as current, deprecated versions included, rotation and replication', async () => {
    const { store } = smStore();
    const item = await store.getItem('/prod/payments/stripe-key');
    expect(item).toMatchObject({ kind: 'secret', lastChangedBy: null, tags: { team: 'payments', env: 'prod' } });
    expect(item!.versions.map((v) => v.labels)).toEqual([['AWSCURRENT', 'live'], ['AWSPREVIOUS'], []]);
    expect(item!.currentVersion).toBe(item!.versions[0]!.id);
    expect(item!.currentVersion).toMatch(/^[0-9a-f-]{36}$/);
    expect(item!.labels).toEqual(['AWSCURRENT', 'live']);
    expect(item!.details.replicationRegions).toEqual([{ region: 'eu-central-1', status: 'InSync' }]);
    expect(item!.details.arn).toMatch(/^arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod\/payments\/stripe-key-/);

    const rotating = await store.getItem('/prod/payments/db/password');
    expect(rotating!.details.rotation).toMatchObject({
      enabled: true,
      schedule: 'rate(30 days)',
      lambdaArn: 'arn:aws:lambda:eu-west-1:123456789012:function:rotate-db',
      lastRotatedAt: expect.any(String),
      nextRotationAt: expect.any(String),
      lastAccessedAt: expect.any(String),
    });
    expect((await store.getItem('/motd'))!.details.rotation).toMatchObject({ enabled: false, schedule: null });
  });

  it('opens a secret whose real name has a leading slash under the same item name', async () => {
    const { store, mock } = smStore({ keepLeadingSlash: ['/prod/payments/db/host'] });
    const item = await store.getItem('/prod/payments/db/host');
    expect(item?.name).toBe('/prod/payments/db/host');
    expect(item?.details.arn).toContain(':secret:/prod/payments/db/host-');
    expect(mock.calls()[0]!.args[0].input).toEqual({ SecretId: 'prod/payments/db/host' });
    expect(mock.calls()[1]!.args[0].input).toEqual({ SecretId: '/prod/payments/db/host' });
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
