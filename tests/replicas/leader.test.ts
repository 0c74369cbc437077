import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { leaseTimings, runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { requestRun, takeRequests } from '@/lib/background/run-requests';
import { appDb } from '@/lib/db/app-db';
import { databaseNow } from '@/lib/db/database-clock';
import { dialectOf } from '@/lib/db/dialect';
import { leaseHolder } from '@/lib/db/lease';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// runWhileLeader in one process, on both dialects, with two candidates told apart by holder id
// (the two-process case is tests/replicas/lease-failover.test.ts).

// Renewals every 50 ms; a lease of 3 s, so a machine stalled by other work for a few hundred ms
// (one PostgreSQL round trip under load) does not end a lead these tests expect to hold. No test
// here waits for a lease to expire: leaders give theirs up on stop() or a failing onLead.
const FAST = { ttlMs: 3000, renewEveryMs: 50, requestPollMs: 30 };

function candidate(name: string, holder: string, extra: Partial<Parameters<typeof runWhileLeader>[1]> = {}) {
  const events: string[] = [];
  const handle = runWhileLeader(name, {
    ...FAST,
    holder,
    onLead: () => void events.push('lead'),
    onLoseLead: () => void events.push('lose'),
    ...extra,
  });
  return { handle, events };
}

describe.each(DATABASES)('runWhileLeader (%s)', (kind) => {
  const temp = makeTempDir('secrets-leader-');
  let cleanup: () => Promise<void>;
  const running: LeaderHandle[] = [];
  const track = <T extends { handle: LeaderHandle }>(c: T) => (running.push(c.handle), c);
  beforeAll(async () => {
    process.env.DATA_DIR = temp.dir;
    ({ cleanup } = await useDatabase(kind));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((h) => h.stop()));
  });
  afterAll(async () => {
    await cleanup();
    temp.cleanup();
  });

  it('leads when nobody else does, and stop() ends the work and frees the lease', async () => {
    const a = track(candidate('solo', 'a'));
    await vi.waitFor(() => expect(a.events).toEqual(['lead']));
    expect(a.handle.isLeader()).toBe(true);
    expect(await leaseHolder('solo')).toMatchObject({ holder: 'a' });
    await a.handle.stop();
    expect(a.events).toEqual(['lead', 'lose']);
    expect(a.handle.isLeader()).toBe(false);
    expect(await leaseHolder('solo')).toBeNull();
  });

  it('of two candidates one leads; when it stops, the other takes over', async () => {
    const a = track(candidate('pair', 'a'));
    await vi.waitFor(() => expect(a.events).toEqual(['lead']));
    const b = track(candidate('pair', 'b'));
    // b keeps trying (every 50 ms) and keeps being refused while a renews.
    await vi.waitFor(async () => expect((await leaseHolder('pair'))?.holder).toBe('a'));
    for (let i = 0; i < 5; i++) expect(await leaseHolder('pair')).toMatchObject({ holder: 'a' });
    expect(b.events).toEqual([]);
    await a.handle.stop();
    await vi.waitFor(() => expect(b.events).toEqual(['lead']));
    expect(b.handle.isLeader()).toBe(true);
    expect(a.events).toEqual(['lead', 'lose']);
  });

  it('a leader whose lease was taken calls onLoseLead at its next renewal', async () => {
    const a = track(candidate('stolen', 'a'));
    await vi.waitFor(() => expect(a.events).toEqual(['lead']));
    const db = await appDb();
    await db.updateTable('leases').set({ holder: 'someone-else', expires_at: databaseNow(dialectOf(db), 600_000) }).where('name', '=', 'stolen').execute();
    await vi.waitFor(() => expect(a.events).toEqual(['lead', 'lose']));
    expect(a.handle.isLeader()).toBe(false);
  });

  it('a failing onLead gives the lead up (onLoseLead undoes the half start) and tries again later', async () => {
    let attempts = 0;
    const events: string[] = [];
    const handle = runWhileLeader('flaky', {
      ...FAST,
      holder: 'a',
      onLead: () => {
        attempts++;
        events.push('lead');
        if (attempts === 1) throw new Error('could not start');
      },
      onLoseLead: () => void events.push('lose'),
    });
    running.push(handle);
    await vi.waitFor(() => expect(events).toEqual(['lead', 'lose', 'lead']));
    expect(handle.isLeader()).toBe(true);
  });

  it('the leader gets requests made with requestRun, each once, the same request twice counted once', async () => {
    const received: unknown[] = [];
    const a = track(candidate('requests', 'a', { onRequests: (payloads) => void received.push(...payloads) }));
    await vi.waitFor(() => expect(a.events).toEqual(['lead']));
    // The same request twice is kept once: asked for work no leader takes here, so none can take the
    // first between the two (the leader polls every 30 ms, less than two calls can take under load).
    expect(await requestRun('other-work', { storeId: 'prod' })).toBe(true);
    expect(await requestRun('other-work', { storeId: 'prod' })).toBe(false);
    expect(await requestRun('requests', { storeId: 'prod' })).toBe(true);
    await vi.waitFor(() => expect(received).toEqual([{ storeId: 'prod' }]));
    expect(await requestRun('requests', { storeId: 'dev' })).toBe(true);
    await vi.waitFor(() => expect(received).toEqual([{ storeId: 'prod' }, { storeId: 'dev' }]));
    // Requests for other work stay for their own leader.
    expect(await takeRequests('other-work')).toEqual([{ storeId: 'prod' }]);
    expect(await takeRequests('other-work')).toEqual([]);
  });

  it('a non-leader does not take requests', async () => {
    const a = track(candidate('only-leader', 'a'));
    await vi.waitFor(() => expect(a.events).toEqual(['lead']));
    const seenByB: unknown[] = [];
    const seenByA: unknown[] = [];
    await a.handle.stop();
    const a2 = track(candidate('only-leader', 'a', { onRequests: (p) => void seenByA.push(...p) }));
    await vi.waitFor(() => expect(a2.events).toEqual(['lead']));
    track(candidate('only-leader', 'b', { onRequests: (p) => void seenByB.push(...p) }));
    await requestRun('only-leader', { n: 1 });
    await vi.waitFor(() => expect(seenByA).toEqual([{ n: 1 }]));
    expect(seenByB).toEqual([]);
  });
});

describe('lease timings from the environment', () => {
  it('defaults to 30 s renewed every 10 s', () => {
    expect(leaseTimings({})).toEqual({ ttlMs: 30_000, renewEveryMs: 10_000, requestPollMs: 2_000 });
  });

  it('takes shorter ones for tests', () => {
    expect(leaseTimings({ LEASE_TTL_MS: '1500', LEASE_RENEW_MS: '200', BACKGROUND_REQUEST_POLL_MS: '' })).toEqual({ ttlMs: 1500, renewEveryMs: 200, requestPollMs: 2_000 });
  });

  it('refuses a renewal period that would let the lease expire, or a non-number, naming the variable', () => {
    expect(() => leaseTimings({ LEASE_TTL_MS: '1000', LEASE_RENEW_MS: '5000' })).toThrow(/LEASE_RENEW_MS: .*shorter than LEASE_TTL_MS/);
    expect(() => leaseTimings({ LEASE_TTL_MS: 'soon' })).toThrow(/LEASE_TTL_MS/);
  });
});
