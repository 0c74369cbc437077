// node --conditions=react-server --import tsx scripts/bench/secrets-manager-sync.ts [1000,10000,100000]
// The Secrets Manager cold sync against its API-rate floor: N secrets in a simulated AWS (its own
// process: real wire protocol, 30 ms per call, ListSecrets throttled above 100/s), one cold walk
// by the inventory sync (concurrent name-filter chains under one ListSecrets limiter at 100/s),
// and the floor: ceil(listed / 100) ListSecrets calls at 100 calls/s. The benchmark imports
// benchSecretsManagerColdSync; run alone, this file prints one row per size.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';

const LATENCY_MS = 30;
/** AWS's ListSecrets quota, which the simulator enforces and the sync is configured to. */
export const LIST_SECRETS_RATE = 100;
const PAGE = 100;
const STORE_ID = 'sim-secrets';

export interface SecretsManagerColdSync {
  coldS: number;
  floorS: number;
  ratio: number;
  /** Secrets listed (indexed plus left out for their names), calls made and the walk's shape. */
  listed: number;
  /** Seconds of the walk itself (the rest of coldS is the swap into the inventory). */
  walkS: number;
  calls: number;
  chains: number;
  maxOpenChains: number;
  maxCallsPerSecond: number;
}

async function startSimulator(count: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', '--aws', '--secrets', `hierarchy:${count}`, '--latency', String(LATENCY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

function round(n: number, digits = 2): number {
  return Math.round(n * 10 ** digits) / 10 ** digits;
}

/** One cold Secrets Manager sync of n generated secrets; its time, the floor and their ratio (into PostgreSQL's inventory when databaseUrl is given, else SQLite's). */
export async function benchSecretsManagerColdSync(n: number, databaseUrl?: string): Promise<SecretsManagerColdSync> {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID || 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY || 'bench', AWS_EC2_METADATA_DISABLED: 'true' });
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-sm-'));
  const sim = await startSimulator(n);
  try {
    const db = databaseUrl ? await InventoryDb.openPostgres(databaseUrl) : await InventoryDb.open(dir);
    const store = SecretsManagerStore.fromConfig({ id: STORE_ID, region: 'us-east-1', endpoint: sim.url });
    const sync = new InventorySync(db, [store], { intervalMs: 86_400_000, fetchTags: false, rates: { [STORE_ID]: { ListSecrets: LIST_SECRETS_RATE } } });
    const started = performance.now();
    sync.request(STORE_ID);
    await sync.idle(STORE_ID);
    const coldMs = performance.now() - started;
    const record = await db.index.syncRecord(STORE_ID);
    if (!record?.synced_at) throw new Error(`the Secrets Manager cold sync failed (${record?.error_message ?? 'no error recorded'})`);
    const stats = (await fetch(`${sim.url}/__stats`).then((r) => r.json())) as { operations: Record<string, { calls: number; maxCallsPerSecond: number }> };
    const list = stats.operations['secretsmanager:ListSecrets'];
    const shape = sync.lastWalk(STORE_ID);
    await sync.stop();
    await db.close();
    const listed = record.items + record.unreadable_items;
    const floorS = Math.max(1, Math.ceil(listed / PAGE)) / LIST_SECRETS_RATE;
    return {
      coldS: round(coldMs / 1000),
      floorS,
      ratio: round(coldMs / 1000 / floorS),
      listed,
      walkS: round(record.duration_ms / 1000),
      calls: list?.calls ?? 0,
      chains: shape?.chains ?? 0,
      maxOpenChains: shape?.maxOpenChains ?? 0,
      maxCallsPerSecond: list?.maxCallsPerSecond ?? 0,
    };
  } finally {
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

const runAlone = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve('scripts/bench/secrets-manager-sync.ts');
if (runAlone) {
  process.env.LOG_LEVEL ??= 'warn';
  const sizes = (process.argv[2] ?? '1000,10000,100000').split(',').map(Number);
  (async () => {
    console.log(`Secrets Manager cold sync; simulated AWS: ${LATENCY_MS} ms a call, ListSecrets ${LIST_SECRETS_RATE}/s`);
    console.log('| secrets | sm cold s | sm floor s | sm cold / floor | of which the walk s | ListSecrets calls | chains (most at once) | most calls in 1 s |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    for (const n of sizes) {
      const r = await benchSecretsManagerColdSync(n);
      console.log(`| ${r.listed.toLocaleString('en-US')} | ${r.coldS} | ${r.floorS} | ${r.ratio} | ${r.walkS} | ${r.calls} | ${r.chains} (${r.maxOpenChains}) | ${r.maxCallsPerSecond} |`);
    }
  })().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(`The benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
