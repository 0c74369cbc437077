import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedAws, type SimulatedAws } from '@/simulator/simulated-aws';
import { checkPostgres, closePostgres } from '@/lib/db/postgres';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { InventoryWalkable } from '@/lib/stores/inventory-walk';
import { DATABASES } from '../support/databases';
import { inventoryOpener } from './open-inventory';
import { useSyncHarness } from './support/sync-harness';

// An organisation's worth of stores walking at once over a small PostgreSQL pool: work that needs
// a connection waits for one instead of failing after the connect timeout (80 stores over a pool
// of 5 failed 53 walks with "timeout exceeded when trying to connect"). A pool of 2 and a connect
// timeout of 300 ms make the queue far longer than the timeout here. Opening a connection to a
// server that never answers still fails after that timeout. The walks write at most `stagingWrites`
// pages at once and hold at most `pagesInFlight`, all together.

const STORES_PER_KIND = 20;
const PARAMETERS = 120;
const SECRETS = 80;
const saved = { pool: process.env.DATABASE_POOL_SIZE, timeout: process.env.DATABASE_CONNECT_TIMEOUT_MS };
const { syncs } = useSyncHarness();

beforeAll(() => {
  Object.assign(process.env, {
    // Read when a pool is made: every pool of this file has 2 connections.
    DATABASE_POOL_SIZE: '2',
    DATABASE_CONNECT_TIMEOUT_MS: '300',
  });
});
afterAll(() => {
  for (const [name, value] of [
    ['DATABASE_POOL_SIZE', saved.pool],
    ['DATABASE_CONNECT_TIMEOUT_MS', saved.timeout],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

function storesOf(sim: SimulatedAws): InventoryWalkable[] {
  const stores: InventoryWalkable[] = [];
  for (let i = 0; i < STORES_PER_KIND; i++) {
    stores.push(SsmStore.fromConfig({ id: `params-${i}`, region: sim.region, endpoint: sim.url }));
    stores.push(SecretsManagerStore.fromConfig({ id: `secrets-${i}`, region: sim.region, endpoint: sim.url }));
  }
  return stores;
}

describe.each(DATABASES)('40 stores walking at once (%s, a pool of 2 on PostgreSQL)', (kind) => {
  const inventories = inventoryOpener(kind);
  afterAll(() => inventories.cleanup());

  it('all complete without a connection error, each with all its items', async () => {
    const sim = await startSimulatedAws({
      ssm: [{ pattern: 'hierarchy', count: PARAMETERS }],
      secretsmanager: [{ pattern: 'hierarchy', count: SECRETS }],
      latencyMs: 5,
      quotas: { 'ssm:DescribeParameters': null, 'secretsmanager:ListSecrets': null },
    });
    try {
      const db = await inventories.open();
      const stores = storesOf(sim);
      const rates = Object.fromEntries(stores.map((s) => [s.id, { DescribeParameters: 1000, ListSecrets: 1000 }]));
      // Pages written at once, all walks together: bounded by stagingWrites (else every chain's INSERT waits built in memory).
      // Pages held (asked for and not yet staged): bounded by pagesInFlight (else every open chain holds one).
      let writing = 0;
      let mostWriting = 0;
      let held = 0;
      let mostHeld = 0;
      const stage = db.stage.bind(db);
      db.stage = async (rows) => {
        mostWriting = Math.max(mostWriting, ++writing);
        try {
          return await stage(rows);
        } finally {
          writing--;
          held--;
        }
      };
      for (const store of stores) {
        const inventoryPage = store.inventoryPage.bind(store);
        store.inventoryPage = async (...args) => {
          mostHeld = Math.max(mostHeld, ++held);
          const page = await inventoryPage(...args);
          // A page answered without a call is never staged.
          if (page.noCall) held--;
          return page;
        };
      }
      const sync = new InventorySync(db, stores, { intervalMs: 3_600_000, rates, fetchTags: false, stagingWrites: 3, pagesInFlight: 6 });
      syncs.push(sync);
      sync.start();
      await Promise.all(stores.map((s) => sync.idle(s.id)));
      // PostgreSQL writes over a pool (the bound is reached, never passed); on SQLite's one connection pages
      // written while a swap yields between its chunks wait for it, within the same bound.
      if (kind === 'postgres') expect(mostWriting).toBe(3);
      else expect(mostWriting).toBeLessThanOrEqual(3);
      expect(mostHeld).toBe(6);
      const records = await Promise.all(stores.map(async (s) => ({ id: s.id, record: await db.index.syncRecord(s.id) })));
      const failed = records.filter((r) => r.record?.error_code || !r.record?.synced_at).map((r) => `${r.id}: ${r.record?.error_message ?? 'never synced'}`);
      expect(failed).toEqual([]);
      // Every store of a kind reads the same simulated account (a few generated secrets are not listed as items).
      const secretItems = records.find((r) => r.id === 'secrets-0')!.record!.items;
      expect(secretItems).toBeGreaterThan(SECRETS * 0.9);
      for (const { id, record } of records) expect(record?.items, id).toBe(id.startsWith('params-') ? PARAMETERS : secretItems);
    } finally {
      await sim.close();
    }
  }, 120_000);
});

describe.runIf(process.env.TEST_DATABASE_URL)('opening a connection on PostgreSQL', () => {
  afterAll(() => closePostgres());

  it('still fails after the connect timeout when the server never answers', async () => {
    // Accepts TCP connections and says nothing: PostgreSQL's startup is never answered.
    const sockets: net.Socket[] = [];
    const silent = net.createServer((socket) => void sockets.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const started = Date.now();
      await expect(checkPostgres(`postgres://user:pw@127.0.0.1:${port}/silent`)).rejects.toThrow(/did not answer in time|timeout/i);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 20_000);
});
