import 'server-only';
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { logger } from '@/lib/logger';
import type { AlertsDb, ClaimedDelivery, DeliveryOutcome } from './alerts-db';
import type { ChannelSender, DeliveryResult } from './types';

// Delivery of the queued messages: each channel drains its due rows one at a time (claim, send,
// record), and channels drain side by side, so one that fails or hangs never holds up another. A
// claim is a conditional UPDATE by id, so two workers never send the same row; a claim lasts
// claimForMs, after which a row left "sending" by a replica that died is taken again. Failures
// are retried with exponential backoff and jitter (30 s, 1, 2, 4 … min, at most 1 h; a
// Retry-After wins) while retryable and fewer than ALERTS_MAX_ATTEMPTS; then the row is dead,
// with its cause. A send cut off by a crash after the receiver got it is sent again: receivers
// deduplicate by the message's dedupKey (PagerDuty's dedup_key, the webhook's id).

const settingsSchema = z.object({
  ALERTS_MAX_ATTEMPTS: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z.coerce
      .number({ error: 'ALERTS_MAX_ATTEMPTS must be a whole number of attempts' })
      .int({ message: 'ALERTS_MAX_ATTEMPTS must be a whole number of attempts' })
      .min(1, { message: 'ALERTS_MAX_ATTEMPTS must be at least 1' })
      .max(100, { message: 'ALERTS_MAX_ATTEMPTS must be at most 100' })
      .default(8),
  ),
});

/** How many attempts a message gets before it is dead (ALERTS_MAX_ATTEMPTS, default 8). */
export function maxDeliveryAttempts(source: Record<string, string | undefined> = process.env): number {
  const parsed = settingsSchema.safeParse(source);
  if (!parsed.success) throw new Error(`${parsed.error.issues[0]!.message}. Fix it in the environment, or unset it for the default (8).`);
  return parsed.data.ALERTS_MAX_ATTEMPTS;
}

export const FIRST_RETRY_MS = 30_000;
export const MAX_RETRY_MS = 3_600_000;
const DEFAULT_CLAIM_MS = 5 * 60_000;
const DEFAULT_SEND_TIMEOUT_MS = 60_000;
const DEFAULT_BATCH = 500;

/** When to try again after the n-th failed attempt: 30 s doubling, ±20 % jitter, at most an hour; a Retry-After wins. */
export function retryDelayMs(attempts: number, random: () => number = Math.random, retryAfterMs?: number): number {
  if (retryAfterMs !== undefined && Number.isFinite(retryAfterMs) && retryAfterMs >= 0) return Math.min(Math.round(retryAfterMs), MAX_RETRY_MS);
  const base = FIRST_RETRY_MS * 2 ** Math.min(Math.max(attempts - 1, 0), 20);
  return Math.min(Math.round(base * (0.8 + 0.4 * random())), MAX_RETRY_MS);
}

export interface DeliveryOptions {
  /** The clock (tests move it instead of sleeping). */
  now?: () => Date;
  random?: () => number;
  /** Default: ALERTS_MAX_ATTEMPTS. */
  maxAttempts?: number;
  /** How long a claimed row stays "sending" before another worker may take it again (a replica died mid-send). Longer than sendTimeoutMs. */
  claimForMs?: number;
  /** One send is given up (and retried) after this long, whatever the channel does. */
  sendTimeoutMs?: number;
  /** Rows one channel sends in one pass. */
  batch?: number;
}

export interface DeliveryCounts {
  delivered: number;
  /** Failed attempts that will be tried again. */
  retrying: number;
  dead: number;
  /** Rows another worker claimed first, or whose claim timed out before the outcome was recorded. */
  lost: number;
}

const zero = (): DeliveryCounts => ({ delivered: 0, retrying: 0, dead: 0, lost: 0 });
const add = (a: DeliveryCounts, b: DeliveryCounts): DeliveryCounts => ({ delivered: a.delivered + b.delivered, retrying: a.retrying + b.retrying, dead: a.dead + b.dead, lost: a.lost + b.lost });

export class DeliveryWorker {
  private readonly senders: Map<string, ChannelSender>;
  private readonly now: () => Date;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly claimForMs: number;
  private readonly sendTimeoutMs: number;
  private readonly batch: number;
  private readonly draining = new Map<string, Promise<DeliveryCounts>>();
  /** Set by stop(): no new claims. */
  private stopped = false;
  /** Aborted by stop({ abort: true }) only: cuts sends under way off. */
  private readonly aborting = new AbortController();

  constructor(
    private readonly db: AlertsDb,
    senders: readonly ChannelSender[],
    options: DeliveryOptions = {},
  ) {
    this.senders = new Map(senders.map((s) => [s.id, s]));
    this.now = options.now ?? (() => new Date());
    this.random = options.random ?? Math.random;
    this.maxAttempts = options.maxAttempts ?? maxDeliveryAttempts();
    this.sendTimeoutMs = options.sendTimeoutMs ?? DEFAULT_SEND_TIMEOUT_MS;
    this.claimForMs = options.claimForMs ?? Math.max(DEFAULT_CLAIM_MS, this.sendTimeoutMs * 2);
    if (!(this.claimForMs > this.sendTimeoutMs)) throw new Error('alert delivery: a claim must outlast a send (claimForMs > sendTimeoutMs), or a slow send could be taken again while it runs');
    this.batch = options.batch ?? DEFAULT_BATCH;
  }

  /** Starts draining every channel with due rows that is not draining already, and returns (the background loop). */
  async tick(): Promise<void> {
    if (this.stopped) return;
    for (const channelId of await this.db.dueChannels(this.now())) this.startDrain(channelId);
  }

  /** One pass over every channel with due rows, side by side, awaited (tests, "send now"). */
  async runOnce(): Promise<DeliveryCounts> {
    const channels = await this.db.dueChannels(this.now());
    const results = await Promise.all(channels.map((channelId) => this.startDrain(channelId)));
    return results.reduce(add, zero());
  }

  /**
   * Stops claiming and waits for the sends under way (each at most sendTimeoutMs): a send cut off
   * after the receiver had it would be sent again by the next leader, a double. The lease is given
   * up after this returns; were it lost instead, the rows still being sent stay claimed, so the next
   * leader cannot take them before their claim times out. `abort` cuts the sends off (the process is
   * exiting; they are retried).
   */
  async stop(options: { abort?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (options.abort) this.aborting.abort();
    await Promise.allSettled([...this.draining.values()]);
  }

  private startDrain(channelId: string): Promise<DeliveryCounts> {
    const running = this.draining.get(channelId);
    if (running) return running.then(zero);
    const drain = this.drain(channelId)
      .catch((error) => {
        logger.error({ channel: channelId, err: error instanceof Error ? error.message : 'unknown' }, 'alert delivery failed');
        return zero();
      })
      .finally(() => this.draining.delete(channelId));
    this.draining.set(channelId, drain);
    return drain;
  }

  private async drain(channelId: string): Promise<DeliveryCounts> {
    const counts = zero();
    for (let i = 0; i < this.batch && !this.stopped; i++) {
      const claim = await this.db.claimNext(channelId, this.now(), this.claimForMs, randomUUID());
      if (claim === 'none') break;
      if (claim === null) {
        counts.lost++;
        continue;
      }
      const outcome = await this.attempt(claim);
      if (!(await this.db.recordOutcome(claim, outcome, this.now()))) {
        counts.lost++;
        continue;
      }
      if (outcome.status === 'delivered') counts.delivered++;
      else if (outcome.status === 'failed') counts.retrying++;
      else counts.dead++;
      const log = { channel: channelId, delivery: claim.id, action: claim.action, attempts: claim.attempts, dedupKey: claim.message.dedupKey };
      if (outcome.status === 'dead') logger.warn({ ...log, cause: outcome.cause }, 'alert delivery dead');
      else if (outcome.status === 'failed') logger.info({ ...log, cause: outcome.cause, next: outcome.nextAttemptAt }, 'alert delivery will be retried');
    }
    return counts;
  }

  private async attempt(claim: ClaimedDelivery): Promise<DeliveryOutcome> {
    const sender = this.senders.get(claim.channelId);
    if (!sender) return { status: 'dead', cause: `channel "${claim.channelId}" is not configured (any more)` };
    const result = await this.send(sender, claim);
    if (result.ok) return { status: 'delivered' };
    if (this.aborting.signal.aborted) return { status: 'failed', cause: `${result.cause} (this replica stopped; sent again by the next)`, nextAttemptAt: this.now().toISOString() };
    if (!result.retryable) return { status: 'dead', cause: result.cause };
    if (claim.attempts >= this.maxAttempts) return { status: 'dead', cause: `${result.cause} (gave up after ${claim.attempts} attempt${claim.attempts === 1 ? '' : 's'})` };
    const delay = retryDelayMs(claim.attempts, this.random, result.retryAfterMs);
    return { status: 'failed', cause: result.cause, nextAttemptAt: new Date(this.now().getTime() + delay).toISOString() };
  }

  /** One send, cut off after sendTimeoutMs (or an aborting stop) even when the channel ignores its signal. */
  private async send(sender: ChannelSender, claim: ClaimedDelivery): Promise<DeliveryResult> {
    const timeout = new AbortController();
    const signal = AbortSignal.any([this.aborting.signal, timeout.signal]);
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const cutOff = new Promise<DeliveryResult>((resolve) => {
      const give = (cause: string) => resolve({ ok: false, retryable: true, cause });
      timer = setTimeout(() => {
        timeout.abort();
        give(`the ${sender.kind} channel did not answer within ${Math.round(this.sendTimeoutMs / 1000)} s`);
      }, this.sendTimeoutMs);
      timer.unref?.();
      onAbort = () => give('the send was cut off (stopping)');
      this.aborting.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([
        sender.send(claim.message, signal).catch(
          (error: unknown): DeliveryResult => ({ ok: false, retryable: true, cause: `the ${sender.kind} channel failed unexpectedly (${error instanceof Error ? error.name : 'error'})` }),
        ),
        cutOff,
      ]);
    } finally {
      clearTimeout(timer);
      // The worker's signal lives as long as the worker: one listener per send would pile up.
      if (onAbort) this.aborting.signal.removeEventListener('abort', onAbort);
    }
  }
}
