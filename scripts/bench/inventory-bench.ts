// npm run bench [-- --sizes 1000,10000 --json]   (or -- --serve N: leave a server on N items running)
// The inventory at 1,000, 10,000 and 100,000 items, against the API-rate floor and over HTTP. For
// each size: N items in one folder of the built-in store and N parameters in a simulated AWS (its
// own process: the real wire protocol, 30 ms a call, AWS's quotas), then the production server
// (`next start`) on that data, and
//   - the cold sync of the Parameter Store inventory inside the server, the floor (DescribeParameters
//     calls needed divided by the 10/s allowed) and their ratio;
//   - the naive inventory (recursive GetParametersByPath, 10 a page, as CLI tools do) and its ratio
//     to the same floor (run at the same time: its quota is a different one);
//   - warm folder pages (HTML and API, first, sorted, deep and grant-scoped) and search, p50/p95 of
//     the server's answer over loopback;
//   - requests per second with 20 concurrent clients (autocannon): the folder table's API pages and
//     searches (what the browser asks for while someone scrolls and types), and whole HTML pages;
//   - the cold sync of as many secrets in a simulated Secrets Manager (concurrent ListSecrets chains)
//     against its floor (ListSecrets calls needed divided by the 100/s allowed);
//   - the most item rows a 100,000-item folder keeps in Chromium's DOM while scrolled through;
//   - the server's peak RSS.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import autocannon from 'autocannon';
import { createLocalUser } from '@/lib/auth/users';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { ensureBuild, signIn, startDashboard, type DashboardServer } from './dashboard-server';
import { CHROMIUM_PATH, measureDomRows } from './dom-rows';
import { machineDescription, percentile, round, timeRuns } from './measure';
import { benchSecretsManagerColdSync } from './secrets-manager-sync';

const args = process.argv.slice(2);
const json = args.includes('--json');
const sizesArg = args[args.indexOf('--sizes') + 1];
const SIZES = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [1_000, 10_000, 100_000];
export const LATENCY_MS = 30;
export const DESCRIBE_RATE = 10;
const CONNECTIONS = 20;
const LOAD_SECONDS = 10;
const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };
const SCOPED = { email: 'scoped@bench.local', password: 'bench-scoped-password' };
const log = (line: string) => process.stderr.write(`${line}\n`);

export const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true' };
Object.assign(process.env, AWS_ENV, { LOG_LEVEL: 'warn' });

/** The simulated AWS in its own process with these Parameter Store sets (e.g. `hierarchy:1000`, `flat:bulk:500`). */
export async function startSimulator(ssmSets: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', '--aws', ...ssmSets.flatMap((set) => ['--ssm', set]), '--latency', String(LATENCY_MS)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

/** The cold sync's floor in seconds: DescribeParameters calls needed (50 a page) at the rate allowed. */
export const describeFloorS = (items: number) => Math.ceil(items / 50) / DESCRIBE_RATE;

async function naiveWalk(url: string): Promise<number> {
  const client = new SSMClient({ region: 'us-east-1', endpoint: url, maxAttempts: 10 });
  const start = performance.now();
  let token: string | undefined;
  do {
    const out = await client.send(new GetParametersByPathCommand({ Path: '/', Recursive: true, MaxResults: 10, WithDecryption: false, NextToken: token }));
    token = out.NextToken;
  } while (token);
  return performance.now() - start;
}

/** The built-in store with n items in /bulk/, two accounts, and a CONFIG_FILE adding the simulated Parameter Store. */
async function prepareDataDir(dir: string, n: number, simUrl: string): Promise<Record<string, string>> {
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const masterKey = randomBytes(32).toString('base64');
  const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir, masterKeyBase64: masterKey });
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
  await store.close();
  process.env.DATA_DIR = dataDir;
  await createLocalUser({ ...ADMIN, role: 'admin' });
  await createLocalUser({ ...SCOPED, role: 'viewer' });
  const configFile = path.join(dir, 'dashboard.yaml');
  writeFileSync(
    configFile,
    [
      'stores:',
      '  - { id: local, kind: local, label: Built-in }',
      `  - { id: sim-params, kind: ssm, region: us-east-1, endpoint: "${simUrl}", rateLimits: { DescribeParameters: ${DESCRIBE_RATE} } }`,
      'grants:',
      `  - { user: ${SCOPED.email}, role: viewer, paths: ["/bulk/**", "/scale/team1/**"] }`,
      '',
    ].join('\n'),
  );
  return { ...AWS_ENV, DATA_DIR: dataDir, MASTER_KEY: masterKey, CONFIG_FILE: configFile, LOG_LEVEL: 'warn', SYNC_INTERVAL_MINUTES: '1440', DEMO_DATA: '0' };
}

export async function getJson<T>(server: DashboardServer, cookie: string, route: string): Promise<T> {
  const response = await fetch(`${server.url}${route}`, { headers: { cookie } });
  if (!response.ok) throw new Error(`GET ${route} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return (await response.json()) as T;
}

export async function waitForSync(server: DashboardServer, cookie: string, storeId: string): Promise<{ durationMs: number; items: number }> {
  for (;;) {
    const { stores } = await getJson<{ stores: { syncedAt: string | null; items: number; error: { message: string } | null; lastWalk: { durationMs: number } | null }[] }>(
      server,
      cookie,
      `/api/v1/inventory?store=${storeId}`,
    );
    const status = stores[0];
    if (status?.syncedAt && status.lastWalk) return { durationMs: status.lastWalk.durationMs, items: status.items };
    if (status?.error) throw new Error(`the cold sync failed: ${status.error.message}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** Times GET requests one after another; every answer must be 200 with a body read to its end. */
export async function timeRoutes(server: DashboardServer, requests: { route: string; cookie: string }[], runs: number): Promise<number[]> {
  return timeRuns(runs, async (i) => {
    const { route, cookie } = requests[i % requests.length]!;
    const response = await fetch(`${server.url}${route}`, { headers: { cookie } });
    await response.arrayBuffer();
    if (response.status !== 200) throw new Error(`GET ${route} answered ${response.status}`);
  });
}

async function load(server: DashboardServer, requests: { route: string; cookie: string }[]): Promise<number> {
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
    requests: requests.map(({ route, cookie }) => ({ method: 'GET', path: route, headers: { cookie } })),
  });
  if (result.non2xx > 0 || result.errors > 0) throw new Error(`under load: ${result.non2xx} non-2xx answers, ${result.errors} errors`);
  return Math.round(result.requests.average);
}

interface Row {
  items: number;
  coldSyncS: number;
  floorS: number;
  coldRatio: number;
  naiveS: number;
  naiveRatio: number;
  smColdS: number;
  smFloorS: number;
  smColdRatio: number;
  warmPageP50Ms: number;
  warmPageP95Ms: number;
  searchP50Ms: number;
  searchP95Ms: number;
  /** Folder pages (the table's API pages) and searches, 20 clients. */
  rps: number;
  /** Whole HTML folder pages (server-rendered), 20 clients. */
  pageRps: number;
  domRows: number;
  domRowsScrolled: number;
  peakRssMb: number;
}

async function benchSize(n: number): Promise<Row> {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-'));
  const sim = await startSimulator([`hierarchy:${n}`]);
  let server: DashboardServer | null = null;
  try {
    log(`[${n}] seeding the built-in store`);
    const env = await prepareDataDir(dir, n, sim.url);

    log(`[${n}] starting the server; cold sync inside it and the naive walk, against the simulator (${LATENCY_MS} ms a call)`);
    const naive = naiveWalk(sim.url);
    server = await startDashboard(env);
    const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
    const scoped = await signIn(server.url, SCOPED.email, SCOPED.password);
    const [cold, naiveMs] = await Promise.all([waitForSync(server, admin, 'sim-params'), naive]);
    if (cold.items !== n) throw new Error(`the cold sync took in ${cold.items} of ${n} items`);
    const floorS = describeFloorS(n);

    log(`[${n}] warm folder pages and search over HTTP`);
    let deep: string | null = null;
    for (let i = 0, cursor: string | null = null; i * 500 < n / 2; i++) {
      const page: { nextCursor: string | null } = await getJson(server, admin, `/api/v1/stores/local/items?path=/bulk/&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = deep = page.nextCursor;
      if (!cursor) break;
    }
    const pages = [
      { route: '/browse/local/bulk', cookie: admin },
      { route: '/browse/local/bulk?sort=changed&dir=desc', cookie: admin },
      { route: `/browse/local/bulk${deep ? `?after=${deep}` : ''}`, cookie: admin },
      { route: '/browse/local/bulk?sort=by', cookie: scoped },
      { route: '/browse/sim-params/scale/team1/svc1', cookie: admin },
      { route: `/api/v1/stores/local/items?path=/bulk/&limit=100${deep ? `&cursor=${deep}` : ''}`, cookie: admin },
      { route: '/api/v1/stores/local/items?path=/bulk/&sort=changed&dir=desc&limit=100', cookie: scoped },
    ];
    const pageTimes = await timeRoutes(server, pages, 140);
    const searches = ['item-0042', 'svc1', 'key7', 'team', 'stripe', 'zz-no-match'].flatMap((q) => [
      { route: `/api/v1/search?q=${q}`, cookie: admin },
      { route: `/api/v1/search?q=${q}`, cookie: scoped },
    ]);
    const searchTimes = await timeRoutes(server, searches, 120);

    log(`[${n}] ${CONNECTIONS} concurrent clients for ${LOAD_SECONDS} s: API pages and searches, then HTML pages`);
    const rps = await load(server, [...pages.filter((p) => p.route.startsWith('/api/')), ...searches]);
    const pageRps = await load(server, pages.filter((p) => p.route.startsWith('/browse/')));

    log(`[${n}] DOM rows of the ${n.toLocaleString('en-US')}-item folder in Chromium, scrolled through`);
    const dom = await measureDomRows({
      url: server.url,
      cookie: admin,
      folderPath: '/browse/local/bulk',
      expectedCount: n.toLocaleString('en-US'),
      lastItem: `item-${String(n).padStart(6, '0')}`,
      maxSeconds: 60,
    });
    const peak = server.peakRssMb();
    await server.stop();
    server = null;

    log(`[${n}] cold sync of ${n.toLocaleString('en-US')} secrets (Secrets Manager, concurrent ListSecrets chains)`);
    const sm = await benchSecretsManagerColdSync(n);
    return {
      items: n,
      coldSyncS: round(cold.durationMs / 1000, 1),
      floorS,
      coldRatio: round(cold.durationMs / 1000 / floorS),
      naiveS: round(naiveMs / 1000, 1),
      naiveRatio: round(naiveMs / 1000 / floorS),
      smColdS: sm.coldS,
      smFloorS: sm.floorS,
      smColdRatio: sm.ratio,
      warmPageP50Ms: percentile(pageTimes, 50),
      warmPageP95Ms: percentile(pageTimes, 95),
      searchP50Ms: percentile(searchTimes, 50),
      searchP95Ms: percentile(searchTimes, 95),
      rps,
      pageRps,
      domRows: dom.most,
      domRowsScrolled: dom.scrolledPast,
      peakRssMb: peak,
    };
  } finally {
    await server?.stop();
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** --serve N: the benchmark's data and server, left running for profiling by hand (Ctrl-C ends it). */
async function serve(n: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-'));
  const sim = await startSimulator([`hierarchy:${n}`]);
  const server = await startDashboard(await prepareDataDir(dir, n, sim.url));
  const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
  await waitForSync(server, admin, 'sim-params');
  console.log(`${server.url} (pid ${server.child.pid})\nCookie: ${admin}`);
  const end = async () => {
    await server.stop();
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGINT', end);
  process.on('SIGTERM', end);
}

async function main(): Promise<void> {
  ensureBuild();
  if (args.includes('--serve')) return serve(Number(args[args.indexOf('--serve') + 1] ?? 1000));
  const rows: Row[] = [];
  for (const n of SIZES) rows.push(await benchSize(n));

  console.log(`Inventory benchmark on ${machineDescription()}; simulated AWS: ${LATENCY_MS} ms a call, DescribeParameters ${DESCRIBE_RATE}/s, GetParametersByPath 40/s; Chromium ${CHROMIUM_PATH}`);
  console.log('| items | cold sync s | floor s | cold / floor | naive s | naive / floor | SM cold s | SM floor s | SM cold / floor | page p50 ms | page p95 ms | search p50 ms | search p95 ms | API pages + search req/s | HTML pages req/s | DOM rows (of rows scrolled) | peak RSS MB |');
  console.log(`|${' ---: |'.repeat(17)}`);
  for (const r of rows)
    console.log(
      `| ${r.items.toLocaleString('en-US')} | ${r.coldSyncS} | ${r.floorS} | ${r.coldRatio} | ${r.naiveS} | ${r.naiveRatio} | ${r.smColdS} | ${r.smFloorS} | ${r.smColdRatio} | ${r.warmPageP50Ms} | ${r.warmPageP95Ms} | ${r.searchP50Ms} | ${r.searchP95Ms} | ${r.rps} | ${r.pageRps} | ${r.domRows} (${r.domRowsScrolled.toLocaleString('en-US')}) | ${r.peakRssMb} |`,
    );
  if (json)
    console.log(
      JSON.stringify(
        rows.map((r) => ({
          items: r.items,
          coldRatio: r.coldRatio,
          naiveRatio: r.naiveRatio,
          smColdRatio: r.smColdRatio,
          warmPageP50Ms: r.warmPageP50Ms,
          warmPageP95Ms: r.warmPageP95Ms,
          searchP95Ms: r.searchP95Ms,
          rps: r.rps,
          pageRps: r.pageRps,
          domRows: r.domRows,
          peakRssMb: r.peakRssMb,
        })),
      ),
    );
}

// Other benchmarks import the helpers above; only `npm run bench` runs this one.
const runAlone = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve('scripts/bench/inventory-bench.ts');
if (runAlone)
  main().then(
    () => (args.includes('--serve') ? undefined : process.exit(0)),
    (error: unknown) => {
      console.error(`The benchmark failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
