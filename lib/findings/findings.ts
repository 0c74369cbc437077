import 'server-only';
import path from 'node:path';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { readEnv } from '@/lib/config/env';
import { inventoryIndexOf, inventoryStatusOf, hasInventory } from '@/lib/data/inventory-status';
import { logger } from '@/lib/logger';
import { getStores } from '@/lib/stores/registry';
import type { SecretStore } from '@/lib/stores/types';
import type { FindingSettings } from './evaluate';
import { evaluateStore } from './evaluate-store';
import { FindingsDb, type ApplyCounts } from './findings-db';
import { isPolicySource, PolicyReader } from './policy-reader';

// The process-wide findings store and its evaluation: PostgreSQL's "findings" schema when
// DATABASE_URL is set, else DATA_DIR/findings.db. Like the inventory it lives on globalThis (Next.js
// bundles server code more than once). One replica evaluates (the 'findings-evaluation' lease):
// every FINDINGS_INTERVAL_MINUTES, each store whose inputs moved (its inventory, the CloudTrail
// index, the hour) is evaluated again, so findings follow syncs, writes and the passing days.

interface Slot {
  key: string;
  db: Promise<FindingsDb>;
  leader: LeaderHandle | null;
  timer: NodeJS.Timeout | null;
  running: Promise<void> | null;
}

const g = globalThis as unknown as { __findings?: Slot };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__findings?.key !== key) {
    const opening = env.DATABASE_URL ? FindingsDb.openPostgres(env.DATABASE_URL) : FindingsDb.open(path.resolve(env.DATA_DIR));
    const current: Slot = { key, db: opening, leader: null, timer: null, running: null };
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
  return { unusedDays: env.FINDINGS_UNUSED_DAYS, maxRotationDays: env.FINDINGS_MAX_ROTATION_DAYS, newReaderDays: 7 };
}

/** What an evaluation of the store would read; unchanged inputs are not evaluated again. */
async function signatureOf(store: SecretStore, db: FindingsDb, now: Date): Promise<string | null> {
  const status = await inventoryStatusOf(store);
  if (!hasInventory(status)) return null;
  const events = await (await auditEventIndex()).listSourceStates();
  // Tag progress too: Parameter Store's tags arrive after the walk, and owners with them.
  const sync = status.live ? `live:${status.items}:${now.getTime()}` : `${status.syncedAt}:${status.items}:${JSON.stringify(status.tags)}`;
  const policies = isPolicySource(store) ? [...(await db.policyReadTimes(store.id)).values()] : [];
  const newestPolicy = policies.reduce((a, b) => (a > b ? a : b), '');
  return JSON.stringify([sync, events.map((s) => [s.sourceId, s.eventsIndexed, s.lastSuccessAt]), policies.length, newestPolicy, now.toISOString().slice(0, 13)]);
}

/**
 * Evaluates every store whose inputs moved since its last evaluation (all of them with `force`).
 * Returns what changed per store. A failing store is logged and the others go on.
 */
export async function evaluateFindings(options: { force?: boolean; now?: Date; storeIds?: string[]; minAgeMs?: number } = {}): Promise<Map<string, ApplyCounts>> {
  const db = await findingsDb();
  const now = options.now ?? new Date();
  const events = await auditEventIndex();
  const results = new Map<string, ApplyCounts>();
  for (const store of await getStores()) {
    if (options.storeIds && !options.storeIds.includes(store.id)) continue;
    try {
      const signature = await signatureOf(store, db, now);
      if (signature === null) continue;
      const last = await db.lastRun(store.id);
      if (!options.force && last) {
        if (last.inputs === signature) continue;
        // Moved, but evaluated lately: wait for the interval (a store never evaluated goes at once).
        if (options.minAgeMs && now.getTime() - Date.parse(last.evaluatedAt) < options.minAgeMs) continue;
      }
      const evaluation = await evaluateStore(
        { id: store.id, kind: store.kind },
        {
          index: await inventoryIndexOf(store),
          events: events.queries,
          settings: findingSettings(),
          now,
          signature,
          ...(isPolicySource(store) ? { policies: await db.policyReadings(store.id) } : {}),
        },
      );
      const counts = await db.applyEvaluation(evaluation);
      results.set(store.id, counts);
      logger.info({ store: store.id, items: evaluation.items, findings: evaluation.raised.length, ...counts, ms: Math.round(evaluation.durationMs) }, 'findings evaluated');
    } catch (error) {
      logger.error({ store: store.id, err: error instanceof Error ? error.message : 'unknown' }, 'findings evaluation failed');
    }
  }
  return results;
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
  const tick = () => {
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
      await current.running;
    },
  });
}

/** Stops the evaluation and closes the store (tests, command-line tools). */
export async function closeFindingsDb(): Promise<void> {
  const current = g.__findings;
  if (!current) return;
  g.__findings = undefined;
  if (current.leader) await current.leader.stop();
  await current.running;
  await (await current.db.catch(() => null))?.close();
}
