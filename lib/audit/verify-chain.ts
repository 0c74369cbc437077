import 'server-only';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sql, type Kysely } from 'kysely';
import type { AppDatabase } from '@/lib/db/app-db';
import { checkKey, GENESIS_HASH, keyedEntryHash, keyedFromMac, legacyEntryHash, sameDigest, type HashedFields } from './entry-hash';

// One streaming verifier of the audit chain, shared by the /audit page, `npm run audit:verify`,
// migrate-data and restore. Rows are read one at a time in seq order inside one read transaction
// (a consistent snapshot, so entries appended meanwhile never look like a break), in constant
// memory. Links are HMACs under the audit chain key from the entry the marker names (seq 1 for a
// log that was keyed from the start; plain SHA-256 before it), and anchors (heads written to the
// server log and S3) are checked as the walk passes them.

export interface ChainRow extends HashedFields {
  seq: number;
  prev_hash: string;
  hash: string;
}

/** The name of the marker row in audit_chain_meta: from which seq the chain is keyed. */
export const KEYED_FROM_MARKER = 'keyed_from_seq';

/** The marker as stored: value = the seq (decimal), mac = keyedFromMac(key, seq). */
export interface ChainMarkerRow {
  value: string;
  mac: string;
}

/** A head recorded outside the log: the entry `seq` had `hash` (seq null: some entry has it). */
export interface ChainAnchor {
  seq: number | null;
  hash: string;
  /** Where it came from, for messages: "--anchor 1000:…", "s3://bucket/key", "audit_anchors". */
  source: string;
}

export type ChainProblem =
  | 'hash-mismatch'
  | 'unkeyed-entry'
  | 'prev-hash-unlinked'
  | 'seq-gap'
  | 'tail-removed'
  | 'marker-invalid'
  | 'anchor-mismatch'
  | 'anchor-not-found';

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
  | {
      intact: true;
      entries: number;
      head: string;
      /** Entries from this seq on are HMAC-linked; those before it are plain SHA-256 (written before the keyed chain). */
      keyedFromSeq: number;
      /** Anchors that matched an entry. */
      anchorsChecked: number;
    }
  | { intact: false; entriesVerified: number; broken: ChainBreak };

const short = (hash: string) => `${hash.slice(0, 12)}…`;

/** "entry #3 is" or "entries #3–#5 are", for messages about missing entries. */
export function missingRange(from: number, to: number): string {
  return from === to ? `entry #${from} is` : `entries #${from}–#${to} are`;
}

/** Checks rows pushed in seq order; stops at the first break. */
export class ChainVerifier {
  private expectedSeq = 1;
  private prevHash = GENESIS_HASH;
  private verified = 0;
  private anchorsChecked = 0;
  private broken: ChainBreak | null = null;
  private keyedFrom = 1;
  private readonly bySeq = new Map<number, ChainAnchor[]>();
  /** Hash-only anchors not yet met. */
  private readonly byHash = new Map<string, ChainAnchor[]>();

  /**
   * `marker`: the audit_chain_meta row, or null when there is none (then the whole log must be
   * keyed: a missing marker cannot pass plain SHA-256 entries off as old ones).
   */
  constructor(
    private readonly key: Buffer,
    marker: ChainMarkerRow | null,
    anchors: readonly ChainAnchor[] = [],
    /**
     * Where to begin: the first entry to push and the hash it must link to (an entry verified
     * before, for an incremental check from a kept head). Entries before it count as verified.
     */
    from: { seq: number; prevHash: string } = { seq: 1, prevHash: GENESIS_HASH },
  ) {
    checkKey(key);
    this.expectedSeq = from.seq;
    this.prevHash = from.prevHash;
    this.verified = from.seq - 1;
    for (const given of anchors) {
      const anchor = { ...given, hash: given.hash.toLowerCase() };
      if (anchor.seq === null) this.byHash.set(anchor.hash, [...(this.byHash.get(anchor.hash) ?? []), anchor]);
      else this.bySeq.set(anchor.seq, [...(this.bySeq.get(anchor.seq) ?? []), anchor]);
    }
    if (marker) {
      const seq = /^[1-9]\d{0,15}$/.test(marker.value) ? Number(marker.value) : null;
      if (seq === null || !sameDigest(keyedFromMac(key, seq), marker.mac)) {
        this.broken = {
          seq: seq ?? 1,
          at: null,
          action: null,
          problem: 'marker-invalid',
          message:
            `the record of where the keyed chain begins (audit_chain_meta ${KEYED_FROM_MARKER} = ${JSON.stringify(marker.value.slice(0, 40))}) ` +
            "does not verify under the audit chain key: it was altered (which would pass keyed entries off as plain SHA-256 ones), or the key is not this log's",
        };
      } else {
        this.keyedFrom = seq;
      }
    }
  }

  /** The break found so far (the marker's, before any row), or null. */
  get brokenSoFar(): ChainBreak | null {
    return this.broken;
  }

  /** Entries from this seq on are HMAC-linked (from the marker; 1 without one). */
  get keyedFromSeq(): number {
    return this.keyedFrom;
  }

  /** Returns the break once found (and keeps returning it); null while the chain holds. */
  push(row: ChainRow): ChainBreak | null {
    if (this.broken) return this.broken;
    const where = { seq: row.seq, at: row.at, action: row.action };
    if (row.seq !== this.expectedSeq) {
      this.broken =
        row.seq > this.expectedSeq
          ? { ...where, problem: 'seq-gap', message: `a gap in seq: ${missingRange(this.expectedSeq, row.seq - 1)} missing (removed)` }
          : { ...where, problem: 'seq-gap', message: `seq out of order: expected #${this.expectedSeq}` };
      return this.broken;
    }
    if (row.prev_hash !== this.prevHash) {
      this.broken = {
        ...where,
        problem: 'prev-hash-unlinked',
        message:
          this.expectedSeq === 1
            ? 'prev_hash does not link: the first entry does not start from the genesis hash'
            : `prev_hash does not link to entry #${this.expectedSeq - 1} (entries re-ordered, replaced or removed and renumbered)`,
      };
      return this.broken;
    }
    if (row.seq >= this.keyedFrom) {
      if (keyedEntryHash(this.key, row.prev_hash, row) !== row.hash) {
        this.broken =
          legacyEntryHash(row.prev_hash, row) === row.hash
            ? {
                ...where,
                problem: 'unkeyed-entry',
                message:
                  this.keyedFrom === 1 && row.seq === 1
                    ? 'the entry is hashed with plain SHA-256, but the log has no record of a part written before the keyed chain ' +
                      '(audit_chain_meta): it was edited and re-hashed without the audit chain key, or the record was removed. ' +
                      'A log from an older version gets that record when this version first starts on it'
                    : `the entry is hashed with plain SHA-256, but the chain is keyed (HMAC) from entry #${this.keyedFrom}: ` +
                      'it was edited and re-hashed without the audit chain key',
              }
            : {
                ...where,
                problem: 'hash-mismatch',
                message: "hash mismatch: the entry was edited after it was written (or the audit chain key is not this log's)",
              };
        return this.broken;
      }
    } else if (legacyEntryHash(row.prev_hash, row) !== row.hash) {
      this.broken = {
        ...where,
        problem: 'hash-mismatch',
        message: 'hash mismatch: the entry was edited after it was written (one from before the chain was keyed, plain SHA-256)',
      };
      return this.broken;
    }
    for (const anchor of this.bySeq.get(row.seq) ?? []) {
      if (anchor.hash !== row.hash) {
        this.broken = {
          ...where,
          problem: 'anchor-mismatch',
          message: `the entry's hash ${short(row.hash)} is not the one the anchor ${anchor.source} recorded (${short(anchor.hash)}): the log was rewritten at or before this entry`,
        };
        return this.broken;
      }
      this.anchorsChecked += 1;
    }
    const byHash = this.byHash.get(row.hash);
    if (byHash) {
      this.anchorsChecked += byHash.length;
      this.byHash.delete(row.hash);
    }
    this.prevHash = row.hash;
    this.expectedSeq += 1;
    this.verified += 1;
    return null;
  }

  /**
   * The verdict. lastIssuedSeq is the highest seq SQLite ever handed out (sqlite_sequence): when it
   * is past the last row, entries were cut off the end, which no hash can show by itself; anchors
   * and the marker (entries before the keyed chain began) show the same on either database.
   */
  finish(lastIssuedSeq: number | null): ChainVerdict {
    if (this.broken) return { intact: false, entriesVerified: this.verified, broken: this.broken };
    const lastSeq = this.expectedSeq - 1;
    // What says the log went further; on a tie the one that explains more is named.
    const evidence: { seq: number; why: string }[] = [];
    for (const [seq, anchors] of this.bySeq) if (seq > lastSeq) evidence.push({ seq, why: `: the anchor ${anchors[0]!.source} names entry #${seq}` });
    if (this.keyedFrom > 1) evidence.push({ seq: this.keyedFrom - 1, why: `: the keyed chain begins at entry #${this.keyedFrom}, after ${this.keyedFrom - 1} older entries` });
    if (lastIssuedSeq !== null) evidence.push({ seq: lastIssuedSeq, why: '' });
    const furthest = evidence.filter((e) => e.seq > lastSeq).sort((a, b) => b.seq - a.seq)[0];
    if (furthest) {
      return {
        intact: false,
        entriesVerified: this.verified,
        broken: {
          seq: lastSeq + 1,
          at: null,
          action: null,
          problem: 'tail-removed',
          message: `${missingRange(lastSeq + 1, furthest.seq)} missing from the end of the log (removed)${furthest.why}`,
        },
      };
    }
    const unmet = [...this.byHash.values()][0]?.[0];
    if (unmet) {
      return {
        intact: false,
        entriesVerified: this.verified,
        broken: {
          seq: lastSeq + 1,
          at: null,
          action: null,
          problem: 'anchor-not-found',
          message: `no entry has the hash of the anchor ${unmet.source} (${short(unmet.hash)}): the entry it names was altered or removed`,
        },
      };
    }
    return { intact: true, entries: this.verified, head: this.prevHash, keyedFromSeq: this.keyedFrom, anchorsChecked: this.anchorsChecked };
  }
}

const SELECT_ROWS = 'SELECT seq, at, actor, action, target, outcome, details, prev_hash, hash FROM audit_log ORDER BY seq';

function lastIssuedSeq(conn: Database.Database): number | null {
  const row = conn.prepare("SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'").get() as { seq: number } | undefined;
  return row ? Number(row.seq) : null;
}

function markerIn(conn: Database.Database): ChainMarkerRow | null {
  const table = conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'audit_chain_meta'").get();
  if (!table) return null;
  return (conn.prepare('SELECT value, mac FROM audit_chain_meta WHERE name = ?').get(KEYED_FROM_MARKER) as ChainMarkerRow | undefined) ?? null;
}

/**
 * Streams an open app database's chain (sync) with the audit chain key, checking `anchors` on the
 * way. The caller owns the connection.
 */
export function verifyChainIn(conn: Database.Database, key: Buffer, anchors: readonly ChainAnchor[] = []): ChainVerdict {
  conn.exec('BEGIN');
  try {
    const verifier = new ChainVerifier(key, markerIn(conn), anchors);
    const issued = lastIssuedSeq(conn);
    for (const row of conn.prepare(SELECT_ROWS).iterate() as IterableIterator<ChainRow>) {
      if (verifier.push(row)) break; // leaving the loop closes the statement
    }
    return verifier.finish(issued);
  } finally {
    conn.exec('COMMIT');
  }
}

/** What a long verification reports as it goes, and how it is stopped. */
export interface VerifyProgressOptions {
  /** Called every `yieldEvery` rows (and at the start) with the rows checked so far and the log's last seq. */
  onProgress?: (checked: number, total: number) => void | Promise<void>;
  /** Stops the walk (it throws the signal's reason) at the next hand-back. */
  signal?: AbortSignal;
}

/** As verifyChainIn, handing the event loop back every `yieldEvery` rows so a server stays responsive. */
export async function verifyChainInAsync(
  conn: Database.Database,
  key: Buffer,
  anchors: readonly ChainAnchor[] = [],
  yieldEvery = 5000,
  progress: VerifyProgressOptions = {},
): Promise<ChainVerdict> {
  conn.exec('BEGIN');
  try {
    const verifier = new ChainVerifier(key, markerIn(conn), anchors);
    const issued = lastIssuedSeq(conn);
    const total = progress.onProgress ? Number((conn.prepare('SELECT max(seq) AS seq FROM audit_log').get() as { seq: number | null }).seq ?? 0) : 0;
    progress.signal?.throwIfAborted();
    await progress.onProgress?.(0, total);
    let checked = 0;
    let sinceYield = 0;
    for (const row of conn.prepare(SELECT_ROWS).iterate() as IterableIterator<ChainRow>) {
      checked++;
      if (verifier.push(row)) break;
      if (++sinceYield >= yieldEvery) {
        sinceYield = 0;
        await new Promise<void>((resolve) => setImmediate(resolve));
        progress.signal?.throwIfAborted();
        await progress.onProgress?.(checked, total);
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
 * write last + 1), so a removed tail shows only against an anchor (or the marker).
 */
export async function verifyChainInPostgres(
  db: Kysely<AppDatabase>,
  key: Buffer,
  anchors: readonly ChainAnchor[] = [],
  progress: VerifyProgressOptions = {},
): Promise<ChainVerdict> {
  return db
    .transaction()
    .setIsolationLevel('repeatable read')
    .execute(async (trx) => {
      const { rows: present } = await sql<{ meta: string | null }>`SELECT to_regclass('audit_chain_meta')::text AS meta`.execute(trx);
      const marker = present[0]?.meta
        ? ((await trx.selectFrom('audit_chain_meta').select(['value', 'mac']).where('name', '=', KEYED_FROM_MARKER).executeTakeFirst()) ?? null)
        : null;
      const verifier = new ChainVerifier(key, marker, anchors);
      const total = progress.onProgress ? Number((await trx.selectFrom('audit_log').select(sql<string | number | null>`max(seq)`.as('seq')).executeTakeFirst())?.seq ?? 0) : 0;
      await progress.onProgress?.(0, total);
      let after = 0;
      let checked = 0;
      for (;;) {
        progress.signal?.throwIfAborted();
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
        checked += rows.length;
        await progress.onProgress?.(checked, total);
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
