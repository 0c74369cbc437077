import 'server-only';
import { z } from 'zod';
import { fullPassDue, runFullChainPass } from '@/lib/audit/chain-full-pass';
import type { FullPassVerdict } from '@/lib/audit/chain-verdict-store';
import { logger } from '@/lib/logger';
import { runWhileLeader, type LeaderHandle } from './leader';
import { processHolderId } from './process-holder';
import { requestRun } from './run-requests';

// The audit chain's full pass, in the background on the replica holding the
// 'audit-chain-verification' lease: looked at every CHECK_EVERY_MS, run when due (never run,
// AUDIT_FULL_VERIFY_HOURS old, a break to look at again: lib/audit/chain-full-pass.ts), and at
// once when asked (the /audit button, from any replica, through a background request). One pass at
// a time; a replica losing the lease stops its pass, and the next leader starts again.

export const AUDIT_CHAIN_LEASE = 'audit-chain-verification';
const CHECK_EVERY_MS = 60_000;

const requestSchema = z.object({ pass: z.literal('full') });

interface Slot {
  leader: LeaderHandle;
  holder: string;
  timer: NodeJS.Timeout | null;
  running: Promise<FullPassVerdict | null> | null;
  abort: AbortController | null;
}

const g = globalThis as unknown as { __auditChainVerification?: Slot };

const log = logger.child({ component: 'audit-chain-verification' });

function startPass(slot: Slot): Promise<FullPassVerdict | null> {
  if (slot.running) return slot.running;
  const abort = (slot.abort = new AbortController());
  slot.running = runFullChainPass({ holder: slot.holder, signal: abort.signal })
    .then((pass) => {
      if (pass.state === 'broken') log.warn({ seq: pass.break?.seq, problem: pass.break?.problem, checked: pass.checked }, 'audit chain full pass: broken');
      else log.info({ state: pass.state, checked: pass.checked }, 'audit chain full pass done');
      return pass;
    })
    .catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error) }, 'audit chain full pass failed');
      return null;
    })
    .finally(() => {
      slot.running = null;
      slot.abort = null;
    });
  return slot.running;
}

/** Starts looking after the full pass (once per process). `checkEveryMs`, `holder` for tests. */
export function startAuditChainVerification(options: { checkEveryMs?: number; holder?: string; ttlMs?: number; renewEveryMs?: number; requestPollMs?: number } = {}): void {
  if (g.__auditChainVerification) return;
  const holder = options.holder ?? processHolderId();
  const checkEveryMs = options.checkEveryMs ?? CHECK_EVERY_MS;
  const tick = (slot: Slot) => {
    if (slot.running) return;
    fullPassDue(new Date(), holder)
      .then((due) => {
        if (due && slot.leader.isLeader()) void startPass(slot);
      })
      .catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not tell whether a full pass is due'));
  };
  const slot: Slot = {
    holder,
    timer: null,
    running: null,
    abort: null,
    leader: runWhileLeader(AUDIT_CHAIN_LEASE, {
      holder,
      ...(options.ttlMs ? { ttlMs: options.ttlMs } : {}),
      ...(options.renewEveryMs ? { renewEveryMs: options.renewEveryMs } : {}),
      ...(options.requestPollMs ? { requestPollMs: options.requestPollMs } : {}),
      onLead: () => {
        tick(slot);
        slot.timer = setInterval(() => tick(slot), checkEveryMs);
        slot.timer.unref();
      },
      onLoseLead: async () => {
        if (slot.timer) clearInterval(slot.timer);
        slot.timer = null;
        slot.abort?.abort(new Error('this replica no longer holds the audit-chain-verification lease'));
        await slot.running;
      },
      onRequests: (payloads) => {
        if (payloads.some((p) => requestSchema.safeParse(p).success)) void startPass(slot);
      },
    }),
  };
  g.__auditChainVerification = slot;
}

/** Stops it (tests, shutdown): a pass under way is stopped and kept as failed. */
export async function stopAuditChainVerification(): Promise<void> {
  const slot = g.__auditChainVerification;
  if (!slot) return;
  g.__auditChainVerification = undefined;
  await slot.leader.stop();
  await slot.running;
}

/**
 * Asks for a full pass now: started here when this replica leads ('started'), already under way
 * here ('running'), or queued for the leader ('queued'; 'already-queued' when asked twice).
 */
export async function requestFullChainPass(): Promise<'started' | 'running' | 'queued' | 'already-queued'> {
  const slot = g.__auditChainVerification;
  if (slot?.leader.isLeader()) {
    if (slot.running) return 'running';
    void startPass(slot);
    return 'started';
  }
  return (await requestRun(AUDIT_CHAIN_LEASE, { pass: 'full' })) ? 'queued' : 'already-queued';
}

/** The pass under way in this process, if any (tests wait for it). */
export function fullPassInProcess(): Promise<FullPassVerdict | null> | null {
  return g.__auditChainVerification?.running ?? null;
}
