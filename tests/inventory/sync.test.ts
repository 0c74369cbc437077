import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ListSecretsCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSimulatedAws, type SimulatedAws } from '@/simulator/simulated-aws';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import { DATABASES } from '../support/databases';
import { inventoryOpener } from './open-inventory';

// The background sync against a simulated AWS that speaks the real wire protocol to the real SDK,
// with latency and AWS's quotas (throttling answered as AWS does), into an inventory on SQLite and
// on PostgreSQL.

const PARAMS = 620;
const SECRETS = 230;
let sim: SimulatedAws;

beforeAll(async () => {
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000',
    AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key',
    AWS_SESSION_TOKEN: '',
    AWS_EC2_METADATA_DISABLED: 'true',
  });
  sim = await startSimulatedAws({
    ssm: [{ pattern: 'hierarchy', count: PARAMS }],
    secretsmanager: [{ pattern: 'hierarchy', count: SECRETS }],
    latencyMs: 2,
    quotas: { 'ssm:DescribeParameters': 50, 'ssm:ListTagsForResource': 200 },
  });
});
afterAll(async () => {
  await sim.close();
});

describe.each(DATABASES)('the inventory sync (%s)', (kind) => {
  const inventories = inventoryOpener(kind);
  afterAll(() => inventories.cleanup());

  let syncs: InventorySync[] = [];
  afterEach(async () => {
    await Promise.all(syncs.map((s) => s.stop()));
    syncs = [];
    sim.control({ failAll: null, latencyMs: 2, quotas: { 'ssm:DescribeParameters': 50 }, denyTags: null, resetStats: true });
  });

  async function setup(rates: Record<string, number> = {}, fetchTags = false) {
    const db = await inventories.open();
    const ssm = SsmStore.fromConfig({ id: 'params', region: 'us-east-1', endpoint: sim.url });
    const sm = SecretsManagerStore.fromConfig({ id: 'secrets', region: 'us-east-1', endpoint: sim.url });
    const sync = new InventorySync(db, [ssm, sm], { intervalMs: 3_600_000, rates: { params: rates, secrets: rates }, fetchTags });
    syncs.push(sync);
    return { db, sync };
  }

  async function listedSecrets(): Promise<number> {
    const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: sim.url });
    let count = 0;
    let token: string | undefined;
    do {
      const out = await client.send(new ListSecretsCommand({ MaxResults: 100, NextToken: token, IncludePlannedDeletion: false }));
      count += out.SecretList?.length ?? 0;
      token = out.NextToken;
    } while (token);
    expect(count).toBeGreaterThan(SECRETS / 2);
    return count;
  }

  async function walk(sync: InventorySync, storeId: string) {
    expect(sync.request(storeId)).toBe('started');
    await sync.idle(storeId);
  }

  describe('a cold walk', () => {
    it('takes in every parameter and secret with one listing call per page and no value read', async () => {
      const { db, sync } = await setup({ DescribeParameters: 40 });
      await Promise.all([walk(sync, 'params'), walk(sync, 'secrets')]);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      // Secrets scheduled for deletion are not listed, as AWS does without IncludePlannedDeletion.
      expect(await db.index.countStore('secrets')).toBe(await listedSecrets());
      expect((await db.index.getFolder('params', '/'))?.totalItems).toBe(PARAMS);

      // A cold Parameter Store walk splits into chains (tests/inventory/ssm-walk.test.ts): a page per call, some re-read.
      const record = await db.index.syncRecord('params');
      expect(record).toMatchObject({ items: PARAMS, error_code: null });
      expect(record!.pages).toBeGreaterThanOrEqual(Math.ceil(PARAMS / 50));
      expect(JSON.parse(record!.calls)).toEqual({ DescribeParameters: record!.pages });

      const stats = sim.stats().operations;
      expect(stats['ssm:DescribeParameters']?.calls).toBe(record!.pages);
      expect(stats['ssm:DescribeParameters']?.maxAcceptedPerSecond).toBeLessThanOrEqual(40);
      expect(stats['secretsmanager:ListSecrets']?.calls).toBe(Math.ceil(SECRETS / 100) + Math.ceil(SECRETS / 100));
      for (const op of ['ssm:GetParameter', 'ssm:GetParameters', 'ssm:GetParametersByPath', 'secretsmanager:GetSecretValue', 'secretsmanager:DescribeSecret', 'secretsmanager:BatchGetSecretValue'])
        expect(stats[op]?.calls ?? 0, op).toBe(0);

      // Secrets Manager rotation fields come from the listing itself.
      const rotated = (await db.index.folderPage({ storeId: 'secrets', folder: '/', recursive: true, limit: 500, namePattern: null })).items.filter(
        (i) => i.extra.rotation?.enabled,
      );
      expect(rotated.length).toBeGreaterThan(0);
      expect(rotated[0]!.extra.rotation).toMatchObject({ enabled: true, schedule: expect.any(String), lambdaArn: expect.stringContaining('arn:aws:lambda') });

      // Search reads its candidates (10 × the limit) in the walk's name order, then ranks them: the same hits on both dialects.
      const names = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 5000, namePattern: null })).items.map((i) => i.name);
      const leaf = (n: string) => n.slice(n.lastIndexOf('/') + 1);
      const rankOf = (n: string) => (leaf(n).startsWith('key1') ? 1 : leaf(n).includes('key1') ? 2 : 3);
      const expected = names
        .filter((n) => n.toLowerCase().includes('key1'))
        .slice(0, 50)
        .sort((a, b) => rankOf(a) - rankOf(b) || a.length - b.length || (a < b ? -1 : 1))
        .slice(0, 5);
      expect(expected).toHaveLength(5);
      expect((await db.index.search([{ storeId: 'params', namePattern: null }], 'KEY1', 5)).map((h) => h.name)).toEqual(expected);
    });

    it('never goes above the configured rate, and slows down when AWS throttles below it', async () => {
      // Configured at 30/s, but the account only allows 8/s (someone else uses the quota).
      sim.control({ quotas: { 'ssm:DescribeParameters': 8 } });
      const { db, sync } = await setup({ DescribeParameters: 30 });
      await walk(sync, 'params');
      const stats = sim.stats().operations['ssm:DescribeParameters']!;
      expect(stats.throttled).toBeGreaterThan(0);
      expect(stats.maxCallsPerSecond).toBeLessThanOrEqual(30);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      expect((await db.index.syncRecord('params'))?.throttled).toBe(stats.throttled);
    }, 30_000);
  });

  describe('a re-walk', () => {
    it('notices deletions and additions, and readers see the old inventory until the swap', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      await walk(sync, 'params');
      const gone = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 3, namePattern: null })).items.map((i) => i.name);
      sim.control({ deleteParameters: gone, addParameters: [{ Name: '/scale/new/one' }, { Name: '/scale/new/two', Description: 'brand new token' }], latencyMs: 40 });

      expect(sync.request('params')).toBe('started');
      // Mid-walk: pages are staged, the served inventory is still the old one.
      await new Promise((resolve) => setTimeout(resolve, 150));
      expect(sync.progress('params')?.walk?.pages).toBeGreaterThan(0);
      expect(sync.progress('params')?.walk?.expectedItems).toBe(PARAMS);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      expect(await db.index.getItem('params', gone[0]!)).not.toBeNull();
      expect(await db.index.getItem('params', '/scale/new/one')).toBeNull();

      await sync.idle('params');
      expect(await db.index.countStore('params')).toBe(PARAMS - 3 + 2);
      for (const name of gone) expect(await db.index.getItem('params', name)).toBeNull();
      expect(await db.index.getItem('params', '/scale/new/two')).toMatchObject({ description: 'brand new token' });
      expect((await db.index.getFolder('params', '/scale/new/'))?.directItems).toBe(2);
      expect(await db.index.search([{ storeId: 'params', namePattern: null }], 'brand new', 5)).toHaveLength(1);
      sim.control({ deleteParameters: ['/scale/new/one', '/scale/new/two'], addParameters: gone.map((Name) => ({ Name })) });
    }, 30_000);

    it('queues exactly one more walk when asked while one runs', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      expect(sync.request('params')).toBe('started');
      expect(sync.request('params')).toBe('queued');
      expect(sync.request('params')).toBe('queued');
      expect(sync.request('nope')).toBe('unknown');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sync.idle('params');
      // The cold walk splits into chains; the queued one knows the store is small and reads it as one chain.
      expect(JSON.parse((await db.index.syncRecord('params'))!.calls)).toEqual({ DescribeParameters: Math.ceil(PARAMS / 50) });
      const calls = sim.stats().operations['ssm:DescribeParameters']!.calls;
      expect(calls).toBeGreaterThan(2 * Math.ceil(PARAMS / 50));
      expect(calls).toBeLessThan(3 * Math.ceil(PARAMS / 50) + 60);
    }, 30_000);
  });

  describe('a failing walk', () => {
    it('keeps serving the last inventory and names the cause', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      await walk(sync, 'params');
      sim.control({ failAll: 'AccessDeniedException' });
      await walk(sync, 'params');
      const record = await db.index.syncRecord('params');
      expect(record).toMatchObject({ error_code: 'access-denied', items: PARAMS });
      expect(record?.error_message).toContain('AccessDeniedException');
      expect(record?.synced_at).not.toBeNull();
      expect(await db.index.countStore('params')).toBe(PARAMS);

      // The next good walk clears the error.
      sim.control({ failAll: null });
      await walk(sync, 'params');
      expect((await db.index.syncRecord('params'))?.error_code).toBeNull();
    }, 30_000);

    it('leaves a never-synced store without an inventory', async () => {
      sim.control({ failAll: 'ExpiredTokenException' });
      const { db, sync } = await setup();
      await walk(sync, 'secrets');
      expect(await db.index.syncRecord('secrets')).toMatchObject({ synced_at: null, error_code: 'credentials-expired' });
      expect(await db.index.countStore('secrets')).toBe(0);
    });
  });

  describe('Parameter Store tags', () => {
    it('are fetched after the walk, kept across re-walks, and refusals are counted', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50, ListTagsForResource: 200 }, true);
      const denied = ['/scale/team1/svc1/key100', '/scale/team2/svc2/key35', '/scale/team2/svc1/key90'];
      sim.control({ denyTags: denied });
      await walk(sync, 'params');
      for (let i = 0; i < 200 && ((await db.tagsPending('params')) > 0 || sync.progress('params')?.tags.running); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await db.tagsPending('params')).toBe(0);
      const record = await db.index.syncRecord('params');
      expect(record?.unreadable_tags).toBe(denied.length);
      expect(await db.index.getItem('params', denied[0]!)).toMatchObject({ tags: {} });
      expect(sim.stats().operations['ssm:ListTagsForResource']?.calls).toBe(PARAMS);
      const tagged = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 500, namePattern: null })).items.find(
        (i) => Object.keys(i.tags).length > 0,
      );
      expect(tagged).toBeDefined();
      const [key, value] = Object.entries(tagged!.tags)[0]!;
      expect((await db.index.search([{ storeId: 'params', namePattern: null }], value, 50)).some((h) => h.name === tagged!.name)).toBe(true);

      // A re-walk does not wipe the tags fetched separately.
      await walk(sync, 'params');
      expect((await db.index.getItem('params', tagged!.name))?.tags[key]).toBe(value);
    }, 60_000);
  });
});
