import { describe, expect, it } from 'vitest';
import { RateLimiter, type Clock } from '@/lib/inventory/rate-limiter';

// The pacing every background reader uses (inventory walks, resource policies, consumer scans), on a
// clock the test moves: never more than the ceiling in any second, slower after throttling, back up after calm.

function fakeClock(): Clock & { t: number } {
  const clock = {
    t: 0,
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.t += ms;
    },
  };
  return clock;
}

async function startTimes(limiter: RateLimiter, clock: { t: number }, calls: number): Promise<number[]> {
  const starts: number[] = [];
  for (let i = 0; i < calls; i++) {
    await limiter.take();
    starts.push(clock.t);
  }
  return starts;
}

const maxInAnySecond = (starts: number[]) => Math.max(...starts.map((s) => starts.filter((x) => x >= s && x < s + 1000).length));

describe('RateLimiter', () => {
  it.each([1, 2, 5, 20, 50])('starts at most %i calls in any second, and about that many', async (ceiling) => {
    const clock = fakeClock();
    const starts = await startTimes(new RateLimiter(ceiling, clock), clock, ceiling * 10);
    expect(maxInAnySecond(starts)).toBeLessThanOrEqual(ceiling);
    // Ten seconds' worth takes about ten seconds (the margin costs at most a tenth).
    expect(starts.at(-1)! / 1000).toBeGreaterThan(8.9);
    expect(starts.at(-1)! / 1000).toBeLessThan(11);
  });

  it('keeps a margin between the window edges at low rates, so calls that arrive late do not bunch up', async () => {
    const clock = fakeClock();
    const starts = await startTimes(new RateLimiter(5, clock), clock, 20);
    // The sixth call starts at least a second and 100 ms after the first.
    for (let i = 5; i < starts.length; i++) expect(starts[i]! - starts[i - 5]!).toBeGreaterThanOrEqual(1100);
  });

  it('halves its rate on throttling and creeps back after calm calls, never above the ceiling', () => {
    const limiter = new RateLimiter(10, fakeClock());
    limiter.throttled();
    expect(limiter.currentRate).toBe(5);
    limiter.throttled();
    expect(limiter.currentRate).toBe(2.5);
    for (let i = 0; i < 5; i++) limiter.succeeded();
    expect(limiter.currentRate).toBe(3.5);
    for (let i = 0; i < 100; i++) limiter.succeeded();
    expect(limiter.currentRate).toBe(10);
  });

  it('refuses a rate that is not above zero', () => {
    expect(() => new RateLimiter(0)).toThrow(/above 0/);
  });
});
