import 'server-only';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { readEnv } from '@/lib/config/env';
import { APP_DB_FILE, appDb, type AppDatabase } from '@/lib/db/app-db';
import { dialectOf } from '@/lib/db/dialect';
import { entryHash, GENESIS_HASH } from './entry-hash';
import { openChainDatabase, verifyChainInAsync, verifyChainInPostgres, type ChainVerdict } from './verify-chain';

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

// Any constant shared by every replica: the key of the advisory lock that orders appends.
const AUDIT_APPEND_LOCK = 0x5d_a0d17;

export async function appendAudit(input: AuditEntryInput): Promise<void> {
  // Copy rather than touch the caller's object.
  const details = JSON.stringify({ ...(input.details ?? {}) });
  const db = await appDb();
  // One chain with several writers (the server's replicas, the command-line tools): the last entry
  // is read and the next one written while holding a lock every writer takes first, so no two
  // appends ever follow the same prev_hash. seq is last + 1 under that lock (not a sequence, which
  // would leave gaps on a rollback that the verifier would report as removed entries).
  const append = async (trx: Kysely<AppDatabase>) => {
    const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const prevHash = last?.hash ?? GENESIS_HASH;
    const row = { at: new Date().toISOString(), actor: input.actor, action: input.action, target: input.target, outcome: input.outcome, details };
    await trx
      .insertInto('audit_log')
      .values({ seq: Number(last?.seq ?? 0) + 1, ...row, prev_hash: prevHash, hash: entryHash(prevHash, row) })
      .execute();
  };
  if (dialectOf(db) === 'postgres') {
    await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`.execute(trx);
      await append(trx);
    });
    return;
  }
  // SQLite: BEGIN IMMEDIATE takes the file's write lock before the last hash is read; the other
  // process waits (busy_timeout). A plain BEGIN would read first and could only fail with
  // SQLITE_BUSY when upgrading to write. One connection per process: holding it here also keeps
  // this process's other queries out of the transaction.
  await db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      await append(conn);
      await sql`COMMIT`.execute(conn);
    } catch (error) {
      await sql`ROLLBACK`.execute(conn).catch(() => undefined);
      throw error;
    }
  });
}

/** The newest entries, or those before `beforeSeq`, newest first (entries are appended in time order). */
export async function listAudit(limit = 200, beforeSeq?: number): Promise<AuditEntry[]> {
  const rows = await (await appDb())
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'])
    .$if(beforeSeq !== undefined, (q) => q.where('seq', '<', beforeSeq!))
    .orderBy('seq', 'desc')
    .limit(limit)
    .execute();
  return rows.map((r) => ({
    seq: Number(r.seq),
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
  const db = await appDb(); // creates DATA_DIR/app.db and its tables when nothing has been logged yet
  if (dialectOf(db) === 'postgres') return verifyChainInPostgres(db);
  const conn = openChainDatabase(path.resolve(readEnv().DATA_DIR), APP_DB_FILE);
  try {
    return await verifyChainInAsync(conn);
  } finally {
    conn.close();
  }
}
