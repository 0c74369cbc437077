// npm run bench:freshness [-- --sizes 10000,100000 --runs 30 --json --keep]
// The on-call overview at scale, in one process, against the naive way in the same run. For each size
// N (default 10,000 and 100,000): a temp DATA_DIR whose CONFIG_FILE names two AWS stores (one
// Parameter Store, one Secrets Manager) and ten `freshness:` policies; N items over /teamNN/svcN/key
// (40 teams, 10 services each), 60 % parameters (some version 1, some with Expiration,
// ExpirationNotification or NoChangeNotification policies) and 40 % secrets (rotation on or off,
// NextRotationDate, one or more staged versions, some left with AWSPENDING), last changed over three
// years, written as the sync writes them (beginWalk, stage a page at a time, applyWalk: the freshness
// columns are computed on the way in), timed; then p50/p95 (warm, --runs each, default 30) of
//   - getFreshnessOverview for an admin and for viewers granted one team, half the teams, and a
//     leading wildcard (/*/svc3/**);
//   - listFreshness: the first page and a page half-way down, with and without a status filter;
//   - a folder page and a whole store's items filtered to overdue (the folder table's queries);
// each next to the naive way (scripts/bench/freshness-naive.ts: read the caller's rows, compute every
// status in JS, count, sort), whose answers must equal ours (checked once before timing). Ours runs
// first, then the naive way (as many runs as fit in 10 s, at least 10, at most --runs: at 100,000 one
// naive answer takes seconds), each phase's peak RSS apart. Progress on stderr; a table per size and
// the process's peak RSS on stdout, and with --json one JSON line last (the largest size's figures).
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import path from 'node:path';
import type { Principal } from '@/lib/auth/principal';
import type { InventoryRecord } from '@/lib/inventory/records';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import type { NaiveScope } from './freshness-naive';
import { peakRssMb, percentile, round, timeRuns } from './measure';
import { seededRandom } from '../../lib/random/seeded-random';

const args = process.argv.slice(2);
const json = args.includes('--json');
const keep = args.includes('--keep');
const argValue = (flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
const SIZES = argValue('--sizes')?.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0) ?? [10_000, 100_000];
const RUNS = Math.max(5, Number(argValue('--runs') ?? 30) || 30);
const NAIVE_BUDGET_MS = 10_000;
const TEAMS = 40;
const SERVICES = 10;
const DAY = 86_400_000;
const YEARS = 3;
const PARAMS = 'bench-params';
const SECRETS = 'bench-secrets';
const ACCOUNT = '111122223333';
const log = (line: string) => process.stderr.write(`${line}\n`);

const root = mkdtempSync(path.join(tmpdir(), 'bench-freshness-'));
const CONFIG_FILE = path.join(root, 'dashboard.yaml');
Object.assign(process.env, { LOG_LEVEL: 'warn', DEMO_DATA: '0', CONFIG_FILE, SYNC_INTERVAL_MINUTES: '1440' });

// Ten policies: short and long limits, a nested prefix and one for one store only.
writeFileSync(
  CONFIG_FILE,
  [
    'stores:',
    `  - { id: ${PARAMS}, kind: ssm, region: eu-west-1, endpoint: "http://127.0.0.1:9" }`,
    `  - { id: ${SECRETS}, kind: secretsmanager, region: eu-west-1, endpoint: "http://127.0.0.1:9" }`,
    'freshness:',
    '  - { path: /team00/, maxAge: 30d, warnBefore: 7d }',
    '  - { path: /team01/, maxAge: 7d }',
    '  - { path: /team02/, maxAge: 365d, warnBefore: 30d }',
    '  - { path: /team03/svc0/, maxAge: 14d }',
    '  - { path: /team04/, maxAge: 180d }',
    '  - { path: /team05/, maxAge: 730d, warnBefore: 60d }',
    `  - { path: /team06/, maxAge: 60d, stores: [${SECRETS}] }`,
    '  - { path: /team10/, maxAge: 365d }',
    '  - { path: /team20/, maxAge: 4w }',
    '  - { path: /team35/svc9/, maxAge: 36h }',
    '',
  ].join('\n'),
);

// Deterministic randomness, so every run measures the same data.
const random = seededRandom(20261202);
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const iso = (ms: number) => new Date(ms).toISOString();

/** Item i's place in the tree: teams and services in turn, so every folder fills evenly. */
function placeOf(i: number): { team: string; service: string; folder: string } {
  const team = `team${pad(i % TEAMS, 2)}`;
  const service = `svc${Math.floor(i / TEAMS) % SERVICES}`;
  return { team, service, folder: `/${team}/${service}/` };
}

/** Last changed up to three years ago, most of it recent (the cube of a uniform draw). */
const changedAgo = () => Math.floor(random() ** 3 * YEARS * 365 * DAY) + 60_000;

function parameterRecord(i: number, now: number): InventoryRecord {
  const { team, folder } = placeOf(i);
  const changed = now - changedAgo();
  const policies: NonNullable<InventoryRecord['extra']['policies']> = [];
  const roll = random();
  if (roll < 0.04) {
    const expires = now + Math.floor((random() * 90 - 30) * DAY);
    policies.push({ type: 'Expiration', status: 'Pending', text: JSON.stringify({ Type: 'Expiration', Version: '1.0', Attributes: { Timestamp: iso(expires) } }) });
    if (random() < 0.5)
      policies.push({ type: 'ExpirationNotification', status: 'Pending', text: JSON.stringify({ Type: 'ExpirationNotification', Version: '1.0', Attributes: { Before: '15', Unit: 'Days' } }) });
  } else if (roll < 0.06) {
    policies.push({ type: 'NoChangeNotification', status: 'Pending', text: JSON.stringify({ Type: 'NoChangeNotification', Version: '1.0', Attributes: { After: String(30 + Math.floor(random() * 90)), Unit: 'Days' } }) });
  }
  const name = `${folder}key-${pad(i, 6)}`;
  return {
    name,
    folder,
    kind: random() < 0.7 ? 'SecureString' : 'String',
    description: random() < 0.3 ? `Setting ${i} of ${team}` : null,
    // Parameter Store lists carry no tags (fetched later, one call each).
    tags: {},
    kmsKeyId: null,
    lastChangedAt: iso(changed),
    lastChangedBy: `arn:aws:iam::${ACCOUNT}:user/person-${i % 97}`,
    currentVersion: String(random() < 0.15 ? 1 : 2 + Math.floor(random() * 40)),
    labels: [],
    extra: {
      arn: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${name}`,
      type: 'SecureString',
      tier: policies.length ? 'Advanced' : 'Standard',
      ...(policies.length ? { policies } : {}),
    },
  };
}

function secretRecord(i: number, now: number): InventoryRecord {
  const { team, service, folder } = placeOf(i);
  const rotating = random() < 0.4;
  // Rotated secrets change with each rotation (monthly), so they are younger.
  const changed = rotating ? now - Math.floor(random() * 45 * DAY) - 60_000 : now - changedAgo();
  const pending = random() < 0.015;
  const staged = rotating ? 2 : random() < 0.3 ? 1 : 2 + Math.floor(random() * 2);
  const name = `${folder}secret-${pad(i, 6)}`;
  return {
    name,
    folder,
    kind: 'secret',
    description: random() < 0.5 ? `Credentials of ${service} (${team})` : null,
    tags: random() < 0.8 ? { team, ...(random() < 0.5 ? { owner: `person-${i % 53}` } : {}) } : {},
    kmsKeyId: null,
    lastChangedAt: iso(changed),
    lastChangedBy: null,
    currentVersion: `v-${pad(i, 8)}-0000-4000-8000-000000000000`,
    labels: ['AWSCURRENT'],
    extra: {
      arn: `arn:aws:secretsmanager:eu-west-1:${ACCOUNT}:secret:${name.slice(1)}-AbCdEf`,
      type: 'secret',
      rotation: {
        enabled: rotating,
        schedule: rotating ? 'rate(30 days)' : null,
        lastRotatedAt: rotating ? iso(changed) : null,
        nextRotationAt: rotating ? iso(changed + 30 * DAY) : null,
        lastAccessedAt: null,
        lambdaArn: rotating ? `arn:aws:lambda:eu-west-1:${ACCOUNT}:function:rotate-${team}` : null,
      },
      stagedVersions: staged + (pending ? 1 : 0),
      ...(pending ? { pendingVersion: `p-${pad(i, 8)}-0000-4000-8000-000000000000` } : {}),
    },
  };
}

const caller = (label: string, paths: string[], role: 'admin' | 'viewer' = 'viewer'): { label: string; principal: Principal } => ({
  label,
  principal: { via: 'session', userId: `bench-${label}`, email: 'bench@bench.local', name: null, role: null, grants: [{ role, stores: null, paths }] },
});

interface Line {
  query: string;
  oursP50: number;
  oursP95: number;
  naiveP50: number;
  naiveP95: number;
  naiveRuns: number;
}

interface Question {
  key: string;
  query: string;
  ours: () => Promise<unknown>;
  theirs: () => unknown;
  naiveOnceMs: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

interface PhaseRss {
  /** Resident when the phase began (after a GC; V8 keeps freed heap a while). */
  startMb: number;
  peakMb: number;
}

function rssMb(): number {
  try {
    return Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** The RSS while fn runs: the kernel's high-water mark reset first (Linux: clear_refs 5), after a GC. */
async function phaseRss(fn: () => Promise<void>): Promise<PhaseRss> {
  gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak is then the process's peak so far.
  }
  const startMb = rssMb();
  await fn();
  return { startMb, peakMb: peakRssMb() };
}

interface SizeResult {
  items: number;
  statusCounts: Record<FreshnessStatus, number>;
  stageMs: number;
  applyWalkMs: number;
  rewalkApplyMs: number;
  /** Of the staging, computing the freshness columns alone. */
  columnsMs: number;
  lines: Line[];
  oursRss: PhaseRss;
  naiveRss: PhaseRss;
  summary: Record<string, number>;
}

async function benchSize(n: number): Promise<SizeResult> {
  const [{ inventoryDb, closeInventoryDb }, { getFreshnessOverview, listFreshness }, { listItemsPage }, { listableNamePattern }, { toInventoryRow }, { freshnessPolicies }, { freshnessColumnsOf }, { NaiveFreshness }] =
    await Promise.all([
      import('@/lib/inventory/inventory'),
      import('@/lib/data/freshness'),
      import('@/lib/data/browse'),
      import('@/lib/auth/authorize'),
      import('@/lib/inventory/records'),
      import('@/lib/freshness/policies'),
      import('@/lib/freshness/columns'),
      import('./freshness-naive'),
    ]);
  const dataDir = path.join(root, `data-${n}`);
  mkdirSync(dataDir, { recursive: true });
  process.env.DATA_DIR = dataDir;
  const db = await inventoryDb();
  const now = Date.now();
  const secrets = Math.round(n * 0.4);
  const byStore = [
    { storeId: PARAMS, kind: 'ssm', count: n - secrets, page: 50, make: parameterRecord },
    { storeId: SECRETS, kind: 'secretsmanager', count: secrets, page: 100, make: secretRecord },
  ] as const;
  const records = byStore.map((s) => Array.from({ length: s.count }, (_, i) => s.make(i, now)));

  /** One walk of every store as the sync does it: staged a page at a time (one statement each), then swapped in. */
  const walk = async () => {
    let stageMs = 0;
    let applyMs = 0;
    for (const [k, s] of byStore.entries()) {
      let start = performance.now();
      await db.beginWalk(s.storeId);
      for (let i = 0; i < s.count; i += s.page)
        await db.stage(records[k]!.slice(i, i + s.page).map((record) => toInventoryRow(s.storeId, record, s.kind !== 'ssm')));
      stageMs += performance.now() - start;
      start = performance.now();
      await db.applyWalk(s.storeId, { items: s.count, pages: Math.ceil(s.count / s.page), durationMs: 0, calls: {}, throttled: 0, unreadableItems: 0 }, s.kind === 'ssm');
      applyMs += performance.now() - start;
    }
    return { stageMs, applyMs };
  };
  log(`[${n}] writing ${n.toLocaleString('en-US')} items through the sync's path (stage, applyWalk)`);
  const first = await walk();
  // The next walk: 1 % of the items changed since.
  for (const list of records) for (let i = 0; i < list.length; i += 100) list[i] = { ...list[i]!, lastChangedAt: iso(now - 60_000), currentVersion: `${list[i]!.currentVersion}-2` };
  const again = await walk();
  // What the freshness columns add to staging: computing them alone, for every row.
  const rows = byStore.flatMap((s, k) => records[k]!.map((record) => toInventoryRow(s.storeId, record, s.kind !== 'ssm')));
  const started = performance.now();
  for (const row of rows) freshnessColumnsOf(row, freshnessPolicies());
  const columnsMs = performance.now() - started;
  rows.length = 0;
  for (const list of records) list.length = 0;
  log(`[${n}] freshness columns alone: ${round(columnsMs, 0)} ms for every row`);
  log(`[${n}] first walk: staging ${round(first.stageMs, 0)} ms, swap ${round(first.applyMs, 0)} ms; next walk (1 % changed): staging ${round(again.stageMs, 0)} ms, swap ${round(again.applyMs, 0)} ms`);

  const at = new Date();
  const admin = caller('admin (every path)', ['/**'], 'admin');
  const viewers = [
    caller('one team', ['/team07/**']),
    caller('half the teams', Array.from({ length: TEAMS / 2 }, (_, t) => `/team${pad(t * 2, 2)}/**`)),
    caller('leading wildcard', ['/*/svc3/**']),
  ];
  const naive = new NaiveFreshness(path.join(dataDir, 'inventory.db'), freshnessPolicies());
  const scopesOf = (principal: Principal): NaiveScope[] =>
    [PARAMS, SECRETS].flatMap((storeId) => {
      const pattern = listableNamePattern(principal, storeId);
      return pattern === false ? [] : [{ storeId, pattern }];
    });

  const questions: Question[] = [];
  /** One question asked both ways; `same` checks they answer alike (once, before any timing). */
  async function measure<A, B>(key: string, query: string, ours: () => Promise<A>, theirs: () => B, same: (a: A, b: B) => string | null) {
    const started = performance.now();
    const answer = theirs();
    const naiveOnceMs = performance.now() - started;
    const problem = same(await ours(), answer);
    if (problem) throw new Error(`${query}: ours and the naive way differ: ${problem}`);
    questions.push({ key, query, ours, theirs, naiveOnceMs });
  }
  const sameList = (a: string[], b: string[]) =>
    a.length !== b.length ? `${a.length} rows against ${b.length}` : a.findIndex((x, i) => x !== b[i]) >= 0 ? `row ${a.findIndex((x, i) => x !== b[i])}: ${a.find((x, i) => x !== b[i])}` : null;

  log(`[${n}] every question once both ways, checking the answers agree`);
  let statusCounts: Record<FreshnessStatus, number> | null = null;
  for (const who of [admin, ...viewers]) {
    await measure(
      who === admin ? 'overviewAdmin' : 'overviewScoped',
      `overview: ${who.label}`,
      () => getFreshnessOverview(who.principal, { worstLimit: 20, now: at }),
      () => naive.overview(scopesOf(who.principal), at, 20),
      (a, b) => {
        const counts = JSON.stringify(a.stores.map((s) => [s.storeId, s.counts, s.total, s.ages.map((g) => g.count)]));
        const theirs = JSON.stringify(b.stores.map((s) => [s.storeId, s.counts, s.total, s.ages.map((g) => g.count)]));
        if (counts !== theirs) return `counts ${counts} against ${theirs}`;
        if (who === admin) {
          const all = Object.fromEntries(FRESHNESS_STATUSES.map((s) => [s, 0])) as Record<FreshnessStatus, number>;
          for (const store of a.stores) for (const s of FRESHNESS_STATUSES) all[s] += store.counts[s];
          statusCounts = all;
        }
        return sameList(
          a.worst.map((r) => `${r.storeId}${r.name} ${r.status} ${r.ageDays} ${r.reason}`),
          b.worst.map((r) => `${r.storeId}${r.name} ${r.status} ${r.ageDays} ${r.reason}`),
        );
      },
    );
  }

  // A cursor half-way down the admin's whole list (the data layer's own).
  let deep: string | undefined;
  for (let seen = 0, cursor: string | undefined; seen < n / 2; ) {
    const page = await listFreshness(admin.principal, { limit: 1000, cursor }, at);
    seen += page.items.length;
    if (!page.nextCursor) break;
    cursor = deep = page.nextCursor;
  }
  let deepOverdue: string | undefined;
  for (let seen = 0, cursor: string | undefined; seen < n / 8; ) {
    const page = await listFreshness(admin.principal, { limit: 1000, cursor, statuses: ['overdue'] }, at);
    seen += page.items.length;
    if (!page.nextCursor) break;
    cursor = deepOverdue = page.nextCursor;
  }
  const pages: { key: string; query: string; who: typeof admin; statuses?: FreshnessStatus[]; cursor?: string }[] = [
    { key: 'worstPage', query: 'listFreshness: first page (100)', who: admin },
    { key: 'worstPage', query: 'listFreshness: page half-way down', who: admin, cursor: deep },
    { key: 'worstPage', query: 'listFreshness: due-soon, first page', who: admin, statuses: ['due-soon'] },
    { key: 'worstPage', query: 'listFreshness: overdue, a page deep in', who: admin, statuses: ['overdue'], cursor: deepOverdue },
    { key: 'worstPageScoped', query: 'listFreshness: first page, one team', who: viewers[0]! },
    { key: 'worstPageScoped', query: 'listFreshness: first page, leading wildcard', who: viewers[2]! },
  ];
  for (const p of pages) {
    await measure(
      p.key,
      p.query,
      () => listFreshness(p.who.principal, { limit: 100, ...(p.statuses ? { statuses: p.statuses } : {}), ...(p.cursor ? { cursor: p.cursor } : {}) }, at),
      () => naive.worstPage(scopesOf(p.who.principal), at, { limit: 100, statuses: p.statuses, cursor: p.cursor }),
      (a, b) => sameList(a.items.map((r) => `${r.storeId}${r.name} ${r.status}`), b.map((r) => `${r.storeId}${r.name} ${r.status}`)),
    );
  }

  const overdue: FreshnessStatus[] = ['overdue'];
  // What a folder page asks the index for: its first 100 items and how many there are in all.
  const folderFilter = { storeId: PARAMS, folder: '/team07/svc3/', namePattern: null, statuses: overdue, now: at };
  await measure(
    'folderPage',
    'folder page /team07/svc3/, overdue (page and count)',
    () => Promise.all([db.index.folderPage({ ...folderFilter, limit: 100 }), db.index.countItems(folderFilter)]),
    () => naive.folderPage({ storeId: PARAMS, pattern: null }, '/team07/svc3/', false, overdue, 100, at),
    ([page, total], b) => (total !== b.total ? `${total} items against ${b.total}` : sameList(page.items.map((r) => r.name), b.names)),
  );
  await measure(
    'folderPage',
    'whole store (recursive /), overdue, first 100',
    () => listItemsPage(admin.principal, PARAMS, { path: '/', recursive: true, status: overdue, limit: 100 }),
    () => naive.folderPage({ storeId: PARAMS, pattern: null }, '/', true, overdue, 100, new Date()),
    (a, b) => (a === null ? 'no page' : sameList(a.items.map((r) => r.name), b.names)),
  );

  // Ours first, then the naive way, each phase's peak RSS apart (the peak is reset between them).
  log(`[${n}] ours: ${RUNS} warm runs of each question`);
  const oursSamples = new Map<Question, number[]>();
  const oursRss = await phaseRss(async () => {
    for (const q of questions) oursSamples.set(q, await timeRuns(RUNS, q.ours));
  });
  log(`[${n}] the naive way: up to ${RUNS} runs of each (as many as fit in ${NAIVE_BUDGET_MS / 1000} s, at least 10)`);
  const naiveSamples = new Map<Question, number[]>();
  const naiveRss = await phaseRss(async () => {
    for (const q of questions) {
      const runs = Math.min(RUNS, Math.max(10, Math.floor(NAIVE_BUDGET_MS / Math.max(1, q.naiveOnceMs))));
      naiveSamples.set(q, await timeRuns(runs, async () => q.theirs(), 1));
    }
  });
  naive.close();
  await closeInventoryDb();

  const samples: Record<string, number[]> = {};
  const lines: Line[] = questions.map((q) => {
    const o = oursSamples.get(q)!;
    const v = naiveSamples.get(q)!;
    samples[q.key] = [...(samples[q.key] ?? []), ...o];
    samples[`naive:${q.key}`] = [...(samples[`naive:${q.key}`] ?? []), ...v];
    return { query: q.query, oursP50: percentile(o, 50), oursP95: percentile(o, 95), naiveP50: percentile(v, 50), naiveP95: percentile(v, 95), naiveRuns: v.length };
  });
  const p95 = (key: string) => percentile(samples[key] ?? [], 95);
  return {
    items: n,
    statusCounts: statusCounts!,
    stageMs: round(first.stageMs, 0),
    applyWalkMs: round(first.applyMs, 0),
    rewalkApplyMs: round(again.applyMs, 0),
    columnsMs: round(columnsMs, 0),
    lines,
    oursRss,
    naiveRss,
    summary: {
      items: n,
      overviewAdminP95Ms: p95('overviewAdmin'),
      overviewScopedP95Ms: p95('overviewScoped'),
      worstPageP95Ms: p95('worstPage'),
      worstPageScopedP95Ms: p95('worstPageScoped'),
      folderPageP95Ms: p95('folderPage'),
      naiveOverviewP95Ms: p95('naive:overviewAdmin'),
      naiveOverviewScopedP95Ms: p95('naive:overviewScoped'),
      naiveWorstPageP95Ms: p95('naive:worstPage'),
      stageMs: round(first.stageMs, 0),
      applyWalkMs: round(first.applyMs, 0),
      rewalkApplyMs: round(again.applyMs, 0),
      oursPeakRssMb: oursRss.peakMb,
      naivePeakRssMb: naiveRss.peakMb,
      peakRssMb: peakRssMb(),
    },
  };
}

function table(r: SizeResult): string[] {
  const ratio = (l: Line) => (l.oursP95 > 0 ? `${round(l.naiveP95 / l.oursP95, 1)}×` : '—');
  return [
    `${r.items.toLocaleString('en-US')} items (${Object.entries(r.statusCounts).map(([s, c]) => `${s} ${c.toLocaleString('en-US')}`).join(', ')}); ` +
      `first walk: staging ${r.stageMs.toLocaleString('en-US')} ms (freshness columns ${r.columnsMs.toLocaleString('en-US')} ms of it), swap (applyWalk) ${r.applyWalkMs.toLocaleString('en-US')} ms; ` +
      `next walk's swap (1 % changed) ${r.rewalkApplyMs.toLocaleString('en-US')} ms; RSS while ours ran ${r.oursRss.startMb} → peak ${r.oursRss.peakMb} MB, while the naive way ran ${r.naiveRss.startMb} → peak ${r.naiveRss.peakMb} MB`,
    '',
    '| query | ours p50 ms | ours p95 ms | naive p50 ms | naive p95 ms | naive / ours (p95) | naive runs |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...r.lines.map((l) => `| ${l.query} | ${l.oursP50} | ${l.oursP95} | ${l.naiveP50} | ${l.naiveP95} | ${ratio(l)} | ${l.naiveRuns} |`),
    '',
  ];
}

async function main(): Promise<void> {
  log(`bench:freshness — sizes ${SIZES.join(', ')}, ${RUNS} runs each; ${cpus().length} CPUs; data in ${root}`);
  const results: SizeResult[] = [];
  try {
    for (const n of SIZES) {
      const result = await benchSize(n);
      results.push(result);
      if (!keep) rmSync(path.join(root, `data-${n}`), { recursive: true, force: true });
    }
  } finally {
    if (!keep) rmSync(root, { recursive: true, force: true });
    else log(`data kept in ${root}`);
  }
  const machine = `${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  console.log(`Freshness benchmark on ${machine}; ${RUNS} warm runs per query; peak RSS ${peakRssMb()} MB`);
  console.log('');
  for (const r of results) for (const line of table(r)) console.log(line);
  // The largest size's figures (the target is stated at 100,000).
  if (json && results.length) console.log(JSON.stringify(results.at(-1)!.summary));
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(`The benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
    process.exit(1);
  },
);
