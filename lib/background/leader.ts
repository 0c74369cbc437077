import 'server-only';
import { z } from 'zod';
import { release, tryAcquire } from '@/lib/db/lease';
import { logger } from '@/lib/logger';
import { processHolderId } from './process-holder';
import { takeRequests } from './run-requests';

// Background work that one replica at a time must do (the inventory sync, the CloudTrail sync):
// every replica calls runWhileLeader, the one holding the lease runs the work (onLead), the others
// keep trying and take over once the leader's lease expired (it was killed, or lost the database).
// A leader that cannot renew in time stops at once (onLoseLead), before its lease could expire and
// another replica start the same work; a leader shutting down gives the lease up for the next.

// Timings can be shortened for tests through the environment. (Read here rather than in
// lib/config/env.ts while the coordination is new; they may move there.)
const positiveMs = (fallback: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int().min(10).max(24 * 3_600_000).default(fallback));

const timingSchema = z
  .object({
    /** How long a lease lasts unless renewed: how long a killed leader's work waits for another replica. */
    LEASE_TTL_MS: positiveMs(30_000),
    /** How often the leader renews, and how often the others try to take over. */
    LEASE_RENEW_MS: positiveMs(10_000),
    /** How often the leader looks for "run this now" requests from other replicas. */
    BACKGROUND_REQUEST_POLL_MS: positiveMs(2_000),
  })
  .refine((t) => t.LEASE_RENEW_MS < t.LEASE_TTL_MS, {
    message: 'LEASE_RENEW_MS must be shorter than LEASE_TTL_MS (a third of it is usual), or the lease expires between renewals',
    path: ['LEASE_RENEW_MS'],
  });

export interface LeaseTimings {
  ttlMs: number;
  renewEveryMs: number;
  requestPollMs: number;
}

/** The lease timings from the environment (defaults: 30 s, renewed every 10 s; requests every 2 s). */
export function leaseTimings(source: Record<string, string | undefined> = process.env): LeaseTimings {
  const parsed = timingSchema.safeParse(source);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`${issue.path.join('.')}: ${issue.message}. Fix it in the environment, or unset it for the default.`);
  }
  return { ttlMs: parsed.data.LEASE_TTL_MS, renewEveryMs: parsed.data.LEASE_RENEW_MS, requestPollMs: parsed.data.BACKGROUND_REQUEST_POLL_MS };
}

export interface LeaderOptions {
  /** Overrides LEASE_TTL_MS. */
  ttlMs?: number;
  /** Overrides LEASE_RENEW_MS; must be shorter than ttlMs. */
  renewEveryMs?: number;
  /** Who holds the lease; defaults to this process (tests run two candidates in one process). */
  holder?: string;
  /** Overrides BACKGROUND_REQUEST_POLL_MS. */
  requestPollMs?: number;
  /** This process now leads: start the work. A failure gives the lead up (and calls onLoseLead). */
  onLead: () => void | Promise<void>;
  /** This process no longer leads (lost the lease, could not renew, or stop()): stop the work now. */
  onLoseLead: () => void | Promise<void>;
  /** While leading: requests other processes made with requestRun(name, …), as JSON (validate them). */
  onRequests?: (payloads: unknown[]) => void | Promise<void>;
}

export interface LeaderHandle {
  readonly name: string;
  /** This process's id in the lease table. */
  readonly holder: string;
  isLeader(): boolean;
  /** Stops trying; when leading, calls onLoseLead and gives the lease up. */
  stop(): Promise<void>;
}

export function runWhileLeader(name: string, options: LeaderOptions): LeaderHandle {
  const env = leaseTimings();
  const ttlMs = options.ttlMs ?? env.ttlMs;
  const renewEveryMs = options.renewEveryMs ?? env.renewEveryMs;
  const requestPollMs = options.requestPollMs ?? env.requestPollMs;
  if (!(renewEveryMs < ttlMs)) throw new Error(`lease "${name}": renewing every ${renewEveryMs} ms cannot keep a ${ttlMs} ms lease; renew more often than it expires`);
  const holder = options.holder ?? processHolderId();
  const stopMarginMs = Math.min(renewEveryMs, ttlMs / 4);
  const log = logger.child({ lease: name });

  let leading = false;
  /** Counts the times this process took the lead, so a request poll of an earlier term ends with it. */
  let term = 0;
  let stopped = false;
  let tickTimer: NodeJS.Timeout | null = null;
  let deadline: NodeJS.Timeout | null = null;
  let pollTimer: NodeJS.Timeout | null = null;
  let tickInFlight: Promise<void> = Promise.resolve();
  // onLead, onLoseLead and onRequests run one after another, never overlapping.
  let callbacks: Promise<void> = Promise.resolve();

  const queue = (what: string, fn: () => void | Promise<void>): Promise<void> => {
    callbacks = callbacks.then(async () => {
      try {
        await fn();
      } catch (error) {
        log.error({ err: error instanceof Error ? error.message : String(error) }, `${what} failed`);
        throw error;
      }
    }).catch(() => undefined);
    return callbacks;
  };

  const clearTimer = (t: NodeJS.Timeout | null) => {
    if (t) clearTimeout(t);
    return null;
  };

  const loseLead = (why: string): Promise<void> => {
    if (!leading) return callbacks;
    leading = false;
    deadline = clearTimer(deadline);
    pollTimer = clearTimer(pollTimer);
    if (why === 'stopping') log.info({ holder }, 'stopped leading');
    else log.warn({ holder, why }, 'no longer leading');
    return queue('onLoseLead', options.onLoseLead);
  };

  const pollRequests = (pollTerm: number) => {
    if (!leading || stopped || pollTerm !== term || !options.onRequests) return;
    pollTimer = setTimeout(() => {
      void queue('onRequests', async () => {
        if (!leading || pollTerm !== term) return;
        const payloads = await takeRequests(name);
        if (payloads.length > 0) await options.onRequests!(payloads);
      }).then(() => pollRequests(pollTerm));
    }, requestPollMs);
    pollTimer.unref();
  };

  const takeLead = () => {
    leading = true;
    const myTerm = ++term;
    log.info({ holder }, 'leading');
    void queue('onLead', async () => {
      try {
        await options.onLead();
      } catch (error) {
        // Half-started work is stopped, and the lease freed for a replica that may fare better.
        if (leading) {
          leading = false;
          deadline = clearTimer(deadline);
          await Promise.resolve(options.onLoseLead()).catch(() => undefined);
          await release(name, holder).catch(() => undefined);
        }
        throw error;
      }
      pollRequests(myTerm);
    });
  };

  const tick = async () => {
    // The lease runs from when the database saw the statement, which is after this moment: a
    // local deadline counted from startedAt falls before the lease really expires.
    const startedAt = Date.now();
    let held = false;
    try {
      held = await tryAcquire(name, holder, ttlMs);
    } catch (error) {
      log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not reach the lease table');
    }
    if (stopped) return;
    if (!held) {
      if (leading) await loseLead('the lease could not be renewed');
      return;
    }
    // A renewal that hangs ends the lead a little before the lease runs out, so the work has that
    // long to stop before another replica may start it.
    deadline = clearTimer(deadline);
    deadline = setTimeout(() => void loseLead('no renewal succeeded in time'), Math.max(0, startedAt + ttlMs - stopMarginMs - Date.now()));
    deadline.unref();
    if (!leading) takeLead();
  };

  const schedule = () => {
    if (stopped) return;
    tickInFlight = tick().finally(() => {
      if (stopped) return;
      tickTimer = setTimeout(schedule, renewEveryMs);
      tickTimer.unref();
    });
  };
  schedule();

  return {
    name,
    holder,
    isLeader: () => leading,
    async stop() {
      if (stopped) return;
      stopped = true;
      tickTimer = clearTimer(tickTimer);
      await tickInFlight;
      deadline = clearTimer(deadline);
      await loseLead('stopping');
      await callbacks;
      // Whether or not the work had started, a lease this process holds is given up (deletes nothing otherwise).
      await release(name, holder).catch(() => undefined);
    },
  };
}
