// npm run bench:findings [-- --items 100000 --events 1000000 --runs 50 --naive-sample 300 --policy-only
//                           --policy-secrets 500 --policy-rate 5 --no-policy --json --keep]
// Issue 20's targets, in one process, in one run (scripts/bench/findings-bench-data.ts makes the data):
//  1. set-up: a temp DATA_DIR whose CONFIG_FILE names one Parameter Store and one Secrets Manager store
//     (endpoints never called); N items (default 100,000; 60/40) written as the sync writes them (stage,
//     applyWalk) with a spread of what the controls read (rotation on/off and its dates, last accessed,
//     KMS keys incl. aws/ssm and aws/secretsmanager, owner tags on ~80 %, a few secret-like Strings,
//     freshness policies), and E CloudTrail events (default 1,000,000) over 180 days ingested through the
//     index (GetParameter, GetParameters, GetParametersByPath on folders, Decrypt, GetSecretValue by name
//     and ARN, writes, denied reads; ~200 principals, five new ones in the last six days);
//  2. the full evaluation, evaluateFindings({ force: true }) per store on an empty findings store: time,
//     findings raised, peak RSS; and where its time goes (coverage, the grouped reads query, the
//     inventory pass, per-item evaluation, applyEvaluation), each timed alone;
//  3. an incremental update after a sync: ~1 % of the items rotated, tagged, deleted or added by a new
//     walk, 10,000 new events, then evaluateFindings() (not forced: it must notice the inputs moved,
//     and evaluates only the items that did), timed from the end of the walk; target under 5 s. When
//     the clock hour changed since part 2, the hourly full pass runs first (as it would in production);
//  4. p50/p95 (--runs warm runs each) of what the /findings page asks (listFindings then
//     getFindingSummary and listSuppressions) for an admin and an auditor of one team, filtered by a
//     control, a severity, status=resolved, a page half-way down, the item page's panel, and the API
//     (listFindings + JSON.stringify; a 1,000-row page as JSON and as CSV); target p95 under 100 ms;
//  5. the naive way: per item, the Access panel's queries (EventQueries.accessPanel) on a sample,
//     extrapolated to every item ("naive (estimated)");
//  6. the background policy reader: a simulated AWS in its own process (real wire protocol, 30 ms a
//     call) with --policy-secrets secrets, some with resource policies (public, narrowed by a condition,
//     cross-account, own account, not an IAM policy), walked by the inventory sync, then
//     PolicyReader.runOnce at --policy-rate calls a second against a real SecretsManagerStore; the
//     simulator's GetResourcePolicy counts (polled from /__stats every second) and its highest
//     1-second window, which must not exceed the rate.
// Progress on stderr; a table per part and the peak RSS on stdout; with --json one JSON line last.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { Principal } from '@/lib/auth/principal';
import type { SecretInput } from '../../simulator/simulated-aws';
import {
  ACCOUNT,
  configYaml,
  EVENTS_FROM,
  EventGenerator,
  generateInventory,
  LOCATORS,
  parameterRecord,
  PARAMS,
  PRINCIPALS,
  REGION,
  SECRETS,
  secretRecord,
  type BenchData,
} from './findings-bench-data';
import { DEFAULT_FINDINGS_LIMIT } from '@/lib/validations/finding';
import { machineDescription, percentile, round, timeRuns, argNumber as argNumberOf } from './measure';
import { seededRandom } from '../../lib/random/seeded-random';

const args = process.argv.slice(2);
const json = args.includes('--json');
const keep = args.includes('--keep');
const argNumber = (flag: string, fallback: number) => argNumberOf(args, flag, fallback);
const ITEMS = Math.floor(argNumber('--items', 100_000));
const EVENTS = Math.floor(argNumber('--events', 1_000_000));
const RUNS = Math.floor(argNumber('--runs', 50));
const NAIVE_SAMPLE = Math.floor(argNumber('--naive-sample', 300));
const POLICY_SECRETS = Math.floor(argNumber('--policy-secrets', 500));
const POLICY_RATE = argNumber('--policy-rate', 5);
const POLICY = !args.includes('--no-policy');
/** Only part 6 (the policy reader), e.g. to run it again on a quiet machine. */
const POLICY_ONLY = args.includes('--policy-only');
const INCREMENTAL_EVENTS = 10_000;
const INGEST_BATCH = 5000;
const DAY = 86_400_000;
const INCREMENTAL_TARGET_MS = 5000;
const PAGE_TARGET_MS = 100;
const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => n.toLocaleString('en-US');
const seconds = (ms: number) => round(ms / 1000, 1);

const root = mkdtempSync(path.join(tmpdir(), 'bench-findings-'));
const DATA_DIR = path.join(root, 'data');
mkdirSync(DATA_DIR, { recursive: true });
const CONFIG_FILE = path.join(root, 'dashboard.yaml');
writeFileSync(CONFIG_FILE, configYaml());
Object.assign(process.env, { LOG_LEVEL: 'warn', DEMO_DATA: '0', CONFIG_FILE, DATA_DIR, SYNC_INTERVAL_MINUTES: '1440', AUDIT_RETENTION_DAYS: '400' });

// ---- memory ----

const gc = (globalThis as { gc?: () => void }).gc;
let processPeakMb = 0;

function statusMb(field: 'VmRSS' | 'VmHWM'): number {
  try {
    return Math.round(Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0) / 1024);
  } catch {
    return 0;
  }
}

/** The process's peak RSS so far (the high-water mark is reset per phase, so the largest is kept here). */
function processPeak(): number {
  processPeakMb = Math.max(processPeakMb, statusMb('VmHWM'));
  return processPeakMb;
}

/** RSS while fn runs: after a GC, the kernel's high-water mark reset (Linux clear_refs 5). */
async function phaseRss<T>(fn: () => Promise<T>): Promise<{ result: T; startMb: number; peakMb: number }> {
  processPeak();
  gc?.();
  try {
    writeFileSync('/proc/self/clear_refs', '5');
  } catch {
    // Not Linux, or not allowed: the peak is the process's so far.
  }
  const startMb = statusMb('VmRSS');
  const result = await fn();
  const peakMb = statusMb('VmHWM');
  processPeak();
  return { result, startMb, peakMb };
}

// ---- callers ----

const caller = (id: string, role: 'admin' | 'auditor', paths: string[]): Principal => ({
  via: 'session',
  userId: `bench-${id}`,
  email: `${id}@bench.local`,
  name: null,
  role,
  grants: [{ role, stores: null, paths }],
});
const ADMIN = caller('admin', 'admin', ['/**']);
const AUDITOR = caller('auditor', 'auditor', ['/team07/**']);

// ---- the parts ----

type Lib = Awaited<ReturnType<typeof loadLib>>;

async function loadLib() {
  const [inventory, records, audit, findings, data, evaluateStore, evaluate, exportFormats, findingsDbModule, inventoryStatus, registry] = await Promise.all([
    import('@/lib/inventory/inventory'),
    import('@/lib/inventory/records'),
    import('@/lib/cloudtrail/audit-events'),
    import('@/lib/findings/findings'),
    import('@/lib/data/findings'),
    import('@/lib/findings/evaluate-store'),
    import('@/lib/findings/evaluate'),
    import('@/lib/findings/export-formats'),
    import('@/lib/findings/findings-db'),
    import('@/lib/data/inventory-status'),
    import('@/lib/stores/registry'),
  ]);
  return { ...inventory, ...records, ...audit, ...findings, ...data, ...evaluateStore, ...evaluate, ...exportFormats, ...findingsDbModule, ...inventoryStatus, ...registry };
}

/** One walk of both stores as the sync writes it: staged a page at a time, then swapped in. */
async function walk(lib: Lib, data: BenchData): Promise<number> {
  const db = await lib.inventoryDb();
  const started = performance.now();
  for (const store of data.stores) {
    const page = store.kind === 'ssm' ? 50 : 100;
    const ssm = store.kind === 'ssm';
    await db.beginWalk(store.storeId);
    // Parameter Store lists carry no tags: they are fetched after the walk (fetchTags).
    for (let i = 0; i < store.records.length; i += page)
      await db.stage(store.records.slice(i, i + page).map((record) => lib.toInventoryRow(store.storeId, ssm ? { ...record, tags: {} } : record, !ssm)));
    await db.applyWalk(store.storeId, { items: store.records.length, pages: Math.ceil(store.records.length / page), durationMs: 0, calls: {}, throttled: 0, unreadableItems: 0 }, ssm);
  }
  return performance.now() - started;
}

/** Parameter Store tags as the sync's tag fetch writes them after a walk: one setTags per parameter. */
async function fetchTags(lib: Lib, data: BenchData, names?: Set<string>): Promise<{ ms: number; count: number }> {
  const db = await lib.inventoryDb();
  const started = performance.now();
  let count = 0;
  for (const record of data.stores[0].records) {
    if (names && !names.has(record.name)) continue;
    await db.setTags(PARAMS, record.name, record.tags);
    count++;
  }
  return { ms: performance.now() - started, count };
}

interface SetupResult {
  inventoryMs: number;
  tagsMs: number;
  eventsMs: number;
  events: number;
  entries: number;
}

async function setup(lib: Lib, data: BenchData): Promise<SetupResult> {
  log(`[1] writing ${fmt(ITEMS)} items through the sync's path (stage, applyWalk)`);
  const inventoryMs = await walk(lib, data);
  log(`[1] inventory written in ${seconds(inventoryMs)} s; Parameter Store tags fetched after it (setTags, one per parameter)`);
  const tagsMs = (await fetchTags(lib, data)).ms;
  log(`[1] tags written in ${seconds(tagsMs)} s; ingesting ${fmt(EVENTS)} CloudTrail events over 180 days`);
  const index = await lib.auditEventIndex();
  const gen = new EventGenerator(data);
  const from = EVENTS_FROM(data.now);
  const to = data.now - 10 * 60_000;
  const started = performance.now();
  for (let k = 0; k < EVENTS; k += INGEST_BATCH) {
    const records = gen.batch('bench', k, Math.min(EVENTS, k + INGEST_BATCH), EVENTS, from, to);
    await index.ingest('bench-trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, records, { cursor: { k }, lastEventTime: records.at(-1)!.eventTime!, lastSuccessAt: new Date().toISOString() }, LOCATORS);
    if ((k / INGEST_BATCH) % 40 === 39) log(`  ${fmt(k + records.length)} events, ${seconds(performance.now() - started)} s`);
  }
  await index.optimize();
  const eventsMs = performance.now() - started;
  const counts = await index.counts();
  log(`[1] ${fmt(counts.events)} events (${fmt(counts.entries)} rows) in ${seconds(eventsMs)} s`);
  return { inventoryMs, tagsMs, eventsMs, events: counts.events, entries: counts.entries };
}

interface StoreTiming {
  storeId: string;
  items: number;
  ms: number;
  raised: number;
  resolved: number;
  updated: number;
  /** Items the pass evaluated (all of them on a full pass). */
  evaluated: number;
}

/** evaluateFindings for each store in turn (what one call does, timed per store). */
async function evaluateEach(lib: Lib, data: BenchData, options: { force?: boolean; now?: Date } = {}): Promise<StoreTiming[]> {
  const out: StoreTiming[] = [];
  for (const store of data.stores) {
    const started = performance.now();
    const results = await lib.evaluateFindings({ ...options, storeIds: [store.storeId] });
    const ms = performance.now() - started;
    const counts = results.get(store.storeId);
    out.push({ storeId: store.storeId, items: counts?.items ?? store.records.length, ms, raised: counts?.raised ?? -1, resolved: counts?.resolved ?? -1, updated: counts?.updated ?? -1, evaluated: counts?.evaluated ?? 0 });
  }
  return out;
}

interface Breakdown {
  storeId: string;
  coverageMs: number;
  readsMs: number;
  readRows: number;
  inventoryPassMs: number;
  evaluateStoreMs: number;
  raised: number;
  applyMs: number;
  /** The same evaluation applied again: every finding compared, nothing written (what an incremental run pays). */
  reapplyMs: number;
}

/** Where the full evaluation's time goes: each step alone, and the apply into an empty findings store. */
async function breakdown(lib: Lib, data: BenchData): Promise<Breakdown[]> {
  const index = await lib.auditEventIndex();
  const inventory = (await lib.inventoryDb()).index;
  const scratch = await lib.FindingsDb.open(path.join(root, 'breakdown'));
  const settings = lib.findingSettings();
  const now = new Date();
  const out: Breakdown[] = [];
  try {
    for (const store of data.stores) {
      let t = performance.now();
      await index.queries.storeCoverage(store.storeId);
      const coverageMs = performance.now() - t;
      // The same window evaluateStore reads (the unused days, or the new-reader window and its look-back).
      const from = new Date(Math.min(now.getTime() - settings.unusedDays * DAY, now.getTime() - (settings.newReaderDays + 90) * DAY)).toISOString();
      t = performance.now();
      const reads = await index.queries.readsOfStore(store.storeId, from);
      const readsMs = performance.now() - t;
      t = performance.now();
      let n = 0;
      for await (const batch of inventory.eachItem(store.storeId, now)) n += batch.length;
      const inventoryPassMs = performance.now() - t;
      t = performance.now();
      const evaluation = await lib.evaluateStore({ id: store.storeId, kind: store.kind }, { index: inventory, events: index.queries, settings, now, signature: 'breakdown' });
      const evaluateStoreMs = performance.now() - t;
      t = performance.now();
      await scratch.applyEvaluation(evaluation);
      const applyMs = performance.now() - t;
      t = performance.now();
      await scratch.applyEvaluation(evaluation);
      const reapplyMs = performance.now() - t;
      out.push({ storeId: store.storeId, coverageMs, readsMs, readRows: reads.length, inventoryPassMs, evaluateStoreMs, raised: evaluation.raised.length, applyMs, reapplyMs });
      if (n !== evaluation.items) log(`  (the inventory pass saw ${n} items, the evaluation ${evaluation.items})`);
    }
  } finally {
    await scratch.close();
  }
  return out;
}

interface Changes {
  rotated: number;
  tagged: number;
  deleted: number;
  added: number;
  /** Parameters whose tags the tag fetch writes after the walk (tagged and added ones). */
  ssmTagNames: Set<string>;
}

/** ~1 % of each store's items changed for the next walk: rotated, tagged, deleted, added. */
function changeForNextWalk(lib: Lib, data: BenchData, now: number): Changes {
  const random = seededRandom(4242);
  const changes: Changes = { rotated: 0, tagged: 0, deleted: 0, added: 0, ssmTagNames: new Set() };
  const iso = (ms: number) => new Date(ms).toISOString();
  for (const store of data.stores) {
    const n = store.records.length;
    const count = Math.max(5, Math.round(n * 0.01));
    const [rotate, tag, remove] = [Math.round(count * 0.3), Math.round(count * 0.3), Math.round(count * 0.2)];
    const add = count - rotate - tag - remove;
    const step = Math.max(1, Math.floor(n / count));
    const removed = new Set<number>();
    // Rotated: items spread over the store.
    for (let k = 0; k < rotate; k++) {
      const i = (k * step) % n;
      const r = store.records[i]!;
      if (store.kind === 'ssm') store.records[i] = { ...r, lastChangedAt: iso(now), currentVersion: String(Number(r.currentVersion) + 1) };
      else {
        const { pendingVersion: _, ...extra } = r.extra;
        store.records[i] = {
          ...r,
          lastChangedAt: iso(now),
          currentVersion: `${r.currentVersion}-r`,
          extra: { ...extra, rotation: { ...r.extra.rotation!, enabled: true, schedule: 'rate(30 days)', lastRotatedAt: iso(now), nextRotationAt: iso(now + 30 * DAY), lambdaArn: r.extra.rotation?.lambdaArn ?? `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate` } },
        };
      }
      changes.rotated++;
    }
    // Tagged: items without an owner get one (Parameter Store's through the tag fetch, after the walk).
    let tagged = 0;
    for (let k = 0, i = Math.floor(step / 2); tagged < tag && k < n; k++, i = (i + 97) % n) {
      const r = store.records[i]!;
      if (lib.ownerOf(r.tags) !== null) continue;
      const tags = { ...r.tags, owner: `person-${i % 53}` };
      store.records[i] = { ...r, tags };
      if (store.kind === 'ssm') changes.ssmTagNames.add(r.name);
      tagged++;
    }
    changes.tagged += tagged;
    // Deleted: gone from the walk.
    for (let k = 0; k < remove; k++) removed.add((k * step + Math.floor(step / 3)) % n);
    const kept = store.records.filter((_, i) => !removed.has(i));
    changes.deleted += n - kept.length;
    // Added: new items, just written.
    for (let k = 0; k < add; k++) {
      const record = store.kind === 'ssm' ? parameterRecord(random, n + k, now, 'active') : secretRecord(random, n + k, now, 'active');
      kept.push(record);
      if (store.kind === 'ssm') changes.ssmTagNames.add(record.name);
    }
    changes.added += add;
    store.records = kept;
  }
  return changes;
}

interface IncrementalResult {
  changes: Omit<Changes, 'ssmTagNames'>;
  eventsMs: number;
  walkMs: number;
  tagsMs: number;
  stores: StoreTiming[];
  totalMs: number;
  noticed: boolean;
}

async function incremental(lib: Lib, data: BenchData, gen: EventGenerator, fullAt: number): Promise<IncrementalResult> {
  const HOUR = 3_600_000;
  if (Math.floor(Date.now() / HOUR) !== Math.floor(fullAt / HOUR)) {
    log('[3] the clock hour changed since [2]: its hourly full pass first');
    await evaluateEach(lib, data);
  }
  const now = Date.now();
  const { ssmTagNames, ...changes } = changeForNextWalk(lib, data, now);
  log(`[3] next walk: ${changes.rotated} rotated, ${changes.tagged} tagged, ${changes.deleted} deleted, ${changes.added} added; ${fmt(INCREMENTAL_EVENTS)} new events`);
  const index = await lib.auditEventIndex();
  const t = performance.now();
  for (let k = 0; k < INCREMENTAL_EVENTS; k += INGEST_BATCH) {
    const records = gen.batch('bench-inc', k, Math.min(INCREMENTAL_EVENTS, k + INGEST_BATCH), INCREMENTAL_EVENTS, now - 3_600_000, now - 1000);
    await index.ingest('bench-trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, records, { cursor: { inc: k }, lastEventTime: records.at(-1)!.eventTime!, lastSuccessAt: new Date().toISOString() }, LOCATORS);
  }
  const eventsMs = performance.now() - t;
  const walkMs = await walk(lib, data);
  // Parameter Store's tags come from the tag fetch that follows the walk (the new and the retagged).
  const tagsMs = (await fetchTags(lib, data, ssmTagNames)).ms;
  log(`[3] events ${round(eventsMs, 0)} ms, walk ${round(walkMs, 0)} ms, tags ${round(tagsMs, 0)} ms; evaluateFindings() (not forced)`);
  const started = performance.now();
  const stores = await evaluateEach(lib, data);
  const totalMs = performance.now() - started;
  return { changes, eventsMs, walkMs, tagsMs, stores, totalMs, noticed: stores.every((s) => s.raised >= 0) };
}

interface PageLine {
  query: string;
  p50: number;
  p95: number;
  rows: number;
}

async function pages(lib: Lib): Promise<{ lines: PageLine[]; suppressed: number }> {
  const now = () => new Date();
  const limit = DEFAULT_FINDINGS_LIMIT;
  // Some suppressions, so the status filter and the suppression join have rows to find.
  const fdb = await lib.findingsDb();
  const candidates = await lib.listFindings(ADMIN, { controls: ['no-owner'], limit: 1000 });
  let suppressed = 0;
  for (const [k, f] of candidates.items.entries()) {
    if (k % 5 !== 0) continue;
    await fdb.addSuppression({ storeId: f.storeId, itemName: f.itemName, control: f.control, reason: 'bench: owned by the platform team', expiresAt: new Date(Date.now() + 30 * DAY).toISOString(), createdBy: 'bench@bench.local', createdAt: new Date().toISOString() });
    suppressed++;
  }
  // A cursor half-way down the admin's open findings (the data layer's own).
  const summary = await lib.getFindingSummary(ADMIN);
  let deep: string | undefined;
  for (let seen = 0, cursor: string | undefined; seen < summary.open / 2; ) {
    const page = await lib.listFindings(ADMIN, { limit: 1000, ...(cursor ? { cursor } : {}) });
    seen += page.items.length;
    if (!page.nextCursor) break;
    cursor = deep = page.nextCursor;
  }
  const sampleItem = candidates.items.at(-1)!;

  /** What the /findings page asks: the page of findings, then the counts (the scope's) and the suppressions. */
  const findingsPage = async (who: Principal, query: Parameters<Lib['listFindings']>[1]) => {
    const at = now();
    const page = await lib.listFindings(who, query, at);
    await Promise.all([lib.getFindingSummary(who, {}, at), lib.listSuppressions(who, {}, at)]);
    return page.items.length;
  };
  const questions: { query: string; run: () => Promise<number> }[] = [
    { query: `/findings page: admin (first page of ${limit}, summary, suppressions)`, run: () => findingsPage(ADMIN, { limit }) },
    { query: '/findings page: auditor of /team07/**', run: () => findingsPage(AUDITOR, { limit }) },
    { query: '/findings page: control not-read-recently', run: () => findingsPage(ADMIN, { limit, controls: ['not-read-recently'] }) },
    { query: '/findings page: severity high', run: () => findingsPage(ADMIN, { limit, severities: ['high'] }) },
    { query: '/findings page: status resolved', run: () => findingsPage(ADMIN, { limit, statuses: ['resolved'] }) },
    { query: '/findings page: status suppressed', run: () => findingsPage(ADMIN, { limit, statuses: ['suppressed'] }) },
    { query: '/findings page: auditor, control no-owner', run: () => findingsPage(AUDITOR, { limit, controls: ['no-owner'] }) },
    { query: '/findings page: a page half-way down (cursor)', run: () => findingsPage(ADMIN, { limit, ...(deep ? { cursor: deep } : {}) }) },
    { query: 'overview card: getFindingSummary (admin)', run: async () => (await lib.getFindingSummary(ADMIN, {}, now())).byControl.length },
    { query: "item page's Findings panel (findingsForItem)", run: async () => (await lib.findingsForItem(ADMIN, sampleItem.storeId, sampleItem.itemName, now()))?.length ?? 0 },
    {
      query: `API: listFindings ${limit} + JSON.stringify`,
      run: async () => {
        const page = await lib.listFindings(ADMIN, { limit }, now());
        return JSON.stringify(page).length > 0 ? page.items.length : 0;
      },
    },
    {
      query: `API: auditor, listFindings ${limit} + JSON.stringify`,
      run: async () => {
        const page = await lib.listFindings(AUDITOR, { limit }, now());
        return JSON.stringify(page).length > 0 ? page.items.length : 0;
      },
    },
    {
      // The page's own query for status=suppressed, without the summary every /findings line above also pays.
      query: `API: status suppressed, listFindings ${limit} + JSON.stringify`,
      run: async () => {
        const page = await lib.listFindings(ADMIN, { limit, statuses: ['suppressed'] }, now());
        return JSON.stringify(page).length > 0 ? page.items.length : 0;
      },
    },
    {
      query: 'API: listFindings 1,000 + JSON.stringify',
      run: async () => {
        const page = await lib.listFindings(ADMIN, { limit: 1000 }, now());
        return JSON.stringify(page).length > 0 ? page.items.length : 0;
      },
    },
    {
      query: 'API: CSV of a 1,000-row page',
      run: async () => {
        const page = await lib.listFindings(ADMIN, { limit: 1000 }, now());
        const csv = lib.findingCsvHeader() + page.items.map((f) => lib.findingCsvRow(f)).join('');
        return csv.length > 0 ? page.items.length : 0;
      },
    },
  ];
  const lines: PageLine[] = [];
  for (const q of questions) {
    const rows = await q.run();
    const samples = await timeRuns(RUNS, q.run);
    lines.push({ query: q.query, p50: percentile(samples, 50), p95: percentile(samples, 95), rows });
    log(`[4] ${q.query}: p95 ${percentile(samples, 95)} ms`);
  }
  return { lines, suppressed };
}

interface NaiveResult {
  sampled: number;
  perStore: { storeId: string; sampled: number; msPerItem: number; items: number; estimatedMs: number }[];
  estimatedMs: number;
}

/** Per item, the Access panel's queries instead of one grouped pass: timed on a sample, extrapolated. */
async function naive(lib: Lib, data: BenchData): Promise<NaiveResult> {
  const queries = (await lib.auditEventIndex()).queries;
  const total = data.stores.reduce((n, s) => n + s.records.length, 0);
  const perStore: NaiveResult['perStore'] = [];
  for (const store of data.stores) {
    const sample = Math.max(1, Math.round((NAIVE_SAMPLE * store.records.length) / total));
    const step = store.records.length / sample;
    const now = new Date();
    const started = performance.now();
    for (let k = 0; k < sample; k++) await queries.accessPanel(store.storeId, store.records[Math.floor(k * step)]!.name, { now, newReaderDays: 7 });
    const msPerItem = (performance.now() - started) / sample;
    perStore.push({ storeId: store.storeId, sampled: sample, msPerItem, items: store.records.length, estimatedMs: msPerItem * store.records.length });
  }
  return { sampled: perStore.reduce((n, s) => n + s.sampled, 0), perStore, estimatedMs: perStore.reduce((n, s) => n + s.estimatedMs, 0) };
}

// ---- 6: the policy reader against the simulated AWS ----

interface PolicyResult {
  secrets: number;
  planted: Record<string, number>;
  rate: number;
  calls: number;
  ok: number;
  throttled: number;
  errors: number;
  read: number;
  seconds: number;
  perSecond: number[];
  maxPolled: number;
  simMaxCallsPerSecond: number;
  /** The most calls the reader started in any 1-second window (its own clock). */
  clientMaxPerSecond: number;
  readings: Record<string, number>;
  raised: Record<string, number>;
  withinRate: boolean;
}

async function startSimulator(generated: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'simulator/main.ts', '--aws', '--secrets', `hierarchy:${generated}`, '--latency', '30'], { stdio: ['pipe', 'pipe', 'inherit'] });
  const first = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('exit', (code) => reject(new Error(`the simulator exited (${code})`)));
  });
  return { url: first.trim().replace(/^SIMULATOR_URL=/, ''), child };
}

/** Secrets with resource policies of each kind the reader tells apart. */
function plantedSecrets(count: number): { secrets: SecretInput[]; planted: Record<string, number> } {
  const other = '999988887777';
  const own = '123456789012';
  const statement = (principal: unknown, extra: Record<string, unknown> = {}) => ({ Effect: 'Allow', Principal: principal, Action: 'secretsmanager:GetSecretValue', Resource: '*', ...extra });
  const kinds: { kind: string; policy: () => string }[] = [
    { kind: 'public', policy: () => JSON.stringify({ Version: '2012-10-17', Statement: [statement('*')] }) },
    { kind: 'public, narrowed by aws:PrincipalOrgID', policy: () => JSON.stringify({ Version: '2012-10-17', Statement: [statement('*', { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } })] }) },
    { kind: 'cross-account', policy: () => JSON.stringify({ Version: '2012-10-17', Statement: [statement({ AWS: `arn:aws:iam::${other}:role/reader` })] }) },
    { kind: 'own account only', policy: () => JSON.stringify({ Version: '2012-10-17', Statement: [statement({ AWS: `arn:aws:iam::${own}:role/app` })] }) },
    { kind: 'not an IAM policy', policy: () => JSON.stringify({ Statement: 'everyone may read' }) },
  ];
  const planted: Record<string, number> = {};
  const secrets = Array.from({ length: count }, (_, k) => {
    const { kind, policy } = kinds[k % kinds.length]!;
    planted[kind] = (planted[kind] ?? 0) + 1;
    // DeletedDate null: none scheduled for deletion (the simulator schedules 1 % of names otherwise, and ListSecrets leaves those out).
    return { Name: `policies/team${k % 7}/secret-${String(k).padStart(4, '0')}`, ResourcePolicy: policy(), DeletedDate: null };
  });
  return { secrets, planted };
}

async function policyReader(lib: Lib): Promise<PolicyResult> {
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID || 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY || 'bench', AWS_EC2_METADATA_DISABLED: 'true' });
  const [{ InventoryDb }, { InventorySync }, { SecretsManagerStore }, { PolicyReader }] = await Promise.all([
    import('@/lib/inventory/inventory-db'),
    import('@/lib/inventory/sync'),
    import('@/lib/stores/secrets-manager'),
    import('@/lib/findings/policy-reader'),
  ]);
  const withPolicy = Math.round(POLICY_SECRETS * 0.15);
  const sim = await startSimulator(POLICY_SECRETS - withPolicy);
  const dir = path.join(root, 'policy');
  mkdirSync(dir, { recursive: true });
  const storeId = 'sim-secrets';
  try {
    const { secrets, planted } = plantedSecrets(withPolicy);
    const control = await fetch(`${sim.url}/__control`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ addSecrets: secrets }) });
    if (!control.ok) throw new Error(`the simulator refused the planted secrets: ${await control.text()}`);
    const db = await InventoryDb.open(dir);
    const store = SecretsManagerStore.fromConfig({ id: storeId, region: 'us-east-1', endpoint: sim.url });
    const sync = new InventorySync(db, [store], { intervalMs: 86_400_000, fetchTags: false, rates: { [storeId]: { ListSecrets: 100 } } });
    sync.request(storeId);
    await sync.idle(storeId);
    await sync.stop();
    const walked = await db.index.countStore(storeId);
    log(`[6] ${walked} secrets walked from the simulated AWS; reading their resource policies at ${POLICY_RATE}/s`);
    const fdb = await lib.FindingsDb.open(dir);
    const reader = new PolicyReader(fdb, { ratePerSecond: POLICY_RATE, refreshHours: 24, runBudgetMs: 3_600_000 });
    await fetch(`${sim.url}/__stats/reset`, { method: 'POST' });
    type Stats = { operations: Record<string, { calls: number; ok: number; throttled: number; errors: number; maxCallsPerSecond: number }> };
    const stats = async () => ((await (await fetch(`${sim.url}/__stats`)).json()) as Stats).operations['secretsmanager:GetResourcePolicy'];
    // The simulator's count, polled every second: the calls it received in each second.
    const polled: number[] = [];
    let last = 0;
    let polling = Promise.resolve();
    const timer = setInterval(() => {
      polling = polling.then(async () => {
        const calls = (await stats())?.calls ?? 0;
        polled.push(calls - last);
        last = calls;
      });
    }, 1000);
    // When each call left the reader (its own 1-second windows, beside the simulator's arrivals).
    const starts: number[] = [];
    const resourcePolicy = store.resourcePolicy.bind(store);
    store.resourcePolicy = (arn: string) => {
      starts.push(performance.now());
      return resourcePolicy(arn);
    };
    const started = performance.now();
    const read = await reader.runOnce(store, db.index);
    const ms = performance.now() - started;
    clearInterval(timer);
    await polling;
    const final = await stats();
    if (final && final.calls > last) polled.push(final.calls - last);
    const readingRows = await fdb.policyReadings(storeId);
    const readings: Record<string, number> = {};
    for (const r of readingRows.values()) readings[r.outcome] = (readings[r.outcome] ?? 0) + 1;
    const evaluation = await lib.evaluateStore(
      { id: storeId, kind: 'secretsmanager' },
      { index: db.index, events: null, settings: lib.findingSettings(), now: new Date(), signature: 'bench', policies: readingRows },
    );
    const raised: Record<string, number> = { 'sm-not-public': 0, 'sm-cross-account': 0, 'policy-unreadable': 0 };
    for (const f of evaluation.raised) if (f.control in raised) raised[f.control]!++;
    await fdb.close();
    await db.close();
    const simMax = final?.maxCallsPerSecond ?? 0;
    let clientMax = 0;
    for (let i = 0, j = 0; i < starts.length; i++) {
      while (starts[j]! <= starts[i]! - 1000) j++;
      clientMax = Math.max(clientMax, i - j + 1);
    }
    // The first poll may hold the calls of the start-up second only partly; every poll counts.
    const perSecond = polled.filter((n, i) => n > 0 || i < polled.length - 1);
    const maxPolled = Math.max(0, ...perSecond);
    return {
      secrets: walked,
      planted,
      rate: POLICY_RATE,
      calls: final?.calls ?? 0,
      ok: final?.ok ?? 0,
      throttled: final?.throttled ?? 0,
      errors: final?.errors ?? 0,
      read,
      seconds: round(ms / 1000, 1),
      perSecond,
      maxPolled,
      simMaxCallsPerSecond: simMax,
      clientMaxPerSecond: clientMax,
      readings,
      raised,
      withinRate: simMax <= Math.ceil(POLICY_RATE) && maxPolled <= Math.ceil(POLICY_RATE),
    };
  } finally {
    sim.child.kill('SIGTERM');
  }
}

/** Part 6's table and what the readings raised. */
function policyTable(policy: PolicyResult): string[] {
  const hist = Object.entries(policy.perSecond.reduce<Record<number, number>>((h, n) => ({ ...h, [n]: (h[n] ?? 0) + 1 }), {}))
    .sort(([a], [b]) => Number(b) - Number(a))
    .map(([n, c]) => `${n}/s × ${c}`)
    .join(', ');
  return [
    `6. Background policy reader: PolicyReader.runOnce at ${policy.rate}/s against the simulated AWS (its own process, 30 ms a call)`,
    '',
    "| secrets | planted policies | GetResourcePolicy calls (ok, throttled, errors) | secrets read | s | calls each second (simulator, polled) | max in a second (polled) | max in any 1-s window (simulator's arrivals) | max in any 1-s window (reader's starts) | within rate |",
    '| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |',
    `| ${policy.secrets} | ${Object.entries(policy.planted).map(([k, n]) => `${n} ${k}`).join(', ')} | ${policy.calls} (${policy.ok}, ${policy.throttled}, ${policy.errors}) | ${policy.read} | ${policy.seconds} | ${hist} | ${policy.maxPolled} | ${policy.simMaxCallsPerSecond} | ${policy.clientMaxPerSecond} | ${policy.withinRate ? 'yes' : '**no**'} |`,
    '',
    `Readings: ${Object.entries(policy.readings).map(([k, n]) => `${k} ${n}`).join(', ')}; findings raised from them: ${Object.entries(policy.raised).map(([k, n]) => `${k} ${n}`).join(', ')}.`,
    '',
  ];
}

const policyJson = (policy: PolicyResult) => ({
  secrets: policy.secrets,
  rate: policy.rate,
  calls: policy.calls,
  throttled: policy.throttled,
  seconds: policy.seconds,
  maxPolledPerSecond: policy.maxPolled,
  simMaxCallsPerSecond: policy.simMaxCallsPerSecond,
  clientMaxPerSecond: policy.clientMaxPerSecond,
});

// ---- main ----

async function main(): Promise<void> {
  log(`bench:findings — ${fmt(ITEMS)} items, ${fmt(EVENTS)} CloudTrail events, ${RUNS} runs a query; ${machineDescription()}; data in ${root}`);
  const lib = await loadLib();
  if (POLICY_ONLY) {
    const policy = await policyReader(lib);
    await lib.closeFindingsDb();
    console.log(`Findings benchmark, part 6 only, on ${machineDescription()}; peak RSS ${processPeak()} MB`);
    console.log('');
    for (const line of policyTable(policy)) console.log(line);
    if (json) console.log(JSON.stringify({ policy: policyJson(policy), targets: { policyWithinRate: policy.withinRate } }));
    return;
  }
  const data = generateInventory(ITEMS, Date.now());
  const gen = new EventGenerator(data);
  const setupResult = await setup(lib, data);

  log('[2] full evaluation: evaluateFindings({ force: true }) on an empty findings store');
  const fullAt = Date.now();
  const full = await phaseRss(() => evaluateEach(lib, data, { force: true }));
  const fullMs = full.result.reduce((n, s) => n + s.ms, 0);
  const raisedTotal = full.result.reduce((n, s) => n + s.raised, 0);
  log(`[2] ${fmt(raisedTotal)} findings in ${seconds(fullMs)} s; peak RSS ${full.peakMb} MB`);
  const byControl = (await lib.getFindingSummary(ADMIN)).byControl;
  log('[2] where the time goes (each step alone)');
  const steps = await breakdown(lib, data);

  const inc = await incremental(lib, data, gen, fullAt);
  log(`[3] findings updated ${round(inc.totalMs, 0)} ms after the walk (noticed: ${inc.noticed})`);

  log(`[4] the findings page and API: ${RUNS} warm runs each`);
  const pageResult = await pages(lib);

  log(`[5] the naive way: the Access panel of ${NAIVE_SAMPLE} sampled items`);
  const naiveResult = await naive(lib, data);

  log('[5b] a day later: every day count in the evidence moves (not a target)');
  const nextDay = await evaluateEach(lib, data, { now: new Date(Date.now() + DAY) });

  const policy = POLICY ? await policyReader(lib) : null;
  await lib.closeFindingsDb();
  await (await lib.auditEventIndex()).close();
  await lib.closeInventoryDb();

  const peak = processPeak();
  const pageMax = Math.max(...pageResult.lines.map((l) => l.p95));
  const targets = {
    incrementalUnder5s: inc.noticed && inc.totalMs < INCREMENTAL_TARGET_MS,
    pagesP95Under100ms: pageMax < PAGE_TARGET_MS,
    policyWithinRate: policy ? policy.withinRate : null,
  };

  const out: string[] = [];
  const p = (line = '') => out.push(line);
  p(`Findings benchmark on ${machineDescription()}; ${fmt(ITEMS)} items, ${fmt(setupResult.events)} CloudTrail events; peak RSS ${peak} MB`);
  p();
  p('1. Set-up');
  p();
  p('| step | s | figures |');
  p('| --- | ---: | --- |');
  p(`| inventory: first walk (stage + applyWalk) | ${seconds(setupResult.inventoryMs)} | ${fmt(data.stores[0].records.length)} parameters, ${fmt(ITEMS - data.stores[0].records.length)} secrets (before the next walk) |`);
  p(`| inventory: Parameter Store tags fetched after it (setTags, one per parameter) | ${seconds(setupResult.tagsMs)} | ${fmt(data.stores[0].records.length)} parameters |`);
  p(`| CloudTrail: events ingested through the index | ${seconds(setupResult.eventsMs)} | ${fmt(setupResult.events)} events, ${fmt(setupResult.entries)} rows, ${PRINCIPALS} principals, ${fmt(Math.round(setupResult.events / (setupResult.eventsMs / 1000)))} events/s |`);
  p();
  p('2. Full evaluation: evaluateFindings({ force: true }), empty findings store');
  p();
  p('| store | items | findings raised | s |');
  p('| --- | ---: | ---: | ---: |');
  for (const s of full.result) p(`| ${s.storeId} | ${fmt(s.items)} | ${fmt(s.raised)} | ${seconds(s.ms)} |`);
  p(`| total | ${fmt(ITEMS)} | ${fmt(raisedTotal)} | ${seconds(fullMs)} |`);
  p();
  p(`RSS ${full.startMb} MB at the start, peak ${full.peakMb} MB during it. Open findings per control after it:`);
  p();
  p(`| control | severity | open |`);
  p('| --- | --- | ---: |');
  for (const c of byControl) p(`| ${c.control} | ${c.severity} | ${fmt(c.open)} |`);
  p();
  p('Where the time goes (each step timed alone, warm):');
  p();
  p('| store | storeCoverage ms | readsOfStore ms (rows) | inventory pass ms | evaluateStore ms (all of these + per-item) | applyEvaluation into an empty store ms | the same again, nothing changed ms |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const b of steps)
    p(`| ${b.storeId} | ${round(b.coverageMs, 0)} | ${round(b.readsMs, 0)} (${fmt(b.readRows)}) | ${round(b.inventoryPassMs, 0)} | ${round(b.evaluateStoreMs, 0)} | ${round(b.applyMs, 0)} | ${round(b.reapplyMs, 0)} |`);
  p();
  p(`3. Incremental after a sync: ${inc.changes.rotated} rotated, ${inc.changes.tagged} tagged, ${inc.changes.deleted} deleted, ${inc.changes.added} added; ${fmt(INCREMENTAL_EVENTS)} new events`);
  p();
  p('| step | ms | items evaluated | raised | resolved | updated |');
  p('| --- | ---: | ---: | ---: | ---: | ---: |');
  p(`| ingest ${fmt(INCREMENTAL_EVENTS)} events (before) | ${round(inc.eventsMs, 0)} | | | | |`);
  p(`| the walk (stage + applyWalk) | ${round(inc.walkMs, 0)} | | | | |`);
  p(`| Parameter Store tags fetched after it (setTags) | ${round(inc.tagsMs, 0)} | | | | |`);
  for (const s of inc.stores) p(`| evaluateFindings(): ${s.storeId} | ${round(s.ms, 0)} | ${fmt(s.evaluated)} of ${fmt(s.items)} | ${fmt(s.raised)} | ${fmt(s.resolved)} | ${fmt(s.updated)} |`);
  p(`| **end of the walk → findings updated** (target < ${INCREMENTAL_TARGET_MS / 1000} s) | **${round(inc.totalMs, 0)}** | | | | |`);
  p(`| a day later (a full pass: every date-driven control looked at again; not a target) | ${round(nextDay.reduce((n, s) => n + s.ms, 0), 0)} | ${fmt(nextDay.reduce((n, s) => n + s.evaluated, 0))} | ${fmt(nextDay.reduce((n, s) => n + s.raised, 0))} | ${fmt(nextDay.reduce((n, s) => n + s.resolved, 0))} | ${fmt(nextDay.reduce((n, s) => n + s.updated, 0))} |`);
  p();
  p(`4. Findings page and API, ${RUNS} warm runs each (${pageResult.suppressed} suppressions in force; target p95 < ${PAGE_TARGET_MS} ms)`);
  p();
  p('| query | p50 ms | p95 ms | rows |');
  p('| --- | ---: | ---: | ---: |');
  for (const l of pageResult.lines) p(`| ${l.query} | ${l.p50} | ${l.p95} | ${fmt(l.rows)} |`);
  p();
  p('5. One grouped pass against the naive way (per item, the Access panel\'s queries)');
  p();
  p('| way | items timed | ms per item | all items s |');
  p('| --- | ---: | ---: | ---: |');
  p(`| ours: evaluateFindings({ force: true }) | ${fmt(ITEMS)} | ${round(fullMs / ITEMS, 3)} | ${seconds(fullMs)} |`);
  for (const s of naiveResult.perStore) p(`| naive (estimated): ${s.storeId} | ${s.sampled} | ${round(s.msPerItem, 2)} | ${seconds(s.estimatedMs)} |`);
  p(`| **naive (estimated)**, both stores | ${naiveResult.sampled} | ${round(naiveResult.estimatedMs / ITEMS, 2)} | **${seconds(naiveResult.estimatedMs)}** (${round(naiveResult.estimatedMs / fullMs, 1)}× ours) |`);
  p();
  if (policy) for (const line of policyTable(policy)) p(line);
  p('Targets:');
  p(`- incremental update after a sync < ${INCREMENTAL_TARGET_MS / 1000} s: ${round(inc.totalMs, 0)} ms, ${targets.incrementalUnder5s ? 'met' : '**missed**'}${inc.noticed ? '' : ' (a store was not evaluated again: its inputs looked unchanged)'}`);
  p(`- findings page and API p95 < ${PAGE_TARGET_MS} ms: slowest p95 ${pageMax} ms, ${targets.pagesP95Under100ms ? 'met' : '**missed**'}`);
  if (policy) p(`- policy reads within ${policy.rate}/s: at most ${policy.simMaxCallsPerSecond} in any second, ${policy.withinRate ? 'met' : '**missed**'}`);
  for (const line of out) console.log(line);
  if (json) {
    const summary = {
      items: ITEMS,
      events: setupResult.events,
      setupInventoryS: seconds(setupResult.inventoryMs),
      setupEventsS: seconds(setupResult.eventsMs),
      fullEvalMs: round(fullMs, 0),
      fullEvalPerStoreMs: Object.fromEntries(full.result.map((s) => [s.storeId, round(s.ms, 0)])),
      findingsRaised: raisedTotal,
      fullEvalPeakRssMb: full.peakMb,
      incrementalMs: round(inc.totalMs, 0),
      incrementalNoticed: inc.noticed,
      incrementalEvaluated: inc.stores.reduce((n, s) => n + s.evaluated, 0),
      nextDayMs: round(nextDay.reduce((n, s) => n + s.ms, 0), 0),
      pageP95Ms: Object.fromEntries(pageResult.lines.map((l) => [l.query, l.p95])),
      pageMaxP95Ms: pageMax,
      naiveEstimatedMs: round(naiveResult.estimatedMs, 0),
      policy: policy && policyJson(policy),
      peakRssMb: peak,
      targets,
    };
    console.log(JSON.stringify(summary));
  }
}

main()
  .then(
    () => 0,
    (error: unknown) => {
      console.error(`The benchmark failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return 1;
    },
  )
  .then((code) => {
    if (!keep) rmSync(root, { recursive: true, force: true });
    else log(`data kept in ${root}`);
    process.exit(code);
  });

