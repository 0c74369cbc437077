import 'server-only';
import { can, canAuditSubtree, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { listAudit, verifyAuditChain, type AuditEntry } from '@/lib/audit/audit-log';
import { lastAnchor, type AnchorRecord } from '@/lib/audit/anchors';
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

export interface AuditChainStatus {
  intact: boolean;
  brokenAt: number | null;
  problem: string | null;
  entries: number | null;
  /** Entries from this seq on are HMAC-linked under the audit chain key (older ones: plain SHA-256). */
  keyedFromSeq: number | null;
  /** The newest anchor written out (server log, S3), or null before the first. */
  lastAnchor: Pick<AnchorRecord, 'seq' | 'anchoredAt' | 's3Url' | 'objectLockUntil' | 's3Error'> | null;
  /** When anchors are written: every this many entries and every this many minutes. */
  anchorEvery: number;
  anchorIntervalMinutes: number;
  /** The S3 bucket anchors go to, or null (server log only). */
  anchorBucket: string | null;
}

/** Whether the keyed chain verifies, and its last anchor, for auditors of everything only (it spans every entry). */
export async function auditChainStatus(principal: Principal): Promise<AuditChainStatus | null> {
  if (!canEverywhere(principal, 'view-audit')) return null;
  const verdict = await verifyAuditChain();
  const anchor = await lastAnchor();
  const env = readEnv();
  return {
    ...(verdict.intact
      ? { intact: true, brokenAt: null, problem: null, entries: verdict.entries, keyedFromSeq: verdict.keyedFromSeq }
      : { intact: false, brokenAt: verdict.broken.seq, problem: verdict.broken.message, entries: null, keyedFromSeq: null }),
    lastAnchor: anchor
      ? { seq: anchor.seq, anchoredAt: anchor.anchoredAt, s3Url: anchor.s3Url, objectLockUntil: anchor.objectLockUntil, s3Error: anchor.s3Error }
      : null,
    anchorEvery: env.AUDIT_ANCHOR_EVERY,
    anchorIntervalMinutes: env.AUDIT_ANCHOR_INTERVAL_MINUTES,
    anchorBucket: env.AUDIT_ANCHOR_S3_BUCKET ?? null,
  };
}
