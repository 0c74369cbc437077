import 'server-only';
import { createHash } from 'node:crypto';
import { appDb } from '@/lib/db/app-db';

// The app's own tamper-evident log: each entry carries the hash of the one before it, so an edited
// or deleted entry breaks the chain. Entries hold names and outcomes only, never a value.

export interface AuditEntryInput {
  actor: string;
  action: string;
  target: string;
  outcome: 'allowed' | 'denied' | 'success' | 'failure';
  details?: Record<string, string | number | boolean | null>;
}

export interface AuditEntry extends Required<AuditEntryInput> {
  seq: number;
  at: string;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

function entryHash(prevHash: string, entry: { at: string; actor: string; action: string; target: string; outcome: string; details: string }): string {
  const canonical = JSON.stringify([prevHash, entry.at, entry.actor, entry.action, entry.target, entry.outcome, entry.details]);
  return createHash('sha256').update(canonical).digest('hex');
}

export async function appendAudit(input: AuditEntryInput): Promise<void> {
  // Copy rather than touch the caller's object.
  const details = JSON.stringify({ ...(input.details ?? {}) });
  await appDb()
    .transaction()
    .execute(async (trx) => {
      const last = await trx.selectFrom('audit_log').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
      const prevHash = last?.hash ?? GENESIS_HASH;
      const row = { at: new Date().toISOString(), actor: input.actor, action: input.action, target: input.target, outcome: input.outcome, details };
      await trx
        .insertInto('audit_log')
        .values({ ...row, prev_hash: prevHash, hash: entryHash(prevHash, row) })
        .execute();
    });
}

export async function listAudit(limit = 200): Promise<AuditEntry[]> {
  const rows = await appDb()
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'])
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditEntry['outcome'],
    details: JSON.parse(r.details) as AuditEntry['details'],
    prevHash: r.prev_hash,
    hash: r.hash,
  }));
}

/** Recomputes the chain; returns the first sequence number that does not verify, or null. */
export async function verifyAuditChain(): Promise<number | null> {
  const rows = await appDb().selectFrom('audit_log').selectAll().orderBy('seq').execute();
  let prev = GENESIS_HASH;
  for (const row of rows) {
    if (row.prev_hash !== prev || entryHash(prev, row) !== row.hash) return row.seq;
    prev = row.hash;
  }
  return null;
}
