import 'server-only';
import { auditChainKey } from '@/lib/crypto/keyring';
import { appDb } from '@/lib/db/app-db';
import { checkNewEntries, firstBreak } from './chain-verdict';
import { FULL_PASS, readVerdict, type FullPassVerdict, type KeptBreak } from './chain-verdict-store';

// What is known about the audit chain, for /audit and the audit-chain alert: the entries appended
// since the kept head are checked first (cheap: only those), then the kept verdicts are read. Never
// a whole pass: that runs in the background and is shown as it goes.

export interface KeptChainVerdict {
  /** No break known: none among new entries, and the last full pass (if any) verified. */
  intact: boolean;
  /** The first entry known not to verify, and what is wrong with it. */
  brokenAt: number | null;
  problem: string | null;
  /** Who found the break: the last full pass, or the check of new entries. */
  breakFoundBy: 'full-pass' | 'new-entries' | null;
  breakFoundAt: string | null;
  /** Entries verified: the kept head's seq (entries are numbered from 1 without gaps). */
  entries: number | null;
  /** Entries from this seq on are HMAC-linked under the audit chain key (older ones: plain SHA-256). */
  keyedFromSeq: number | null;
  /** New entries are verified up to this one, as of `at`. */
  verifiedUpTo: { seq: number; at: string } | null;
  /** Entries after the head not checked yet (more came than one check reads; the next one goes on). */
  pendingEntries: number;
  /** When the kept verdict was found altered (not sealed under the key) and verification began again; null normally. */
  verdictAlteredAt: string | null;
  /** The last full pass, or the one running. */
  fullPass: {
    state: FullPassVerdict['state'];
    startedAt: string;
    finishedAt: string | null;
    checked: number;
    total: number;
    brokenAt: number | null;
    problem: string | null;
    error: string | null;
  } | null;
}

const describeBreak = (b: KeptBreak) => b.message;

/** Checks what was appended since the kept head, then reads the kept verdicts. */
export async function keptChainVerdict(): Promise<KeptChainVerdict> {
  const check = await checkNewEntries();
  const key = await auditChainKey();
  const full = await readVerdict(await appDb(), key, FULL_PASS);
  const pass = full.body;
  const incremental = check.verdict;
  const fullBreak = pass?.state === 'broken' ? pass.break : null;
  const named = firstBreak(fullBreak, incremental.break);
  const foundBy = !named ? null : named === fullBreak ? 'full-pass' : 'new-entries';
  return {
    intact: named === null && incremental.alteredAt === null && !full.altered,
    brokenAt: named?.seq ?? null,
    problem: named ? describeBreak(named) : null,
    breakFoundBy: foundBy,
    breakFoundAt: named?.foundAt ?? null,
    entries: incremental.head?.seq ?? 0,
    keyedFromSeq: incremental.keyedFromSeq,
    verifiedUpTo: incremental.head ? { seq: incremental.head.seq, at: incremental.verifiedAt } : null,
    pendingEntries: check.pending,
    verdictAlteredAt: incremental.alteredAt ?? (full.altered ? new Date().toISOString() : null),
    fullPass: pass
      ? {
          state: pass.state,
          startedAt: pass.startedAt,
          finishedAt: pass.finishedAt,
          checked: pass.checked,
          total: pass.total,
          brokenAt: pass.break?.seq ?? null,
          problem: pass.break ? describeBreak(pass.break) : null,
          error: pass.error,
        }
      : null,
  };
}
