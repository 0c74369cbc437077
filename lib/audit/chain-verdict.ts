import 'server-only';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { readEnv } from '@/lib/config/env';
import { auditChainKey } from '@/lib/crypto/keyring';
import { appDb, type AppDatabase } from '@/lib/db/app-db';
import { dialectOf } from '@/lib/db/dialect';
import { GENESIS_HASH } from './entry-hash';
import { INCREMENTAL, readVerdict, writeVerdict, type IncrementalVerdict, type KeptBreak, type KeptHead, type KeptVerdict } from './chain-verdict-store';
import { ChainVerifier, KEYED_FROM_MARKER, missingRange, type ChainAnchor, type ChainBreak, type ChainRow } from './verify-chain';

// The incremental half of verifying the audit chain: the verdict for a head (the newest entry
// verified) is kept, and only entries after it are checked: by the append that writes one (in its
// transaction, when it links to the kept head), and by the next view for entries appended without
// that (an older version, a bulk load, a break). Each check re-reads the kept head itself, so an
// edit of it or a cut at it shows; edits further back are the full pass's (chain-full-pass.ts).
// A break found is kept until a full pass verifies past it; the head then moves on to the newest
// entry, so entries appended after a break keep being checked.

/**
 * The most entries one check reads (~40-80 ms on a loaded machine): a view never waits for more.
 * A longer backlog (a bulk load, an upgrade, another version's appends) is the full pass's, which
 * is due then; the next views go on meanwhile.
 */
export const CHECK_LIMIT = 2000;
const BATCH = 2000;
const COLUMNS = ['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'] as const;

export interface IncrementalCheck {
  verdict: IncrementalVerdict;
  /** Entries this check read (the kept head again, and those after it). */
  entriesRead: number;
  /** Entries after the head left for the next check (more than CHECK_LIMIT were new). */
  pending: number;
}

const emptyVerdict = (now: string): IncrementalVerdict => ({ head: null, verifiedAt: now, keyedFromSeq: 1, break: null, alteredAt: null });

const kept = (b: ChainBreak, foundAt: string, verifiedHead: KeptHead | null): KeptBreak => ({
  seq: b.seq,
  at: b.at,
  action: b.action,
  problem: b.problem,
  message: b.message,
  foundAt,
  verifiedHead: verifiedHead ? { seq: verifiedHead.seq, hash: verifiedHead.hash } : null,
});

/** The earlier of two breaks (the first entry that does not verify is the one to name). */
export const firstBreak = (a: KeptBreak | null, b: KeptBreak | null): KeptBreak | null => (!a ? b : !b ? a : b.seq < a.seq ? b : a);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function markerOf(db: Kysely<any>): Promise<{ value: string; mac: string } | null> {
  return (await (db as Kysely<AppDatabase>).selectFrom('audit_chain_meta').select(['value', 'mac']).where('name', '=', KEYED_FROM_MARKER).executeTakeFirst()) ?? null;
}

/** The newest anchor recorded in audit_anchors (a cut-off tail shows against it), as the full pass checks it. */
export async function newestRecordedAnchor(db: Kysely<AppDatabase>): Promise<ChainAnchor[]> {
  const row = await db.selectFrom('audit_anchors').select(['seq', 'hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? [{ seq: Number(row.seq), hash: row.hash, source: `recorded in audit_anchors (entry #${Number(row.seq)})` }] : [];
}

/** SQLite's highest seq ever handed out (a removed tail shows against it); null on PostgreSQL. */
async function lastIssuedSeq(db: Kysely<AppDatabase>): Promise<number | null> {
  if (dialectOf(db) !== 'sqlite') return null;
  const { rows } = await sql<{ seq: number }>`SELECT seq FROM sqlite_sequence WHERE name = 'audit_log'`.execute(db);
  return rows[0] ? Number(rows[0].seq) : null;
}

async function newestEntry(db: Kysely<AppDatabase>): Promise<KeptHead | null> {
  const row = await db.selectFrom('audit_log').select(['seq', 'hash', 'prev_hash']).orderBy('seq', 'desc').limit(1).executeTakeFirst();
  return row ? { seq: Number(row.seq), hash: row.hash, prevHash: row.prev_hash } : null;
}

/**
 * Checks the entries after the kept head (at most `limit`) and keeps the outcome: the head moved
 * on, or the break found (then the head moves to the newest entry, to check what comes after).
 */
async function checkFromKeptHead(limit: number): Promise<IncrementalCheck> {
  const key = await auditChainKey();
  const db = await appDb();
  const now = new Date().toISOString();
  const read = await readVerdict(db, key, INCREMENTAL);
  const before: IncrementalVerdict = read.body ?? { ...emptyVerdict(now), alteredAt: read.altered ? now : null };
  const head = before.head;

  // Read before the rows: an entry appended meanwhile is then never taken for a cut-off tail.
  const issued = await lastIssuedSeq(db);
  const verifier = new ChainVerifier(key, await markerOf(db), await newestRecordedAnchor(db), head ? { seq: head.seq, prevHash: head.prevHash } : { seq: 1, prevHash: GENESIS_HASH });
  let found: ChainBreak | null = verifier.brokenSoFar;
  let last: KeptHead | null = null;
  let entriesRead = 0;
  let stoppedEarly = false;
  let after = (head?.seq ?? 1) - 1;
  while (!found) {
    const rows = await db.selectFrom('audit_log').select(COLUMNS).where('seq', '>', after).orderBy('seq').limit(BATCH).execute();
    for (const raw of rows) {
      const row: ChainRow = { ...raw, seq: Number(raw.seq) };
      entriesRead++;
      found = verifier.push(row);
      if (!found && head && row.seq === head.seq && row.hash !== head.hash) {
        found = { seq: row.seq, at: row.at, action: row.action, problem: 'hash-mismatch', message: `hash mismatch: entry #${row.seq} was verified with another hash (the log was rewritten at or before it)` };
      }
      if (found) break;
      last = { seq: row.seq, hash: row.hash, prevHash: row.prev_hash };
    }
    if (found || rows.length < BATCH) break;
    after = Number(rows[rows.length - 1]!.seq);
    if (entriesRead >= limit) {
      stoppedEarly = true;
      break;
    }
  }
  if (!found && !stoppedEarly) {
    if (head && entriesRead === 0) {
      // The verified head is gone and nothing after it: the end of the log was cut off.
      const newest = await newestEntry(db);
      const firstMissing = (newest?.seq ?? 0) + 1;
      const furthest = Math.max(head.seq, issued ?? 0);
      found = {
        seq: firstMissing,
        at: null,
        action: null,
        problem: 'tail-removed',
        message: `${missingRange(firstMissing, furthest)} missing from the end of the log (removed)${furthest === head.seq && issued !== head.seq ? `: entry #${head.seq} was verified before` : ''}`,
      };
    } else {
      const verdict = verifier.finish(issued);
      if (!verdict.intact) found = verdict.broken;
    }
  }

  let next: IncrementalVerdict;
  let pending = 0;
  if (found) {
    // Named and kept; the entries from the newest on are checked from here (a full pass finds out
    // whether anything earlier is wrong too, and clears the break once the log verifies).
    next = { ...before, head: await newestEntry(db), verifiedAt: now, keyedFromSeq: verifier.keyedFromSeq, break: firstBreak(before.break, kept(found, now, head)) };
  } else {
    const moved = last !== null && (head === null || last.seq !== head.seq);
    next = moved ? { ...before, head: last, verifiedAt: now, keyedFromSeq: verifier.keyedFromSeq } : { ...before, keyedFromSeq: verifier.keyedFromSeq };
    if (stoppedEarly) pending = Math.max(0, ((await newestEntry(db))?.seq ?? 0) - (last?.seq ?? head?.seq ?? 0));
  }
  const changed = read.version === 0 || read.altered || JSON.stringify(next) !== JSON.stringify(read.body);
  if (changed && !(await writeVerdict(db, key, INCREMENTAL, read.version, next))) {
    // Another check or an append wrote first: theirs is as good (or newer); show it.
    const theirs = await readVerdict(db, key, INCREMENTAL);
    if (theirs.body) return { verdict: theirs.body, entriesRead, pending };
  }
  return { verdict: next, entriesRead, pending };
}

const g = globalThis as unknown as { __auditChainCheck?: Promise<IncrementalCheck> };

/**
 * Verifies the entries appended since the kept head and returns the kept verdict (views and the
 * alert condition call it; one check at a time per process, callers meanwhile share it).
 */
export function checkNewEntries(limit = CHECK_LIMIT): Promise<IncrementalCheck> {
  g.__auditChainCheck ??= checkFromKeptHead(limit).finally(() => {
    g.__auditChainCheck = undefined;
  });
  return g.__auditChainCheck;
}

/** The incremental verdict as this process last wrote it on an append, per database (saves the append a read). */
const appendCache = globalThis as unknown as { __auditVerdictOnAppend?: Map<string, KeptVerdict<typeof INCREMENTAL>> };
const placeOf = () => {
  const env = readEnv();
  return env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
};

const linksTo = (body: IncrementalVerdict | null, previous: { seq: number; hash: string } | null) =>
  previous === null ? !body?.head : body?.head?.seq === previous.seq && body.head.hash === previous.hash;

/**
 * The append's share (inside its transaction, under the append lock): when the entry before the
 * new one is the kept head, the new entry links to it (the appender wrote it so), and becomes the
 * head. Otherwise nothing: the next check catches up from the kept head. The row this process
 * wrote last is remembered and swapped only if it is still exactly that (version and seal), so an
 * append in a row of appends writes once and reads nothing.
 */
export async function advanceOnAppend(trx: Kysely<AppDatabase>, key: Buffer, previous: { seq: number; hash: string } | null, entry: KeptHead): Promise<void> {
  const cache = (appendCache.__auditVerdictOnAppend ??= new Map());
  const place = placeOf();
  const now = new Date().toISOString();
  const remembered = cache.get(place);
  if (remembered?.body && linksTo(remembered.body, previous)) {
    const written = await writeVerdict(trx, key, INCREMENTAL, remembered.version, { ...remembered.body, head: entry, verifiedAt: now }, remembered.mac);
    if (written) {
      cache.set(place, written);
      return;
    }
  }
  cache.delete(place);
  const read = await readVerdict(trx, key, INCREMENTAL);
  if (read.altered || !linksTo(read.body, previous)) return;
  const written = await writeVerdict(trx, key, INCREMENTAL, read.version, { ...(read.body ?? emptyVerdict(now)), head: entry, verifiedAt: now });
  if (written) cache.set(place, written);
}
