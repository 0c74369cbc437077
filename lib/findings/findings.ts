import 'server-only';
import path from 'node:path';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { DEFAULT_NEW_READER_DAYS } from '@/lib/cloudtrail/event-queries';
import { historyComplete } from '@/lib/cloudtrail/history-complete';
import { loadCloudTrailSources } from '@/lib/cloudtrail/sources-config';
import type { SourceState } from '@/lib/cloudtrail/types';
import { readEnv } from '@/lib/config/env';
import { loadStoreConfigs } from '@/lib/config/stores';
import { consumerConnections } from '@/lib/consumers/connections';
import { ConsumerScanner, type ConsumerScanOptions, type ScanOutcome, type StoreDirectory } from '@/lib/consumers/consumer-scan';
import { awsWorkloadSource } from '@/lib/consumers/workload-source';
import { inventoryIndexOf, inventoryStatusOf, hasInventory } from '@/lib/inventory/store-status';
import { logger } from '@/lib/logger';
import { getStores } from '@/lib/stores/registry';
import type { SecretStore } from '@/lib/stores/types';
import { ancestorsOf, folderOf } from '@/lib/validations/item-name';
import { accountOf, type FindingSettings } from './evaluate';
import { evaluateStore } from './evaluate-store';
import { evaluateWorkloads } from './evaluate-workloads';
import { FindingsDb, type ApplyCounts } from './findings-db';
import { isPolicySource, PolicyReader } from './policy-reader';
import { StoreReadCache, type ReadsMoved } from './read-cache';
import { WORKLOAD_STORE_ID } from './types';
import { auditedVaultStores } from './vault-audit-coverage';

// The process-wide findings store and its evaluation: PostgreSQL's "findings" schema when
// DATABASE_URL is set, else DATA_DIR/findings.db. Like the inventory it lives on globalThis (Next.js
// bundles server code more than once). One replica evaluates (the 'findings-evaluation' lease):
// every FINDINGS_INTERVAL_MINUTES, each store whose inputs moved (its inventory, the CloudTrail
// index, the hour) is evaluated again, so findings follow syncs, writes and the passing days.
// After a sync only the items that moved are evaluated (incremental): those whose inventory row
// changed, came or went, whose reads or resource policy changed. A full pass is kept for what that
// cannot tell: the first evaluation and after a restart or another replica's, in every clock hour (the
// controls that depend on the date passing: not read for N days, rotation due, new-reader windows),
// when the whole read window was read again (daily), when settings, the index's coverage or the
// consumer scan changed, and when a forced evaluation asks.

interface Slot {
  key: string;
  db: Promise<FindingsDb>;
  /** Each store's reads between evaluations (lib/findings/read-cache.ts). */
  reads: StoreReadCache;
  /** What each store's last evaluation on this replica saw, for the next one to evaluate only what moved. */
  evaluated: Map<string, EvaluatedInputs>;
  /** Evaluations take turns: each consumes what the read cache says moved and what the last one saw. */
  turn: Promise<unknown>;
  leader: LeaderHandle | null;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
  /** The consumer scan under way (it reads at its own pace, beside the evaluation), and its stop. */
  scanning: Promise<void> | null;
  stopScan: AbortController | null;
}

const g = globalThis as unknown as { __findings?: Slot };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__findings?.key !== key) {
    const opening = env.DATABASE_URL ? FindingsDb.openPostgres(env.DATABASE_URL) : FindingsDb.open(path.resolve(env.DATA_DIR));
    const current: Slot = { key, db: opening, reads: new StoreReadCache(), evaluated: new Map(), turn: Promise.resolve(), leader: null, timer: null, running: null, scanning: null, stopScan: null };
    opening.catch(() => {
      if (g.__findings === current) g.__findings = undefined;
    });
    g.__findings = current;
  }
  return g.__findings;
}

export function findingsDb(): Promise<FindingsDb> {
  return slot().db;
}

export function findingSettings(): FindingSettings {
  const env = readEnv();
  return { unusedDays: env.FINDINGS_UNUSED_DAYS, maxRotationDays: env.FINDINGS_MAX_ROTATION_DAYS, newReaderDays: DEFAULT_NEW_READER_DAYS, oldVersionGraceDays: env.FINDINGS_OLD_VERSION_GRACE_DAYS };
}

/** What a store's last evaluation on this replica saw (see the top of this file). */
interface EvaluatedInputs {
  /** What moves every item's findings: settings, how far back the index reaches, the consumer scan. */
  base: string;
  /** The last full pass's `now`. */
  fullAt: number;
  /** The run it wrote; another in the findings store since (another replica, a dropped store) means a full pass. */
  run: string;
  /** Each item's row as itemStamps answers it. */
  items: Map<string, string>;
  /** When each secret's resource policy was read. */
  policies: Map<string, string>;
}

/** A full pass in every clock hour (the signature's hour starts one), so findings that depend on the date passing follow it within the hour, as before. */
const HOUR_MS = 3_600_000;
/** Beyond this share of a store's items moved, a full pass costs about the same (measured: a fifth moved took half the time). */
const INCREMENTAL_MAX_SHARE = 0.5;

/** What an evaluation of the store would read; unchanged inputs are not evaluated again. */
async function signatureOf(
  store: SecretStore,
  db: FindingsDb,
  events: SourceState[],
  now: Date,
  /** Whether the store's reads are known (a Vault store: whether an audit source covers it). */
  readsKnown: boolean,
): Promise<{ signature: string; policyTimes: Map<string, string>; consumers: string } | null> {
  const status = await inventoryStatusOf(store);
  if (!hasInventory(status)) return null;
  // Tag progress too: Parameter Store's tags arrive after the walk, and owners with them.
  const sync = status.live ? `live:${status.items}:${now.getTime()}` : `${status.syncedAt}:${status.items}:${JSON.stringify(status.tags)}`;
  const policyTimes = isPolicySource(store) ? await db.policyReadTimes(store.id) : new Map<string, string>();
  const policies = [...policyTimes.values()];
  const newestPolicy = policies.reduce((a, b) => (a > b ? a : b), '');
  const consumers = store.kind === 'ssm' || store.kind === 'secretsmanager' ? await db.consumers.stamp() : '';
  const signature = JSON.stringify([
    sync,
    events.map((s) => [s.sourceId, s.eventsIndexed, s.lastSuccessAt]),
    policies.length,
    newestPolicy,
    consumers,
    now.toISOString().slice(0, 13),
    ...(readsKnown ? [] : ['reads-unknown']),
  ]);
  return { signature, policyTimes, consumers };
}

const runKey = (run: { evaluatedAt: string; inputs: string }) => JSON.stringify([run.evaluatedAt, run.inputs]);

/** Whether reads of these names reach the item, as evaluate-store.ts gathers an item's reads (its name, its folder, a folder above read recursively). */
function readsReach(moved: ReadsMoved): (name: string) => boolean {
  const byFolder = new Map<string, boolean>();
  return (name) => {
    if (moved.names.has(name)) return true;
    const folder = folderOf(name);
    let reached = byFolder.get(folder);
    if (reached === undefined) {
      reached = moved.names.has(folder) || ancestorsOf(folder).some((above) => moved.recursive.has(above));
      byFolder.set(folder, reached);
    }
    return reached;
  };
}

/** The items whose inputs moved since `previous`: rows changed, added or gone, policies read again, reads moved. */
function itemsThatMoved(previous: EvaluatedInputs, items: Map<string, string>, policies: Map<string, string>, moved: ReadsMoved): Set<string> {
  const out = new Set<string>();
  for (const [name, stamp] of items) if (previous.items.get(name) !== stamp) out.add(name);
  for (const name of previous.items.keys()) if (!items.has(name)) out.add(name);
  for (const [name, at] of policies) if (previous.policies.get(name) !== at) out.add(name);
  for (const name of previous.policies.keys()) if (!policies.has(name)) out.add(name);
  if (moved.names.size > 0) {
    const reached = readsReach(moved);
    for (const name of items.keys()) if (reached(name)) out.add(name);
  }
  return out;
}

/** A store's evaluation as evaluateFindings answers it: what changed, and how many items it evaluated of how many. */
export interface StoreOutcome extends ApplyCounts {
  items: number;
  evaluated: number;
}

/**
 * Evaluates every store whose inputs moved since its last evaluation (all of them with `force`).
 * Returns what changed per store. A failing store is logged and the others go on.
 */
export async function evaluateFindings(options: EvaluateOptions = {}): Promise<Map<string, StoreOutcome>> {
  const current = slot();
  const mine = current.turn.then(() => evaluateInTurn(current, options));
  current.turn = mine.catch(() => undefined);
  return mine;
}

interface EvaluateOptions {
  force?: boolean;
  now?: Date;
  storeIds?: string[];
  minAgeMs?: number;
}

async function evaluateInTurn(current: Slot, options: EvaluateOptions): Promise<Map<string, StoreOutcome>> {
  const db = await current.db;
  const reads = current.reads;
  const now = options.now ?? new Date();
  const events = await auditEventIndex();
  // The CloudTrail sources' positions, read once for every store's signature.
  const sources = await events.listSourceStates();
  // No new readers while the sources first walk their history (a regular reader would look new); its end evaluates every item again.
  const readersKnown = historyComplete(sources, new Date(now.getTime() - findingSettings().newReaderDays * 86_400_000).toISOString());
  const results = new Map<string, StoreOutcome>();
  let audited: Set<string> | null = null;
  for (const store of await getStores()) {
    if (options.storeIds && !options.storeIds.includes(store.id)) continue;
    try {
      // A Vault store's reads count only while a configured audit source covers it (vault-audit-coverage.ts).
      if (store.kind === 'vault') audited ??= vaultStoresAudited(sources);
      const readsKnown = store.kind !== 'vault' || audited!.has(store.id);
      const inputs = await signatureOf(store, db, sources, now, readsKnown);
      if (inputs === null) continue;
      const { signature, policyTimes } = inputs;
      const last = await db.lastRun(store.id);
      if (!options.force && last) {
        if (last.inputs === signature) continue;
        // Moved, but evaluated lately: wait for the interval (a store never evaluated goes at once).
        if (options.minAgeMs && now.getTime() - Date.parse(last.evaluatedAt) < options.minAgeMs) continue;
      }
      // A forced evaluation reads the store's events whole (and keeps them for the next ones).
      if (options.force) reads.forget(store.id);
      // Taken until this pass is stored: a failed pass leaves the next one full.
      const previous = options.force ? undefined : current.evaluated.get(store.id);
      current.evaluated.delete(store.id);
      const index = await inventoryIndexOf(store);
      // Read before the items are: a row that changes in between is seen changed next time.
      const stamps = await index.itemStamps(store.id);
      const settings = findingSettings();
      const t = now.getTime();
      let base = '';
      let full = true;
      const select = async ({ coverage, moved }: { coverage: string | null; moved: ReadsMoved | null }): Promise<Set<string> | null> => {
        base = JSON.stringify([settings, coverage, inputs.consumers, readersKnown]);
        if (!previous || !moved || !last || previous.base !== base || previous.run !== runKey(last)) return null;
        if (t < previous.fullAt || Math.floor(t / HOUR_MS) !== Math.floor(previous.fullAt / HOUR_MS)) return null;
        const moving = itemsThatMoved(previous, stamps, policyTimes, moved);
        if (moving.size > stamps.size * INCREMENTAL_MAX_SHARE) return null;
        full = false;
        return moving;
      };
      const evaluation = await evaluateStore(
        { id: store.id, kind: store.kind },
        {
          index,
          events: readsKnown ? events.queries : null,
          settings,
          now,
          signature,
          readCache: reads,
          select,
          // Vault's audit files are read oldest first: a regular reader's earlier reads are in before its recent ones.
          historyComplete: store.kind === 'vault' || readersKnown,
          ...(isPolicySource(store) ? { policies: await db.policyReadings(store.id) } : {}),
          // The consumer scan reads ECS and Lambda, which name AWS items only.
          ...(store.kind === 'ssm' || store.kind === 'secretsmanager' ? { consumers: await db.consumers.forEvaluation(store.id) } : {}),
        },
      );
      const evaluated = evaluation.items;
      const counts = await db.applyEvaluation(evaluation.only ? { ...evaluation, items: stamps.size } : evaluation);
      current.evaluated.set(store.id, { base, fullAt: full ? t : previous!.fullAt, run: runKey({ evaluatedAt: evaluation.evaluatedAt, inputs: signature }), items: stamps, policies: policyTimes });
      results.set(store.id, { ...counts, items: stamps.size, evaluated });
      logger.info({ store: store.id, items: stamps.size, evaluated, full, findings: evaluation.raised.length, ...counts, ms: Math.round(evaluation.durationMs) }, 'findings evaluated');
    } catch (error) {
      // What this pass took from the read cache is not stored: the next pass reads whole and is full.
      reads.forget(store.id);
      logger.error({ store: store.id, err: error instanceof Error ? error.message : 'unknown' }, 'findings evaluation failed');
    }
  }
  if (!options.storeIds || options.storeIds.includes(WORKLOAD_STORE_ID)) await evaluateWorkloadFindings(db, now, options.force === true);
  return results;
}

/** The Vault stores whose reads are known; none when the configuration does not load (it is reported elsewhere). */
function vaultStoresAudited(sources: SourceState[]): Set<string> {
  try {
    return auditedVaultStores(loadCloudTrailSources().vaultSources, sources);
  } catch {
    return new Set();
  }
}

/**
 * Secrets in plain sight (Lambda and ECS environments) as findings of their own, under
 * WORKLOAD_STORE_ID: again whenever a consumer scan wrote. Not in evaluateFindings' answer, which is per store.
 */
async function evaluateWorkloadFindings(db: FindingsDb, now: Date, force: boolean): Promise<void> {
  try {
    const signature = `workloads:${await db.consumers.stamp()}`;
    const last = await db.lastRun(WORKLOAD_STORE_ID);
    if (!force && last?.inputs === signature) return;
    const evaluation = evaluateWorkloads(await db.consumers.plainSight(), { now, signature });
    const counts = await db.applyEvaluation(evaluation);
    logger.info({ workloads: evaluation.items, findings: evaluation.raised.length, ...counts }, 'plain-sight findings evaluated');
  } catch (error) {
    logger.error({ err: error instanceof Error ? error.message : 'unknown' }, 'plain-sight findings evaluation failed');
  }
}

/** The inventory as the consumer scan resolves references against it. */
function inventoryDirectory(stores: readonly SecretStore[]): StoreDirectory {
  const byId = new Map(stores.map((s) => [s.id, s]));
  return {
    async accountOf(storeId) {
      const store = byId.get(storeId);
      if (!store) return null;
      for await (const batch of (await inventoryIndexOf(store)).eachItem(storeId, new Date(), 1)) return batch[0] ? accountOf(batch[0].extra) : null;
      return null;
    },
    async holds(storeId, name) {
      const store = byId.get(storeId);
      return store ? (await (await inventoryIndexOf(store)).getItem(storeId, name)) !== null : false;
    },
  };
}

export function createConsumerScanner(db: FindingsDb, options: Partial<ConsumerScanOptions> = {}): ConsumerScanner {
  const env = readEnv();
  return new ConsumerScanner(db.consumers, (c) => awsWorkloadSource(c.connection), {
    ratePerSecond: env.FINDINGS_CONSUMER_READS_PER_SECOND,
    refreshHours: env.FINDINGS_CONSUMER_REFRESH_HOURS,
    ...options,
  });
}

/**
 * One run of the consumer scan over every AWS connection whose stores have an inventory (a
 * reference is resolved against it). Returns what each service's scan did.
 */
export async function scanConsumers(scanner: ConsumerScanner, options: { force?: boolean; signal?: AbortSignal; now?: () => Date } = {}): Promise<ScanOutcome[]> {
  const stores = await getStores();
  const ready = new Set<string>();
  for (const store of stores) if (store.kind !== 'local' && hasInventory(await inventoryStatusOf(store))) ready.add(store.id);
  const configured = consumerConnections(loadStoreConfigs());
  // What a connection no longer configured found is forgotten; one waiting for its inventory keeps its last scan.
  await (await findingsDb()).consumers.keepConnections(configured.map((c) => c.key));
  const connections = configured.filter((c) => c.stores.every((s) => ready.has(s.id)));
  if (connections.length === 0) return [];
  return scanner.runOnce(connections, inventoryDirectory(stores), options);
}

/** One run of the resource policy reader over every Secrets Manager store with an inventory. */
async function readPolicies(reader: PolicyReader): Promise<void> {
  for (const store of await getStores()) {
    if (!isPolicySource(store) || !hasInventory(await inventoryStatusOf(store))) continue;
    try {
      await reader.runOnce(store, await inventoryIndexOf(store));
    } catch (error) {
      logger.error({ store: store.id, err: error instanceof Error ? error.message : 'unknown' }, 'resource policy reading failed');
    }
  }
}

const LEASE = 'findings-evaluation';
const CHECK_EVERY_MS = 20_000;

/** Starts evaluating in the background when this replica leads (once per process). */
export async function startFindingsEvaluation(): Promise<void> {
  const current = slot();
  if (current.leader) return;
  await current.db;
  const everyMs = readEnv().FINDINGS_INTERVAL_MINUTES * 60_000;
  // Inputs are looked at often (cheap), so a store's first inventory is evaluated as soon as it
  // lands; a store evaluated before waits for the interval.
  const checkMs = Math.min(everyMs, CHECK_EVERY_MS);
  const env = readEnv();
  const reader = new PolicyReader(await current.db, {
    ratePerSecond: env.FINDINGS_POLICY_READS_PER_SECOND,
    refreshHours: env.FINDINGS_POLICY_REFRESH_HOURS,
    runBudgetMs: checkMs * 0.75,
  });
  const scanner = createConsumerScanner(await current.db);
  const tick = () => {
    // The consumer scan reads at its own (low) rate and may take minutes: it runs beside the evaluation, which picks its results up when it is done.
    if (!current.scanning) {
      const stop = (current.stopScan = new AbortController());
      current.scanning = scanConsumers(scanner, { signal: stop.signal })
        .then(() => undefined)
        .catch((error) => logger.error({ err: error instanceof Error ? error.message : 'unknown' }, 'consumer scan failed'))
        .finally(() => {
          current.scanning = null;
        });
    }
    if (current.running) return;
    current.running = readPolicies(reader)
      .then(() => evaluateFindings({ minAgeMs: everyMs }))
      .then(() => undefined)
      .catch((error) => logger.error({ err: error instanceof Error ? error.message : 'unknown' }, 'findings evaluation failed'))
      .finally(() => {
        current.running = null;
      });
  };
  current.leader = runWhileLeader(LEASE, {
    onLead: () => {
      tick();
      current.timer = setInterval(tick, checkMs);
      current.timer.unref();
    },
    onLoseLead: async () => {
      if (current.timer) clearInterval(current.timer);
      current.timer = null;
      current.stopScan?.abort();
      await current.running;
      await current.scanning;
    },
  });
}

/** Stops the evaluation and closes the store (tests, command-line tools). */
export async function closeFindingsDb(): Promise<void> {
  const current = g.__findings;
  if (!current) return;
  g.__findings = undefined;
  current.stopScan?.abort();
  if (current.leader) await current.leader.stop();
  await current.running;
  await current.scanning;
  await (await current.db.catch(() => null))?.close();
}
