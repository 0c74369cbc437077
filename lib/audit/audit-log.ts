import 'server-only';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { readEnv } from '@/lib/config/env';
import { APP_DB_FILE, appDb, type AppDatabase } from '@/lib/db/app-db';
import { dialectOf } from '@/lib/db/dialect';
import { auditChainKey } from '@/lib/crypto/keyring';
import { scheduleAnchor, type ChainHead } from './anchors';
import { advanceOnAppend } from './chain-verdict';
import { GENESIS_HASH, keyedEntryHash } from './entry-hash';
import { openChainDatabase, verifyChainInAsync, verifyChainInPostgres, type ChainAnchor, type ChainVerdict } from './verify-chain';

// The app's own tamper-evident log: each entry carries an HMAC (under the audit chain key, kept
// with the master key) of itself and the link before it, so an edited or deleted entry breaks the
// chain and cannot be re-chained without the key. Entries hold names and outcomes only, never a value.

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
export type { ChainAnchor, ChainBreak, ChainProblem, ChainVerdict } from './verify-chain';

// Any constant shared by every replica: the key of the advisory lock that orders appends.
const AUDIT_APPEND_LOCK = 0x5d_a0d17;

export async function appendAudit(input: AuditEntryInput): Promise<void> {
  // Copy rather than touch the caller's object.
  const details = JSON.stringify({ ...(input.details ?? {}) });
  const { AUDIT_ANCHOR_EVERY } = readEnv();
  // The key before the lock: opening the keyring the first time must not hold every writer up.
  const key = await auditChainKey();
  const db = await appDb();
  // One chain with several writers (the server's replicas, the command-line tools): the last entry
  // is read and the next one written while holding a lock every writer takes first, so no two
  // appends ever follow the same prev_hash. seq is last + 1 under that lock (not a sequence, which
  // would leave gaps on a rollback that the verifier would report as removed entries).
  const append = async (trx: Kysely<AppDatabase>): Promise<ChainHead> => {
    const last = await trx.selectFrom('audit_log').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
    const prevHash = last?.hash ?? GENESIS_HASH;
    const seq = Number(last?.seq ?? 0) + 1;
    const row = { at: new Date().toISOString(), actor: input.actor, action: input.action, target: input.target, outcome: input.outcome, details };
    const hash = keyedEntryHash(key, prevHash, row);
    await trx
      .insertInto('audit_log')
      .values({ seq, ...row, prev_hash: prevHash, hash })
      .execute();
    // Checked as it is appended: it links to the last entry, so when that is the kept verified head it becomes the head.
    await advanceOnAppend(trx, key, last ? { seq: Number(last.seq), hash: last.hash } : null, { seq, hash, prevHash });
    return { seq, hash, at: row.at };
  };
  let head: ChainHead;
  if (dialectOf(db) === 'postgres') {
    head = await db.transaction().execute(async (trx) => {
      await sql`SELECT pg_advisory_xact_lock(${AUDIT_APPEND_LOCK})`.execute(trx);
      return append(trx);
    });
  } else {
    head = await appendOnSqlite(db, append);
  }
  // After the commit and in the background: an anchor never fails or slows an append.
  if (head.seq % AUDIT_ANCHOR_EVERY === 0) scheduleAnchor(head, 'every');
}

async function appendOnSqlite(db: Kysely<AppDatabase>, append: (trx: Kysely<AppDatabase>) => Promise<ChainHead>): Promise<ChainHead> {
  // SQLite: BEGIN IMMEDIATE takes the file's write lock before the last hash is read; the other
  // process waits (busy_timeout). A plain BEGIN would read first and could only fail with
  // SQLITE_BUSY when upgrading to write. One connection per process: holding it here also keeps
  // this process's other queries out of the transaction.
  return db.connection().execute(async (conn) => {
    await sql`BEGIN IMMEDIATE`.execute(conn);
    try {
      const head = await append(conn);
      await sql`COMMIT`.execute(conn);
      return head;
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
  return rows.map(auditEntryOf);
}

/** A row of audit_log as the entry it holds (PostgreSQL returns the bigint seq as text). */
export type AuditRow = { seq: number | string; at: string; actor: string; action: string; target: string; outcome: string; details: string; prev_hash: string; hash: string };

export function auditEntryOf(r: AuditRow): AuditEntry {
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    outcome: r.outcome as AuditEntry['outcome'],
    details: JSON.parse(r.details) as AuditEntry['details'],
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The newest anchor recorded in audit_anchors, as a check for the verifier (a cut-off tail shows against it). */
async function recordedAnchor(db: Kysely<AppDatabase>): Promise<ChainAnchor[]> {
  const row = await db.selectFrom('audit_anchors').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? [{ seq: Number(row.seq), hash: row.hash, source: `recorded in audit_anchors (entry #${Number(row.seq)})` }] : [];
}

/**
 * Recomputes the keyed chain with the audit chain key, streaming, on a connection of its own (a
 * snapshot: appends go on meanwhile), and checks it against the newest anchor recorded.
 * Intact: the count and head hash; broken: the first entry that does not verify and why.
 */
export async function verifyAuditChain(): Promise<ChainVerdict> {
  const key = await auditChainKey();
  const db = await appDb(); // creates DATA_DIR/app.db and its tables when nothing has been logged yet
  const anchors = await recordedAnchor(db);
  if (dialectOf(db) === 'postgres') return verifyChainInPostgres(db, key, anchors);
  const conn = openChainDatabase(path.resolve(readEnv().DATA_DIR), APP_DB_FILE);
  try {
    return await verifyChainInAsync(conn, key, anchors);
  } finally {
    conn.close();
  }
}
