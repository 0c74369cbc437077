// Paces calls to one AWS operation: never above the configured rate, and slower for a while after
// AWS answers with throttling (someone else in the account is using the same quota). The rate
// halves on a throttle and creeps back up by a tenth of the ceiling every few calls without one.

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const realClock: Clock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

/** Slack for calls that start a second apart but arrive closer (network and event-loop jitter). */
const WINDOW_MARGIN_MS = 25;
/** At low rates a late arrival weighs more (one call of five), and the slack costs little: up to this. */
const LOW_RATE_MARGIN_MS = 100;

export class RateLimiter {
  private rate: number;
  private nextSlot = 0;
  private calmCalls = 0;
  /** Start times of the latest calls (at least the last `ceiling`). */
  private readonly started: number[] = [];

  constructor(
    /** Calls per second this operation may never exceed. */
    readonly ceiling: number,
    private readonly clock: Clock = realClock,
    /** The slowest it gets after repeated throttling. */
    private readonly floor = Math.min(ceiling, 0.5),
  ) {
    if (!(ceiling > 0)) throw new Error(`A rate limit must be above 0 calls per second, not ${ceiling}.`);
    this.rate = ceiling;
  }

  get currentRate(): number {
    return this.rate;
  }

  /**
   * Waits for this call's slot. Slots are spaced 1/rate apart, so bursts never exceed the rate; and
   * since a caller may wake late from its slot (a busy event loop) and several callers share one
   * limiter, no call starts before the one `ceiling` calls earlier is a second (and a margin for the
   * network) old: any second holds at most `ceiling` calls.
   */
  async take(): Promise<void> {
    const now = this.clock.now();
    const slot = Math.max(now, this.nextSlot);
    this.nextSlot = slot + 1000 / this.rate;
    if (slot > now) await this.clock.sleep(slot - now);
    // Rounded up: a ceiling of 1.95 (two calls a second with a margin) must still allow two in a second.
    const perSecond = Math.max(1, Math.ceil(this.ceiling));
    for (;;) {
      const oldest = this.started.length >= perSecond ? this.started[this.started.length - perSecond]! : -Infinity;
      const wait = oldest + 1000 + Math.max(WINDOW_MARGIN_MS, Math.min(LOW_RATE_MARGIN_MS, 500 / perSecond)) - this.clock.now();
      if (wait <= 0) break;
      await this.clock.sleep(wait);
    }
    this.started.push(this.clock.now());
    if (this.started.length > 2 * perSecond) this.started.splice(0, this.started.length - perSecond);
  }

  /** AWS throttled a call: halve the rate and push the next slot back by one new interval. */
  throttled(): void {
    this.rate = Math.max(this.floor, this.rate / 2);
    this.calmCalls = 0;
    this.nextSlot = Math.max(this.nextSlot, this.clock.now()) + 1000 / this.rate;
  }

  /** A call went through: after a run of calm calls, recover toward the ceiling. */
  succeeded(): void {
    if (this.rate >= this.ceiling) return;
    if (++this.calmCalls >= 5) {
      this.calmCalls = 0;
      this.rate = Math.min(this.ceiling, this.rate + this.ceiling / 10);
    }
  }
}
