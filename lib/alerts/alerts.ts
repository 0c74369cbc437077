import 'server-only';
import path from 'node:path';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { alertsConfig, type AlertRule } from './alerts-config';
import { AlertsDb, digestDue, type DigestOutcome, type RecordCounts } from './alerts-db';
import { DeliveryWorker, maxDeliveryAttempts, type DeliveryOptions } from './delivery';
import { dashboardUrl, DIGEST_SUBJECTS, type ConditionSubject } from './messages';
import type { AlertEvent, ChannelSender } from './types';

// The process-wide alerts store and its delivery: PostgreSQL's "alerts" schema when DATABASE_URL is
// set, else DATA_DIR/alerts.db; on globalThis like the findings (Next.js bundles server code more
// than once). The conditions (freshness, rotation, CloudTrail, findings, sync health, the audit
// chain) call recordConditions with the full set of subjects for which their event holds, on any
// replica; the replica holding the 'alerts-delivery' lease sends the queue and the daily digests.
//
//   await recordEventConditions('overdue', overdueItems.map((i) => ({ storeId, name, url, owner, status: 'overdue' })));

interface Slot {
  key: string;
  db: Promise<AlertsDb>;
  leader: LeaderHandle | null;
  timer: NodeJS.Timeout | null;
  worker: DeliveryWorker | null;
  ticking: Promise<void> | null;
}

const g = globalThis as unknown as { __alerts?: Slot };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__alerts?.key !== key) {
    const opening = env.DATABASE_URL ? AlertsDb.openPostgres(env.DATABASE_URL) : AlertsDb.open(path.resolve(env.DATA_DIR));
    const current: Slot = { key, db: opening, leader: null, timer: null, worker: null, ticking: null };
    opening.catch(() => {
      if (g.__alerts === current) g.__alerts = undefined;
    });
    g.__alerts = current;
  }
  return g.__alerts;
}

export function alertsDb(): Promise<AlertsDb> {
  return slot().db;
}

/** The configured rule by id (null when there is none). */
export function alertRule(ruleId: string): AlertRule | null {
  return alertsConfig().rules.find((r) => r.id === ruleId) ?? null;
}

/**
 * Records the full current set of subjects for which a rule's event holds (see AlertsDb.recordConditions):
 * opens, resolves and queues in one transaction. `rule`: a configured rule or its id.
 */
export async function recordConditions(input: { rule: AlertRule | string; event: AlertEvent; subjects: readonly ConditionSubject[]; now?: Date }): Promise<RecordCounts> {
  const rule = typeof input.rule === 'string' ? alertRule(input.rule) : input.rule;
  if (!rule) throw new Error(`no alert rule "${String(input.rule)}" is configured`);
  return (await alertsDb()).recordConditions({ rule, event: input.event, subjects: input.subjects, now: input.now ?? new Date() });
}

/**
 * What a condition calls after each evaluation: the full set of subjects for which `event` holds
 * now, recorded for every configured rule that listens to it (each takes its selector's share).
 */
export async function recordEventConditions(event: AlertEvent, subjects: readonly ConditionSubject[], now: Date = new Date(), rules: readonly AlertRule[] = alertsConfig().rules): Promise<Map<string, RecordCounts>> {
  const out = new Map<string, RecordCounts>();
  for (const rule of rules) if (rule.events.includes(event)) out.set(rule.id, await recordConditions({ rule, event, subjects, now }));
  return out;
}

/** Where a digest's full list is: the /alerts page cut to the rule. */
export const digestLink = (ruleId: string) => dashboardUrl(`/alerts?rule=${encodeURIComponent(ruleId)}`);

/**
 * Queues each digest rule's message for today once its time ("HH:MM" UTC) has come: one message
 * per rule and day, never one per item. Whichever replica gets there first queues it.
 */
export async function sendDueDigests(now: Date = new Date(), options: { rules?: readonly AlertRule[]; db?: AlertsDb } = {}): Promise<Map<string, DigestOutcome>> {
  const db = options.db ?? (await alertsDb());
  const out = new Map<string, DigestOutcome>();
  for (const rule of options.rules ?? alertsConfig().rules) {
    if (rule.mode !== 'digest') continue;
    const { day, due } = digestDue(now, rule.digestAt ?? '09:00');
    if (!due) continue;
    out.set(rule.id, await db.queueDigest(rule, day, now, digestLink(rule.id), DIGEST_SUBJECTS));
  }
  return out;
}

const LEASE = 'alerts-delivery';
/** How often the leader looks for due messages and digests. */
const POLL_MS = 5_000;
/** The delivery log keeps delivered and dead messages this long. */
export const DELIVERY_LOG_DAYS = 90;
const PRUNE_EVERY_MS = 3_600_000;

/**
 * Starts delivering in the background when this replica holds the 'alerts-delivery' lease (once
 * per process). `senders` and `options` for tests; the configured channels otherwise.
 */
export async function startAlertDelivery(options: { senders?: readonly ChannelSender[]; delivery?: DeliveryOptions; pollMs?: number; holder?: string } = {}): Promise<void> {
  const current = slot();
  if (current.leader) return;
  const db = await current.db;
  // A bad ALERTS_MAX_ATTEMPTS stops start-up here, not the first delivery.
  const delivery: DeliveryOptions = { maxAttempts: maxDeliveryAttempts(), ...options.delivery };
  const senders = options.senders ?? alertsConfig().senders;
  // Nothing to send to: the store is open (and migrated), no lease is taken.
  if (senders.length === 0) return;
  const everyMs = options.pollMs ?? POLL_MS;
  let prunedAt = 0;
  const tick = () => {
    if (current.ticking || !current.worker) return;
    const worker = current.worker;
    const now = delivery.now?.() ?? new Date();
    const prune = now.getTime() - prunedAt >= PRUNE_EVERY_MS;
    if (prune) prunedAt = now.getTime();
    current.ticking = sendDueDigests(now, { db })
      .then(() => worker.tick())
      .then(async () => {
        if (prune) await db.pruneHistory(new Date(now.getTime() - DELIVERY_LOG_DAYS * 86_400_000));
      })
      .catch((error) => logger.error({ err: error instanceof Error ? error.message : 'unknown' }, 'alert delivery pass failed'))
      .finally(() => {
        current.ticking = null;
      });
  };
  current.leader = runWhileLeader(LEASE, {
    ...(options.holder ? { holder: options.holder } : {}),
    onLead: () => {
      current.worker = new DeliveryWorker(db, senders, delivery);
      tick();
      current.timer = setInterval(tick, everyMs);
      current.timer.unref();
    },
    onLoseLead: async () => {
      if (current.timer) clearInterval(current.timer);
      current.timer = null;
      const worker = current.worker;
      current.worker = null;
      await current.ticking;
      await worker?.stop();
    },
  });
}

/** Stops delivering and closes the store (tests, command-line tools). */
export async function closeAlertsDb(): Promise<void> {
  const current = g.__alerts;
  if (!current) return;
  g.__alerts = undefined;
  if (current.leader) await current.leader.stop();
  await (await current.db.catch(() => null))?.close();
}
