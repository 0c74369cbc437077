import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import type { AlertsDb } from '@/lib/alerts/alerts-db';
import { DeliveryWorker, maxDeliveryAttempts, retryDelayMs, type DeliveryOptions } from '@/lib/alerts/delivery';
import type { ChannelSender } from '@/lib/alerts/types';
import { DATABASES } from '../support/databases';
import { httpSender, openAlertsStore, rule, subjects, startReceiver, testClock, type AlertsStoreFixture } from './support/alerts-fixture';

// Delivering the queue to local HTTP receivers standing in for the channels: each message once;
// a 500 retried with backoff (the clock is moved, nothing sleeps) and then delivered; a refusal
// dead at once with its cause; a channel that always fails dead after N attempts while another
// channel's messages go out (also while the first hangs); a resolve never before its trigger; and
// a restart with rows left "sending" by the dead process: every alert still arrives once.

const MINUTE = 60_000;

describe('retry delays', () => {
  it('doubles from 30 s with ±20 % jitter, at most an hour; a Retry-After wins', () => {
    expect([1, 2, 3, 4, 5].map((n) => retryDelayMs(n, () => 0.5))).toEqual([30_000, 60_000, 120_000, 240_000, 480_000]);
    expect(retryDelayMs(1, () => 0)).toBe(24_000);
    expect(retryDelayMs(1, () => 1)).toBe(36_000);
    expect(retryDelayMs(12, () => 0.5)).toBe(3_600_000);
    expect(retryDelayMs(1, () => 0.5, 120_000)).toBe(120_000);
    expect(retryDelayMs(1, () => 0.5, 10 * 3_600_000)).toBe(3_600_000);
  });

  it('takes ALERTS_MAX_ATTEMPTS from the environment (8 unless set) and refuses a bad one', () => {
    expect(maxDeliveryAttempts({})).toBe(8);
    expect(maxDeliveryAttempts({ ALERTS_MAX_ATTEMPTS: '3' })).toBe(3);
    expect(() => maxDeliveryAttempts({ ALERTS_MAX_ATTEMPTS: '0' })).toThrow(/ALERTS_MAX_ATTEMPTS must be at least 1/);
    expect(() => maxDeliveryAttempts({ ALERTS_MAX_ATTEMPTS: 'many' })).toThrow(/whole number/);
  });
});

describe.each(DATABASES)('alert delivery (%s)', (database) => {
  let store: AlertsStoreFixture;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let clock: ReturnType<typeof testClock>;

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
  });
  beforeEach(async () => {
    store = await openAlertsStore(database);
    clock = testClock();
    receiver.reset();
  });
  afterEach(async () => {
    await store.cleanup();
  });

  const worker = (db: AlertsDb, senders: ChannelSender[], options: DeliveryOptions = {}) => new DeliveryWorker(db, senders, { now: clock.now, random: () => 0.5, maxAttempts: 4, ...options });
  const record = (db: AlertsDb, channel: string, names: ReturnType<typeof subjects>, id = `rule-${channel}`) =>
    db.recordConditions({ rule: rule({ id, channel }), event: 'overdue', subjects: names, now: clock.now() });
  const rows = async (db: AlertsDb) => (await db.deliveries({ limit: 1000 })).reverse();

  it('delivers each queued message once, and records it delivered', async () => {
    const db = store.db;
    await record(db, 'oncall', subjects(5));
    const w = worker(db, [httpSender('oncall', receiver.url)]);
    expect(await w.runOnce()).toEqual({ delivered: 5, retrying: 0, dead: 0, lost: 0 });
    expect(await w.runOnce()).toEqual({ delivered: 0, retrying: 0, dead: 0, lost: 0 });
    expect([...receiver.delivered().values()]).toEqual([1, 1, 1, 1, 1]);
    expect(receiver.received.map((r) => r.message.subjects[0]!.name)).toEqual(subjects(5).map((s) => s.name));
    for (const row of await rows(db)) expect(row).toMatchObject({ status: 'delivered', attempts: 1, lastCause: null, deliveredAt: clock.now().toISOString() });
  });

  it('retries a 500 with backoff (not before it is due) and delivers on the 200', async () => {
    const db = store.db;
    receiver.setResponder((_m, _c, attempt) => ({ status: attempt === 1 ? 500 : 200 }));
    await record(db, 'oncall', subjects(1));
    const w = worker(db, [httpSender('oncall', receiver.url)]);
    expect(await w.runOnce()).toMatchObject({ delivered: 0, retrying: 1 });
    let [row] = await rows(db);
    expect(row).toMatchObject({ status: 'failed', attempts: 1, lastCause: 'webhook answered 500', nextAttemptAt: new Date(clock.now().getTime() + 30_000).toISOString() });
    clock.advance(29_000);
    expect(await w.runOnce()).toMatchObject({ delivered: 0, retrying: 0 });
    clock.advance(1_000);
    expect(await w.runOnce()).toMatchObject({ delivered: 1 });
    [row] = await rows(db);
    expect(row).toMatchObject({ status: 'delivered', attempts: 2, lastCause: null });
    expect(receiver.received.map((r) => r.status)).toEqual([500, 200]);
  });

  it('waits as long as a 429 Retry-After says', async () => {
    const db = store.db;
    receiver.setResponder((_m, _c, attempt) => (attempt === 1 ? { status: 429, headers: { 'retry-after': '120' } } : { status: 200 }));
    await record(db, 'oncall', subjects(1));
    const w = worker(db, [httpSender('oncall', receiver.url)]);
    await w.runOnce();
    expect((await rows(db))[0]).toMatchObject({ status: 'failed', nextAttemptAt: new Date(clock.now().getTime() + 120_000).toISOString() });
    clock.advance(119_000);
    expect((await w.runOnce()).delivered).toBe(0);
    clock.advance(1_000);
    expect((await w.runOnce()).delivered).toBe(1);
  });

  it('dead-letters a refusal (404) at once, with its cause', async () => {
    const db = store.db;
    receiver.setResponder(() => ({ status: 404 }));
    await record(db, 'oncall', subjects(1));
    expect(await worker(db, [httpSender('oncall', receiver.url)]).runOnce()).toEqual({ delivered: 0, retrying: 0, dead: 1, lost: 0 });
    expect((await rows(db))[0]).toMatchObject({ status: 'dead', attempts: 1, lastCause: 'webhook answered 404' });
    clock.advance(2 * 3_600_000);
    expect((await worker(db, [httpSender('oncall', receiver.url)]).runOnce()).dead).toBe(0);
    expect(receiver.received).toHaveLength(1);
  });

  it('dead-letters a channel that always fails after N attempts while another channel delivers', async () => {
    const db = store.db;
    receiver.setResponder((_m, channel) => ({ status: channel === 'broken' ? 503 : 200 }));
    await record(db, 'broken', subjects(2, '/prod/broken/'));
    await record(db, 'healthy', subjects(3, '/prod/healthy/'));
    const w = worker(db, [httpSender('broken', receiver.url), httpSender('healthy', receiver.url)]);
    expect(await w.runOnce()).toEqual({ delivered: 3, retrying: 2, dead: 0, lost: 0 });
    for (let pass = 0; pass < 6; pass++) {
      clock.advance(3_600_000);
      await w.runOnce();
    }
    const byChannel = (await rows(db)).map((r) => [r.channelId, r.status, r.attempts, r.lastCause]);
    expect(byChannel).toEqual([
      ['broken', 'dead', 4, 'webhook answered 503 (gave up after 4 attempts)'],
      ['broken', 'dead', 4, 'webhook answered 503 (gave up after 4 attempts)'],
      ['healthy', 'delivered', 1, null],
      ['healthy', 'delivered', 1, null],
      ['healthy', 'delivered', 1, null],
    ]);
    expect(receiver.received.filter((r) => r.channel === 'broken')).toHaveLength(8);
  });

  it('a hanging channel holds up no other: the healthy one delivers while it hangs, and the hang is retried', async () => {
    const db = store.db;
    receiver.setResponder((_m, channel) => (channel === 'stuck' ? 'hang' : { status: 200 }));
    await record(db, 'stuck', subjects(1, '/prod/stuck/'));
    await record(db, 'healthy', subjects(3, '/prod/healthy/'));
    const w = worker(db, [httpSender('stuck', receiver.url), httpSender('healthy', receiver.url)], { sendTimeoutMs: 1_500, claimForMs: 60_000 });
    await w.tick();
    // Within the stuck send's 1.5 s: the healthy channel's three are delivered while the stuck one is still being sent.
    await vi.waitFor(
      async () => {
        const now = await rows(db);
        expect(now.filter((r) => r.status === 'delivered')).toHaveLength(3);
        expect(now.find((r) => r.channelId === 'stuck')).toMatchObject({ status: 'sending', attempts: 1 });
      },
      { timeout: 1_000 },
    );
    await vi.waitFor(async () => expect((await rows(db)).find((r) => r.channelId === 'stuck')).toMatchObject({ status: 'failed', lastCause: 'the webhook channel did not answer within 2 s' }), { timeout: 5_000 });
    await w.stop();
  });

  it('never sends a resolve before its trigger', async () => {
    const db = store.db;
    receiver.setResponder((m, _c, attempt) => ({ status: m.action === 'trigger' && attempt === 1 ? 500 : 200 }));
    const r = rule({ id: 'ordered', channel: 'oncall' });
    const [one] = subjects(1);
    await db.recordConditions({ rule: r, event: 'overdue', subjects: [one!], now: clock.now() });
    const w = worker(db, [httpSender('oncall', receiver.url)]);
    await w.runOnce();
    await db.recordConditions({ rule: r, event: 'overdue', subjects: [], now: clock.now() });
    expect((await w.runOnce()).delivered).toBe(0);
    clock.advance(MINUTE);
    expect((await w.runOnce()).delivered).toBe(2);
    expect(receiver.received.map((x) => [x.message.action, x.status])).toEqual([['trigger', 500], ['trigger', 200], ['resolve', 200]]);
  });

  it('dead-letters a row for a channel no longer configured, naming it', async () => {
    const db = store.db;
    await record(db, 'removed', subjects(1));
    expect((await worker(db, []).runOnce()).dead).toBe(1);
    expect((await rows(db))[0]).toMatchObject({ status: 'dead', lastCause: 'channel "removed" is not configured (any more)' });
  });

  it('prunes delivered and dead messages from the log, keeps those still to send, and a reopened alert is still sent', async () => {
    const db = store.db;
    receiver.setResponder((_m, channel) => ({ status: channel === 'broken' ? 503 : channel === 'gone' ? 404 : 200 }));
    const ok = rule({ id: 'ok', channel: 'healthy' });
    const [one] = subjects(1);
    await db.recordConditions({ rule: ok, event: 'overdue', subjects: [one!], now: clock.now() });
    await record(db, 'broken', subjects(1, '/prod/broken/'));
    await record(db, 'gone', subjects(1, '/prod/gone/'));
    const w = worker(db, ['healthy', 'broken', 'gone'].map((c) => httpSender(c, receiver.url)));
    await w.runOnce();
    await db.recordConditions({ rule: ok, event: 'overdue', subjects: [], now: clock.now() });
    await w.runOnce();
    expect((await rows(db)).map((r) => [r.channelId, r.action, r.status])).toEqual([
      ['healthy', 'trigger', 'delivered'],
      ['broken', 'trigger', 'failed'],
      ['gone', 'trigger', 'dead'],
      ['healthy', 'resolve', 'delivered'],
    ]);
    // Nothing is older than the cut-off yet; then everything is, and only the retry waiting stays.
    expect(await db.pruneHistory(new Date(clock.now().getTime() - 1))).toEqual({ deliveries: 0, digests: 0 });
    clock.advance(MINUTE);
    expect(await db.pruneHistory(clock.now())).toEqual({ deliveries: 3, digests: 0 });
    expect((await rows(db)).map((r) => [r.channelId, r.status])).toEqual([['broken', 'failed']]);
    // The alert reopens as its second generation: a new trigger, queued and sent.
    expect(await db.recordConditions({ rule: ok, event: 'overdue', subjects: [one!], now: clock.now() })).toMatchObject({ opened: 1, queued: 1 });
    expect((await w.runOnce()).delivered).toBe(1);
    expect((await rows(db)).find((r) => r.channelId === 'healthy')).toMatchObject({ generation: 2, status: 'delivered' });
  });

  it('exactly once across a restart: rows left "sending" by the dead process are sent again once their claim times out, delivered ones never', async () => {
    const channels = ['slack', 'pager', 'mail'];
    for (const c of channels) await record(store.db, c, subjects(4, `/prod/${c}/`));
    // The first process delivers one message per channel, then "dies" while sending the next:
    // its sender never returns, and the store is closed under it.
    let sent = 0;
    const dying = (id: string): ChannelSender => {
      const real = httpSender(id, receiver.url);
      const started = new Set<string>();
      return {
        id,
        kind: 'webhook',
        send: (message, signal) => {
          sent++;
          if (started.size === 0) {
            started.add(message.dedupKey);
            return real.send(message, signal);
          }
          return new Promise(() => undefined);
        },
      };
    };
    const first = worker(store.db, channels.map(dying), { sendTimeoutMs: 30 * MINUTE, claimForMs: 40 * MINUTE });
    void first.tick();
    await vi.waitFor(() => expect(sent).toBe(6), { timeout: 5_000 });
    await vi.waitFor(async () => expect((await rows(store.db)).filter((r) => r.status === 'delivered')).toHaveLength(3), { timeout: 5_000 });
    expect((await rows(store.db)).filter((r) => r.status === 'sending')).toHaveLength(3);
    const db = await store.reopen();

    const senders = channels.map((c) => httpSender(c, receiver.url));
    // Restarted at once: the dead process's claims still hold, so only the untouched rows go.
    expect(await worker(db, senders).runOnce()).toMatchObject({ delivered: 6, lost: 0 });
    expect((await rows(db)).filter((r) => r.status === 'sending')).toHaveLength(3);
    // Once the claims time out, the rest goes, each once.
    clock.advance(41 * MINUTE);
    expect(await worker(db, senders).runOnce()).toMatchObject({ delivered: 3, lost: 0 });
    const all = await rows(db);
    expect(all.every((r) => r.status === 'delivered')).toBe(true);
    expect(all.filter((r) => r.attempts === 2)).toHaveLength(3);
    const counts = receiver.delivered();
    expect(counts.size).toBe(12);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
  });
});
