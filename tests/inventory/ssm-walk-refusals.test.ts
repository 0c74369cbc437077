import { afterAll, describe, expect, it } from 'vitest';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { startSimulatedAws, type SimCall, type SimulatedAws } from '@/simulator/simulated-aws';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { SsmStore } from '@/lib/stores/ssm';
import { DATABASES } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { inventoryOpener } from './open-inventory';
import { useSyncHarness } from './support/sync-harness';

// Bad input for the Parameter Store walk: an account that denies DescribeParameters under some
// prefixes (the rest syncs, the items there keep what the inventory had, the status names the
// prefix), a region that is not enabled (the other stores sync, the status names account and
// region), and stores of several accounts and regions walking at once, each within its own rate.

const { temps, syncs } = useSyncHarness();

async function openDb() {
  const temp = makeTempDir('ssm-refusals-');
  temps.push(temp);
  return InventoryDb.open(temp.dir);
}

function storeOf(id: string, sim: SimulatedAws) {
  return SsmStore.fromConfig({ id, region: sim.region, endpoint: sim.url });
}

async function indexedNames(db: InventoryDb, storeId: string): Promise<string[]> {
  return (await db.index.folderPage({ storeId, folder: '/', recursive: true, limit: 100_000, namePattern: null })).items.map((i) => i.name);
}

async function walk(sync: InventorySync, storeId: string) {
  expect(sync.request(storeId)).toBe('started');
  await sync.idle(storeId);
}

const UNLIMITED = { 'ssm:DescribeParameters': null };

describe.each(DATABASES)('a Parameter Store walk that AWS refuses in part (%s)', (kind) => {
  const inventories = inventoryOpener(kind);
  afterAll(() => inventories.cleanup());

  it('reads everything but the refused prefix, keeps what the inventory had there, and names it', async () => {
    const sim = await startSimulatedAws({ ssm: [{ pattern: 'hierarchy', count: 3000 }], latencyMs: 2, quotas: UNLIMITED });
    try {
      const db = await inventories.open();
      const sync = new InventorySync(db, [storeOf('params', sim)], { intervalMs: 3_600_000, rates: { params: { DescribeParameters: 1000 } }, fetchTags: false });
      syncs.push(sync);
      await walk(sync, 'params');
      const before = await indexedNames(db, 'params');
      expect(before).toHaveLength(3000);
      const hidden = before.filter((n) => n.startsWith('/scale/team3/'));
      expect(hidden.length).toBeGreaterThan(100);

      // Now the account denies DescribeParameters under /scale/team3/, and parameters change on both sides.
      const gone = ['/scale/team1/svc1/key1', hidden[0]!];
      sim.control({ denyDescribePrefixes: ['/scale/team3/'], deleteParameters: gone, addParameters: [{ Name: '/scale/team30/new' }, { Name: '/scale/team3/new' }] });
      const client = new SSMClient({ region: sim.region, endpoint: sim.url });
      await expect(client.send(new DescribeParametersCommand({}))).rejects.toMatchObject({ name: 'AccessDeniedException' });
      await expect(
        client.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'BeginsWith', Values: ['/scale/team30'] }] })),
      ).resolves.toMatchObject({ Parameters: [expect.objectContaining({ Name: '/scale/team30/new' })] });

      await walk(sync, 'params');
      const after = new Set(await indexedNames(db, 'params'));
      // Outside the prefix: exactly what AWS has now.
      expect(after.has('/scale/team1/svc1/key1')).toBe(false);
      expect(after.has('/scale/team30/new')).toBe(true);
      for (const name of before.filter((n) => !n.startsWith('/scale/team3/') && !gone.includes(n))) expect(after.has(name), name).toBe(true);
      // Under it: what the inventory had (the deleted one too: the walk could not see it go), nothing new.
      for (const name of hidden) expect(after.has(name), name).toBe(true);
      expect(after.has('/scale/team3/new')).toBe(false);
      const record = await db.index.syncRecord('params');
      expect(record?.synced_at).not.toBeNull();
      expect(record).toMatchObject({ error_code: 'access-denied', items: 3000 - 1 + 1 });
      expect(record?.error_message).toContain('"/scale/team3/"');
      expect(record?.error_message).toContain('account 123456789012, region us-east-1');
      expect(record?.error_message).toContain('everything else synced');

      // Allowed again: the next walk reads the prefix and clears the status.
      sim.control({ denyDescribePrefixes: null });
      await walk(sync, 'params');
      const healed = new Set(await indexedNames(db, 'params'));
      expect(healed.has('/scale/team3/new')).toBe(true);
      expect(healed.has(hidden[0]!)).toBe(false);
      expect((await db.index.syncRecord('params'))?.error_code).toBeNull();
    } finally {
      await sim.close();
    }
  }, 60_000);
});

describe('a Parameter Store walk that AWS refuses', () => {
  it('narrows several refused prefixes down on a cold walk, at any depth', async () => {
    const sim = await startSimulatedAws({
      ssm: [{ pattern: 'hierarchy', count: 2000 }, { pattern: 'flat:flat', count: 300 }],
      extraParameters: [{ Name: '/flat' }, { Name: '/scale' }, { Name: 'plain' }],
      latencyMs: 2,
      quotas: UNLIMITED,
      denyDescribePrefixes: ['/scale/team2/svc1', '/flat/item-0002', 'plain'],
    });
    try {
      const db = await openDb();
      const sync = new InventorySync(db, [storeOf('params', sim)], { intervalMs: 3_600_000, rates: { params: { DescribeParameters: 1000 } }, fetchTags: false });
      syncs.push(sync);
      await walk(sync, 'params');
      const names = new Set(await indexedNames(db, 'params'));
      const denied = (n: string) => ['/scale/team2/svc1', '/flat/item-0002'].some((d) => n.startsWith(d));
      sim.control({ denyDescribePrefixes: null });
      const all: string[] = [];
      const client = new SSMClient({ region: sim.region, endpoint: sim.url });
      let token: string | undefined;
      do {
        const out = await client.send(new DescribeParametersCommand({ MaxResults: 50, NextToken: token }));
        all.push(...out.Parameters!.map((p) => p.Name!));
        token = out.NextToken;
      } while (token);
      const expected = all.filter((n) => n.startsWith('/') && !denied(n));
      expect(expected.length).toBeGreaterThan(2000);
      expect(new Set(expected)).toEqual(names);
      const message = (await db.index.syncRecord('params'))?.error_message ?? '';
      for (const prefix of ['/scale/team2/svc1', '/flat/item-0002', 'plain']) expect(message).toContain(`"${prefix}"`);
    } finally {
      await sim.close();
    }
  }, 60_000);

  it('fails the walk as a whole when every call is refused, keeping the last inventory', async () => {
    const sim = await startSimulatedAws({ ssm: [{ pattern: 'hierarchy', count: 400 }], latencyMs: 2, quotas: UNLIMITED });
    try {
      const db = await openDb();
      const sync = new InventorySync(db, [storeOf('params', sim)], { intervalMs: 3_600_000, rates: { params: { DescribeParameters: 1000 } }, fetchTags: false });
      syncs.push(sync);
      await walk(sync, 'params');
      sim.control({ failAll: 'AccessDeniedException' });
      await walk(sync, 'params');
      expect(await db.index.syncRecord('params')).toMatchObject({ error_code: 'access-denied', items: 400 });
      expect(await db.index.countStore('params')).toBe(400);
    } finally {
      await sim.close();
    }
  }, 60_000);
});

describe('stores of several accounts and regions', () => {
  it('sync the others when one region is not enabled, and name its account and region', async () => {
    const good = await startSimulatedAws({ ssm: [{ pattern: 'hierarchy', count: 300 }], latencyMs: 2, region: 'eu-west-1', quotas: UNLIMITED });
    // AWS answers a call to an opt-in region the account has not enabled as if the key were unknown.
    const disabled = await startSimulatedAws({ ssm: [{ pattern: 'hierarchy', count: 300 }], latencyMs: 2, region: 'ap-east-1', failAll: 'UnrecognizedClientException' });
    try {
      const db = await openDb();
      const sync = new InventorySync(db, [storeOf('good', good), storeOf('hk', disabled)], { intervalMs: 3_600_000, fetchTags: false });
      syncs.push(sync);
      await walk(sync, 'good');
      await walk(sync, 'hk');
      expect(await db.index.countStore('good')).toBe(300);
      const record = await db.index.syncRecord('hk');
      expect(record).toMatchObject({ error_code: 'credentials-expired', synced_at: null });
      expect(record?.error_message).toContain('Store "hk" (account 123456789012, region ap-east-1)');
      expect(record?.error_message).toContain('UnrecognizedClientException');
      expect(record?.error_message).toContain('may not be enabled');
      expect((await db.index.syncRecord('good'))?.error_code).toBeNull();
    } finally {
      await Promise.all([good.close(), disabled.close()]);
    }
  }, 30_000);

  it('walk at once, each store within its own rate', async () => {
    const calls: { store: string; at: number }[] = [];
    const sims = await Promise.all(
      ['111111111111', '222222222222', '333333333333'].map((account, i) =>
        startSimulatedAws({
          account,
          region: (['us-east-1', 'eu-west-1', 'ap-southeast-2'] as const)[i],
          ssm: [{ pattern: 'hierarchy', count: 600 }],
          latencyMs: 20,
          quotas: UNLIMITED,
          onCall: (call: SimCall) => {
            if (call.operation === 'DescribeParameters') calls.push({ store: account, at: call.at });
          },
        }),
      ),
    );
    try {
      const db = await openDb();
      const stores = sims.map((sim, i) => storeOf(`s${i}`, sim));
      const rate = 20;
      const sync = new InventorySync(db, stores, { intervalMs: 3_600_000, fetchTags: false, rates: Object.fromEntries(stores.map((s) => [s.id, { DescribeParameters: rate }])) });
      syncs.push(sync);
      const started = performance.now();
      sync.start();
      await Promise.all(stores.map((s) => sync.idle(s.id)));
      const seconds = (performance.now() - started) / 1000;
      for (const s of stores) expect(await db.index.countStore(s.id)).toBe(600);
      // Each store within its own rate (a token bucket of `rate` a second, so at most 2 × rate in any second at the start).
      const byStore = new Map<string, number[]>();
      for (const c of calls) byStore.set(c.store, [...(byStore.get(c.store) ?? []), c.at]);
      const busiest = (times: number[]) => Math.max(...times.map((t) => times.filter((u) => u >= t && u < t + 1000).length));
      for (const times of byStore.values()) expect(busiest(times)).toBeLessThanOrEqual(2 * rate);
      // Together above any one store's rate: they walked at once, not one after another.
      expect(busiest(calls.map((c) => c.at))).toBeGreaterThan(rate * 1.5);
      const oneStoreCalls = Math.min(...[...byStore.values()].map((t) => t.length));
      expect(seconds).toBeLessThan((oneStoreCalls * 3) / rate);
    } finally {
      await Promise.all(sims.map((sim) => sim.close()));
    }
  }, 60_000);
});
