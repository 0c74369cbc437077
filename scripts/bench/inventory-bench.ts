// npm run bench [-- --sizes 1000,10000,100000,1000000 --vault 100000 --dialects sqlite,postgres --json]   (or -- --serve N: leave a server on N items running)
// The inventory at 1,000, 10,000 and 100,000 items in one account, and at 1,000,000 items over a
// whole organisation, against the API-rate floor and over HTTP, on SQLite and on PostgreSQL (a
// throwaway cluster started here, scripts/throwaway-postgres.ts, removed at the end; one database
// per row). The shapes (scripts/bench/inventory-shapes.ts):
//   - one account (sizes up to 100,000): N items in one folder of the built-in store and N parameters
//     in a simulated AWS (its own process: the real wire protocol, 30 ms a call, AWS's quotas);
//   - an organisation (sizes above 100,000, or org:N): 20 accounts x 2 regions on one simulator port
//     (routed by access key and region), 150 ms a call, each account and region a Parameter Store of
//     4/5 of its share and a Secrets Manager of 1/5: at 1,000,000, 40 Parameter Stores of 20,000 and
//     40 Secrets Managers of 5,000, all 80 in the dashboard's CONFIG_FILE and walked at once.
// Then the production server (`next start`) on that data, and for each (size, dialect):
//   - the cold sync inside the server: from the first walk's start to the last walk's end, against
//     the floor (the slowest store's calls needed at its configured rate: DescribeParameters 10/s,
//     50 a page; ListSecrets 100/s, 100 a page) and their ratio;
//   - the naive inventory of one Parameter Store (recursive GetParametersByPath, 10 a page, as CLI
//     tools do) against the same floor (its quota is another; run with each size's first dialect,
//     during that row, and repeated in the size's other rows);
//   - warm folder pages (HTML and API, first, sorted, deep and grant-scoped) and search, p50/p95 of
//     the server's answer over loopback, for all and apart for an admin and a path-limited viewer;
//   - requests per second with 20 concurrent clients (autocannon): the folder table's API pages and
//     searches (what the browser asks for while someone scrolls and types), and whole HTML pages;
//   - Secrets Manager's cold sync against its floor: one account, the organisation's secret stores
//     inside the same cold sync; one account, as many secrets in a simulated Secrets Manager synced
//     apart (concurrent ListSecrets chains);
//   - the most item rows the flat folder keeps in Chromium's DOM while scrolled through;
//   - the server's peak RSS (the simulator and PostgreSQL run in processes of their own).
// Each figure is printed next to its target (issue 22): cold sync within 1.2x the floor, warm page
// and search p95 under 100 ms for the admin and the viewer, peak RSS under 512 MB, whole HTML pages
// at 150 r/s or more. `bench:postgres` stays a benchmark of its own (audit appends, per-route figures).
// Then a Vault row per `--vault` size (100,000 by default, `--vault none` for none; `--sizes none`
// runs the Vault rows alone), on each dialect (issue 24): N generated secrets in a simulated Vault
// (its own process: Vault's HTTP API, 30 ms a call, a rate limit quota at the store's configured
// rate answered 429 as Vault does), one CONFIG_FILE Vault store at that rate, the production server;
// its cold sync against the floor (a LIST of every folder and a metadata GET of every secret at the
// configured rate, scripts/bench/vault-sync.ts), warm pages and search, load, peak RSS, the same
// JSON keys (null where a figure is the AWS rows' alone: naive walk, Secrets Manager, DOM rows) and
// its cold sync against issue 24's 1.3x. The simulator must see no read of data/ (values).
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { GetParametersByPathCommand, SSMClient } from '@aws-sdk/client-ssm';
import autocannon from 'autocannon';
import pg from 'pg';
import { createLocalUser } from '@/lib/auth/users';
import { closePostgres } from '@/lib/db/postgres';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../throwaway-postgres';
import { ensureBuild, signIn, startDashboard, type DashboardServer } from './dashboard-server';
import { CHROMIUM_PATH, measureDomRows } from './dom-rows';
import { DESCRIBE_RATE, describeFloorS, ONE_ACCOUNT_LATENCY_MS, shapeOf, type InventoryShape } from './inventory-shapes';
import { cpuSeconds, descendants, machineDescription, percentile, round, timeRuns, cleanupStack } from './measure';
import { benchSecretsManagerColdSync } from './secrets-manager-sync';
import { startVaultSimulator, VAULT_CONCURRENCY, VAULT_LATENCY_MS, VAULT_RATE, VAULT_ROOT_TOKEN, vaultFloorS, vaultSimulatorCalls, vaultWalkCalls } from './vault-sync';

export { DESCRIBE_RATE, describeFloorS };
/** The one-account shape's latency (bench:postgres uses it too). */
export const LATENCY_MS = ONE_ACCOUNT_LATENCY_MS;
const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const json = args.includes('--json');
const sizeList = (raw: string) => (raw === 'none' ? [] : raw.split(',').filter(Boolean));
const SIZES = sizeList(option('--sizes') ?? '1000,10000,100000,1000000');
/** Vault stores of these sizes, a row each per dialect (issue 24 names 100,000). */
const VAULT_SIZES = sizeList(option('--vault') ?? '100000').map(Number);
type Dialect = 'sqlite' | 'postgres';
const DIALECTS = (option('--dialects') ?? 'sqlite,postgres').split(',').filter(Boolean) as Dialect[];
const LABEL: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };
const CONNECTIONS = 20;
const LOAD_SECONDS = 10;
const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };
const SCOPED = { email: 'scoped@bench.local', password: 'bench-scoped-password' };
/** The path-limited viewer's grants, in every store: the flat folder and one team. */
const SCOPED_PATHS = ['/bulk/**', '/scale/team1/**'];
/** Issue 22's targets; a Vault store's cold sync is issue 24's (within 1.3x its floor). */
export const TARGETS = { coldRatio: 1.2, vaultColdRatio: 1.3, p95Ms: 100, peakRssMb: 512, pageRps: 150 };
/** The viewer's grants in the Vault rows: one team whole and one service. */
const VAULT_SCOPED_PATHS = ['/teams/payments/**', '/teams/identity/svc-01/**'];
const VAULT_TOKEN_ENV = 'VAULT_BENCH_TOKEN';
const log = (line: string) => process.stderr.write(`${line}\n`);

export const AWS_ENV = { AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true' };
Object.assign(process.env, AWS_ENV, { LOG_LEVEL: 'warn' });

/** The simulator in its own process with these arguments (after simulator/main.ts); its URL from its first line. */
export async function startSimulatorWith(simArgs: string[]): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', ...simArgs], { stdio: ['ignore', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

/** The simulated AWS of one account with these Parameter Store sets (e.g. `hierarchy:1000`, `flat:bulk:500`), 30 ms a call. */
export function startSimulator(ssmSets: string[]): Promise<{ url: string; child: ChildProcess }> {
  return startSimulatorWith(['--aws', ...ssmSets.flatMap((set) => ['--ssm', set]), '--latency', String(LATENCY_MS)]);
}

/** One Parameter Store walked as CLI tools do: recursive GetParametersByPath, 10 a page, one chain. */
async function naiveWalk(url: string, shape: InventoryShape): Promise<number> {
  const { credentials, region } = shape.naive;
  const client = new SSMClient({ region, endpoint: url, maxAttempts: 10, ...(credentials ? { credentials } : {}) });
  const start = performance.now();
  let token: string | undefined;
  let seen = 0;
  do {
    const out = await client.send(new GetParametersByPathCommand({ Path: '/', Recursive: true, MaxResults: 10, WithDecryption: false, NextToken: token }));
    seen += out.Parameters?.length ?? 0;
    token = out.NextToken;
  } while (token);
  if (seen !== shape.naive.storeParameters) throw new Error(`the naive walk read ${seen} of ${shape.naive.storeParameters} parameters`);
  return performance.now() - start;
}

/** Sets (or, for undefined, removes) process variables: this process's lib calls and the server read them. */
function useEnv(env: Record<string, string | undefined>): Record<string, string> {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** What a data directory holds: items in the built-in store's /bulk/, the stores (CONFIG_FILE lines, given the credentials file), the viewer's grants. */
interface DataDirSpec {
  localItems: number;
  credentialsText: string | null;
  storesYaml: (credentialsFile: string) => string[];
  scopedPaths: string[];
}

/** A shape's data: the built-in store's /bulk/ (one account), the two users, and a CONFIG_FILE naming the simulated stores. */
function shapeDataDir(shape: InventoryShape, simUrl: string): DataDirSpec {
  return { localItems: shape.localItems, credentialsText: shape.credentialsText, storesYaml: (credentialsFile) => shape.storesYaml(simUrl, credentialsFile), scopedPaths: SCOPED_PATHS };
}

async function prepareDataDir(dir: string, shape: DataDirSpec, databaseUrl?: string): Promise<Record<string, string>> {
  const dataDir = path.join(dir, 'data');
  mkdirSync(dataDir, { recursive: true });
  const masterKey = randomBytes(32).toString('base64');
  const env = useEnv({
    ...AWS_ENV,
    DATA_DIR: dataDir,
    MASTER_KEY: masterKey,
    LOG_LEVEL: 'warn',
    SYNC_INTERVAL_MINUTES: '1440',
    DEMO_DATA: '0',
    DATABASE_URL: databaseUrl,
    // PostgreSQL: every replica signs sessions with this key (required with DATABASE_URL).
    NEXTAUTH_SECRET: databaseUrl ? randomBytes(32).toString('base64') : undefined,
  });
  const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir, masterKeyBase64: masterKey, ...(databaseUrl ? { databaseUrl } : {}) });
  for (let i = 0; i < shape.localItems; i += 2000) {
    await store.putMany(
      Array.from({ length: Math.min(2000, shape.localItems - i) }, (_, j) => ({
        name: `/bulk/item-${String(i + j + 1).padStart(6, '0')}`,
        value: 'bench',
        actor: `user-${(i + j) % 7}`,
        at: new Date(Date.UTC(2026, 0, 1) + ((i + j) % 500) * 3_600_000),
      })),
    );
  }
  await store.close();
  await createLocalUser({ ...ADMIN, role: 'admin' });
  await createLocalUser({ ...SCOPED, role: 'viewer' });
  const credentialsFile = path.join(dir, 'aws-credentials');
  if (shape.credentialsText) writeFileSync(credentialsFile, shape.credentialsText, { mode: 0o600 });
  const configFile = path.join(dir, 'dashboard.yaml');
  writeFileSync(
    configFile,
    ['stores:', ...shape.storesYaml(credentialsFile), 'grants:', `  - { user: ${SCOPED.email}, role: viewer, paths: ${JSON.stringify(shape.scopedPaths)} }`, ''].join('\n'),
  );
  return { ...env, CONFIG_FILE: configFile };
}

export async function getJson<T>(server: DashboardServer, cookie: string, route: string): Promise<T> {
  const response = await fetch(`${server.url}${route}`, { headers: { cookie } });
  if (!response.ok) throw new Error(`GET ${route} answered ${response.status}: ${(await response.text()).slice(0, 300)}`);
  return (await response.json()) as T;
}

interface StoreSyncStatus {
  storeId: string;
  syncedAt: string | null;
  items: number;
  error: { message: string } | null;
  lastWalk: { durationMs: number } | null;
  walking: { items: number | null; pages: number | null; throttled: number | null } | null;
  /** Items left out for their names (the admin's view). */
  unreadable: { items: number } | null;
}

export async function waitForSync(server: DashboardServer, cookie: string, storeId: string): Promise<{ durationMs: number; items: number }> {
  for (;;) {
    const { stores } = await getJson<{ stores: StoreSyncStatus[] }>(server, cookie, `/api/v1/inventory?store=${storeId}`);
    const status = stores[0];
    if (status?.syncedAt && status.lastWalk) return { durationMs: status.lastWalk.durationMs, items: status.items };
    if (status?.error) throw new Error(`the cold sync failed: ${status.error.message}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** The span of these stores' first walks: from the first one's start to the last one's end (they walk at once), and the items taken in. */
async function waitForSyncs(
  server: DashboardServer,
  cookie: string,
  storeIds: string[],
  onProgress: (done: number, walked: number) => void,
  timeoutS = Number.POSITIVE_INFINITY,
): Promise<{ spanMs: number; items: number; stores: StoreSyncStatus[] }> {
  const wanted = new Set(storeIds);
  const deadline = performance.now() + timeoutS * 1000;
  let reported = -1;
  let lastReport = 0;
  let failures = 0;
  for (;;) {
    if (performance.now() > deadline) throw new Error(`the cold sync did not finish within ${timeoutS} s`);
    let stores: StoreSyncStatus[];
    try {
      ({ stores } = await getJson<{ stores: StoreSyncStatus[] }>(server, cookie, '/api/v1/inventory'));
      failures = 0;
    } catch (error) {
      // A server that died says why (a signal, or its heap's limit in its last lines); a busy one
      // may drop a kept-alive connection as the poll reuses it, so a few failures in a row are tried again.
      await new Promise((r) => setTimeout(r, 1000));
      const cause = (error as Error & { cause?: Error }).cause?.message;
      if (server.exitReason() || ++failures > 5) throw new Error(server.exitReason() ?? `${(error as Error).message}${cause ? ` (${cause})` : ''}`);
      log(`  polling the inventory status failed (${cause ?? (error as Error).message}); trying again`);
      continue;
    }
    const ours = stores.filter((s) => wanted.has(s.storeId));
    const failed = ours.find((s) => s.error && !s.syncedAt);
    if (failed) throw new Error(`the cold sync of ${failed.storeId} failed: ${failed.error!.message}`);
    const done = ours.filter((s) => s.syncedAt && s.lastWalk);
    const walked = ours.reduce((n, s) => n + (s.syncedAt && s.lastWalk ? s.items : (s.walking?.items ?? 0)), 0);
    if (done.length !== reported || performance.now() - lastReport > 15_000) {
      onProgress((reported = done.length), walked);
      lastReport = performance.now();
    }
    if (done.length === wanted.size) {
      const ends = done.map((s) => Date.parse(s.syncedAt!));
      const starts = done.map((s) => Date.parse(s.syncedAt!) - s.lastWalk!.durationMs);
      return { spanMs: Math.max(...ends) - Math.min(...starts), items: done.reduce((n, s) => n + s.items, 0), stores: done };
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * Every Parameter Store took in all its parameters; every Secrets Manager nearly all its secrets
 * (about 1 in 100 generated secrets is scheduled for deletion, which ListSecrets leaves out). Items
 * left out for their names count as taken in.
 */
function checkTakenIn(shape: InventoryShape, stores: StoreSyncStatus[]): void {
  const kindOf = new Map(shape.synced.map((s) => [s.id, s.kind]));
  for (const s of stores) {
    const seen = s.items + (s.unreadable?.items ?? 0);
    const short = kindOf.get(s.storeId) === 'ssm' ? seen !== shape.parametersPerStore : seen < 0.95 * shape.secretsPerStore - 2 || seen > shape.secretsPerStore;
    if (short) throw new Error(`the cold sync of ${s.storeId} took in ${seen} items (${s.items} listed, ${s.unreadable?.items ?? 0} left out for their names)`);
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

/** p95 of the samples of the requests that `pick` chooses (samples come back in request order, round robin). */
function p95Of(requests: { cookie: string }[], samples: number[], pick: (r: { cookie: string }) => boolean): number {
  return percentile(
    samples.filter((_, j) => pick(requests[j % requests.length]!)),
    95,
  );
}

/** Requests a second under load; answers that are not 2xx fail the run, errors (timeouts after 10 s) are counted and reported. */
async function load(server: DashboardServer, requests: { route: string; cookie: string }[]): Promise<{ rps: number; errors: number; p99Ms: number }> {
  const result = await autocannon({
    url: server.url,
    connections: CONNECTIONS,
    duration: LOAD_SECONDS,
    requests: requests.map(({ route, cookie }) => ({ method: 'GET', path: route, headers: { cookie } })),
  });
  if (result.non2xx > 0) throw new Error(`under load: ${result.non2xx} non-2xx answers`);
  return { rps: Math.round(result.requests.average), errors: result.errors + result.timeouts, p99Ms: result.latency.p99 };
}

/** p50/p95 of each route on stderr (samples come back in route order, round robin), for finding the slow one. */
function logPerRoute(tag: string, requests: { route: string; cookie: string }[], samples: number[], scoped: string): void {
  for (const [i, { route, cookie }] of requests.entries()) {
    const own = samples.filter((_, j) => j % requests.length === i);
    log(`${tag}     ${cookie === scoped ? 'viewer' : 'admin '} ${route.slice(0, 110)}: p50 ${percentile(own, 50)} ms, p95 ${percentile(own, 95)} ms`);
  }
}

type BenchRequest = { route: string; cookie: string };

/**
 * What every row measures the same way once its store is synced: warm pages and searches one at a time
 * (p50/p95, the admin's and the path-limited viewer's apart), then CONNECTIONS clients on the API pages
 * with the searches, and on the HTML pages.
 */
async function measureWarm(server: DashboardServer, tag: string, pages: BenchRequest[], searches: BenchRequest[], admin: string, scoped: string) {
  const pageTimes = await timeRoutes(server, pages, 140);
  logPerRoute(tag, pages, pageTimes, scoped);
  const searchTimes = await timeRoutes(server, searches, 120);
  logPerRoute(tag, searches, searchTimes, scoped);

  log(`${tag} ${CONNECTIONS} concurrent clients for ${LOAD_SECONDS} s: API pages and searches, then HTML pages`);
  const apiLoad = await load(server, [...pages.filter((p) => p.route.startsWith('/api/')), ...searches]);
  const htmlLoad = await load(server, pages.filter((p) => p.route.startsWith('/browse/')));
  log(`${tag}   API pages + search: ${apiLoad.rps} req/s (p99 ${apiLoad.p99Ms} ms, ${apiLoad.errors} errors); HTML pages: ${htmlLoad.rps} req/s (p99 ${htmlLoad.p99Ms} ms, ${htmlLoad.errors} errors)`);
  return {
    warmPageP50Ms: percentile(pageTimes, 50),
    warmPageP95Ms: percentile(pageTimes, 95),
    adminPageP95Ms: p95Of(pages, pageTimes, (r) => r.cookie === admin),
    scopedPageP95Ms: p95Of(pages, pageTimes, (r) => r.cookie === scoped),
    searchP50Ms: percentile(searchTimes, 50),
    searchP95Ms: percentile(searchTimes, 95),
    adminSearchP95Ms: p95Of(searches, searchTimes, (r) => r.cookie === admin),
    scopedSearchP95Ms: p95Of(searches, searchTimes, (r) => r.cookie === scoped),
    rps: apiLoad.rps,
    pageRps: htmlLoad.rps,
    loadErrors: apiLoad.errors + htmlLoad.errors,
  };
}
type WarmFigures = Awaited<ReturnType<typeof measureWarm>>;

/** Each figure against its target (the cold sync's own target: the AWS walks' or Vault's). */
function meetsOf(warm: WarmFigures, coldRatio: number, coldTarget: number, peakRssMb: number) {
  return {
    coldSync: coldRatio <= coldTarget,
    adminPage: warm.adminPageP95Ms < TARGETS.p95Ms,
    scopedPage: warm.scopedPageP95Ms < TARGETS.p95Ms,
    adminSearch: warm.adminSearchP95Ms < TARGETS.p95Ms,
    scopedSearch: warm.scopedSearchP95Ms < TARGETS.p95Ms,
    peakRss: peakRssMb < TARGETS.peakRssMb,
    pageRps: warm.pageRps >= TARGETS.pageRps,
  };
}

export interface Row {
  items: number;
  dialect: Dialect;
  /** 'account': one account; 'organisation': accounts x regions; 'vault': one Vault store (accounts and regions null). */
  shape: InventoryShape['kind'] | 'vault';
  accounts: number | null;
  regions: number | null;
  stores: number;
  latencyMs: number;
  coldSyncS: number;
  floorS: number;
  coldRatio: number;
  /** CPU seconds the server and the simulator had used when the cold sync ended (a cold sync far above its floor with these near its length is bound by CPU, not by AWS's quotas). */
  syncServerCpuS: number;
  syncSimulatorCpuS: number;
  /** The AWS rows' alone (null in a Vault row): the naive walk, Secrets Manager apart. */
  naiveS: number | null;
  naiveRatio: number | null;
  smColdS: number | null;
  smFloorS: number | null;
  smColdRatio: number | null;
  warmPageP50Ms: number;
  warmPageP95Ms: number;
  adminPageP95Ms: number;
  scopedPageP95Ms: number;
  searchP50Ms: number;
  searchP95Ms: number;
  adminSearchP95Ms: number;
  scopedSearchP95Ms: number;
  /** Folder pages (the table's API pages) and searches, 20 clients. */
  rps: number;
  /** Whole HTML folder pages (server-rendered), 20 clients. */
  pageRps: number;
  /** Requests of both loads that failed without an answer (timeouts after 10 s): 0 on a healthy run. */
  loadErrors: number;
  /** The flat folder's DOM rows (null in a Vault row: its folders hold a few dozen secrets). */
  domRows: number | null;
  domRowsScrolled: number | null;
  peakRssMb: number;
  /** Each of issue 22's targets: met or not (a Vault row's coldSync against issue 24's 1.3x). */
  meets: { coldSync: boolean; adminPage: boolean; scopedPage: boolean; adminSearch: boolean; scopedSearch: boolean; peakRss: boolean; pageRps: boolean };
}

/** What one (size, dialect) needs from outside: a database (PostgreSQL) and the size's naive walk when it is already measured. */
interface RowContext {
  databaseUrl?: string;
  /** A second database for the one-account Secrets Manager sync on PostgreSQL. */
  smDatabaseUrl?: string;
  naiveMs: number | null;
}

async function benchRow(shape: InventoryShape, dialect: Dialect, context: RowContext): Promise<{ row: Row; naiveMs: number }> {
  const n = shape.items;
  const tag = `[${n.toLocaleString('en-US')} ${LABEL[dialect]}]`;
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-'));
  const sim = await startSimulatorWith(shape.simulatorArgs);
  let server: DashboardServer | null = null;
  try {
    log(`${tag} ${shape.description}: seeding`);
    const env = await prepareDataDir(dir, shapeDataDir(shape, sim.url), context.databaseUrl);

    log(`${tag} starting the server; cold sync of ${shape.synced.length} store(s) inside it${context.naiveMs === null ? ' and the naive walk' : ''}, against the simulator (${shape.latencyMs} ms a call)`);
    // Awaited at the end of the row: at 150 ms a call one store's naive walk outlasts the cold sync by minutes.
    const naive = context.naiveMs === null ? naiveWalk(sim.url, shape) : Promise.resolve(context.naiveMs);
    naive.catch(() => {});
    server = await startDashboard(env);
    const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
    const scoped = await signIn(server.url, SCOPED.email, SCOPED.password);
    const cold = await waitForSyncs(
      server,
      admin,
      shape.synced.map((s) => s.id),
      (done, walked) => log(`${tag}   ${done} of ${shape.synced.length} stores synced, ${walked.toLocaleString('en-US')} items walked`),
      // Bounded: ten times the floor and five minutes more.
      10 * shape.floorS + 300,
    );
    checkTakenIn(shape, cold.stores);
    // Where the cold sync's time went: CPU seconds the server (and what it forked) and the simulator
    // used from their start to the sync's end (the server's start-up is a second or two of it).
    const serverPids = [server.child.pid!, ...descendants(server.child.pid!)];
    const syncServerCpuS = round(serverPids.reduce((n, pid) => n + cpuSeconds(pid), 0), 1);
    const syncSimulatorCpuS = round(cpuSeconds(sim.child.pid!), 1);
    log(`${tag}   cold sync: ${round(cold.spanMs / 1000, 1)} s; CPU used by then: server ${syncServerCpuS} s, simulator ${syncSimulatorCpuS} s`);
    const smStores = shape.synced.filter((s) => s.kind === 'secretsmanager').map((s) => s.id);
    const smInside = smStores.length > 0 ? await waitForSyncs(server, admin, smStores, () => {}) : null;

    log(`${tag} warm folder pages and search over HTTP`);
    const bulk = `/browse/${shape.bulkStore}/bulk`;
    const bulkApi = `/api/v1/stores/${shape.bulkStore}/items?path=/bulk/`;
    let deep: string | null = null;
    for (let i = 0, cursor: string | null = null; i * 500 < shape.bulkItems / 2; i++) {
      const page: { nextCursor: string | null } = await getJson(server, admin, `${bulkApi}&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = deep = page.nextCursor;
      if (!cursor) break;
    }
    const pages = [
      { route: bulk, cookie: admin },
      { route: `${bulk}?sort=changed&dir=desc`, cookie: admin },
      { route: `${bulk}${deep ? `?after=${deep}` : ''}`, cookie: admin },
      { route: `${bulk}?sort=by`, cookie: scoped },
      { route: `/browse/${shape.hierarchyStore}/scale/team1/svc1`, cookie: admin },
      { route: `${bulkApi}&limit=100${deep ? `&cursor=${deep}` : ''}`, cookie: admin },
      { route: `${bulkApi}&sort=changed&dir=desc&limit=100`, cookie: scoped },
    ];
    const searches = ['item-0042', 'svc1', 'key7', 'team', 'stripe', 'zz-no-match'].flatMap((q) => [
      { route: `/api/v1/search?q=${q}`, cookie: admin },
      { route: `/api/v1/search?q=${q}`, cookie: scoped },
    ]);
    const warm = await measureWarm(server, tag, pages, searches, admin, scoped);

    log(`${tag} DOM rows of the ${shape.bulkItems.toLocaleString('en-US')}-item folder in Chromium, scrolled through`);
    const dom = await measureDomRows({
      url: server.url,
      cookie: admin,
      folderPath: bulk,
      expectedCount: shape.bulkItems.toLocaleString('en-US'),
      lastItem: `item-${String(shape.bulkItems).padStart(6, '0')}`,
      maxSeconds: 60,
    });
    const peak = server.peakRssMb();
    await server.stop();
    server = null;

    let sm: { coldS: number; floorS: number; ratio: number };
    if (smInside) {
      sm = { coldS: round(smInside.spanMs / 1000, 1), floorS: shape.smFloorS, ratio: round(smInside.spanMs / 1000 / shape.smFloorS) };
    } else {
      log(`${tag} cold sync of ${n.toLocaleString('en-US')} secrets (Secrets Manager, concurrent ListSecrets chains)`);
      sm = await benchSecretsManagerColdSync(n, context.smDatabaseUrl);
    }
    if (context.naiveMs === null) log(`${tag} waiting for the naive walk`);
    const naiveMs = await naive;
    const coldSyncS = round(cold.spanMs / 1000, 1);
    const coldRatio = round(cold.spanMs / 1000 / shape.floorS);
    const row: Row = {
      items: n,
      dialect,
      shape: shape.kind,
      accounts: shape.accounts,
      regions: shape.regions,
      stores: shape.synced.length,
      latencyMs: shape.latencyMs,
      coldSyncS,
      floorS: shape.floorS,
      coldRatio,
      syncServerCpuS,
      syncSimulatorCpuS,
      naiveS: round(naiveMs / 1000, 1),
      naiveRatio: round(naiveMs / 1000 / describeFloorS(shape.naive.storeParameters)),
      smColdS: sm.coldS,
      smFloorS: sm.floorS,
      smColdRatio: sm.ratio,
      ...warm,
      domRows: dom.most,
      domRowsScrolled: dom.scrolledPast,
      peakRssMb: peak,
      meets: meetsOf(warm, coldRatio, TARGETS.coldRatio, peak),
    };
    log(`${tag} ${JSON.stringify(row)}`);
    return { row, naiveMs };
  } finally {
    await server?.stop();
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * One Vault row (issue 24): n generated secrets in a simulated Vault, one Vault store in CONFIG_FILE at
 * VAULT_RATE (the simulator's quota too), the production server's cold sync against the floor, then
 * warm pages, search and load as in the AWS rows. Browsing must not read one value: the simulator's
 * count of data/ reads stays 0.
 */
async function benchVaultRow(n: number, dialect: Dialect, databaseUrl?: string): Promise<Row> {
  const tag = `[Vault ${n.toLocaleString('en-US')} ${LABEL[dialect]}]`;
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-vault-'));
  const sim = await startVaultSimulator(n);
  const floorS = vaultFloorS(n);
  const { lists, reads } = vaultWalkCalls(n);
  let server: DashboardServer | null = null;
  try {
    const env = await prepareDataDir(
      dir,
      {
        localItems: 0,
        credentialsText: null,
        storesYaml: () => [
          '  - { id: local, kind: local, label: Built-in }',
          `  - { id: vault, kind: vault, address: "${sim.url}", mount: secret, auth: { method: token, tokenEnv: ${VAULT_TOKEN_ENV} }, rate: ${VAULT_RATE}, concurrency: ${VAULT_CONCURRENCY} }`,
        ],
        scopedPaths: VAULT_SCOPED_PATHS,
      },
      databaseUrl,
    );
    env[VAULT_TOKEN_ENV] = VAULT_ROOT_TOKEN;
    log(`${tag} starting the server; cold sync of ${n.toLocaleString('en-US')} secrets inside it (${VAULT_LATENCY_MS} ms a call, ${VAULT_RATE}/s: ${lists.toLocaleString('en-US')} LISTs + ${reads.toLocaleString('en-US')} metadata GETs, floor ${floorS} s)`);
    server = await startDashboard(env);
    const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
    const scoped = await signIn(server.url, SCOPED.email, SCOPED.password);
    const cold = await waitForSyncs(server, admin, ['vault'], (_done, walked) => log(`${tag}   ${walked.toLocaleString('en-US')} secrets walked`), 10 * floorS + 300);
    const taken = cold.items + (cold.stores[0]?.unreadable?.items ?? 0);
    if (taken !== n) throw new Error(`the Vault cold sync took in ${taken} of ${n} secrets`);
    const serverPids = [server.child.pid!, ...descendants(server.child.pid!)];
    const syncServerCpuS = round(serverPids.reduce((m, pid) => m + cpuSeconds(pid), 0), 1);
    const syncSimulatorCpuS = round(cpuSeconds(sim.child.pid!), 1);
    const calls = await vaultSimulatorCalls(sim.url);
    log(
      `${tag}   cold sync: ${round(cold.spanMs / 1000, 1)} s (floor ${floorS} s); Vault saw ${calls.lists} LISTs, ${calls.reads} metadata GETs, ${calls.throttled} 429s, at most ${calls.maxCallsPerSecond} calls in a second; CPU by then: server ${syncServerCpuS} s, simulator ${syncSimulatorCpuS} s`,
    );

    log(`${tag} warm folder pages and search over HTTP`);
    const api = '/api/v1/stores/vault/items';
    let deep: string | null = null;
    for (let i = 0, cursor: string | null = null; i * 500 < n / 2; i++) {
      const page: { nextCursor: string | null } = await getJson(server, admin, `${api}?path=/teams/&recursive=true&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
      cursor = deep = page.nextCursor;
      if (!cursor) break;
    }
    const folder = '/browse/vault/teams/payments/svc-01/prod';
    const pages = [
      { route: folder, cookie: admin },
      { route: `${folder}?sort=changed&dir=desc`, cookie: admin },
      { route: `${folder}?sort=by`, cookie: scoped },
      { route: '/browse/vault/teams', cookie: admin },
      { route: `${api}?path=/teams/&recursive=true&limit=100${deep ? `&cursor=${deep}` : ''}`, cookie: admin },
      { route: `${api}?path=/teams/&recursive=true&sort=changed&dir=desc&limit=100`, cookie: admin },
      { route: `${api}?path=/teams/payments/&recursive=true&sort=changed&dir=desc&limit=100`, cookie: scoped },
    ];
    const searches = ['secret-007', 'svc-01', 'payments', 'prod/secret-01', 'ledger', 'zz-no-match'].flatMap((q) => [
      { route: `/api/v1/search?q=${encodeURIComponent(q)}`, cookie: admin },
      { route: `/api/v1/search?q=${encodeURIComponent(q)}`, cookie: scoped },
    ]);
    const warm = await measureWarm(server, tag, pages, searches, admin, scoped);
    // Browsing reads metadata only (issue 24): the walk, the pages and the load asked Vault for no value.
    const dataReads = ((await fetch(`${sim.url}/__stats`).then((r) => r.json())) as { operations: Record<string, { calls: number }> }).operations['read secret/data']?.calls ?? 0;
    if (dataReads > 0) throw new Error(`browsing read ${dataReads} values (GET secret/data/…) from Vault`);
    const peak = server.peakRssMb();
    await server.stop();
    server = null;

    const coldSyncS = round(cold.spanMs / 1000, 1);
    const coldRatio = round(cold.spanMs / 1000 / floorS);
    const row: Row = {
      items: n,
      dialect,
      shape: 'vault',
      accounts: null,
      regions: null,
      stores: 1,
      latencyMs: VAULT_LATENCY_MS,
      coldSyncS,
      floorS,
      coldRatio,
      syncServerCpuS,
      syncSimulatorCpuS,
      naiveS: null,
      naiveRatio: null,
      smColdS: null,
      smFloorS: null,
      smColdRatio: null,
      ...warm,
      domRows: null,
      domRowsScrolled: null,
      peakRssMb: peak,
      meets: meetsOf(warm, coldRatio, TARGETS.vaultColdRatio, peak),
    };
    log(`${tag} ${JSON.stringify(row)}`);
    return row;
  } finally {
    await server?.stop();
    sim.child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A fresh database on the throwaway cluster; its URL. */
async function createDatabase(postgres: ThrowawayPostgres, name: string): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.adminUrl });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(postgres.adminUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

async function postgresVersion(postgres: ThrowawayPostgres): Promise<string> {
  const client = new pg.Client({ connectionString: postgres.adminUrl });
  await client.connect();
  try {
    return (await client.query<{ server_version: string }>('SHOW server_version')).rows[0]!.server_version;
  } finally {
    await client.end();
  }
}

/** --serve N: the benchmark's data and server (SQLite), left running for profiling by hand (Ctrl-C ends it). */
async function serve(spec: string): Promise<void> {
  const shape = shapeOf(spec);
  ensureBuild();
  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-'));
  const sim = await startSimulatorWith(shape.simulatorArgs);
  const server = await startDashboard(await prepareDataDir(dir, shapeDataDir(shape, sim.url)));
  const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
  await waitForSyncs(server, admin, shape.synced.map((s) => s.id), (done) => log(`${done} of ${shape.synced.length} stores synced`));
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

const mark = (ok: boolean) => (ok ? '✓' : '✗');

function printTables(shapes: InventoryShape[], allRows: Row[], postgres: string | null): void {
  const rows = allRows.filter((r) => r.shape !== 'vault');
  if (shapes.length === 0) {
    console.log(`Inventory benchmark on ${machineDescription()}${postgres ? `, PostgreSQL ${postgres} (throwaway, fsync off)` : ''}`);
    printVaultTable(allRows.filter((r) => r.shape === 'vault'));
    return;
  }
  console.log(
    `Inventory benchmark on ${machineDescription()}${postgres ? `, PostgreSQL ${postgres} (throwaway, fsync off)` : ''}; simulated AWS: DescribeParameters ${DESCRIBE_RATE}/s, ` +
      `ListSecrets 100/s, GetParametersByPath 40/s; Chromium ${CHROMIUM_PATH}`,
  );
  for (const shape of shapes) console.log(`- ${shape.items.toLocaleString('en-US')}: ${shape.description}`);
  console.log('');
  console.log(
    '| items | dialect | accounts x regions (stores) | ms a call | cold sync s | floor s | cold / floor | server / simulator CPU s by then | naive s | naive / floor | SM cold s | SM floor s | SM cold / floor | page p50 ms | page p95 ms | search p50 ms | search p95 ms | API pages + search req/s | HTML pages req/s | DOM rows (of rows scrolled) | peak RSS MB | load errors |',
  );
  console.log(`|${' ---: |'.repeat(22)}`.replace(' ---: | ---: |', ' ---: | --- |'));
  for (const r of rows)
    console.log(
      `| ${r.items.toLocaleString('en-US')} | ${LABEL[r.dialect]} | ${r.accounts} x ${r.regions} (${r.stores}) | ${r.latencyMs} | ${r.coldSyncS} | ${r.floorS} | ${r.coldRatio} | ${r.syncServerCpuS} / ${r.syncSimulatorCpuS} | ${r.naiveS} | ${r.naiveRatio} | ${r.smColdS} | ${r.smFloorS} | ${r.smColdRatio} | ${r.warmPageP50Ms} | ${r.warmPageP95Ms} | ${r.searchP50Ms} | ${r.searchP95Ms} | ${r.rps} | ${r.pageRps} | ${r.domRows} (${(r.domRowsScrolled ?? 0).toLocaleString('en-US')}) | ${r.peakRssMb} | ${r.loadErrors} |`,
    );
  console.log('');
  console.log('Against the targets (issue 22):');
  console.log(
    `| items | dialect | cold / floor (≤ ${TARGETS.coldRatio}) | admin page p95 ms (< ${TARGETS.p95Ms}) | viewer page p95 ms (< ${TARGETS.p95Ms}) | admin search p95 ms (< ${TARGETS.p95Ms}) | viewer search p95 ms (< ${TARGETS.p95Ms}) | peak RSS MB (< ${TARGETS.peakRssMb}) | HTML pages req/s (≥ ${TARGETS.pageRps}) |`,
  );
  console.log(`| ---: | --- |${' ---: |'.repeat(7)}`);
  for (const r of rows)
    console.log(
      `| ${r.items.toLocaleString('en-US')} | ${LABEL[r.dialect]} | ${r.coldRatio} ${mark(r.meets.coldSync)} | ${r.adminPageP95Ms} ${mark(r.meets.adminPage)} | ${r.scopedPageP95Ms} ${mark(r.meets.scopedPage)} | ${r.adminSearchP95Ms} ${mark(r.meets.adminSearch)} | ${r.scopedSearchP95Ms} ${mark(r.meets.scopedSearch)} | ${r.peakRssMb} ${mark(r.meets.peakRss)} | ${r.pageRps} ${mark(r.meets.pageRps)} |`,
    );
  printVaultTable(allRows.filter((r) => r.shape === 'vault'));
}

/** The Vault rows (issue 24): the cold sync against the floor of its configured rate, pages, search, RSS. */
function printVaultTable(rows: Row[]): void {
  if (rows.length === 0) return;
  console.log('');
  console.log(
    `Vault (issue 24): generated secrets under teams/<team>/<service>/<env>/ in a simulated Vault, ${VAULT_LATENCY_MS} ms a call, a rate limit quota of ${VAULT_RATE}/s; ` +
      `one store at rate ${VAULT_RATE}, concurrency ${VAULT_CONCURRENCY}; floor = (LISTs of every folder + a metadata GET per secret) / ${VAULT_RATE}`,
  );
  console.log(
    `| secrets | dialect | cold sync s | floor s | cold / floor (≤ ${TARGETS.vaultColdRatio}) | server / simulator CPU s by then | page p50 ms | page p95 ms | admin page p95 ms (< ${TARGETS.p95Ms}) | viewer page p95 ms (< ${TARGETS.p95Ms}) | search p50 ms | search p95 ms | admin search p95 ms (< ${TARGETS.p95Ms}) | viewer search p95 ms (< ${TARGETS.p95Ms}) | API pages + search req/s | HTML pages req/s | peak RSS MB (< ${TARGETS.peakRssMb}) | load errors |`,
  );
  console.log(`| ---: | --- |${' ---: |'.repeat(16)}`);
  for (const r of rows)
    console.log(
      `| ${r.items.toLocaleString('en-US')} | ${LABEL[r.dialect]} | ${r.coldSyncS} | ${r.floorS} | ${r.coldRatio} ${mark(r.meets.coldSync)} | ${r.syncServerCpuS} / ${r.syncSimulatorCpuS} | ${r.warmPageP50Ms} | ${r.warmPageP95Ms} | ${r.adminPageP95Ms} ${mark(r.meets.adminPage)} | ${r.scopedPageP95Ms} ${mark(r.meets.scopedPage)} | ${r.searchP50Ms} | ${r.searchP95Ms} | ${r.adminSearchP95Ms} ${mark(r.meets.adminSearch)} | ${r.scopedSearchP95Ms} ${mark(r.meets.scopedSearch)} | ${r.rps} | ${r.pageRps} | ${r.peakRssMb} ${mark(r.meets.peakRss)} | ${r.loadErrors} |`,
    );
}

// Everything started is stopped in reverse order: at the end, on failure and on Ctrl-C.
const { cleanups, cleanUp } = cleanupStack(log);

async function main(): Promise<number> {
  if (DIALECTS.length === 0 || DIALECTS.some((d) => d !== 'sqlite' && d !== 'postgres')) throw new Error('--dialects is a list of sqlite and postgres');
  if (VAULT_SIZES.some((n) => !Number.isInteger(n) || n < 1)) throw new Error('--vault is a list of secret counts (e.g. 100000), or none');
  const shapes = SIZES.map(shapeOf);
  ensureBuild();
  let postgres: ThrowawayPostgres | null = null;
  let version: string | null = null;
  if (DIALECTS.includes('postgres')) {
    log('starting a throwaway PostgreSQL');
    postgres = await startThrowawayPostgres();
    const started = postgres;
    cleanups.push(() => started.stop());
    cleanups.push(() => closePostgres());
    version = await postgresVersion(postgres);
  }
  const rows: Row[] = [];
  const failures: string[] = [];
  let databases = 0;
  for (const shape of shapes) {
    let naiveMs: number | null = null;
    for (const dialect of DIALECTS) {
      const context: RowContext = { naiveMs };
      if (dialect === 'postgres') {
        context.databaseUrl = await createDatabase(postgres!, `bench_${++databases}`);
        if (shape.kind === 'account') context.smDatabaseUrl = await createDatabase(postgres!, `bench_${++databases}`);
      }
      try {
        const result = await benchRow(shape, dialect, context);
        naiveMs = result.naiveMs;
        rows.push(result.row);
      } catch (error) {
        // One failed row does not cost the others: it is named under the tables and the run exits 1.
        const message = error instanceof Error ? error.message : String(error);
        log(`[${shape.items.toLocaleString('en-US')} ${LABEL[dialect]}] failed: ${message}`);
        failures.push(`${shape.items.toLocaleString('en-US')} items on ${LABEL[dialect]}: ${message.split('\n')[0]}`);
      } finally {
        if (dialect === 'postgres') await closePostgres();
      }
    }
  }
  for (const n of VAULT_SIZES) {
    for (const dialect of DIALECTS) {
      try {
        rows.push(await benchVaultRow(n, dialect, dialect === 'postgres' ? await createDatabase(postgres!, `bench_${++databases}`) : undefined));
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log(`[Vault ${n.toLocaleString('en-US')} ${LABEL[dialect]}] failed: ${message}`);
        failures.push(`Vault ${n.toLocaleString('en-US')} secrets on ${LABEL[dialect]}: ${message.split('\n')[0]}`);
      } finally {
        if (dialect === 'postgres') await closePostgres();
      }
    }
  }
  useEnv({ DATABASE_URL: undefined });
  printTables(shapes, rows, version);
  for (const failure of failures) console.log(`Failed: ${failure}`);
  // One row per (size, dialect) that ran, then per (Vault size, dialect), every row with the same keys.
  if (json) console.log(JSON.stringify(rows));
  return failures.length === 0 ? 0 : 1;
}

// Other benchmarks import the helpers above; only `npm run bench` runs this one.
const runAlone = process.argv[1] !== undefined && path.resolve(process.argv[1]) === path.resolve('scripts/bench/inventory-bench.ts');
if (runAlone) {
  const stopWith = (code: number, message?: string) => {
    if (message) console.error(message);
    void cleanUp().finally(() => process.exit(code));
  };
  process.once('SIGINT', () => stopWith(130, 'Interrupted: stopping the servers, the simulator and PostgreSQL.'));
  process.once('SIGTERM', () => stopWith(143));
  if (args.includes('--serve')) void serve(option('--serve') ?? '1000');
  else
    main().then(
      (code) => stopWith(code),
      (error: unknown) => stopWith(1, `The benchmark failed: ${error instanceof Error ? error.message : String(error)}`),
    );
}
