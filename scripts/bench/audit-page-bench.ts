// npm run bench:audit [-- --events 10000000 --own 1000000 --dialects sqlite,postgres --runs 10 --budget-s 8 --json]
// The /audit page at an organisation's scale, on SQLite and PostgreSQL (issue 22). For each dialect,
// in a process of its own (a fresh DATA_DIR, or a database on a throwaway PostgreSQL server):
//   1. the app's migrations make the tables; scripts/bench/audit-seed.ts writes N CloudTrail events
//      (90 days, 80 stores over 20 accounts and 2 regions, 2,000 principals) and M own-log entries
//      (three years, a valid keyed hash chain with anchors every 1,000) straight into them;
//   2. one full pass of the chain (runFullChainPass, as the background verification runs it) checks
//      that the seeded log is a real chain and builds the kept verdict the page reads;
//   3. what app/(dashboard)/audit/page.tsx calls for one view (auditChainStatus, sourceStates,
//      timelinePage, timelineChart per day) is timed for a table of filter combinations, for an
//      admin and for an auditor of two team folders, with parameters drawn anew each run;
//   4. ownLogChartExact: the chart's own-log counts (the chart minus the CloudTrail index's own
//      chart of the same filters and grants) against plain SQL COUNTs over audit_log, per day.
// Whole HTML pages over HTTP are not timed (the benchmark never did; bench:postgres does pages).
// The data is deleted at the end of each dialect. The last line with --json is a JSON array, one
// object per dialect.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import pg from 'pg';
import type { Principal } from '@/lib/auth/principal';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { startThrowawayPostgres } from '../throwaway-postgres';
import { configYaml, filterValues, DAY_MS } from './audit-data';
import { ownChartTruth, type DayCounts } from './audit-truth';
import { seedAuditData } from './audit-seed';
import { machineDescription, percentile, round, argNumber as argNumberOf } from './measure';

type Dialect = 'sqlite' | 'postgres';
const args = process.argv.slice(2);
const json = args.includes('--json');
const argNumber = (flag: string, fallback: number) => argNumberOf(args, flag, fallback);
const EVENTS = Math.floor(argNumber('--events', 10_000_000));
const OWN = Math.floor(argNumber('--own', 1_000_000));
/** Measured runs per combination and caller, fewer when the budget runs out (but at least --min-runs). */
const RUNS = Math.floor(argNumber('--runs', 10));
// At 10,000,000 events a broad chart takes up to a minute here: one run then, more while the budget lasts.
const MIN_RUNS = Math.floor(argNumber('--min-runs', EVENTS > 2_000_000 ? 1 : 3));
const BUDGET_MS = argNumber('--budget-s', 8) * 1000;
const TARGET_MS = 200;
const log = (line: string) => process.stderr.write(`${line}\n`);

const caller = (id: string, role: 'admin' | 'auditor', paths: string[]): Principal => ({
  via: 'session',
  userId: `bench-${id}`,
  email: `${id}@bench.local`,
  name: null,
  role,
  grants: [{ role, stores: null, paths }],
});
export const ADMIN = caller('admin', 'admin', ['/**']);
/** An auditor of one team's production and staging folders, in every store. */
export const AUDITOR_PATHS = ['/prod/team03/', '/staging/team03/'];
export const AUDITOR = caller('auditor', 'auditor', AUDITOR_PATHS.map((p) => `${p}**`));

interface Combination {
  label: string;
  filters: (v: ReturnType<typeof filterValues>, now: number) => AuditFilters;
}

const since = (now: number, days: number) => new Date(now - days * DAY_MS).toISOString();

export const COMBINATIONS: Combination[] = [
  { label: 'none', filters: () => ({}) },
  { label: 'actor (contains)', filters: (v) => ({ actor: v.personText() }) },
  { label: 'actor (exact ARN)', filters: (v) => ({ actor: v.principalArn(), actorMatch: 'exact' }) },
  { label: 'event', filters: (v) => ({ event: [v.pick(['GetSecretValue', 'PutParameter', 'Decrypt', 'reveal', 'rotate'])] }) },
  { label: 'access read', filters: () => ({ access: 'read' }) },
  { label: 'access write', filters: () => ({ access: 'write' }) },
  { label: 'item', filters: (v) => ({ item: v.item().name }) },
  { label: 'path', filters: (v) => ({ path: v.path() }) },
  { label: 'store', filters: (v) => ({ store: v.store() }) },
  { label: 'time range (a week, 0-80 days ago)', filters: (v, now) => { const to = Math.floor(v.random() * 80); return { from: since(now, to + 7), to: since(now, to) }; } },
  { label: 'outcome error', filters: () => ({ outcome: 'error' }) },
  { label: 'source IP', filters: (v) => ({ ip: v.ip() }) },
  { label: 'error code', filters: (v) => ({ error: v.error() }) },
  { label: 'actor (contains) + read', filters: (v) => ({ actor: v.personText(), access: 'read' }) },
  { label: 'store + event + success', filters: (v) => ({ store: v.store(), event: [v.pick(['GetParameter', 'GetSecretValue', 'rotate'])], outcome: 'success' }) },
  { label: 'path + write + last 30 days', filters: (v, now) => ({ path: v.path(), access: 'write', from: since(now, 30) }) },
  { label: 'item + outcome error', filters: (v) => ({ item: v.item().name, outcome: 'error' }) },
  { label: 'source IP + last 7 days', filters: (v, now) => ({ ip: v.ip(), from: since(now, 7) }) },
  { label: 'actor (exact) + path + last 60 days', filters: (v, now) => ({ actor: v.principalArn(), actorMatch: 'exact', path: v.path(), from: since(now, 60) }) },
  { label: 'store + read + error code', filters: (v) => ({ store: v.store(), access: 'read', error: v.error() }) },
  { label: 'event + time range (a day, 0-800 days ago)', filters: (v, now) => { const to = Math.floor(v.random() * 800); return { event: [v.pick(['reveal', 'rotate', 'GetSecretValue'])], from: since(now, to + 1), to: since(now, to) }; } },
];

export interface ComboFigure {
  combination: string;
  caller: 'admin' | 'auditor';
  p50Ms: number;
  p95Ms: number;
  runs: number;
  timelineP95Ms: number;
  chartP95Ms: number;
  /** Entries on the first page of the first run. */
  rows: number;
  ownChartExact: boolean;
  ownChartCounts: { chart: number; truth: number };
  /** The first run's chart: the CloudTrail index's part timed again alone, and the rest (the own log's part and the merge). */
  firstChartSplitMs: { cloudTrail: number; ownLog: number };
}

export interface DialectFigures {
  dialect: Dialect;
  events: number;
  ownEntries: number;
  seedCloudTrailS: number;
  seedOwnLogS: number;
  seedIndexS: number;
  dataGb: number;
  chainIntact: boolean;
  chainVerifyS: number;
  chainStatusP95Ms: number;
  /** False when one chain status took over a second: it is then timed on its own and left out of the page samples. */
  chainStatusInPage: boolean;
  auditPageP50Ms: number;
  auditPageP95Ms: number;
  auditPageWorstP95Ms: number;
  worstCombination: string;
  timelineP95Ms: number;
  chartP95Ms: number;
  ownLogChartExact: boolean;
  combinations: ComboFigure[];
  peakRssMb: number;
}

/** Sums a chart's points per day. */
function perDay(points: { start: string; reads: number; writes: number }[]): Map<string, DayCounts> {
  const out = new Map<string, DayCounts>();
  for (const p of points) {
    const day = p.start.slice(0, 10);
    const had = out.get(day) ?? { reads: 0, writes: 0 };
    out.set(day, { reads: had.reads + p.reads, writes: had.writes + p.writes });
  }
  return out;
}

function dirSizeGb(dir: string): number {
  try {
    return round(Number(execFileSync('du', ['-sb', dir], { encoding: 'utf8' }).split('\t')[0]) / 2 ** 30, 2);
  } catch {
    return 0;
  }
}

/** One dialect, in this process (the child): seed, verify, measure. */
async function runDialect(dialect: Dialect, databaseUrl: string | undefined): Promise<DialectFigures> {
  const root = mkdtempSync(path.join(tmpdir(), `bench-audit-${dialect}-`));
  const dataDir = path.join(root, 'data');
  mkdirSync(dataDir, { recursive: true });
  const configFile = path.join(root, 'dashboard.yaml');
  writeFileSync(configFile, configYaml());
  // Stopped (Ctrl-C, the parent stopping): the data goes too, gigabytes of it.
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      rmSync(root, { recursive: true, force: true });
      process.exit(130);
    });
  Object.assign(process.env, {
    LOG_LEVEL: 'warn', DEMO_DATA: '0', CONFIG_FILE: configFile, DATA_DIR: dataDir, SYNC_INTERVAL_MINUTES: '1440', AUDIT_RETENTION_DAYS: '400',
    MASTER_KEY: randomBytes(32).toString('base64'),
    ...(databaseUrl ? { DATABASE_URL: databaseUrl, NEXTAUTH_SECRET: randomBytes(32).toString('base64') } : {}),
  });
  try {
    const [{ EventIndex }, { appDb }, { auditChainKey }, fullPass, { readEnv }, timeline, { auditChainStatus }, { auditScope }, { getStores }, { auditEventIndex }] = await Promise.all([
      import('@/lib/cloudtrail/event-index'),
      import('@/lib/db/app-db'),
      import('@/lib/crypto/keyring'),
      // Older trees (before the kept verdict) verify the whole chain on each view instead: compared against them, the pass below is theirs.
      import('@/lib/audit/chain-full-pass').catch(() => null),
      import('@/lib/config/env'),
      import('@/lib/data/audit-timeline'),
      import('@/lib/data/audit'),
      import('@/lib/auth/authorize'),
      import('@/lib/stores/registry'),
      import('@/lib/cloudtrail/audit-events'),
    ]);
    // The app's migrations make every table (the CloudTrail index's file is closed again before the seed writes it).
    const migrated = databaseUrl ? await EventIndex.openPostgres(databaseUrl, { retentionDays: 400 }) : await EventIndex.open(dataDir, { retentionDays: 400 });
    await migrated.close();
    const appDatabase = await appDb();
    const key = await auditChainKey();
    const now = Date.now();
    log(`[${dialect}] seeding ${EVENTS.toLocaleString('en')} CloudTrail events and ${OWN.toLocaleString('en')} own-log entries`);
    const seed = await seedAuditData({ dialect, where: databaseUrl ?? dataDir }, { events: EVENTS, own: OWN }, now, key, readEnv().DEPLOYMENT_NAME);
    log(`[${dialect}] seeded: CloudTrail ${seed.cloudTrailSeconds.toFixed(0)} s, own log ${seed.ownLogSeconds.toFixed(0)} s (indexes ${seed.indexSeconds.toFixed(0)} s)`);
    let dataGb = dirSizeGb(dataDir);
    if (databaseUrl) {
      const { rows } = await (await import('kysely')).sql<{ size: string }>`SELECT pg_database_size(current_database()) AS size`.execute(appDatabase);
      dataGb = round(Number(rows[0]!.size) / 2 ** 30, 2);
    }

    let started = performance.now();
    const verdict = fullPass
      ? await fullPass.runFullChainPass({ holder: 'bench:audit' })
      : await (await import('@/lib/audit/audit-log')).verifyAuditChain().then((v) => ({
          state: v.intact ? ('intact' as const) : ('broken' as const),
          checked: v.intact ? v.entries : v.broken.seq - 1,
          break: v.intact ? null : { seq: v.broken.seq, message: v.broken.message },
          error: null,
        }));
    const chainVerifyS = round((performance.now() - started) / 1000, 1);
    const chainIntact = verdict.state === 'intact' && verdict.checked === OWN;
    log(`[${dialect}] chain ${verdict.state} (${verdict.checked.toLocaleString('en')} entries${verdict.break ? `, broken at ${verdict.break.seq}: ${verdict.break.message}` : ''}${verdict.error ? `, ${verdict.error}` : ''}), full pass ${chainVerifyS} s; data ${dataGb} GB`);

    // The chain status as the page asks for it (admins only).
    const chainSamples: number[] = [];
    for (let i = 0; i < 5; i++) {
      started = performance.now();
      await auditChainStatus(ADMIN);
      chainSamples.push(performance.now() - started);
    }
    const chainStatusInPage = percentile(chainSamples, 50) < 1000;
    log(`[${dialect}] auditChainStatus: ${chainSamples.map((s) => s.toFixed(0)).join(', ')} ms${chainStatusInPage ? '' : ' (over a second: timed on its own, left out of the page samples)'}`);

    const storeIds = (await getStores()).map((s) => s.id);
    const index = await auditEventIndex();
    const figures: ComboFigure[] = [];
    const allPage: number[] = [];
    const allTimeline: number[] = [];
    const allChart: number[] = [];
    for (const [c, combo] of COMBINATIONS.entries()) {
      for (const [who, principal] of [['admin', ADMIN], ['auditor', AUDITOR]] as const) {
        const values = filterValues(1000 + c * 2 + (who === 'admin' ? 0 : 1));
        const page: number[] = [];
        const tl: number[] = [];
        const ch: number[] = [];
        let rows = -1;
        let exact = true;
        let chartTotal = 0;
        let truthTotal = 0;
        let trailChartMs = 0;
        let ownChartMs = 0;
        const comboStart = performance.now();
        for (let run = 0; run < RUNS && (run < MIN_RUNS || performance.now() - comboStart < BUDGET_MS); run++) {
          const filters = combo.filters(values, now);
          const t0 = performance.now();
          if (chainStatusInPage) await auditChainStatus(principal);
          await timeline.sourceStates(principal);
          const t1 = performance.now();
          const result = await timeline.timelinePage(principal, filters, {});
          const t2 = performance.now();
          // Drawn as the page draws it: the filters' own range, else the last 90 days (chartFilters).
          const chart = await timeline.timelineChart(principal, timeline.chartFilters(filters, new Date(now)), 'day');
          const t3 = performance.now();
          page.push(t3 - t0);
          tl.push(t2 - t1);
          ch.push(t3 - t2);
          if (run > 0) continue;
          rows = result.entries.length;
          // The first run's chart, checked: its own-log part (the chart minus the CloudTrail index's
          // chart of the same filters and grants) against plain SQL counts per day.
          const t4 = performance.now();
          const trail = await index.queries.chart(timeline.chartFilters(filters, new Date(now)), auditScope(principal, storeIds), 'day');
          // The chart's time split: the CloudTrail index's part alone, the rest being the own log's and the merge.
          trailChartMs = round(performance.now() - t4);
          ownChartMs = Math.max(0, round(t3 - t2 - trailChartMs));
          const own = perDay(chart);
          for (const [day, counts] of perDay(trail.points)) {
            const had = own.get(day) ?? { reads: 0, writes: 0 };
            own.set(day, { reads: had.reads - counts.reads, writes: had.writes - counts.writes });
          }
          const truth = await ownChartTruth(appDatabase, dialect, timeline.chartFilters(filters, new Date(now)), who === 'admin' ? null : AUDITOR_PATHS);
          for (const day of new Set([...own.keys(), ...truth.keys()])) {
            const a = own.get(day) ?? { reads: 0, writes: 0 };
            const b = truth.get(day) ?? { reads: 0, writes: 0 };
            chartTotal += a.reads + a.writes;
            truthTotal += b.reads + b.writes;
            if (a.reads !== b.reads || a.writes !== b.writes) exact = false;
          }
        }
        allPage.push(...page);
        allTimeline.push(...tl);
        allChart.push(...ch);
        const figure: ComboFigure = {
          combination: combo.label,
          caller: who,
          p50Ms: percentile(page, 50),
          p95Ms: percentile(page, 95),
          runs: page.length,
          timelineP95Ms: percentile(tl, 95),
          chartP95Ms: percentile(ch, 95),
          rows,
          ownChartExact: exact,
          firstChartSplitMs: { cloudTrail: trailChartMs, ownLog: ownChartMs },
          ownChartCounts: { chart: chartTotal, truth: truthTotal },
        };
        figures.push(figure);
        log(
          `[${dialect}] ${combo.label.padEnd(44)} ${who.padEnd(7)} p50 ${String(figure.p50Ms).padStart(9)} p95 ${String(figure.p95Ms).padStart(9)} ms ` +
            `(page ${figure.timelineP95Ms}, chart ${figure.chartP95Ms}: CloudTrail ~${trailChartMs}, own ~${ownChartMs}; ${figure.runs} runs, ${rows} rows) ` +
            `own chart ${exact ? 'exact' : `NOT exact: ${chartTotal} vs ${truthTotal}`}`,
        );
      }
    }
    const worst = figures.reduce((a, b) => (b.p95Ms > a.p95Ms ? b : a));
    return {
      dialect,
      events: seed.events,
      ownEntries: seed.ownEntries,
      seedCloudTrailS: round(seed.cloudTrailSeconds, 1),
      seedOwnLogS: round(seed.ownLogSeconds, 1),
      seedIndexS: round(seed.indexSeconds, 1),
      dataGb,
      chainIntact,
      chainVerifyS,
      chainStatusP95Ms: percentile(chainSamples, 95),
      chainStatusInPage,
      auditPageP50Ms: percentile(allPage, 50),
      auditPageP95Ms: percentile(allPage, 95),
      auditPageWorstP95Ms: worst.p95Ms,
      worstCombination: `${worst.combination} (${worst.caller})`,
      timelineP95Ms: percentile(allTimeline, 95),
      chartP95Ms: percentile(allChart, 95),
      ownLogChartExact: figures.every((f) => f.ownChartExact),
      combinations: figures,
      peakRssMb: (await import('./measure')).peakRssMb(),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The parent: each dialect in a child process (its own module state and env), PostgreSQL on a throwaway server. */
async function runAll(): Promise<void> {
  const dialects = (args.includes('--dialects') ? args[args.indexOf('--dialects') + 1]! : 'sqlite,postgres').split(',') as Dialect[];
  log(`bench:audit — ${EVENTS.toLocaleString('en')} CloudTrail events, ${OWN.toLocaleString('en')} own-log entries; ${dialects.join(', ')}; ${machineDescription()}`);
  const results: DialectFigures[] = [];
  for (const dialect of dialects) {
    let server: Awaited<ReturnType<typeof startThrowawayPostgres>> | null = null;
    let databaseUrl: string | undefined;
    try {
      if (dialect === 'postgres') {
        server = await startThrowawayPostgres();
        const client = new pg.Client({ connectionString: server.adminUrl });
        await client.connect();
        await client.query('CREATE DATABASE bench');
        await client.end();
        const url = new URL(server.adminUrl);
        url.pathname = '/bench';
        databaseUrl = url.toString();
      }
      const stopping = () => server?.stop();
      process.once('exit', stopping);
      try {
        results.push(await runChild(dialect, databaseUrl));
      } finally {
        process.off('exit', stopping);
      }
    } finally {
      server?.stop();
    }
  }
  printTable(results);
  if (json) process.stdout.write(`${JSON.stringify(results.map(({ combinations, ...rest }) => ({ ...rest, combinations: combinations.map((c) => ({ ...c })) })))}\n`);
}

function runChild(dialect: Dialect, databaseUrl: string | undefined): Promise<DialectFigures> {
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1]!, ...args, '--child', dialect], {
    env: { ...process.env, ...(databaseUrl ? { BENCH_DATABASE_URL: databaseUrl } : {}) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let last = '';
  createInterface({ input: child.stdout! }).on('line', (line) => {
    last = line;
  });
  // Stopped itself: the child (which deletes its data) and the throwaway server go too.
  const forward = (signal: NodeJS.Signals) => {
    child.kill(signal);
    child.once('exit', () => process.exit(130));
  };
  process.once('SIGINT', forward);
  process.once('SIGTERM', forward);
  return new Promise((resolve, reject) => {
    child.on('exit', (code) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      if (code !== 0) return reject(new Error(`the ${dialect} run failed (exit ${code})`));
      try {
        resolve(JSON.parse(last) as DialectFigures);
      } catch {
        reject(new Error(`the ${dialect} run printed no figures`));
      }
    });
  });
}

function printTable(results: DialectFigures[]): void {
  log('');
  for (const r of results) {
    log(
      `${r.dialect}: ${r.events.toLocaleString('en')} events, ${r.ownEntries.toLocaleString('en')} own entries (${r.dataGb} GB; seeded in ${r.seedCloudTrailS} + ${r.seedOwnLogS} s); ` +
        `chain ${r.chainIntact ? 'intact' : 'BROKEN'} (full pass ${r.chainVerifyS} s, status on the page p95 ${r.chainStatusP95Ms} ms${r.chainStatusInPage ? '' : ', not in the page figures'}); ` +
        `/audit p50 ${r.auditPageP50Ms} ms, p95 ${r.auditPageP95Ms} ms, worst combination ${r.auditPageWorstP95Ms} ms (${r.worstCombination}); ` +
        `timeline pages p95 ${r.timelineP95Ms} ms, charts p95 ${r.chartP95Ms} ms; own-log chart exact: ${r.ownLogChartExact}; peak RSS ${r.peakRssMb} MB (the seed's included)`,
    );
  }
  log('');
  const dialects = results.map((r) => r.dialect);
  log(`| combination | caller | ${dialects.map((d) => `${d} p50 ms | ${d} p95 ms`).join(' | ')} | own chart exact |`);
  log(`| --- | --- | ${dialects.map(() => '---: | ---:').join(' | ')} | --- |`);
  const first = results[0]?.combinations ?? [];
  for (const [i, c] of first.entries()) {
    const cells = results.map((r) => `${r.combinations[i]!.p50Ms} | ${r.combinations[i]!.p95Ms}`).join(' | ');
    log(`| ${c.combination} | ${c.caller} | ${cells} | ${results.map((r) => (r.combinations[i]!.ownChartExact ? 'yes' : 'NO')).join(' / ')} |`);
  }
  log(`| **all combinations** | both | ${results.map((r) => `${r.auditPageP50Ms} | **${r.auditPageP95Ms}**`).join(' | ')} | ${results.map((r) => r.ownLogChartExact).join(' / ')} |`);
  log('');
  for (const r of results) log(`${r.dialect}: target /audit p95 < ${TARGET_MS} ms for every combination: ${r.auditPageWorstP95Ms < TARGET_MS ? 'met' : 'missed'}`);
}

export async function main(): Promise<void> {
  const childAt = args.indexOf('--child');
  if (childAt >= 0) {
    const dialect = args[childAt + 1] as Dialect;
    const figures = await runDialect(dialect, dialect === 'postgres' ? process.env.BENCH_DATABASE_URL : undefined);
    process.stdout.write(`${JSON.stringify(figures)}\n`);
    // The PostgreSQL pool and timers of the app's modules would keep the process up.
    process.exit(0);
  }
  await runAll();
}

if (process.argv[1]?.endsWith('audit-page-bench.ts')) {
  main().catch((error: unknown) => {
    log(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exit(1);
  });
}
