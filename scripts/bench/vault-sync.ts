// node --conditions=react-server --import tsx scripts/bench/vault-sync.ts [10000,100000] [--rate 500]
// The Vault cold sync against its rate floor, without the dashboard server: N generated secrets in a
// simulated Vault (its own process: Vault's HTTP API, 30 ms a call, a rate limit quota at the
// store's rate answered 429 as Vault does), one cold walk by the inventory sync into SQLite, and the
// floor: the calls the walk must make (a LIST of every folder, a metadata GET of every secret) at
// the configured rate. `npm run bench` measures the same inside the production server (its Vault
// row); this is the quick loop for the walk alone, and the benchmark imports its helpers.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { VaultStore } from '@/lib/stores/vault/store';
import { dataSetPaths } from '@/simulator/vault/vault-data-set';

/** The benchmark's Vault: its rate limit quota and the store's configured rate (requests a second). */
export const VAULT_RATE = 500;
/** The store's configured concurrency: the rate times the latency is 15 requests in flight, with room. */
export const VAULT_CONCURRENCY = 32;
export const VAULT_LATENCY_MS = 30;
export const VAULT_ROOT_TOKEN = 'bench-root-token';

/** The calls a walk of `generated:n` must make: a LIST of every folder (the mount's top too) and a metadata GET of every secret. */
export function vaultWalkCalls(n: number): { lists: number; reads: number } {
  const folders = new Set<string>(['']);
  for (const p of dataSetPaths({ kind: 'generated', count: n })) {
    const parts = p.split('/');
    for (let i = 1; i < parts.length; i++) folders.add(parts.slice(0, i).join('/'));
  }
  return { lists: folders.size, reads: n };
}

/** The floor in seconds: those calls at `rate` a second. */
export function vaultFloorS(n: number, rate = VAULT_RATE): number {
  const { lists, reads } = vaultWalkCalls(n);
  return Math.round(((lists + reads) / rate) * 100) / 100;
}

/** The simulated Vault process: generated:n in the KV v2 mount `secret`, the latency, the quota. */
export async function startVaultSimulator(n: number, rate = VAULT_RATE): Promise<{ url: string; child: ChildProcess }> {
  const args = ['--vault', '--vault-data', `generated:${n}`, '--vault-token', VAULT_ROOT_TOKEN, '--vault-rate', String(rate), '--latency', String(VAULT_LATENCY_MS)];
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the Vault simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

export interface VaultSimulatorCalls {
  lists: number;
  reads: number;
  throttled: number;
  maxCallsPerSecond: number;
}

/** What the simulator was asked: LISTs and reads on metadata/, 429s, the most calls in one second. */
export async function vaultSimulatorCalls(url: string): Promise<VaultSimulatorCalls> {
  const stats = (await fetch(`${url}/__stats`).then((r) => r.json())) as { totals: { throttled: number }; operations: Record<string, { calls: number; maxCallsPerSecond: number }> };
  const op = (key: string) => stats.operations[key] ?? { calls: 0, maxCallsPerSecond: 0 };
  const all = Object.values(stats.operations);
  return {
    lists: op('list secret/metadata').calls,
    reads: op('read secret/metadata').calls,
    throttled: stats.totals.throttled,
    maxCallsPerSecond: Math.max(0, ...all.map((o) => o.maxCallsPerSecond)),
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** One cold sync of generated:n by the inventory sync in this process (SQLite). */
export async function benchVaultColdSync(n: number, rate = VAULT_RATE) {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-vault-'));
  const sim = await startVaultSimulator(n, rate);
  process.env.VAULT_BENCH_TOKEN = VAULT_ROOT_TOKEN;
  try {
    const db = await InventoryDb.open(dir);
    const store = VaultStore.fromConfig({ id: 'vault', kind: 'vault', address: sim.url, mount: 'secret', auth: { method: 'token', tokenEnv: 'VAULT_BENCH_TOKEN' }, rate, concurrency: VAULT_CONCURRENCY });
    const sync = new InventorySync(db, [store], { intervalMs: 86_400_000, rates: { vault: { VaultRequests: rate } } });
    const started = performance.now();
    sync.request('vault');
    await sync.idle('vault');
    const coldMs = performance.now() - started;
    const record = await db.index.syncRecord('vault');
    if (!record?.synced_at) throw new Error(`the Vault cold sync failed (${record?.error_message ?? 'no error recorded'})`);
    const calls = await vaultSimulatorCalls(sim.url);
    const shape = sync.lastWalk('vault');
    await sync.stop();
    await store.close();
    await db.close();
    const floorS = vaultFloorS(n, rate);
    return { n, items: record.items, coldS: round(coldMs / 1000), walkS: round(record.duration_ms / 1000), floorS, ratio: round(coldMs / 1000 / floorS), ...calls, chains: shape?.chains ?? 0, maxOpenChains: shape?.maxOpenChains ?? 0 };
  } finally {
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const runAlone = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve('scripts/bench/vault-sync.ts');
if (runAlone) {
  process.env.LOG_LEVEL ??= 'warn';
  const args = process.argv.slice(2);
  const rate = args.includes('--rate') ? Number(args[args.indexOf('--rate') + 1]) : VAULT_RATE;
  const sizes = (args.find((a) => /^\d[\d,]*$/.test(a)) ?? '10000').split(',').map(Number);
  (async () => {
    console.log(`Vault cold sync; simulated Vault: ${VAULT_LATENCY_MS} ms a call, rate limit quota ${rate}/s, the store's rate ${rate}/s, concurrency ${VAULT_CONCURRENCY}`);
    console.log('| secrets | cold s | of which the walk s | floor s | cold / floor | LISTs | metadata GETs | 429s | most calls in 1 s | chains (most at once) |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const n of sizes) {
      const r = await benchVaultColdSync(n, rate);
      console.log(`| ${r.items.toLocaleString('en-US')} | ${r.coldS} | ${r.walkS} | ${r.floorS} | ${r.ratio} | ${r.lists} | ${r.reads} | ${r.throttled} | ${r.maxCallsPerSecond} | ${r.chains} (${r.maxOpenChains}) |`);
    }
  })().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`The benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
