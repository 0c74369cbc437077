import 'server-only';
import { readEnv } from '@/lib/config/env';
import { appDb } from '@/lib/db/app-db';
import { logger } from '@/lib/logger';
import { ANCHOR_FORMAT, anchorS3ConfigFromEnv, writeAnchorObject } from './anchor-s3';

// Anchors: the chain's head {deployment, seq, hash, at} written outside the database, every
// AUDIT_ANCHOR_EVERY entries (by the append that reaches a multiple) and every
// AUDIT_ANCHOR_INTERVAL_MINUTES when the head moved (a timer on each server; the audit_anchors
// row for a seq is written once, so replicas anchoring the same head write it out once). An anchor
// goes to the server log (one line) and, with AUDIT_ANCHOR_S3_BUCKET, to an S3 object. It all runs
// after the append committed, in the background: a failure is logged and never fails or slows an
// append. A head anchored outside cannot be rewritten or cut off unnoticed, even with the key.

export interface ChainHead {
  seq: number;
  hash: string;
  /** The entry's time. */
  at: string;
}

export type AnchorReason = 'every' | 'interval';

export interface AnchorRecord extends ChainHead {
  deployment: string;
  anchoredAt: string;
  reason: AnchorReason;
  s3Url: string | null;
  objectLockUntil: string | null;
  s3Error: string | null;
}

const log = logger.child({ component: 'audit-anchor' });
const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Writes the anchor of `head` out: the audit_anchors row (skipped when this seq is anchored
 * already), the server log line, the S3 object. Returns null when another writer had it.
 */
export async function recordAnchor(head: ChainHead, reason: AnchorReason): Promise<AnchorRecord | null> {
  const env = readEnv();
  const record: AnchorRecord = {
    ...head,
    deployment: env.DEPLOYMENT_NAME,
    anchoredAt: new Date().toISOString(),
    reason,
    s3Url: null,
    objectLockUntil: null,
    s3Error: null,
  };
  let db: Awaited<ReturnType<typeof appDb>> | null = null;
  try {
    db = await appDb();
    const inserted = await db
      .insertInto('audit_anchors')
      .values({
        seq: head.seq,
        hash: head.hash,
        entry_at: head.at,
        anchored_at: record.anchoredAt,
        deployment: record.deployment,
        reason,
        s3_url: null,
        object_lock_until: null,
        s3_error: null,
      })
      .onConflict((oc) => oc.column('seq').doNothing())
      .executeTakeFirst();
    if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) return null;
  } catch (error) {
    // The log line and the S3 object are the anchor; the row only shows it on /audit.
    log.warn({ seq: head.seq, err: errorText(error) }, 'audit anchor not recorded in the database');
    db = null;
  }

  log.info({ auditAnchor: { deployment: record.deployment, seq: head.seq, hash: head.hash, at: head.at }, reason }, 'audit chain anchor');

  const s3 = anchorS3ConfigFromEnv(env);
  if (!s3) return record;
  try {
    const written = await writeAnchorObject(s3, {
      format: ANCHOR_FORMAT,
      version: 1,
      deployment: record.deployment,
      seq: head.seq,
      hash: head.hash,
      at: head.at,
      anchoredAt: record.anchoredAt,
    });
    record.s3Url = written.url;
    record.objectLockUntil = written.lockedUntil;
  } catch (error) {
    record.s3Error = errorText(error);
    log.warn({ seq: head.seq, bucket: s3.bucket, err: record.s3Error }, 'audit anchor not written to S3 (it is in the server log)');
  }
  if (db) {
    await db
      .updateTable('audit_anchors')
      .set({ s3_url: record.s3Url, object_lock_until: record.objectLockUntil, s3_error: record.s3Error })
      .where('seq', '=', head.seq)
      .execute()
      .catch((error: unknown) => log.warn({ seq: head.seq, err: errorText(error) }, 'audit anchor S3 outcome not recorded'));
  }
  return record;
}

const inFlight = new Set<Promise<unknown>>();

/** Anchors `head` in the background (after the append committed); never throws. */
export function scheduleAnchor(head: ChainHead, reason: AnchorReason): void {
  const work = recordAnchor(head, reason)
    .catch((error: unknown) => log.warn({ seq: head.seq, err: errorText(error) }, 'audit anchor failed'))
    .finally(() => inFlight.delete(work));
  inFlight.add(work);
}

/** Waits for anchors under way (tests; a command-line tool before it exits). */
export async function flushAnchors(): Promise<void> {
  while (inFlight.size) await Promise.all([...inFlight]);
}

/** The timer's work: anchors the head when it moved past the last anchor. Returns what it wrote. */
export async function anchorIfHeadMoved(): Promise<AnchorRecord | null> {
  const db = await appDb();
  const head = await db.selectFrom('audit_log').select(['seq', 'hash', 'at']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (!head) return null;
  const last = await db.selectFrom('audit_anchors').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (last && Number(last.seq) >= Number(head.seq)) return null;
  return recordAnchor({ seq: Number(head.seq), hash: head.hash, at: head.at }, 'interval');
}

const globalForAnchors = globalThis as unknown as { __auditAnchorTimer?: NodeJS.Timeout };

/** Starts the server's anchor timer (once per process; AUDIT_ANCHOR_INTERVAL_MINUTES). */
export function startAnchorTimer(): void {
  if (globalForAnchors.__auditAnchorTimer) return;
  const everyMs = Math.round(readEnv().AUDIT_ANCHOR_INTERVAL_MINUTES * 60_000);
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    const work = anchorIfHeadMoved()
      .catch((error: unknown) => log.warn({ err: errorText(error) }, 'audit anchor timer failed'))
      .finally(() => {
        running = false;
        inFlight.delete(work);
      });
    inFlight.add(work);
  }, everyMs);
  timer.unref();
  globalForAnchors.__auditAnchorTimer = timer;
}

export function stopAnchorTimer(): void {
  clearInterval(globalForAnchors.__auditAnchorTimer);
  globalForAnchors.__auditAnchorTimer = undefined;
}

/** The newest anchor recorded in the database, for the /audit page. */
export async function lastAnchor(): Promise<AnchorRecord | null> {
  const row = await (await appDb()).selectFrom('audit_anchors').selectAll().orderBy('seq', 'desc').limit(1).executeTakeFirst();
  if (!row) return null;
  return {
    seq: Number(row.seq),
    hash: row.hash,
    at: row.entry_at,
    deployment: row.deployment,
    anchoredAt: row.anchored_at,
    reason: row.reason === 'interval' ? 'interval' : 'every',
    s3Url: row.s3_url,
    objectLockUntil: row.object_lock_until,
    s3Error: row.s3_error,
  };
}
