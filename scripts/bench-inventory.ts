// npm run bench:inventory [-- --sizes 1000,10000 --json]
// The inventory against the API-rate floor, in one process: for each size, N items in the built-in
// store (one flat folder) and N parameters in a simulated AWS (its own process: real wire
// protocol, 30 ms per call, AWS's quotas), then
//   - the cold sync of the Parameter Store inventory, the floor (DescribeParameters calls needed
//     divided by the 10/s allowed) and their ratio;
//   - the naive inventory (recursive GetParametersByPath, 10 a page, as CLI tools do) and its ratio
//     to the same floor (run at the same time: its quota is a different one);
//   - warm folder page and search times of the inventory queries the server runs (p50, p95);
//   - this process's peak RSS.
// Requests per second over HTTP and DOM rows in Chromium are not measured here (null).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { globsToRegex } from '@/lib/inventory/schema';
import { InventorySync } from '@/lib/inventory/sync';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { SsmStore } from '@/lib/stores/ssm';

const args = process.argv.slice(2);
const json = args.includes('--json');
const sizesArg = args[args.indexOf('--sizes') + 1];
const SIZES = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [1_000, 10_000, 100_000];
const LATENCY_MS = 30;
const DESCRIBE_RATE = 10;
const log = (line: string) => process.stderr.write(`${line}\n`);

Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true', LOG_LEVEL: 'warn' });

function peakRssMb(): number {
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  return Math.round(Number(hwm ?? 0) / 1024);
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

async function time(runs: number, fn: (i: number) => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 10; i++) await fn(i);
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn(i);
    samples.push(performance.now() - start);
  }
  return samples;
}

async function startSimulator(count: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/sim/simulated-aws-main.ts', '--ssm', `hierarchy:${count}`, '--latency', String(LATENCY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim(), child };
}

async function naiveWalk(url: string): Promise<{ ms: number; calls: number }> {
  const client = new SSMClient({ region: 'us-east-1', endpoint: url, maxAttempts: 10 });
  const start = performance.now();
  let token: string | undefined;
  let calls = 0;
  do {
    const out = await client.send(new GetParametersByPathCommand({ Path: '/', Recursive: true, MaxResults: 10, WithDecryption: false, NextToken: token }));
    calls++;
    token = out.NextToken;
  } while (token);
  return { ms: performance.now() - start, calls };
}

interface Row {
  items: number;
  coldSyncS: number;
  floorS: number;
  coldRatio: number;
  naiveS: number;
  naiveRatio: number;
  warmPageP50Ms: number;
  warmPageP95Ms: number;
  searchP95Ms: number;
  rps: number | null;
  domRows: number | null;
  peakRssMb: number;
}

async function benchSize(n: number): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-'));
  const sim = await startSimulator(n);
  try {
    log(`[${n}] seeding the built-in store`);
    const { store } = EmbeddedStore.open('local', 'Built-in', { dataDir: dir, masterKeyBase64: randomBytes(32).toString('base64') });
    for (let i = 0; i < n; i += 2000) {
      await store.putMany(
        Array.from({ length: Math.min(2000, n - i) }, (_, j) => ({
          name: `/bulk/item-${String(i + j + 1).padStart(6, '0')}`,
          value: 'bench',
          actor: `user-${(i + j) % 7}`,
          at: new Date(Date.UTC(2026, 0, 1) + ((i + j) % 500) * 3_600_000),
        })),
      );
    }

    log(`[${n}] cold sync and naive walk against the simulator (${LATENCY_MS} ms a call)`);
    const db = InventoryDb.open(dir);
    const ssm = SsmStore.fromConfig({ id: 'sim-params', region: 'us-east-1', endpoint: sim.url });
    const sync = new InventorySync(db, [ssm], { intervalMs: 86_400_000, fetchTags: false, rates: { 'sim-params': { DescribeParameters: DESCRIBE_RATE } } });
    const started = performance.now();
    sync.request('sim-params');
    const [coldMs, naive] = await Promise.all([sync.idle('sim-params').then(() => performance.now() - started), naiveWalk(sim.url)]);
    const record = await db.index.syncRecord('sim-params');
    if (!record?.synced_at || record.items !== n) throw new Error(`the cold sync took in ${record?.items} of ${n} items (${record?.error_message ?? 'no error'})`);
    const floorS = Math.ceil(n / 50) / DESCRIBE_RATE;

    log(`[${n}] warm folder pages and search`);
    const scoped = globsToRegex(['/bulk/**', '/scale/**']);
    let deep: string | undefined;
    for (let i = 0, cursor: string | undefined; i < 5; i++) {
      const page = await store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', limit: Math.max(1, Math.floor(n / 10)), cursor, namePattern: null });
      cursor = deep = page.nextCursor;
    }
    const pageQueries = [
      () => store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', limit: 100, namePattern: null }),
      () => store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', sort: 'changed', dir: 'desc', limit: 100, namePattern: null }),
      () => store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', cursor: deep, limit: 100, namePattern: null }),
      () => store.inventory.folderPage({ storeId: 'local', folder: '/bulk/', sort: 'by', limit: 100, namePattern: scoped }),
      () => store.inventory.countItems({ storeId: 'local', folder: '/bulk/', namePattern: scoped }),
      () => db.index.childFolders('sim-params', '/scale/'),
      () => db.index.folderPage({ storeId: 'sim-params', folder: '/scale/team1/svc1/', limit: 100, namePattern: null }),
    ];
    const pages = await time(210, (i) => pageQueries[i % pageQueries.length]!());
    const terms = ['item-0042', 'svc1', 'key7', 'team', 'stripe', 'zz-no-match'];
    const search = await time(120, async (i) => {
      const q = terms[i % terms.length]!;
      await Promise.all([store.inventory.search([{ storeId: 'local', namePattern: null }], q, 20), db.index.search([{ storeId: 'sim-params', namePattern: null }], q, 20)]);
    });

    await sync.stop();
    db.close();
    await store.close();
    return {
      items: n,
      coldSyncS: Math.round(coldMs / 100) / 10,
      floorS,
      coldRatio: Math.round((coldMs / 1000 / floorS) * 100) / 100,
      naiveS: Math.round(naive.ms / 100) / 10,
      naiveRatio: Math.round((naive.ms / 1000 / floorS) * 100) / 100,
      warmPageP50Ms: percentile(pages, 50),
      warmPageP95Ms: percentile(pages, 95),
      searchP95Ms: percentile(search, 95),
      rps: null,
      domRows: null,
      peakRssMb: peakRssMb(),
    };
  } finally {
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
const rows: Row[] = [];
for (const n of SIZES) rows.push(await benchSize(n));

const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
console.log(`Inventory benchmark on ${machine}; simulated AWS: ${LATENCY_MS} ms a call, DescribeParameters ${DESCRIBE_RATE}/s, GetParametersByPath 40/s`);
console.log('| items | cold sync s | floor s | cold / floor | naive s | naive / floor | page p50 ms | page p95 ms | search p95 ms | peak RSS MB |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows)
  console.log(`| ${r.items.toLocaleString('en-US')} | ${r.coldSyncS} | ${r.floorS} | ${r.coldRatio} | ${r.naiveS} | ${r.naiveRatio} | ${r.warmPageP50Ms} | ${r.warmPageP95Ms} | ${r.searchP95Ms} | ${r.peakRssMb} |`);
if (json)
  console.log(
    JSON.stringify(rows.map((r) => ({ items: r.items, coldRatio: r.coldRatio, naiveRatio: r.naiveRatio, warmPageP50Ms: r.warmPageP50Ms, warmPageP95Ms: r.warmPageP95Ms, searchP95Ms: r.searchP95Ms, rps: r.rps, domRows: r.domRows, peakRssMb: r.peakRssMb }))),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`The benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
