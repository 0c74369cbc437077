import { describe, expect, it } from 'vitest';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import type { InventoryPage, InventoryPageHints } from '@/lib/stores/inventory-walk';
import { VaultStore } from '@/lib/stores/vault/store';
import { startSimulatedVault, type SimulatedVault, type SimulatedVaultOptions } from '@/simulator/vault/simulated-vault';
import { vaultWalkCalls } from '@/scripts/bench/vault-sync';
import { makeTempDir } from '../support/temp-dir';
import { useSyncHarness } from '../inventory/support/sync-harness';

// The Vault inventory walk against the simulated Vault (HTTP, latency, a rate limit quota): it makes
// exactly the calls the benchmark's floor counts (a LIST of every folder, a metadata GET of every
// secret), stays within the store's rate without a 429, and keeps its chains busy to the end. A
// flat folder of many secrets used to end as one chain reading the keys no other chain took, one
// round trip at a time; now a metadata GET shares the chain's remaining keys when the walk has room.

const { temps, syncs } = useSyncHarness();
const LATENCY_MS = 20;
/** The flat folder's round trip: long enough that one chain alone is far slower than the busy walk, even on a loaded machine. */
const FLAT_LATENCY_MS = 40;

interface Walked {
  sim: SimulatedVault;
  db: InventoryDb;
  durationMs: number;
  /** For each metadata GET of the walk: how many of the walk's pages were under way when it started. */
  getsStartedWith: number[];
}

async function walk(options: SimulatedVaultOptions, rate: number): Promise<Walked> {
  const sim = await startSimulatedVault({ latencyMs: LATENCY_MS, ...options });
  const temp = makeTempDir('vault-walk-');
  temps.push({ cleanup: () => void sim.close().finally(() => temp.cleanup()) });
  const db = await InventoryDb.open(temp.dir);
  const store = VaultStore.fromConfig(
    { id: 'vault', kind: 'vault', address: sim.url, mount: 'secret', auth: { method: 'token', tokenEnv: 'VAULT_WALK_TOKEN' }, rate, concurrency: 32 },
    { env: { VAULT_WALK_TOKEN: sim.rootToken } },
  );
  temps.push({ cleanup: () => void store.close() });
  // Counts the walk's pages under way (the sync's calls into the store) as each metadata GET starts.
  let underWay = 0;
  const getsStartedWith: number[] = [];
  const page = store.inventoryPage.bind(store);
  store.inventoryPage = async (token: string | undefined, hints?: InventoryPageHints): Promise<InventoryPage> => {
    if (token && (JSON.parse(token) as { g: string[] }).g.length > 0) getsStartedWith.push(underWay);
    underWay++;
    try {
      return await page(token, hints);
    } finally {
      underWay--;
    }
  };
  const sync = new InventorySync(db, [store], { intervalMs: 3_600_000, rates: { vault: { VaultRequests: rate } } });
  syncs.push(sync);
  const started = performance.now();
  expect(sync.request('vault')).toBe('started');
  await sync.idle('vault');
  const durationMs = performance.now() - started;
  const record = await db.index.syncRecord('vault');
  expect(record?.error_message ?? null).toBeNull();
  return { sim, db, durationMs, getsStartedWith };
}

const calls = (sim: SimulatedVault, key: string) => (sim.stats().operations[key]?.calls ?? 0);

describe('the Vault inventory walk', () => {
  it('reads a flat folder of 1,500 secrets with its chains busy to the end, not one key at a time', async () => {
    const secrets = Array.from({ length: 1500 }, (_, i) => ({ path: `flat/key-${String(i).padStart(4, '0')}`, versions: [{ v: 'x' }] }));
    const { sim, db, durationMs, getsStartedWith } = await walk({ latencyMs: FLAT_LATENCY_MS, mounts: [{ path: 'secret', version: 2, secrets }] }, 2000);

    expect((await db.index.syncRecord('vault'))?.items).toBe(1500);
    expect(calls(sim, 'list secret/metadata')).toBe(2);
    expect(calls(sim, 'read secret/metadata')).toBe(1500);
    expect(calls(sim, 'read secret/data')).toBe(0);
    // Before: 31 chains took 25 keys each and the first chain kept the other 725, read one round
    // trip at a time while the rest had ended (about half the GETs started with fewer than 4 under way).
    const alone = getsStartedWith.filter((n) => n < 4).length;
    expect(alone / getsStartedWith.length, `${alone} of ${getsStartedWith.length} GETs started with fewer than 4 pages under way`).toBeLessThan(0.1);
    // One chain alone needs 725 round trips of 40 ms, 29 s; shared out, the 1,500 take well under half that.
    expect(durationMs).toBeLessThan(725 * FLAT_LATENCY_MS * 0.5);
  }, 60_000);

  it('makes exactly the calls the floor counts, within the rate and without a 429 at a quota of that rate', async () => {
    const rate = 400;
    const n = 200;
    const { sim, db } = await walk({ mounts: [{ path: 'secret', version: 2, data: [{ kind: 'generated', count: n }] }], rateLimits: [{ name: 'global', path: '', rate }] }, rate);
    const floor = vaultWalkCalls(n);

    expect((await db.index.syncRecord('vault'))?.items).toBe(n);
    expect(calls(sim, 'list secret/metadata')).toBe(floor.lists);
    expect(calls(sim, 'read secret/metadata')).toBe(floor.reads);
    expect(calls(sim, 'read secret/data')).toBe(0);
    expect(sim.stats().totals.throttled).toBe(0);
    expect(Math.max(...Object.values(sim.stats().operations).map((o) => o.maxCallsPerSecond))).toBeLessThanOrEqual(rate);
  });
});
