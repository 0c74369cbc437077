import 'server-only';
import { authorize, can, canAuditSubtree, canEverywhere } from '@/lib/auth/authorize';
import { actorOf, type Principal } from '@/lib/auth/principal';
import { appendAudit, listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { lastAnchor, type AnchorRecord } from '@/lib/audit/anchors';
import { keptChainVerdict, type KeptChainVerdict } from '@/lib/audit/chain-status';
import { requestFullChainPass } from '@/lib/background/audit-chain-verification';
import { readEnv } from '@/lib/config/env';

/** "local:/prod/x" -> { storeId, name } when the target is an item or folder of a store. */
export function parseTarget(target: string): { storeId: string; name: string } | null {
  const match = /^([a-z0-9][a-z0-9-]{0,62}):(\/.*)$/.exec(target);
  return match ? { storeId: match[1]!, name: match[2]! } : null;
}

/**
 * Whether the caller may read this entry of the app's own log. On an item: when they may audit the
 * item. On a folder (a refresh of the store at "/", an import, a denial there): only when they may
 * audit its whole subtree, since the entry is about all of it; a grant that merely reaches the
 * folder on the way to its paths shows nothing there, not even the caller's own entries (one rule,
 * and a scoped auditor's own denials outside their paths stay out of their view like everyone
 * else's). Dashboard-wide entries (sign-ins, users, tokens, the master key) are for auditors of
 * everything.
 */
export function mayRead(principal: Principal, entry: AuditEntry): boolean {
  const target = parseTarget(entry.target);
  if (!target) return canEverywhere(principal, 'view-audit');
  return target.name.endsWith('/')
    ? canAuditSubtree(principal, target.storeId, target.name)
    : can(principal, 'view-audit', { storeId: target.storeId, name: target.name });
}

/** The newest entries of the app's audit log the caller may read (call after authorize 'view-audit'). */
export async function listAuditFor(principal: Principal, limit = 500): Promise<AuditEntry[]> {
  return (await listAudit(limit)).filter((entry) => mayRead(principal, entry));
}

export interface AuditChainStatus extends KeptChainVerdict {
  /** The newest anchor written out (server log, S3), or null before the first. */
  lastAnchor: Pick<AnchorRecord, 'seq' | 'anchoredAt' | 's3Url' | 'objectLockUntil' | 's3Error'> | null;
  /** When anchors are written: every this many entries and every this many minutes. */
  anchorEvery: number;
  anchorIntervalMinutes: number;
  /** The S3 bucket anchors go to, or null (server log only). */
  anchorBucket: string | null;
  /** The whole chain is verified again every this many hours (AUDIT_FULL_VERIFY_HOURS). */
  fullPassEveryHours: number;
  /** Whether the caller may start a full pass now (admins). */
  mayRunFullPass: boolean;
}

/**
 * The kept verdict of the chain (new entries checked from the kept head first, never a whole
 * pass: that runs in the background), and its last anchor, for auditors of everything only (it
 * spans every entry).
 */
export async function auditChainStatus(principal: Principal): Promise<AuditChainStatus | null> {
  if (!canEverywhere(principal, 'view-audit')) return null;
  const verdict = await keptChainVerdict();
  const anchor = await lastAnchor();
  const env = readEnv();
  return {
    ...verdict,
    lastAnchor: anchor
      ? { seq: anchor.seq, anchoredAt: anchor.anchoredAt, s3Url: anchor.s3Url, objectLockUntil: anchor.objectLockUntil, s3Error: anchor.s3Error }
      : null,
    anchorEvery: env.AUDIT_ANCHOR_EVERY,
    anchorIntervalMinutes: env.AUDIT_ANCHOR_INTERVAL_MINUTES,
    anchorBucket: env.AUDIT_ANCHOR_S3_BUCKET ?? null,
    fullPassEveryHours: env.AUDIT_FULL_VERIFY_HOURS,
    mayRunFullPass: can(principal, 'verify-audit-chain'),
  };
}

/** The audit log entry's target for things done to the log itself. */
export const AUDIT_LOG_TARGET = 'audit-log';

/** Admins: a full pass of the chain now (on the replica leading the verification). Audited. */
export async function requestAuditChainVerification(principal: Principal): Promise<{ state: Awaited<ReturnType<typeof requestFullChainPass>> }> {
  await authorize(principal, 'verify-audit-chain');
  const state = await requestFullChainPass();
  await appendAudit({ actor: actorOf(principal), action: 'verify-audit-chain', target: AUDIT_LOG_TARGET, outcome: 'success', details: { state } });
  return { state };
}
