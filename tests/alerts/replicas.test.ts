import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import type { AlertsDb } from '@/lib/alerts/alerts-db';
import { DeliveryWorker } from '@/lib/alerts/delivery';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { httpSender, openAlertsStore, rule, subjects, startReceiver, type AlertsStoreFixture } from './support/alerts-fixture';

// Two replicas on one PostgreSQL database, each with a pool of its own: both record the same
// conditions as they change, both run delivery, and each alert (each trigger and each resolve)
// reaches the receiver once. First as the app runs them (the 'alerts-delivery' lease decides who
// sends, and the lead moves from one replica to the other half-way), then without the lease at all
// (both workers claiming from the same queue at once): the claim alone keeps each message single.
// (The throwaway PostgreSQL of the test set-up, or TEST_DATABASE_URL's server.)

const CHANNELS = ['slack', 'pager'];

describe('exactly once across two replicas (postgres)', () => {
  let store: AlertsStoreFixture;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let replicas: AlertsDb[];

  beforeAll(async () => {
    store = await openAlertsStore('postgres');
    replicas = [store.db, await store.another()];
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await store.cleanup();
  });

  const senders = () => CHANNELS.map((c) => httpSender(c, receiver.url));
  const rules = CHANNELS.map((channel) => rule({ id: `rule-${channel}`, channel }));
  /** Both replicas record the same set at the same moment, for every rule. */
  const recordOnBoth = (names: ReturnType<typeof subjects>, now: Date) =>
    Promise.all(replicas.flatMap((db) => rules.map((r) => db.recordConditions({ rule: r, event: 'overdue', subjects: names, now }))));
  const allDone = async () => (await store.db.deliveries({ limit: 100_000 })).every((d) => d.status === 'delivered');

  it('under the alerts-delivery lease, moving from one replica to the other: every trigger and resolve arrives once', async () => {
    receiver.reset();
    const leaders: LeaderHandle[] = replicas.map((db, index) => {
      let worker: DeliveryWorker | null = null;
      let timer: NodeJS.Timeout | null = null;
      return runWhileLeader('alerts-delivery', {
        holder: `replica-${index}`,
        ttlMs: 1_500,
        renewEveryMs: 300,
        onLead: () => {
          worker = new DeliveryWorker(db, senders(), { maxAttempts: 3 });
          timer = setInterval(() => void worker?.tick(), 25);
        },
        onLoseLead: async () => {
          if (timer) clearInterval(timer);
          await worker?.stop();
          worker = null;
        },
      });
    });
    // Rounds of conditions: each opens 20 new items and resolves the 20 oldest (no item reopens).
    const all = subjects(140);
    for (let round = 0; round < 6; round++) {
      await recordOnBoth(all.slice(round * 20, round * 20 + 40), new Date());
      if (round === 2) {
        // The leader shuts down (its lease given up); the other replica takes over.
        await vi.waitFor(() => expect(leaders.some((l) => l.isLeader())).toBe(true), { timeout: 5_000 });
        const leading = leaders.findIndex((l) => l.isLeader());
        await leaders[leading]!.stop();
        await vi.waitFor(() => expect(leaders[1 - leading]!.isLeader()).toBe(true), { timeout: 5_000 });
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    await vi.waitFor(async () => expect(await allDone()).toBe(true), { timeout: 15_000, interval: 100 });
    for (const leader of leaders) await leader.stop();

    // 100 items resolved and 40 still open, per channel: 140 triggers and 100 resolves each, every one once.
    const delivered = receiver.delivered();
    const triggers = [...delivered.keys()].filter((k) => k.endsWith('|trigger'));
    const resolves = [...delivered.keys()].filter((k) => k.endsWith('|resolve'));
    expect(triggers).toHaveLength(2 * 140);
    expect(resolves).toHaveLength(2 * 100);
    expect([...delivered.values()].filter((n) => n !== 1)).toEqual([]);
    expect(receiver.received.filter((r) => r.status < 300)).toHaveLength(2 * 240);
  });

  it('without the lease, two workers claiming from one queue at once: each message once', async () => {
    receiver.reset();
    const names = subjects(150, '/prod/race/');
    const now = new Date();
    const queued = (await recordOnBoth(names, now)).reduce((n, c) => n + c.queued, 0);
    // The previous test's 40 open alerts per rule resolve as well (their set is replaced).
    expect(queued).toBe(2 * 150 + 2 * 40);
    const workers = replicas.map((db) => new DeliveryWorker(db, senders(), { batch: 20 }));
    const totals = { delivered: 0, lost: 0 };
    for (let pass = 0; pass < 50 && !(await allDone()); pass++) {
      for (const counts of await Promise.all(workers.map((w) => w.runOnce()))) {
        totals.delivered += counts.delivered;
        totals.lost += counts.lost;
      }
    }
    expect(await allDone()).toBe(true);
    expect(totals.delivered).toBe(queued);
    const delivered = receiver.delivered();
    expect(delivered.size).toBe(queued);
    expect([...delivered.values()].filter((n) => n !== 1)).toEqual([]);
  });
});
