import 'server-only';
import { can, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { listAudit, verifyAuditChain, type AuditEntry } from '@/lib/audit/audit-log';

/** "local:/prod/x" -> { storeId, name } when the target is an item or folder of a store. */
export function parseTarget(target: string): { storeId: string; name: string } | null {
  const match = /^([a-z0-9][a-z0-9-]{0,62}):(\/.*)$/.exec(target);
  return match ? { storeId: match[1]!, name: match[2]! } : null;
}

/** Whether the caller may read this entry: its target lies in their view-audit grants. */
export function mayRead(principal: Principal, entry: AuditEntry): boolean {
  const target = parseTarget(entry.target);
  // Dashboard-wide entries (sign-ins, users, tokens) are for auditors of everything.
  if (!target) return canEverywhere(principal, 'view-audit');
  return target.name.endsWith('/')
    ? can(principal, 'view-audit', { storeId: target.storeId, folder: target.name })
    : can(principal, 'view-audit', { storeId: target.storeId, name: target.name });
}

/** The newest entries of the app's audit log the caller may read (call after authorize 'view-audit'). */
export async function listAuditFor(principal: Principal, limit = 500): Promise<AuditEntry[]> {
  return (await listAudit(limit)).filter((entry) => mayRead(principal, entry));
}

/** Whether the hash chain verifies, for auditors of everything only (it spans every entry). */
export async function auditChainStatus(
  principal: Principal,
): Promise<{ intact: boolean; brokenAt: number | null; problem: string | null; entries: number | null } | null> {
  if (!canEverywhere(principal, 'view-audit')) return null;
  const verdict = await verifyAuditChain();
  return verdict.intact
    ? { intact: true, brokenAt: null, problem: null, entries: verdict.entries }
    : { intact: false, brokenAt: verdict.broken.seq, problem: verdict.broken.message, entries: null };
}
