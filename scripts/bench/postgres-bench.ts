// npm run bench:postgres [-- --items 100000 --appends 1000 --slow-ms 50 --json]
// The dashboard at real size on SQLite and on PostgreSQL, one after the other in one run, on the
// same data and through the production server (`next start`, as `npm run bench` drives it):
// a simulated AWS (its own process: the real wire protocol, 30 ms a call, AWS's quotas) with a
// Parameter Store of N parameters, half of them in a hierarchy (/scale/teamT/svcS/keyK, folders of
// about 150) and half in one flat folder (/bulk/item-NNNNNN, where deep keyset pages and sorting
// cost the most). For each dialect (SQLite under DATA_DIR, then DATABASE_URL on a throwaway
// PostgreSQL started here and stopped at the end, also on failure or Ctrl-C) the server syncs that
// store cold, and the run measures:
//   - the cold sync's time inside the server against the API-rate floor (DescribeParameters);
//   - warm folder pages as the table asks for them (API pages of 250: first, deep, sorted by date,
//     name-filtered, folders of folders), p50/p95 over loopback, an admin;
//   - searches as the search box sends them (8 results), an admin and a scoped viewer;
//   - the same folder pages for a viewer whose grants cut them (folder and wildcard grants);
//   - audit appends a second from 2 processes appending at once (the replicas' test support), and
//     the chain verified afterwards.
// --slow-ms N logs PostgreSQL's statements slower than N ms and prints the slowest at the end.
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { verifyAuditChain, type ChainVerdict } from '@/lib/audit/audit-log';
import { createLocalUser } from '@/lib/auth/users';
import { closePostgres } from '@/lib/db/postgres';
import { startThrowawayPostgres, type ThrowawayPostgres } from '../throwaway-postgres';
import { startReplica } from '../../tests/replicas/support/replica-process';
import { ensureBuild, signIn, startDashboard, type DashboardServer } from './dashboard-server';
import { AWS_ENV, DESCRIBE_RATE, describeFloorS, getJson, LATENCY_MS, startSimulator, timeRoutes, waitForSync } from './inventory-bench';
import { machineDescription, percentile, round, cleanupStack } from './measure';

const args = process.argv.slice(2);
const option = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const json = args.includes('--json');
const ITEMS = Number(option('--items') ?? 100_000);
/** Audit appends each of the two processes makes. */
const APPENDS = Number(option('--appends') ?? 1000);
const SLOW_MS = option('--slow-ms') === undefined ? null : Number(option('--slow-ms'));
const STORE = 'sim-params';
const ADMIN = { email: 'admin@bench.local', password: 'bench-admin-password' };
const SCOPED = { email: 'scoped@bench.local', password: 'bench-scoped-password' };
/** The scoped viewer's grants: a flat folder, a team, and one service in every team (a wildcard). */
const SCOPED_PATHS = ['/bulk/**', '/scale/team1/**', '/scale/*/svc2/**'];
const log = (line: string) => process.stderr.write(`${line}\n`);

type Dialect = 'sqlite' | 'postgres';
const DIALECTS: Dialect[] = ['sqlite', 'postgres'];
const LABEL: Record<Dialect, string> = { sqlite: 'SQLite', postgres: 'PostgreSQL' };

interface Figures {
  coldSyncS: number;
  floorS: number;
  coldRatio: number;
  pageP50Ms: number;
  pageP95Ms: number;
  searchP50Ms: number;
  searchP95Ms: number;
  scopedPageP50Ms: number;
  scopedPageP95Ms: number;
  appendsPerS: number;
  chain: ChainVerdict;
  peakRssMb: number;
}

// Everything started is stopped in reverse order: at the end, on failure, on Ctrl-C and when the run
// outlives its time budget.
const { cleanups, cleanUp } = cleanupStack(log);
function stopWith(code: number, message?: string): void {
  if (message) console.error(message);
  void cleanUp().finally(() => process.exit(code));
}

/** Sets (or, for undefined, removes) process variables: this process's lib calls and every child read them. */
function useEnv(env: Record<string, string | undefined>): Record<string, string> {
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return Object.fromEntries(Object.entries(env).filter((e): e is [string, string] => e[1] !== undefined));
}

/** The dialect's data: an empty DATA_DIR (or database), the two accounts and a CONFIG_FILE naming the simulated store. */
async function prepare(dialect: Dialect, dir: string, simUrl: string, databaseUrl: string): Promise<Record<string, string>> {
  const dataDir = path.join(dir, dialect, 'data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(dir, dialect, 'dashboard.yaml');
  writeFileSync(
    configFile,
    [
      'stores:',
      `  - { id: ${STORE}, kind: ssm, region: us-east-1, endpoint: "${simUrl}", rateLimits: { DescribeParameters: ${DESCRIBE_RATE} } }`,
      'grants:',
      `  - { user: ${SCOPED.email}, role: viewer, paths: ${JSON.stringify(SCOPED_PATHS)} }`,
      '',
    ].join('\n'),
  );
  const env = useEnv({
    ...AWS_ENV,
    DATA_DIR: dataDir,
    CONFIG_FILE: configFile,
    LOG_LEVEL: 'warn',
    SYNC_INTERVAL_MINUTES: '1440',
    DEMO_DATA: '0',
    MASTER_KEY: randomBytes(32).toString('base64'),
    // PostgreSQL: every replica signs sessions with this key (required with DATABASE_URL).
    DATABASE_URL: dialect === 'postgres' ? databaseUrl : undefined,
    NEXTAUTH_SECRET: dialect === 'postgres' ? randomBytes(32).toString('base64') : undefined,
  });
  await createLocalUser({ ...ADMIN, role: 'admin' });
  await createLocalUser({ ...SCOPED, role: 'viewer' });
  return env;
}

const items = (folder: string, query = '') => `/api/v1/stores/${STORE}/items?path=${folder}&limit=250${query}`;

/** p50/p95 of each route (samples come back in route order, round robin), for finding the slow one. */
function logPerRoute(what: string, requests: { route: string }[], samples: number[]): void {
  for (const [i, { route }] of requests.entries()) {
    const own = samples.filter((_, j) => j % requests.length === i);
    log(`    ${what} ${route}: p50 ${percentile(own, 50)} ms, p95 ${percentile(own, 95)} ms`);
  }
}

/** A cursor half-way down the flat folder, reached as the table scrolls (pages of 500). */
async function deepCursor(server: DashboardServer, cookie: string): Promise<string | null> {
  let cursor: string | null = null;
  for (let seen = 0; seen < ITEMS / 4; seen += 500) {
    const page: { nextCursor: string | null } = await getJson(server, cookie, `/api/v1/stores/${STORE}/items?path=/bulk/&limit=500${cursor ? `&cursor=${cursor}` : ''}`);
    if (!page.nextCursor) break;
    cursor = page.nextCursor;
  }
  return cursor;
}

/** Appends from two OS processes at once on the dialect's database; appends a second, then the whole chain verified. */
async function auditAppends(dialect: Dialect): Promise<{ appendsPerS: number; chain: ChainVerdict }> {
  const replicas = ['a', 'b'].map((name) => startReplica(`bench-${dialect}-${name}`, {}));
  const stop = () => Promise.all(replicas.map((r) => r.stop()));
  cleanups.push(stop);
  await Promise.all(replicas.map((r) => r.eventSeen('ready')));
  const started = performance.now();
  await Promise.all(replicas.map((r) => r.call('append', { count: APPENDS })));
  const seconds = (performance.now() - started) / 1000;
  await stop();
  return { appendsPerS: Math.round((2 * APPENDS) / seconds), chain: await verifyAuditChain() };
}

async function benchDialect(dialect: Dialect, dir: string, simUrl: string, databaseUrl: string): Promise<Figures> {
  const tag = `[${LABEL[dialect]}]`;
  const phaseLog = dialect === 'postgres' ? slowLog : null;
  const env = await prepare(dialect, dir, simUrl, databaseUrl);
  log(`${tag} starting the server; cold sync of ${ITEMS.toLocaleString('en-US')} parameters (${LATENCY_MS} ms a call, DescribeParameters ${DESCRIBE_RATE}/s)`);
  const server = await startDashboard(env);
  cleanups.push(() => server.stop());
  const admin = await signIn(server.url, ADMIN.email, ADMIN.password);
  const scoped = await signIn(server.url, SCOPED.email, SCOPED.password);
  const cold = await waitForSync(server, admin, STORE);
  if (cold.items !== ITEMS) throw new Error(`${tag} the cold sync took in ${cold.items} of ${ITEMS} parameters`);
  phaseLog?.mark('during the cold sync');

  log(`${tag} warm folder pages and searches over HTTP`);
  const deep = await deepCursor(server, admin);
  const deepQuery = deep ? `&cursor=${deep}` : '';
  const pages = [
    items('/bulk/'),
    items('/bulk/', deepQuery),
    items('/bulk/', '&sort=changed&dir=desc'),
    items('/bulk/', '&q=item-012'),
    items('/scale/'),
    items('/scale/team2/'),
    items('/scale/team2/svc3/'),
    items('/scale/team2/svc3/', '&sort=changed&dir=desc'),
  ].map((route) => ({ route, cookie: admin }));
  const pageTimes = await timeRoutes(server, pages, pages.length * 20);
  logPerRoute('admin', pages, pageTimes);
  const scopedPages = [
    items('/bulk/'),
    items('/bulk/', deepQuery),
    items('/bulk/', '&sort=changed&dir=desc'),
    items('/scale/'),
    items('/scale/team3/'),
    items('/scale/team3/svc2/'),
    items('/scale/team1/svc1/', '&sort=changed&dir=desc'),
  ].map((route) => ({ route, cookie: scoped }));
  const scopedTimes = await timeRoutes(server, scopedPages, scopedPages.length * 20);
  logPerRoute('scoped', scopedPages, scopedTimes);
  const searches = ['key42', 'svc1', 'team1', 'item-0042', 'bulk', 'zz-no-match'].flatMap((q) =>
    [admin, scoped].map((cookie) => ({ route: `/api/v1/search?q=${q}&limit=8`, cookie })),
  );
  const searchTimes = await timeRoutes(server, searches, searches.length * 10);
  logPerRoute('search', searches, searchTimes);
  phaseLog?.mark('during the warm pages and searches');
  const peakRssMb = server.peakRssMb();
  await server.stop();

  log(`${tag} audit appends: 2 processes × ${APPENDS.toLocaleString('en-US')} at once`);
  const audit = await auditAppends(dialect);
  phaseLog?.mark('during the audit appends');
  const floorS = describeFloorS(ITEMS);
  return {
    coldSyncS: round(cold.durationMs / 1000, 1),
    floorS,
    coldRatio: round(cold.durationMs / 1000 / floorS),
    pageP50Ms: percentile(pageTimes, 50),
    pageP95Ms: percentile(pageTimes, 95),
    searchP50Ms: percentile(searchTimes, 50),
    searchP95Ms: percentile(searchTimes, 95),
    scopedPageP50Ms: percentile(scopedTimes, 50),
    scopedPageP95Ms: percentile(scopedTimes, 95),
    appendsPerS: audit.appendsPerS,
    chain: audit.chain,
    peakRssMb,
  };
}

/** A database of its own on the throwaway server; its URL and the server's version. */
async function createDatabase(postgres: ThrowawayPostgres): Promise<{ url: string; version: string }> {
  const client = new pg.Client({ connectionString: postgres.adminUrl });
  await client.connect();
  try {
    await client.query('CREATE DATABASE bench');
    if (SLOW_MS !== null) {
      await client.query(`ALTER SYSTEM SET log_min_duration_statement = ${Math.round(SLOW_MS)}`);
      await client.query('SELECT pg_reload_conf()');
      const { rows } = await client.query<{ data_directory: string }>('SHOW data_directory');
      slowLog = slowStatementLog(path.join(path.dirname(rows[0]!.data_directory), 'server.log'));
    }
    const { rows } = await client.query<{ server_version: string }>('SHOW server_version');
    const url = new URL(postgres.adminUrl);
    url.pathname = '/bench';
    return { url: url.toString(), version: rows[0]!.server_version };
  } finally {
    await client.end();
  }
}

/**
 * The throwaway server's log (next to its data folder), cut into the run's phases: each phase's
 * slowest statements, one line per distinct statement (how often, the slowest time, its parameters).
 */
function slowStatementLog(file: string) {
  const size = () => {
    try {
      return statSync(file).size;
    } catch {
      return 0;
    }
  };
  let from = size();
  const phases: { name: string; statements: Map<string, { count: number; maxMs: number; parameters: string }> }[] = [];
  return {
    mark(name: string) {
      const to = size();
      const lines = readFileSync(file).subarray(from, to).toString('utf8').split('\n');
      from = to;
      const statements = new Map<string, { count: number; maxMs: number; parameters: string }>();
      lines.forEach((line, i) => {
        const match = /duration: ([\d.]+) ms {2}(?:(?:execute|bind|parse) [^:]*: |statement: )?(.*)$/.exec(line);
        if (!match) return;
        const ms = Number(match[1]);
        const parameters = /DETAIL: {2}parameters: (.*)$/i.exec(lines[i + 1] ?? '')?.[1] ?? '';
        const seen = statements.get(match[2]!) ?? { count: 0, maxMs: 0, parameters };
        statements.set(match[2]!, { count: seen.count + 1, maxMs: Math.max(seen.maxMs, ms), parameters: ms >= seen.maxMs ? parameters : seen.parameters });
      });
      phases.push({ name, statements });
    },
    print() {
      for (const { name, statements } of phases) {
        const slowest = [...statements].sort((a, b) => b[1].maxMs - a[1].maxMs);
        log(`PostgreSQL statements over ${SLOW_MS} ms ${name}: ${slowest.reduce((n, [, s]) => n + s.count, 0)} (${slowest.length} distinct)`);
        for (const [statement, { count, maxMs, parameters }] of slowest.slice(0, 6)) {
          log(`  ${count}× up to ${maxMs} ms: ${statement.slice(0, 900)}`);
          if (parameters) log(`    parameters: ${parameters.slice(0, 400)}`);
        }
      }
    },
  };
}
let slowLog: ReturnType<typeof slowStatementLog> | null = null;

function chainText(chain: ChainVerdict): string {
  return chain.intact ? `intact (${chain.entries.toLocaleString('en-US')} entries)` : `BROKEN at #${chain.broken.seq}`;
}

async function main(): Promise<number> {
  if (!Number.isInteger(ITEMS) || ITEMS < 1000 || ITEMS > 1_000_000) throw new Error('--items must be a whole number from 1000 to 1000000');
  if (!Number.isInteger(APPENDS) || APPENDS < 1 || APPENDS > 100_000) throw new Error('--appends must be a whole number from 1 to 100000');
  if (SLOW_MS !== null && !(SLOW_MS >= 0)) throw new Error('--slow-ms must be a number of milliseconds');
  ensureBuild();
  // Bounded: each dialect gets three times the sync's floor plus five minutes for the rest.
  const budgetS = DIALECTS.length * (3 * describeFloorS(ITEMS) + 300);
  setTimeout(() => stopWith(1, `The benchmark stopped: it ran past its ${budgetS} s budget.`), budgetS * 1000).unref();

  const dir = mkdtempSync(path.join(tmpdir(), 'secrets-bench-pg-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  log(`starting the simulated AWS (${ITEMS.toLocaleString('en-US')} parameters) and a throwaway PostgreSQL`);
  const half = Math.floor(ITEMS / 2);
  const sim = await startSimulator([`hierarchy:${ITEMS - half}`, `flat:bulk:${half}`]);
  cleanups.push(() => sim.child.kill('SIGTERM'));
  const postgres = await startThrowawayPostgres();
  cleanups.push(() => postgres.stop());
  const database = await createDatabase(postgres);
  cleanups.push(() => closePostgres());

  const figures = {} as Record<Dialect, Figures>;
  for (const dialect of DIALECTS) figures[dialect] = await benchDialect(dialect, dir, sim.url, database.url);
  slowLog?.print();

  const rows: [string, (f: Figures) => string | number][] = [
    [`cold sync s (floor ${describeFloorS(ITEMS)} s)`, (f) => f.coldSyncS],
    ['cold sync / floor', (f) => f.coldRatio],
    ['folder page p50 ms (admin, API pages of 250)', (f) => f.pageP50Ms],
    ['folder page p95 ms (admin)', (f) => f.pageP95Ms],
    ['search p50 ms (8 results)', (f) => f.searchP50Ms],
    ['search p95 ms', (f) => f.searchP95Ms],
    ["scoped viewer's folder page p50 ms", (f) => f.scopedPageP50Ms],
    ["scoped viewer's folder page p95 ms", (f) => f.scopedPageP95Ms],
    ['audit appends / s (2 processes at once)', (f) => f.appendsPerS],
    ['audit chain after', (f) => chainText(f.chain)],
    ['server peak RSS MB', (f) => f.peakRssMb],
  ];
  console.log(
    `SQLite and PostgreSQL ${database.version} on ${machineDescription()}; ${ITEMS.toLocaleString('en-US')} parameters (half in /scale/teamT/svcS/, half in /bulk/); ` +
      `simulated AWS: ${LATENCY_MS} ms a call, DescribeParameters ${DESCRIBE_RATE}/s`,
  );
  console.log(`| ${ITEMS.toLocaleString('en-US')} items | ${DIALECTS.map((d) => LABEL[d]).join(' | ')} |`);
  console.log(`| --- |${' ---: |'.repeat(DIALECTS.length)}`);
  for (const [name, value] of rows) console.log(`| ${name} | ${DIALECTS.map((d) => value(figures[d])).join(' | ')} |`);
  if (json) {
    const line = (f: Figures) => ({ ...f, chain: f.chain.intact ? 'intact' : 'broken', chainEntries: f.chain.intact ? f.chain.entries : f.chain.entriesVerified });
    console.log(JSON.stringify({ items: ITEMS, appendsPerProcess: APPENDS, sqlite: line(figures.sqlite), postgres: line(figures.postgres) }));
  }
  return DIALECTS.every((d) => figures[d].chain.intact) ? 0 : 1;
}

process.once('SIGINT', () => stopWith(130, 'Interrupted: stopping the servers, the simulator and PostgreSQL.'));
process.once('SIGTERM', () => stopWith(143));
main().then(
  (code) => stopWith(code),
  (error: unknown) => stopWith(1, `The benchmark failed: ${error instanceof Error ? error.message : String(error)}`),
);
