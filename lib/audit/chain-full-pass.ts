import 'server-only';
import path from 'node:path';
import { readEnv } from '@/lib/config/env';
import { auditChainKey } from '@/lib/crypto/keyring';
import { APP_DB_FILE, appDb } from '@/lib/db/app-db';
import { dialectOf } from '@/lib/db/dialect';
import { FULL_PASS, INCREMENTAL, readVerdict, writeVerdict, type FullPassVerdict, type KeptHead } from './chain-verdict-store';
import { newestRecordedAnchor } from './chain-verdict';
import { openChainDatabase, verifyChainInAsync, verifyChainInPostgres, type ChainVerdict } from './verify-chain';

// The full pass: the whole chain verified from the first entry, in the background (one replica, on
// the 'audit-chain-verification' lease: lib/background/audit-chain-verification.ts), on a schedule
// (AUDIT_FULL_VERIFY_HOURS) and on demand. It is what finds an edit far behind the kept head. Its
// progress (entries checked of the total) and outcome are kept for /audit; when it verifies, the
// incremental verdict takes its head and forgets the breaks it saw past.

/** How often a pass that found the chain broken (or could not finish) runs again, to see it restored. */
export const BROKEN_RECHECK_MS = 15 * 60_000;
/** SQLite rows between hand-backs of the event loop (~25 ms of hashing on a loaded machine): a view during a pass waits no longer. */
const YIELD_EVERY = 1000;
/** Progress is written at most this often (a row update; the page reads it). */
const PROGRESS_EVERY_MS = 1000;

export interface FullPassOptions {
  /** Who runs it (the lease holder), shown while it runs. */
  holder?: string;
  signal?: AbortSignal;
  /** Progress is written at most this often (default 1 s). */
  progressEveryMs?: number;
  /** Called after each progress write with what was written (tests). */
  onProgressSaved?: (pass: FullPassVerdict) => void | Promise<void>;
}

const errorText = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Verifies the whole chain, keeping progress and the outcome (full-pass verdict), and moves the
 * incremental verdict on when it verifies. Returns the kept outcome. (Benchmarks call it once to
 * build the kept verdict of a seeded log.)
 */
export async function runFullChainPass(options: FullPassOptions = {}): Promise<FullPassVerdict> {
  const key = await auditChainKey();
  const db = await appDb();
  const holder = options.holder ?? `pid ${process.pid}`;
  const startedAt = new Date().toISOString();
  let kept = await readVerdict(db, key, FULL_PASS);
  let version = kept.version;
  let current: FullPassVerdict = { state: 'running', startedAt, finishedAt: null, holder, checked: 0, total: 0, head: null, break: null, error: null };
  // Writes over whatever is there (a pass that died, an altered row); a lost race means another
  // writer moved it, and the pass goes on without showing progress rather than fighting over it.
  const save = async (body: FullPassVerdict, force = false): Promise<void> => {
    if (await writeVerdict(db, key, FULL_PASS, version, body)) version += 1;
    else if (force) {
      kept = await readVerdict(db, key, FULL_PASS);
      version = kept.version;
      if (await writeVerdict(db, key, FULL_PASS, version, body)) version += 1;
    }
  };
  await save(current, true);

  let lastWrite = 0;
  const onProgress = async (checked: number, total: number) => {
    current = { ...current, checked, total };
    if (Date.now() - lastWrite < (options.progressEveryMs ?? PROGRESS_EVERY_MS)) return;
    lastWrite = Date.now();
    await save(current);
    await options.onProgressSaved?.(current);
  };

  let verdict: ChainVerdict;
  try {
    // The kept head is a fact too (an entry verified, or the newest when a break was kept): a log
    // rewritten or cut off behind it shows against it.
    // So is the head verified before a kept break was found (a tail cut off there stays a break).
    const incremental = (await readVerdict(db, key, INCREMENTAL)).body;
    const keptHead = incremental?.head ?? null;
    const beforeBreak = incremental?.break?.verifiedHead ?? null;
    const anchors = [
      ...(await newestRecordedAnchor(db)),
      ...(keptHead ? [{ seq: keptHead.seq, hash: keptHead.hash, source: `kept as verified in audit_chain_verdicts (entry #${keptHead.seq})` }] : []),
      ...(beforeBreak ? [{ seq: beforeBreak.seq, hash: beforeBreak.hash, source: `kept as verified before the break was found (entry #${beforeBreak.seq})` }] : []),
    ];
    if (dialectOf(db) === 'postgres') verdict = await verifyChainInPostgres(db, key, anchors, { onProgress, signal: options.signal });
    else {
      const conn = openChainDatabase(path.resolve(readEnv().DATA_DIR), APP_DB_FILE);
      try {
        verdict = await verifyChainInAsync(conn, key, anchors, YIELD_EVERY, { onProgress, signal: options.signal });
      } finally {
        conn.close();
      }
    }
  } catch (error) {
    const failed: FullPassVerdict = { ...current, state: 'failed', finishedAt: new Date().toISOString(), error: errorText(error).slice(0, 2000) };
    await save(failed, true);
    throw error;
  }

  const finishedAt = new Date().toISOString();
  let done: FullPassVerdict;
  if (verdict.intact) {
    const row = verdict.entries > 0 ? await db.selectFrom('audit_log').select(['seq', 'hash', 'prev_hash']).where('seq', '=', verdict.entries).executeTakeFirst() : undefined;
    const head: KeptHead | null = row && row.hash === verdict.head ? { seq: Number(row.seq), hash: row.hash, prevHash: row.prev_hash } : null;
    done = { ...current, state: 'intact', finishedAt, checked: verdict.entries, total: Math.max(current.total, verdict.entries), head, break: null };
    await takeFullPassHead(key, head, verdict.entries, verdict.keyedFromSeq);
  } else {
    const b = verdict.broken;
    done = {
      ...current,
      state: 'broken',
      finishedAt,
      checked: verdict.entriesVerified,
      break: { seq: b.seq, at: b.at, action: b.action, problem: b.problem, message: b.message, foundAt: finishedAt, verifiedHead: null },
    };
  }
  await save(done, true);
  return done;
}

/**
 * After a pass that verified entries 1..`verified`: the incremental head moves up to its head if
 * it was behind, breaks it saw past are cleared (the log was restored), and an altered verdict is
 * forgotten. Retried when a concurrent check or append wrote in between.
 */
async function takeFullPassHead(key: Buffer, head: KeptHead | null, verified: number, keyedFromSeq: number): Promise<void> {
  const db = await appDb();
  for (let attempt = 0; attempt < 5; attempt++) {
    const read = await readVerdict(db, key, INCREMENTAL);
    const now = new Date().toISOString();
    const before = read.body ?? { head: null, verifiedAt: now, keyedFromSeq, break: null, alteredAt: null };
    const behind = head !== null && (before.head === null || before.head.seq < head.seq || read.altered);
    // A break past what this pass read (found after it began, or a cut-off tail) stays.
    const cleared = before.break && before.break.seq <= verified ? null : before.break;
    const next = {
      ...before,
      head: behind ? head : before.head,
      verifiedAt: behind ? now : before.verifiedAt,
      keyedFromSeq,
      break: cleared,
      alteredAt: null,
    };
    if (await writeVerdict(db, key, INCREMENTAL, read.version, next)) return;
  }
}

/** Whether a full pass is due now: never run, older than AUDIT_FULL_VERIFY_HOURS, a break or failure to look at again, a new break or an altered verdict. */
export async function fullPassDue(now: Date, holder: string): Promise<boolean> {
  const key = await auditChainKey();
  const db = await appDb();
  const full = await readVerdict(db, key, FULL_PASS);
  const incremental = await readVerdict(db, key, INCREMENTAL);
  if (!full.body) return true;
  const pass = full.body;
  // A 'running' row of another holder is a pass that died with its replica (this one holds the lease now).
  if (pass.state === 'running') return pass.holder !== holder;
  const finished = Date.parse(pass.finishedAt ?? pass.startedAt);
  const age = now.getTime() - finished;
  // A pass stopped with its replica's lease is started again by the next leader at once.
  if (pass.state === 'failed' && pass.holder !== holder) return true;
  if (pass.state === 'broken' || pass.state === 'failed') return age >= BROKEN_RECHECK_MS;
  if (incremental.altered || incremental.body?.alteredAt) return true;
  if (incremental.body?.break && incremental.body.break.foundAt > pass.startedAt) return true;
  return age >= readEnv().AUDIT_FULL_VERIFY_HOURS * 3_600_000;
}
