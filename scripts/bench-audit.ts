// npm run bench:audit [-- --events 10000000 --own 1000000 --dialects sqlite,postgres --json]
// runs the /audit page benchmark at an organisation's scale on SQLite and PostgreSQL
// (scripts/bench/audit-page-bench.ts: seeded data, every filter combination, the own-log chart
// checked exact). `-- --ingest [--events 1000000 --json --keep]` runs the index benchmark below.
//
// The index benchmark: the CloudTrail event index at scale, in one process: N events (default 1,000,000) over 500 items
// and 200 actors written through the index's own ingest (guard, mapping, dedupe; pages of 5,000 in
// one transaction each), then p50/p95 of
//   - filtered timeline pages (three filters combined, newest first, 50 a page), several combinations
//     with parameters drawn at random each run, one of them under an auditor's grants;
//   - the Access panel of a random item;
//   - the reads/writes chart of the same filtered sets;
// and the LookupEvents backfill rate against the simulated CloudTrail's 2 calls a second
// (--backfill-events N, default 3000; --no-backfill skips it and prints null).
// The last line with --json is one JSON object: events, p50Ms, p95Ms, panelP95Ms, chartP95Ms, backfillRatio.
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { EventIndex } from '@/lib/cloudtrail/event-index';
import { FULL_SCOPE, type AuditScope } from '@/lib/cloudtrail/event-scope';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { globsPattern } from '@/lib/auth/path-glob';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { seededRandom } from '../lib/random/seeded-random';

const args = process.argv.slice(2);
const json = args.includes('--json');
const eventsArg = args.includes('--events') ? Number(args[args.indexOf('--events') + 1]) : NaN;
const EVENTS = Number.isFinite(eventsArg) && eventsArg > 0 ? Math.floor(eventsArg) : 1_000_000;
const ITEMS = 500;
const ACTORS = 200;
const BATCH = 5000;
const RUNS = 60;
const DAYS = 365;
const ACCOUNT = '111122223333';
const log = (line: string) => process.stderr.write(`${line}\n`);

const STORES: StoreLocator[] = [
  { storeId: 'bench-params', kind: 'ssm', region: 'eu-west-1', account: ACCOUNT },
  { storeId: 'bench-secrets', kind: 'secretsmanager', region: 'eu-west-1', account: ACCOUNT },
];

// Deterministic randomness, so every run measures the same index.
const random = seededRandom(12345);
const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
/** Skewed towards the start of the list, as real traffic is (a few hot items and busy actors). */
const pickSkewed = <T>(list: readonly T[]): T => list[Math.floor(random() ** 2 * list.length)]!;

const TEAMS = ['payments', 'web', 'search', 'billing', 'identity', 'data', 'ops', 'mobile', 'ml', 'infra'];
const ENVS = ['prod', 'staging', 'dev'];
// 350 parameters and 150 secrets: /<env>/<team>/<name>.
const PARAMS = Array.from({ length: 350 }, (_, i) => `/${ENVS[i % 3]}/${TEAMS[i % 10]}/param-${i}`);
const SECRETS = Array.from({ length: ITEMS - 350 }, (_, i) => `${ENVS[i % 3]}/${TEAMS[(i + 3) % 10]}/secret-${i}`);
const ITEM_REFS = [...PARAMS.map((name) => ({ storeId: 'bench-params', name })), ...SECRETS.map((name) => ({ storeId: 'bench-secrets', name: `/${name}` }))];
const ROLES = Array.from({ length: 40 }, (_, i) => `arn:aws:iam::${ACCOUNT}:role/${TEAMS[i % 10]}-service-${i}`);
const ACTOR_LIST = Array.from({ length: ACTORS }, (_, i) =>
  i < 160
    ? { kind: 'user' as const, arn: `arn:aws:iam::${ACCOUNT}:user/person-${i}` }
    : { kind: 'role' as const, role: ROLES[i - 160]!, arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${ROLES[i - 160]!.split('/')[1]}/session` },
);
const IPS = Array.from({ length: 50 }, (_, i) => `198.51.${Math.floor(i / 10)}.${i}`);
const NOW = Date.now();
const START = NOW - DAYS * 86_400_000;

function makeRecord(i: number): CloudTrailRecord {
  const actor = pickSkewed(ACTOR_LIST);
  const userIdentity =
    actor.kind === 'user'
      ? { type: 'IAMUser', arn: actor.arn, accountId: ACCOUNT }
      : { type: 'AssumedRole', arn: `${actor.arn}-${i % 97}`, accountId: ACCOUNT, sessionContext: { sessionIssuer: { type: 'Role', arn: actor.role } } };
  const roll = random();
  const param = pickSkewed(PARAMS);
  const secret = pickSkewed(SECRETS);
  let body: Pick<CloudTrailRecord, 'eventSource' | 'eventName' | 'requestParameters' | 'readOnly'>;
  if (roll < 0.3) body = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name: param, withDecryption: true }, readOnly: true };
  else if (roll < 0.38) body = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameters', requestParameters: { names: [param, pick(PARAMS)] }, readOnly: true };
  else if (roll < 0.42)
    body = { eventSource: 'ssm.amazonaws.com', eventName: 'GetParametersByPath', requestParameters: { path: param.slice(0, param.lastIndexOf('/') + 1), recursive: true }, readOnly: true };
  else if (roll < 0.65) body = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: secret }, readOnly: true };
  else if (roll < 0.8)
    body = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', requestParameters: { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:eu-west-1:${ACCOUNT}:parameter${param}` } }, readOnly: true };
  else if (roll < 0.88) body = { eventSource: 'ssm.amazonaws.com', eventName: 'PutParameter', requestParameters: { name: param, overwrite: true, type: 'SecureString' }, readOnly: false };
  else if (roll < 0.94) body = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'PutSecretValue', requestParameters: { secretId: secret }, readOnly: false };
  else if (roll < 0.97) body = { eventSource: 'secretsmanager.amazonaws.com', eventName: 'DescribeSecret', requestParameters: { secretId: secret }, readOnly: true };
  else body = { eventSource: 'ssm.amazonaws.com', eventName: 'DescribeParameters', requestParameters: { maxResults: 50 }, readOnly: true };
  return {
    eventVersion: '1.09',
    eventID: `bench-${i}`,
    // Oldest first, as a backfill reaches the index.
    eventTime: new Date(START + (i / EVENTS) * DAYS * 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    awsRegion: 'eu-west-1',
    recipientAccountId: ACCOUNT,
    userIdentity,
    sourceIPAddress: pickSkewed(IPS),
    userAgent: pick(['aws-sdk-js/3.700.0', 'aws-cli/2.15.0', 'Boto3/1.34.0']),
    ...(random() < 0.04 ? { errorCode: pick(['AccessDenied', 'ParameterNotFound', 'ResourceNotFoundException']), errorMessage: 'denied' } : {}),
    ...body,
    responseElements: null,
    requestID: `req-${i}`,
    eventType: 'AwsApiCall',
    managementEvent: true,
  };
}

function percentile(samples: number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! * 100) / 100;
}

async function time(runs: number, fn: () => Promise<unknown>): Promise<number[]> {
  for (let i = 0; i < 5; i++) await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    await fn();
    samples.push(performance.now() - start);
  }
  return samples;
}

const since = (days: number) => new Date(NOW - days * 86_400_000).toISOString();
const actorArnOf = (a: (typeof ACTOR_LIST)[number]) => (a.kind === 'user' ? a.arn : a.role);
const randomItem = () => pickSkewed(ITEM_REFS);

/** An auditor of two teams' prod and staging paths in both stores. */
const AUDITOR: AuditScope = {
  stores: STORES.map((s) => ({ storeId: s.storeId, namePattern: globsPattern(['/prod/payments/**', '/staging/payments/**', '/prod/web/**']) })),
  includeUnmapped: false,
};

interface Combo {
  label: string;
  scope: AuditScope;
  filters: () => AuditFilters;
}

const COMBOS: Combo[] = [
  { label: 'actor (exact) + read + last 30 days', scope: FULL_SCOPE, filters: () => ({ actor: actorArnOf(pickSkewed(ACTOR_LIST)), actorMatch: 'exact', access: 'read', from: since(30) }) },
  {
    label: 'item + event + success',
    scope: FULL_SCOPE,
    filters: () => {
      const item = randomItem();
      return { item: item.name, event: [item.storeId === 'bench-params' ? 'GetParameter' : 'GetSecretValue'], outcome: 'success' };
    },
  },
  { label: 'store + source IP + write', scope: FULL_SCOPE, filters: () => ({ store: pick(STORES).storeId, ip: pickSkewed(IPS), access: 'write' }) },
  { label: 'path + actor (contains) + error', scope: FULL_SCOPE, filters: () => ({ path: `/${pick(ENVS)}/${pick(TEAMS)}/`, actor: pick(TEAMS), outcome: 'error' }) },
  { label: 'event + store + one week', scope: FULL_SCOPE, filters: () => {
    const to = Math.floor(random() * 300);
    return { event: [pick(['GetParameter', 'Decrypt', 'PutParameter', 'GetSecretValue'])], store: pick(STORES).storeId, from: since(to + 7), to: since(to) };
  } },
  { label: 'auditor grants: read + actor (contains) + last 90 days', scope: AUDITOR, filters: () => ({ access: 'read', actor: `person-${Math.floor(random() * 40)}`, from: since(90) }) },
];

async function main() {
  if (!args.includes('--ingest')) return (await import('./bench/audit-page-bench')).main();
  // --keep leaves the index behind for a look at query plans.
  const keep = args.includes('--keep');
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-audit-'));
  const index = await EventIndex.open(dir, { retentionDays: 400 });
  try {
    log(`bench:audit — ${EVENTS.toLocaleString('en')} events over ${ITEMS} items and ${ACTORS} actors; ${cpus().length} CPUs; index in ${dir}`);
    const fillStart = performance.now();
    for (let i = 0; i < EVENTS; i += BATCH) {
      const records = Array.from({ length: Math.min(BATCH, EVENTS - i) }, (_, k) => makeRecord(i + k));
      await index.ingest('bench', 'lookup-events', { account: ACCOUNT, region: 'eu-west-1' }, records, { cursor: { i }, lastEventTime: records.at(-1)!.eventTime! }, STORES);
      if ((i / BATCH) % 20 === 0) log(`  ${(i + records.length).toLocaleString('en')} events, ${((performance.now() - fillStart) / 1000).toFixed(0)} s`);
    }
    const fillSeconds = (performance.now() - fillStart) / 1000;
    // As a restart would (the index also does it every 100,000 rows).
    await index.optimize();
    const counts = await index.counts();
    log(`filled: ${counts.events.toLocaleString('en')} events, ${counts.entries.toLocaleString('en')} rows in ${fillSeconds.toFixed(1)} s (${Math.round(counts.events / fillSeconds).toLocaleString('en')} events/s)`);

    const table: { query: string; p50: number; p95: number; rows: number }[] = [];
    const pageSamples: number[] = [];
    const chartSamples: number[] = [];
    for (const combo of COMBOS) {
      let rows = 0;
      const samples = await time(RUNS, async () => {
        const page = await index.queries.timeline(combo.filters(), combo.scope, { limit: 50 });
        rows += page.entries.length;
      });
      pageSamples.push(...samples);
      table.push({ query: `page: ${combo.label}`, p50: percentile(samples, 50), p95: percentile(samples, 95), rows: Math.round(rows / (RUNS + 5)) });
    }
    // Second pages: the keyset position costs nothing extra.
    const secondPages = await time(RUNS, async () => {
      const filters = COMBOS[0]!.filters();
      const first = await index.queries.timeline(filters, FULL_SCOPE, { limit: 50 });
      if (first.nextCursor) await index.queries.timeline(filters, FULL_SCOPE, { limit: 50, cursor: first.nextCursor });
    });
    table.push({ query: 'pages 1 and 2: actor + read + last 30 days', p50: percentile(secondPages, 50), p95: percentile(secondPages, 95), rows: 100 });

    const panelSamples = await time(RUNS, async () => {
      const item = randomItem();
      await index.queries.accessPanel(item.storeId, item.name);
    });
    table.push({ query: 'Access panel of one item', p50: percentile(panelSamples, 50), p95: percentile(panelSamples, 95), rows: 20 });

    for (const combo of COMBOS) {
      const samples = await time(Math.round(RUNS / 2), () => index.queries.chart(combo.filters(), combo.scope, 'day'));
      chartSamples.push(...samples);
      table.push({ query: `chart per day: ${combo.label}`, p50: percentile(samples, 50), p95: percentile(samples, 95), rows: 0 });
    }
    const unfiltered = await time(10, () => index.queries.chart({ from: since(30) }, FULL_SCOPE, 'hour'));
    table.push({ query: 'chart per hour: last 30 days, no other filter', p50: percentile(unfiltered, 50), p95: percentile(unfiltered, 95), rows: 0 });
    const everything = await time(5, () => index.queries.chart({}, FULL_SCOPE, 'day'));
    table.push({ query: 'chart per day: the whole index (not a target)', p50: percentile(everything, 50), p95: percentile(everything, 95), rows: 0 });

    const backfillRatio = await measureBackfill();

    const width = Math.max(...table.map((r) => r.query.length));
    log('');
    log(`${'query'.padEnd(width)}  ${'p50 ms'.padStart(8)}  ${'p95 ms'.padStart(8)}  ${'rows'.padStart(5)}`);
    for (const r of table) log(`${r.query.padEnd(width)}  ${r.p50.toFixed(2).padStart(8)}  ${r.p95.toFixed(2).padStart(8)}  ${String(r.rows || '').padStart(5)}`);
    log('');
    const summary = {
      events: counts.events,
      p50Ms: percentile(pageSamples, 50),
      p95Ms: percentile(pageSamples, 95),
      panelP95Ms: percentile(panelSamples, 95),
      chartP95Ms: percentile(chartSamples, 95),
      backfillRatio,
    };
    log(`filtered pages p50 ${summary.p50Ms} ms, p95 ${summary.p95Ms} ms; Access panel p95 ${summary.panelP95Ms} ms; chart p95 ${summary.chartP95Ms} ms (target < 200 ms each)`);
    log(`LookupEvents backfill: ${backfillRatio === null ? 'not measured (no backfill function yet)' : `${backfillRatio} of the 100 events/s floor (target >= 0.95)`}`);
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
  } finally {
    await index.close();
    if (keep) log(`index kept in ${dir}`);
    else rmSync(dir, { recursive: true, force: true });
  }
}

// The LookupEvents backfill against the simulated CloudTrail (its own wire protocol, 30 ms a call,
// 2 calls a second per account and region answering ThrottlingException beyond): H2's
// LookupEventsSource walks the three event sources under one shared bucket into a fresh index.
// Floor: 2 calls × 50 events = 100 events a second; the ratio is achieved rate / floor.
async function measureBackfill(): Promise<number | null> {
  if (args.includes('--no-backfill')) return null;
  const count = args.includes('--backfill-events') ? Number(args[args.indexOf('--backfill-events') + 1]) : 3000;
  Object.assign(process.env, { AWS_ACCESS_KEY_ID: 'AKIABENCH00000000000', AWS_SECRET_ACCESS_KEY: 'bench', AWS_SESSION_TOKEN: '', AWS_EC2_METADATA_DISABLED: 'true' });
  const [{ startSimulatedCloudTrail, AUDITED_EVENT_SOURCES }, { createLookupSources, LOOKUP_PAGE_SIZE, LOOKUP_CALLS_PER_SECOND }, { realClock }] = await Promise.all([
    import('../simulator/simulated-cloudtrail'),
    import('@/lib/cloudtrail/lookup-events-source'),
    import('@/lib/inventory/rate-limiter'),
  ]);
  const sim = await startSimulatedCloudTrail({ latencyMs: 30, ratePerSecond: LOOKUP_CALLS_PER_SECOND, generate: [{ events: count, days: 30, seed: 3 }] });
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-audit-backfill-'));
  const target = await EventIndex.open(dir, { retentionDays: 400 });
  try {
    const audited = AUDITED_EVENT_SOURCES.reduce((n, eventSource) => n + sim.count({ eventSource }), 0);
    const [source] = createLookupSources([{ id: 'bench-backfill', kind: 'lookup-events', connection: { region: 'us-east-1', endpoint: sim.url }, account: null, stores: [] }]);
    const start = performance.now();
    const result = await source!.run({ sink: target, stores: [], stopped: () => false, clock: realClock, now: Date.now });
    const seconds = (performance.now() - start) / 1000;
    const floor = LOOKUP_CALLS_PER_SECOND * LOOKUP_PAGE_SIZE;
    const rate = result.inserted / seconds;
    const stats = sim.stats();
    log(
      `backfill: ${result.inserted.toLocaleString('en')} of ${audited.toLocaleString('en')} events in ${seconds.toFixed(1)} s = ${rate.toFixed(1)} events/s ` +
        `(floor ${floor}/s); ${stats.calls} calls, ${stats.throttled} throttled, at most ${stats.maxAcceptedPerSecond} accepted a second${result.error ? `; error: ${result.error}` : ''}`,
    );
    return result.error ? null : Math.round((rate / floor) * 1000) / 1000;
  } finally {
    await target.close();
    rmSync(dir, { recursive: true, force: true });
    await sim.close();
  }
}

main().catch((error: unknown) => {
  log(error instanceof Error ? (error.stack ?? error.message) : String(error));
  process.exit(1);
});
