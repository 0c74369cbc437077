import 'server-only';
import path from 'node:path';
import { sql } from 'kysely';
import { readEnv } from '@/lib/config/env';
import { APP_DB_FILE, appDb } from '@/lib/db/app-db';
import { entryHash, GENESIS_HASH } from './entry-hash';
import { openChainDatabase, verifyChainInAsync, type ChainVerdict } from './verify-chain';

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

export { GENESIS_HASH };
export type { ChainBreak, ChainProblem, ChainVerdict } from './verify-chain';

export async function appendAudit(input: AuditEntryInput): Promise<void> {
  // Copy rather than touch the caller's object.
  const details = JSON.stringify({ ...(input.details ?? {}) });
  // The server and the command-line tools append to the same file. BEGIN IMMEDIATE takes the write
  // lock before the last hash is read, so no two processes can both append after the same
  // prev_hash; the other waits (busy_timeout) instead. A plain BEGIN would read first and could
  // only fail with SQLITE_BUSY when upgrading to write. One connection per process: holding it
  // here also keeps this process's other queries out of the transaction.
  await appDb()
    .connection()
    .execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const last = await conn.selectFrom('audit_log').select('hash').orderBy('seq', 'desc').limit(1).executeTakeFirst();
        const prevHash = last?.hash ?? GENESIS_HASH;
        const row = { at: new Date().toISOString(), actor: input.actor, action: input.action, target: input.target, outcome: input.outcome, details };
        await conn
          .insertInto('audit_log')
          .values({ ...row, prev_hash: prevHash, hash: entryHash(prevHash, row) })
          .execute();
        await sql`COMMIT`.execute(conn);
      } catch (error) {
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
}

/** The newest entries, or those before `beforeSeq`, newest first (entries are appended in time order). */
export async function listAudit(limit = 200, beforeSeq?: number): Promise<AuditEntry[]> {
  const rows = await appDb()
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'])
    .$if(beforeSeq !== undefined, (q) => q.where('seq', '<', beforeSeq!))
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

/**
 * Recomputes the chain, streaming, on a connection of its own (a snapshot: appends go on meanwhile).
 * Intact: the count and head hash; broken: the first entry that does not verify and why.
 */
export async function verifyAuditChain(): Promise<ChainVerdict> {
  appDb(); // creates DATA_DIR/app.db and its tables when nothing has been logged yet
  const conn = openChainDatabase(path.resolve(readEnv().DATA_DIR), APP_DB_FILE);
  try {
    return await verifyChainInAsync(conn);
  } finally {
    conn.close();
  }
}
