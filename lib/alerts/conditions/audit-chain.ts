import 'server-only';
import path from 'node:path';
import { lastAnchor } from '@/lib/audit/anchors';
import { verifyAuditChain } from '@/lib/audit/audit-log';
import { GENESIS_HASH, keyedEntryHash, sameDigest } from '@/lib/audit/entry-hash';
import { readEnv } from '@/lib/config/env';
import { auditChainKey } from '@/lib/crypto/keyring';
import { appDb } from '@/lib/db/app-db';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, type Condition } from './common';

// audit-chain: the audit chain does not verify, or the newest anchor was not written out (its S3
// write failed). A whole verification streams every entry (seconds at millions), so it runs on the
// first evaluation in a process and then once a day; in between each evaluation verifies only the
// entries appended since the last one verified (each link recomputed under the chain key from the
// last verified head, which must itself still be there unchanged). A broken chain is verified whole
// again at most every BROKEN_RECHECK_MS, so the alert clears once the log is restored. The state is
// this process's (each replica verifies for itself; the alerts store dedupes what they record).

/** How often the whole chain is verified again although every increment verified. */
export const FULL_VERIFY_EVERY_MS = 24 * 3_600_000;
/** How often a chain found broken is verified whole again (to see it restored). */
export const BROKEN_RECHECK_MS = 15 * 60_000;
const BATCH = 2000;

/** Where the subjects of this event live: the dashboard's own audit log, not a store. */
export const AUDIT_SUBJECT_STORE = 'audit-log';

interface ChainState {
  place: string;
  /** The last entry verified, and its hash. */
  head: { seq: number; hash: string } | null;
  /** Entries from this seq on are HMAC-linked (those before, plain SHA-256, are checked by whole verifications only). */
  keyedFromSeq: number;
  /** When the whole chain was last verified (the evaluation's clock). */
  fullAt: number;
  /** What was wrong, when it was. */
  broken: string | null;
}

const g = globalThis as unknown as { __alertsChain?: ChainState };

function place(): string {
  const env = readEnv();
  return env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
}

/** Forgets what was verified (tests; a restore of the app database). */
export function resetAuditChainCheck(): void {
  g.__alertsChain = undefined;
}

/** How the last check went, for tests and the benchmark: 'full' or 'incremental', and how many entries it read. */
export let lastChainCheck: { kind: 'full' | 'incremental'; entriesRead: number } | null = null;

async function verifyWhole(now: Date): Promise<ChainState> {
  const verdict = await verifyAuditChain();
  lastChainCheck = { kind: 'full', entriesRead: verdict.intact ? verdict.entries : verdict.entriesVerified };
  if (!verdict.intact) return { place: place(), head: null, keyedFromSeq: 1, fullAt: now.getTime(), broken: `entry #${verdict.broken.seq}: ${verdict.broken.message}` };
  // The verified head's seq: entries are numbered from 1 without gaps, so the count is the last seq.
  const db = await appDb();
  const row = verdict.entries > 0 ? await db.selectFrom('audit_log').select(['seq', 'hash']).where('seq', '=', verdict.entries).executeTakeFirst() : undefined;
  const head = row && row.hash === verdict.head ? { seq: Number(row.seq), hash: row.hash } : null;
  return { place: place(), head, keyedFromSeq: verdict.keyedFromSeq, fullAt: now.getTime(), broken: null };
}

/** The entries after the verified head, each linked to the one before under the key; the state moved on, or broken. */
async function verifyIncrement(state: ChainState): Promise<ChainState> {
  const db = await appDb();
  const key = await auditChainKey();
  let entriesRead = 0;
  const broken = (message: string): ChainState => {
    lastChainCheck = { kind: 'incremental', entriesRead };
    return { ...state, broken: message };
  };
  const columns = ['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'] as const;
  let prev = state.head;
  if (prev) {
    const row = await db.selectFrom('audit_log').select(columns).where('seq', '=', prev.seq).executeTakeFirst();
    entriesRead++;
    if (!row) return broken(`entry #${prev.seq}, verified before, is gone (removed)`);
    const keyed = prev.seq >= state.keyedFromSeq;
    if (row.hash !== prev.hash || (keyed && !sameDigest(keyedEntryHash(key, row.prev_hash, row), row.hash))) return broken(`entry #${prev.seq}, verified before, was changed`);
  }
  for (;;) {
    const after = prev?.seq ?? 0;
    const rows = await db.selectFrom('audit_log').select(columns).where('seq', '>', after).orderBy('seq').limit(BATCH).execute();
    for (const row of rows) {
      entriesRead++;
      const seq = Number(row.seq);
      if (seq !== (prev?.seq ?? 0) + 1) return broken(`a gap in seq after entry #${prev?.seq ?? 0}: entries are missing (removed)`);
      const prevHash = prev?.hash ?? GENESIS_HASH;
      if (row.prev_hash !== prevHash) return broken(`entry #${seq} does not link to the entry before it`);
      if (!sameDigest(keyedEntryHash(key, row.prev_hash, row), row.hash)) return broken(`entry #${seq} does not verify under the audit chain key (altered)`);
      prev = { seq, hash: row.hash };
    }
    if (rows.length < BATCH) break;
  }
  lastChainCheck = { kind: 'incremental', entriesRead };
  return { ...state, head: prev };
}

async function chainProblem(now: Date): Promise<string | null> {
  let state = g.__alertsChain;
  const t = now.getTime();
  if (!state || state.place !== place() || t - state.fullAt >= (state.broken ? BROKEN_RECHECK_MS : FULL_VERIFY_EVERY_MS) || (!state.broken && !state.head)) {
    state = await verifyWhole(now);
  } else if (!state.broken) {
    state = await verifyIncrement(state);
  }
  g.__alertsChain = state;
  return state.broken;
}

export const auditChainCondition: Condition = async (_rule, { now }) => {
  const subjects: ConditionSubject[] = [];
  const problem = await chainProblem(now);
  if (problem) subjects.push({ storeId: AUDIT_SUBJECT_STORE, name: 'audit chain', url: absoluteUrl('/audit'), status: `does not verify: ${problem}` });
  const anchor = await lastAnchor();
  if (anchor?.s3Error) subjects.push({ storeId: AUDIT_SUBJECT_STORE, name: 'audit anchor', url: absoluteUrl('/audit'), status: `anchor of entry #${anchor.seq} not written to S3` });
  return subjects;
};
