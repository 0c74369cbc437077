import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import type { AlertsDb } from '@/lib/alerts/alerts-db';
import { sendDueDigests } from '@/lib/alerts/alerts';
import { DATABASES } from '../support/databases';
import { openAlertsStore, rule, subject, subjects, testClock, type AlertsStoreFixture } from './support/alerts-fixture';

// Recording a rule's conditions: the full set of subjects for which its event holds, each time.
// New ones open and queue a trigger, gone ones resolve and queue a resolve, unchanged ones queue
// nothing; a reopened alert is a new generation with a trigger of its own; a silenced alert is
// recorded but not queued (and is sent once the silence ends while it still holds). Digest rules
// queue one message per rule and day, never one per item. On SQLite and PostgreSQL.

const queue = async (db: AlertsDb) =>
  (await db.deliveries({ limit: 100_000 })).map((d) => ({ key: d.dedupKey, name: d.message.subjects[0]?.name, action: d.action, generation: d.generation, channel: d.channelId })).reverse();

describe.each(DATABASES)('recording alert conditions (%s)', (database) => {
  let store: AlertsStoreFixture;
  let clock: ReturnType<typeof testClock>;
  beforeEach(async () => {
    clock = testClock();
    store = await openAlertsStore(database);
  });
  afterEach(async () => {
    await store.cleanup();
  });

  it('opens, resolves and reopens: trigger, resolve, then a trigger of the next generation; an unchanged set queues nothing', async () => {
    const db = store.db;
    const overdue = rule();
    const [a, b] = [subject('/prod/app/a'), subject('/prod/app/b')];

    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b], now: clock.now() })).toEqual({ opened: 2, resolved: 0, unchanged: 0, silenced: 0, queued: 2 });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [b, a], now: clock.now() })).toEqual({ opened: 0, resolved: 0, unchanged: 2, silenced: 0, queued: 0 });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a], now: clock.now() })).toEqual({ opened: 0, resolved: 1, unchanged: 1, silenced: 0, queued: 1 });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a], now: clock.now() })).toMatchObject({ queued: 0 });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b], now: clock.now() })).toEqual({ opened: 1, resolved: 0, unchanged: 1, silenced: 0, queued: 1 });

    const rows = await queue(db);
    expect(rows.map((r) => [r.name, r.action, r.generation])).toEqual([
      ['/prod/app/a', 'trigger', 1],
      ['/prod/app/b', 'trigger', 1],
      ['/prod/app/b', 'resolve', 1],
      ['/prod/app/b', 'trigger', 2],
    ]);
    // One dedup key per alert across its generations and its resolve; a's differs from b's.
    const keys = new Set(rows.filter((r) => r.name === '/prod/app/b').map((r) => r.key));
    expect(keys.size).toBe(1);
    expect(rows[0]!.key).not.toBe(rows[1]!.key);

    const alerts = await db.alerts({ limit: 10 });
    const bAlert = alerts.find((x) => x.itemName === '/prod/app/b')!;
    expect(bAlert).toMatchObject({ status: 'open', generation: 2, notified: true, openedAt: clock.now().toISOString(), lastSeenAt: clock.now().toISOString(), resolvedAt: null });
    // Unchanged: a kept its first opening and only its last-seen time moved.
    const aAlert = alerts.find((x) => x.itemName === '/prod/app/a')!;
    expect(aAlert).toMatchObject({ status: 'open', generation: 1, openedAt: '2026-12-05T08:00:00.000Z', lastSeenAt: clock.now().toISOString() });

    // The messages: metadata only, the resolve says so.
    const log = await db.deliveries({ limit: 10 });
    const resolve = log.find((d) => d.action === 'resolve')!;
    expect(resolve.message).toMatchObject({ action: 'resolve', event: 'overdue', severity: 'high', rule: { id: 'prod-overdue' }, totalItems: 1, link: b.url });
    expect(resolve.message.title).toBe('Resolved: Overdue: /prod/app/b (prod)');
    expect(log.every((d) => d.status === 'pending' && d.attempts === 0)).toBe(true);
  });

  it('queues each trigger once when the same conditions are recorded twice at once, or by a second store on the same data', async () => {
    const other = await store.another();
    const overdue = rule();
    const set = subjects(300);
    const record = (db: AlertsDb) => db.recordConditions({ rule: overdue, event: 'overdue', subjects: set, now: clock.now() });
    // PostgreSQL: two pools at once. SQLite: two connections of one process cannot wait for each
    // other (better-sqlite3's busy wait blocks the thread both run on), so the second store goes after.
    const results = await Promise.all([record(store.db), record(store.db), ...(database === 'postgres' ? [record(other)] : [])]);
    if (database === 'sqlite') results.push(await record(other));
    expect(results.reduce((n, r) => n + r.queued, 0)).toBe(300);
    expect(results.reduce((n, r) => n + r.opened, 0)).toBe(300);
    const rows = await queue(store.db);
    expect(rows).toHaveLength(300);
    expect(new Set(rows.map((r) => r.key)).size).toBe(300);
  });

  it('records a silenced alert without queueing it, sends it once the silence is lifted while it still holds, and never resolves what it never sent', async () => {
    const db = store.db;
    const overdue = rule();
    const [a, b, c] = [subject('/prod/app/a'), subject('/prod/app/b'), subject('/prod/app/c')];
    const itemSilence = await db.addSilence({ ruleId: null, storeId: 'prod', itemName: b.name, reason: 'rotating on Monday', expiresAt: '2026-12-10T00:00:00.000Z', createdBy: 'admin@example.com', createdAt: clock.now().toISOString() });
    // Another rule's silence and an expired one cover nothing here.
    await db.addSilence({ ruleId: 'other-rule', storeId: null, itemName: null, reason: 'not this rule', expiresAt: '2026-12-10T00:00:00.000Z', createdBy: 'admin@example.com', createdAt: clock.now().toISOString() });
    await db.addSilence({ ruleId: null, storeId: 'prod', itemName: a.name, reason: 'expired already', expiresAt: '2026-12-05T07:00:00.000Z', createdBy: 'admin@example.com', createdAt: '2026-12-04T00:00:00.000Z' });

    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b], now: clock.now() })).toMatchObject({ opened: 2, silenced: 1, queued: 1 });
    expect((await queue(db)).map((r) => r.name)).toEqual([a.name]);
    const silenced = (await db.alerts({ limit: 10 })).find((x) => x.itemName === b.name)!;
    expect(silenced).toMatchObject({ status: 'open', silenceId: itemSilence, notified: false });

    // Still silenced: nothing; lifted while b still holds: its trigger goes out now.
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b], now: clock.now() })).toMatchObject({ queued: 0 });
    expect(await db.liftSilence(itemSilence, 'admin@example.com', clock.now().toISOString())).toBe(true);
    expect(await db.liftSilence(itemSilence, 'admin@example.com', clock.now().toISOString())).toBe(false);
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b], now: clock.now() })).toMatchObject({ queued: 1, unchanged: 2 });
    expect((await queue(db)).map((r) => [r.name, r.action])).toEqual([[a.name, 'trigger'], [b.name, 'trigger']]);

    // A rule-wide silence: c opens silenced, and resolves without a resolve (it was never sent); a resolves with one.
    await db.addSilence({ ruleId: overdue.id, storeId: null, itemName: null, reason: 'maintenance window', expiresAt: '2026-12-06T00:00:00.000Z', createdBy: 'admin@example.com', createdAt: clock.now().toISOString() });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [a, b, c], now: clock.now() })).toMatchObject({ opened: 1, silenced: 1, queued: 0 });
    clock.advance(60_000);
    expect(await db.recordConditions({ rule: overdue, event: 'overdue', subjects: [b], now: clock.now() })).toMatchObject({ resolved: 2, queued: 1 });
    expect((await queue(db)).map((r) => [r.name, r.action])).toEqual([[a.name, 'trigger'], [b.name, 'trigger'], [a.name, 'resolve']]);
    // Listed open first, then the newest.
    expect((await db.alerts({ limit: 10 })).map((x) => [x.itemName, x.status])).toEqual([[b.name, 'open'], [c.name, 'resolved'], [a.name, 'resolved']]);
    expect((await db.alerts({ limit: 10, status: 'resolved' })).map((x) => x.itemName)).toEqual([c.name, a.name]);
  });

  it('a digest leaves out alerts a silence covers now, and takes them back once it is lifted', async () => {
    const db = store.db;
    const daily = rule({ id: 'daily', mode: 'digest' });
    const three = subjects(3);
    await db.recordConditions({ rule: daily, event: 'overdue', subjects: three, now: clock.now() });
    const silence = await db.addSilence({ ruleId: 'daily', storeId: null, itemName: null, reason: 'quiet week', expiresAt: '2026-12-12T00:00:00.000Z', createdBy: 'admin@example.com', createdAt: clock.now().toISOString() });
    // Silenced after they opened: the next recording marks them.
    await db.recordConditions({ rule: daily, event: 'overdue', subjects: three, now: clock.now() });
    expect((await db.alerts({ limit: 10 })).map((a) => a.silenceId)).toEqual([silence, silence, silence]);
    clock.set('2026-12-05T09:00:00.000Z');
    expect((await sendDueDigests(clock.now(), { rules: [daily], db })).get('daily')).toEqual({ queued: false, items: 0 });
    await db.liftSilence(silence, 'admin@example.com', clock.now().toISOString());
    await db.recordConditions({ rule: daily, event: 'overdue', subjects: three, now: clock.now() });
    expect((await db.alerts({ limit: 10 })).map((a) => a.silenceId)).toEqual([null, null, null]);
    clock.set('2026-12-06T09:00:00.000Z');
    expect((await sendDueDigests(clock.now(), { rules: [daily], db })).get('daily')).toEqual({ queued: true, items: 3 });
    expect(await queue(db)).toHaveLength(1);
  });

  it('keeps the subjects the selector chooses, by store, path glob, owner and severity', async () => {
    const db = store.db;
    const payments = rule({ id: 'payments', events: ['overdue', 'finding-opened'], selector: { stores: ['prod'], paths: ['/prod/payments/**'], owners: ['payments'], minSeverity: 'high' } });
    const inside = subject('/prod/payments/db', { owner: 'payments' });
    const noOwner = subject('/prod/payments/api');
    const otherPath = subject('/prod/web/db', { owner: 'payments' });
    const otherStore = subject('/prod/payments/db', { storeId: 'staging', owner: 'payments' });
    expect(await db.recordConditions({ rule: payments, event: 'overdue', subjects: [inside, noOwner, otherPath, otherStore], now: clock.now() })).toMatchObject({ opened: 1 });
    const findings = [subject('/prod/payments/db', { owner: 'payments', severity: 'critical' }), subject('/prod/payments/cfg', { owner: 'payments', severity: 'medium' })];
    expect(await db.recordConditions({ rule: payments, event: 'finding-opened', subjects: findings, now: clock.now() })).toMatchObject({ opened: 1 });
    const log = await db.deliveries({ limit: 10 });
    expect(log.map((d) => [d.event, d.message.subjects[0]!.name, d.message.severity]).sort()).toEqual([
      ['finding-opened', '/prod/payments/db', 'critical'],
      ['overdue', '/prod/payments/db', 'high'],
    ]);
    // A rule does not record an event it does not listen to (that would resolve all its alerts).
    await expect(db.recordConditions({ rule: payments, event: 'due-soon', subjects: [], now: clock.now() })).rejects.toThrow(/does not listen to due-soon/);
  });

  it('digest rules: nothing per item; ONE message per rule and day with the first 50 subjects, totalItems and a link to the full list', async () => {
    const db = store.db;
    process.env.NEXTAUTH_URL = 'https://dash.example.com';
    try {
      const onSlack = rule({ id: 'daily-slack', channel: 'slack', mode: 'digest' });
      const onMail = rule({ id: 'daily-mail', channel: 'mail', mode: 'digest', digestAt: '07:30' });
      const immediate = rule({ id: 'paged', channel: 'pager' });
      const many = subjects(5000);
      for (const r of [onSlack, onMail]) expect(await db.recordConditions({ rule: r, event: 'overdue', subjects: many, now: clock.now() })).toMatchObject({ opened: 5000, queued: 0 });
      expect(await queue(db)).toEqual([]);

      const rules = [onSlack, onMail, immediate];
      // 08:00: the mail digest (07:30) is due, the Slack one (09:00, the default) not yet.
      let sent = await sendDueDigests(clock.now(), { rules, db });
      expect([...sent.entries()]).toEqual([['daily-mail', { queued: true, items: 5000 }]]);
      clock.set('2026-12-05T09:00:00.000Z');
      sent = await sendDueDigests(clock.now(), { rules, db });
      expect(sent.get('daily-slack')).toEqual({ queued: true, items: 5000 });
      expect(sent.get('daily-mail')).toEqual({ queued: false, items: 5000 });
      // Another replica at the same moment, and later the same day: nothing more.
      const other = await store.another();
      clock.set('2026-12-05T18:00:00.000Z');
      expect([...(await sendDueDigests(clock.now(), { rules, db: other })).values()].every((o) => !o.queued)).toBe(true);

      const log = await db.deliveries({ limit: 100 });
      expect(log).toHaveLength(2);
      for (const d of log) {
        expect(d.action).toBe('digest');
        expect(d.message.subjects).toHaveLength(50);
        expect(d.message.totalItems).toBe(5000);
        expect(d.message.title).toBe(`Daily digest (${d.ruleId}): 5,000 items overdue`);
        expect(d.message.link).toBe(`https://dash.example.com/alerts?rule=${d.ruleId}`);
        expect(d.message.subjects[0]!.name).toBe('/prod/app/secret-00000');
      }
      expect(log.map((d) => d.channelId).sort()).toEqual(['mail', 'slack']);

      // The next day: a digest again, for what is open then (silenced alerts left out).
      await db.addSilence({ ruleId: 'daily-slack', storeId: null, itemName: null, reason: 'quiet week', expiresAt: '2026-12-12T00:00:00.000Z', createdBy: 'admin@example.com', createdAt: clock.now().toISOString() });
      clock.set('2026-12-06T09:00:00.000Z');
      expect(await db.recordConditions({ rule: onSlack, event: 'overdue', subjects: subjects(3, '/prod/new/'), now: clock.now() })).toMatchObject({ opened: 3, resolved: 5000, silenced: 3, queued: 0 });
      sent = await sendDueDigests(clock.now(), { rules, db });
      expect(sent.get('daily-slack')).toEqual({ queued: false, items: 0 });
      expect(sent.get('daily-mail')).toEqual({ queued: true, items: 5000 });
    } finally {
      delete process.env.NEXTAUTH_URL;
    }
  });
});
