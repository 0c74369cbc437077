// node --conditions=react-server --import tsx scripts/bench/org-sync-cpu.ts [N] [--postgres URL] [--latency MS]
// The server's CPU per synced item in the organisation shape (scripts/bench/inventory-shapes.ts):
// the simulator runs in its own process (its CPU is not counted), and this process runs the
// inventory sync of every store into a fresh inventory, as the server's background sync does. It
// prints the cold sync's wall time, this process's CPU seconds (user + system) and µs per item.
// Profile with `node --cpu-prof --cpu-prof-dir=/tmp/prof --conditions=react-server --import tsx …`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { SsmStore } from '@/lib/stores/ssm';
import type { InventoryWalkable } from '@/lib/stores/inventory-walk';
import { argNumber, cpuSeconds } from './measure';
import { DESCRIBE_RATE, LIST_SECRETS_RATE, organisationShape } from './inventory-shapes';

async function startSimulator(args: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

/** The shape's stores as the server builds them from its CONFIG_FILE (each account's own credentials). */
function storesOf(shape: ReturnType<typeof organisationShape>, simUrl: string, credentialsFile: string): InventoryWalkable[] {
  return shape.synced.map(({ id, kind }) => {
    // acct01-useast1-ssm: the account's profile and the region the shape gave it.
    const account = id.slice(4, 6);
    const region = shape.storesYaml(simUrl, credentialsFile).find((line) => line.includes(`id: ${id},`))!.match(/region: ([^,]+),/)![1]!;
    const config = { id, region, endpoint: simUrl, profile: `org-acct${account}`, credentialsFile };
    return kind === 'ssm' ? SsmStore.fromConfig(config) : SecretsManagerStore.fromConfig(config);
  });
}

async function main(): Promise<void> {
  process.env.LOG_LEVEL ??= 'warn';
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  const n = Number(process.argv[2] && !process.argv[2].startsWith('--') ? process.argv[2] : 100_000);
  const postgres = process.argv.includes('--postgres') ? process.argv[process.argv.indexOf('--postgres') + 1] : undefined;
  const shape = organisationShape(n);
  const latency = argNumber(process.argv, '--latency', shape.latencyMs);
  const dir = mkdtempSync(path.join(tmpdir(), 'org-sync-cpu-'));
  const credentialsFile = path.join(dir, 'credentials');
  writeFileSync(credentialsFile, shape.credentialsText ?? '');
  const args = shape.simulatorArgs.map((a, i, all) => (all[i - 1] === '--latency' ? String(latency) : a));
  const sim = await startSimulator(args);
  try {
    const db = postgres ? await InventoryDb.openPostgres(postgres) : await InventoryDb.open(dir);
    const stores = storesOf(shape, sim.url, credentialsFile);
    const rates = Object.fromEntries(stores.map((s) => [s.id, { DescribeParameters: DESCRIBE_RATE, ListSecrets: LIST_SECRETS_RATE }]));
    const sync = new InventorySync(db, stores, { intervalMs: 86_400_000, fetchTags: false, rates });
    const cpu = process.cpuUsage();
    const started = performance.now();
    for (const store of stores) sync.request(store.id);
    await Promise.all(stores.map((s) => sync.idle(s.id)));
    const wallS = (performance.now() - started) / 1000;
    const used = process.cpuUsage(cpu);
    const cpuS = (used.user + used.system) / 1e6;
    const simulatorCpuS = cpuSeconds(sim.child.pid!);
    let items = 0;
    let pages = 0;
    let mostPages = 0;
    let slowestWalkMs = 0;
    const failed: string[] = [];
    for (const store of stores) {
      const record = await db.index.syncRecord(store.id);
      if (!record?.synced_at || record.error_code) failed.push(`${store.id}: ${record?.error_message ?? 'never synced'}`);
      items += record?.items ?? 0;
      pages += record?.pages ?? 0;
      mostPages = Math.max(mostPages, record?.pages ?? 0);
      slowestWalkMs = Math.max(slowestWalkMs, record?.duration_ms ?? 0);
    }
    await sync.stop();
    await db.close();
    const result = {
      dialect: postgres ? 'postgres' : 'sqlite',
      items,
      stores: stores.length,
      latencyMs: latency,
      wallS: Math.round(wallS * 10) / 10,
      floorS: shape.floorS,
      cpuS: Math.round(cpuS * 10) / 10,
      cpuUsPerItem: Math.round((cpuS * 1e6) / Math.max(1, items)),
      // The simulator's CPU over its whole life (start-up included), and the calls the walks made.
      simulatorCpuS: Math.round(simulatorCpuS * 10) / 10,
      pages,
      // A store's calls beyond its floor's (full pages) cost time at its rate whatever the CPU.
      mostPagesOneStore: mostPages,
      slowestWalkS: Math.round(slowestWalkMs / 100) / 10,
      peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      failed,
    };
    console.log(JSON.stringify(result));
  } finally {
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`org-sync-cpu failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
