import 'server-only';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Kysely } from 'kysely';
import type { AppDatabase } from '@/lib/db/app-db';
import { entryHash, GENESIS_HASH, type HashedFields } from './entry-hash';

// One streaming verifier of the audit hash chain, shared by the /audit page and `npm run audit:verify`.
// Rows are read one at a time in seq order inside one read transaction (a consistent snapshot, so
// entries appended meanwhile by the server or a CLI never look like a break), in constant memory.

export interface ChainRow extends HashedFields {
  seq: number;
  prev_hash: string;
  hash: string;
}

export type ChainProblem = 'hash-mismatch' | 'prev-hash-unlinked' | 'seq-gap' | 'tail-removed';

export interface ChainBreak {
  /** The first entry that does not verify (for 'tail-removed': the first missing seq). */
  seq: number;
  at: string | null;
  action: string | null;
  problem: ChainProblem;
  /** What is wrong, in words; names and numbers only. */
  message: string;
}

export type ChainVerdict =
  | { intact: true; entries: number; head: string }
  | { intact: false; entriesVerified: number; broken: ChainBreak };

/** Checks rows pushed in seq order; stops at the first break. */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private verified = 0;
  private broken: ChainBreak | null = null;

  /** Returns the break once found (and keeps returning it); null while the chain holds. */
  push(row: ChainRow): ChainBreak | null {
    if (this.broken) return this.broken;
    const where = { seq: row.seq, at: row.at, action: row.action };
    if (row.seq !== this.expectedSeq) {
      const missing = row.seq - this.expectedSeq === 1 ? `entry #${this.expectedSeq} is` : `entries #${this.expectedSeq}–#${row.seq - 1} are`;
      this.broken =
        row.seq > this.expectedSeq
          ? { ...where, problem: 'seq-gap', message: `a gap in seq: ${missing} missing (removed)` }
          : { ...where, problem: 'seq-gap', message: `seq out of order: expected #${this.expectedSeq}` };
    } else if (row.prev_hash !== this.prevHash) {
      this.broken = {
        ...where,
        problem: 'prev-hash-unlinked',
        message:
          this.expectedSeq === 1
            ? 'prev_hash does not link: the first entry does not start from the genesis hash'
            : `prev_hash does not link to entry #${this.expectedSeq - 1} (entries re-ordered, replaced or removed and renumbered)`,
      };
    } else if (entryHash(row.prev_hash, row) !== row.hash) {
      this.broken = { ...where, problem: 'hash-mismatch', message: 'hash mismatch: the entry was edited after it was written' };
    } else {
      this.prevHash = row.hash;
      this.expectedSeq += 1;
      this.verified += 1;
    }
    return this.broken;
  }

  /**
   * The verdict. lastIssuedSeq is the highest seq SQLite ever handed out (sqlite_sequence): when it
   * is past the last row, entries were cut off the end, which no hash can show by itself.
   */
  finish(lastIssuedSeq: number | null): ChainVerdict {
    if (this.broken) return { intact: false, entriesVerified: this.verified, broken: this.broken };
    const lastSeq = this.expectedSeq - 1;
    if (lastIssuedSeq !== null && lastIssuedSeq > lastSeq) {
      const missing = lastIssuedSeq === lastSeq + 1 ? `entry #${lastIssuedSeq} is` : `entries #${lastSeq + 1}–#${lastIssuedSeq} are`;
      return {
        intact: false,
        entriesVerified: this.verified,
        broken: { seq: lastSeq + 1, at: null, action: null, problem: 'tail-removed', message: `${missing} missing from the end of the log (removed)` },
      };
    }
    return { intact: true, entries: this.verified, head: this.prevHash };
  }
}

const SELECT_ROWS = 'SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit_log ORDER BY seq';

function lastIssuedSeq(conn: Database.Database): number | null {
  const row = conn.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").get() as { seq: number } | undefined;
  return row ? Number(row.seq) : null;
}

/** Streams an open app database's chain (sync). The caller owns the connection. */
export function verifyChainIn(conn: Database.Database): ChainVerdict {
  const verifier = new ChainVerifier();
  conn.exec('BEGIN');
  try {
    const issued = lastIssuedSeq(conn);
    for (const row of conn.prepare(SELECT_ROWS).iterate() as IterableIterator<ChainRow>) {
      if (verifier.push(row)) break; // leaving the loop closes the statement
    }
    return verifier.finish(issued);
  } finally {
    conn.exec('COMMIT');
  }
}

/** As verifyChainIn, handing the event loop back every `yieldEvery` rows so a server stays responsive. */
export async function verifyChainInAsync(conn: Database.Database, yieldEvery = 5000): Promise<ChainVerdict> {
  const verifier = new ChainVerifier();
  conn.exec('BEGIN');
  try {
    const issued = lastIssuedSeq(conn);
    let sinceYield = 0;
    for (const row of conn.prepare(SELECT_ROWS).iterate() as IterableIterator<ChainRow>) {
      if (verifier.push(row)) break;
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    }
    return verifier.finish(issued);
  } finally {
    conn.exec('COMMIT');
  }
}

const PG_BATCH = 2000;

/**
 * The chain on PostgreSQL: read in seq order in batches inside one repeatable-read transaction (a
 * snapshot, as on SQLite), in bounded memory. PostgreSQL hands out no seq of its own (appends
 * write last + 1), so a removed tail is not visible here; that needs the anchors of issue 11.
 */
export async function verifyChainInPostgres(db: Kysely<AppDatabase>): Promise<ChainVerdict> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const verifier = new ChainVerifier();
      let after = 0;
      for (;;) {
        const rows = await trx
          .selectFrom('audit_log')
          .select(['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'])
          .where('seq', '>', after)
          .orderBy('seq')
          .limit(PG_BATCH)
          .execute();
        for (const row of rows) if (verifier.push({ ...row, seq: Number(row.seq) })) return verifier.finish(null);
        if (rows.length < PG_BATCH) return verifier.finish(null);
        after = Number(rows[rows.length - 1]!.seq);
      }
    });
}

/** The app database file cannot be checked at all (missing, not SQLite, no audit table). */
export class ChainUnreadableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ChainUnreadableError';
  }
}

/** Opens DATA_DIR/app.db for reading the chain, without ever creating it. */
export function openChainDatabase(dataDir: string, fileName: string): Database.Database {
  const dir = path.resolve(dataDir);
  if (!existsSync(dir)) throw new ChainUnreadableError(`DATA_DIR ${dir} does not exist.`);
  if (!statSync(dir).isDirectory()) throw new ChainUnreadableError(`DATA_DIR ${dir} is not a directory.`);
  const file = path.join(dir, fileName);
  if (!existsSync(file)) throw new ChainUnreadableError(`No app database at ${file}: is DATA_DIR right?`);
  let conn: Database.Database;
  try {
    conn = new Database(file, { fileMustExist: true });
    conn.pragma('busy_timeout = 5000');
    const table = conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log'").get();
    if (!table) {
      conn.close();
      throw new ChainUnreadableError(`${file} has no audit_log table: is it the dashboard's app database?`);
    }
  } catch (error) {
    if (error instanceof ChainUnreadableError) throw error;
    throw new ChainUnreadableError(`Cannot read ${file}: ${(error as Error).message}`);
  }
  return conn;
}
