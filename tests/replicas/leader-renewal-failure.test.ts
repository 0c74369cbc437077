import { afterEach, describe, expect, it, vi } from 'vitest';

// A leader that cannot renew stops its work before its lease could run out, whether the database
// answers with an error or does not answer at all. The lease table is replaced by a script here.

const lease = vi.hoisted(() => ({ answers: [] as (() => Promise<boolean>)[] }));
vi.mock('@/lib/db/lease', () => ({
  tryAcquire: vi.fn(() => (lease.answers.shift() ?? (() => new Promise<boolean>(() => undefined)))()),
  release: vi.fn(async () => undefined),
}));

const { runWhileLeader } = await import('@/lib/background/leader');

describe('a leader whose renewal fails', () => {
  const handles: { stop(): Promise<void> }[] = [];
  afterEach(async () => {
    lease.answers = [];
    await Promise.all(handles.splice(0).map((h) => Promise.race([h.stop(), new Promise((r) => setTimeout(r, 50))])));
  });

  function lead(events: string[]) {
    const handle = runWhileLeader('scripted', {
      ttlMs: 400,
      renewEveryMs: 50,
      holder: 'me',
      onLead: () => void events.push('lead'),
      onLoseLead: () => void events.push('lose'),
    });
    handles.push(handle);
    return handle;
  }

  it('stops at once when the database refuses the renewal, and leads again once a renewal succeeds', async () => {
    lease.answers = [async () => true, async () => Promise.reject(new Error('connection terminated')), async () => true];
    const events: string[] = [];
    const handle = lead(events);
    await vi.waitFor(() => expect(events).toEqual(['lead', 'lose', 'lead']));
    expect(handle.isLeader()).toBe(true);
  });

  it('stops before the lease runs out when a renewal never answers', async () => {
    lease.answers = [async () => true]; // then every call hangs
    const events: string[] = [];
    const handle = lead(events);
    await vi.waitFor(() => expect(events).toEqual(['lead']));
    await vi.waitFor(() => expect(events).toEqual(['lead', 'lose']), { timeout: 2_000 });
    expect(handle.isLeader()).toBe(false);
  });
});
