import 'server-only';
import { Kysely, sql, type Generated, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { openPostgresArea, openSqliteArea } from '@/lib/db/area-db';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { migrateArea } from '@/lib/db/migrate';
import { ALERTS_MIGRATIONS } from '@/lib/db/migrations/alerts';
import { nameScopeCondition, type NameScope } from '@/lib/db/name-scope';
import type { AlertRule } from './alerts-config';
import { alertKey, digestMessage, resolveMessage, severityOf, triggerMessage, type ConditionSubject } from './messages';
import { selectSubjects } from './selector';
import { ITEM_EVENTS } from '@/lib/validations/alerts';
import { ALERT_SEVERITIES, type AlertEvent, type AlertMessage, type AlertSeverity, type AlertSubject } from './types';

// The alerts store: each alert's state (open or resolved, per generation), the delivery queue that
// is also the delivery log, the silences admins set, and the digests sent. Recording a rule's
// conditions and queueing its messages happen in one transaction, taken in turn per rule and
// event (an advisory lock on PostgreSQL, the file's write lock on SQLite), and every queued row
// has a unique key (alert, channel, action, generation), so replicas that record the same
// condition queue its message once. Delivery claims one row at a time by a conditional UPDATE.

export const ALERTS_DB_FILE = 'alerts.db';
export const ALERTS_SCHEMA = 'alerts';

/** The alerts area's migrations (lib/db/migrations/alerts.ts), run as the store opens. */
const migrate = (db: Kysely<AlertsDatabase>) => migrateArea(db, 'alerts', ALERTS_MIGRATIONS, ALERTS_SCHEMA);
const WRITE_BATCH = 400;

export const DELIVERY_ACTIONS = ['trigger', 'resolve', 'digest', 'test'] as const;
export type DeliveryAction = (typeof DELIVERY_ACTIONS)[number];
export const DELIVERY_STATUSES = ['pending', 'sending', 'delivered', 'failed', 'dead'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];
/** Rows the worker may take: waiting, waiting for a retry, or left "sending" by a replica that died (once their claim timed out). */
const DUE_STATUSES: readonly DeliveryStatus[] = ['pending', 'failed', 'sending'];

export interface AlertsTable {
  dedup_key: string;
  rule_id: string;
  event: string;
  store_id: string;
  item_name: string;
  principal: string;
  status: 'open' | 'resolved';
  generation: number;
  severity: string;
  subject: string;
  silence_id: number | null;
  notified: number;
  opened_at: string;
  resolved_at: string | null;
  last_seen_at: string;
}

export interface DeliveriesTable {
  id: Generated<number>;
  dedup_key: string;
  channel_id: string;
  action: DeliveryAction;
  generation: number;
  rule_id: string | null;
  event: string;
  message: string;
  status: DeliveryStatus;
  attempts: number;
  next_attempt_at: string;
  claim_token: string | null;
  last_cause: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface SilencesTable {
  id: Generated<number>;
  rule_id: string | null;
  store_id: string | null;
  item_name: string | null;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
}

export interface DigestRunsTable {
  rule_id: string;
  day: string;
  sent_at: string;
  items: number;
}

export interface AlertsDatabase {
  alerts: AlertsTable;
  alert_deliveries: DeliveriesTable;
  alert_silences: SilencesTable;
  alert_digest_runs: DigestRunsTable;
}

type Db = Kysely<AlertsDatabase>;

export interface RecordInput {
  rule: AlertRule;
  event: AlertEvent;
  /** Every subject for which the rule's event holds now (before the rule's selector: recording applies it). */
  subjects: readonly ConditionSubject[];
  now: Date;
}

export interface RecordCounts {
  /** Alerts that opened (new, or again after resolving). */
  opened: number;
  resolved: number;
  /** Still open, only their last-seen time moved. */
  unchanged: number;
  /** Opened (or still open and no longer silenced) under a silence in force: recorded, not sent. */
  silenced: number;
  /** Delivery rows queued (triggers and resolves). */
  queued: number;
}

export interface StoredAlert {
  dedupKey: string;
  ruleId: string;
  event: AlertEvent;
  storeId: string;
  itemName: string;
  principal: string | null;
  status: 'open' | 'resolved';
  generation: number;
  severity: AlertSeverity;
  subject: AlertSubject;
  silenceId: number | null;
  notified: boolean;
  openedAt: string;
  resolvedAt: string | null;
  lastSeenAt: string;
}

export interface StoredDelivery {
  id: number;
  dedupKey: string;
  channelId: string;
  action: DeliveryAction;
  generation: number;
  ruleId: string | null;
  event: AlertEvent;
  message: AlertMessage;
  status: DeliveryStatus;
  attempts: number;
  nextAttemptAt: string;
  lastCause: string | null;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
}

/** A row the worker claimed: only the claimer's token may record its outcome. */
export interface ClaimedDelivery {
  id: number;
  token: string;
  channelId: string;
  action: DeliveryAction;
  attempts: number;
  message: AlertMessage;
}

export type DeliveryOutcome =
  | { status: 'delivered' }
  | { status: 'failed'; cause: string; nextAttemptAt: string }
  | { status: 'dead'; cause: string };

export interface StoredSilence {
  id: number;
  ruleId: string | null;
  storeId: string | null;
  itemName: string | null;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
}

export interface DigestOutcome {
  /** Whether this call queued the day's digest (false: sent already, by this replica or another, or nothing open). */
  queued: boolean;
  items: number;
}

/** The UTC day ("2026-12-05") and whether `now` is at or after the digest time "HH:MM" on it. */
export function digestDue(now: Date, digestAt: string): { day: string; due: boolean } {
  const day = now.toISOString().slice(0, 10);
  return { day, due: now.toISOString().slice(11, 16) >= digestAt };
}

function silenceCovers(s: Pick<StoredSilence, 'ruleId' | 'storeId' | 'itemName'>, ruleId: string, storeId: string, itemName: string): boolean {
  if (s.ruleId !== null && s.ruleId !== ruleId) return false;
  if (s.storeId !== null && (s.storeId !== storeId || s.itemName !== itemName)) return false;
  return true;
}

/**
 * Whose rows a page query returns: all of them (an auditor of every path of every store), or only
 * the alerts, deliveries and silences about items within the caller's scopes (lib/db/name-scope.ts;
 * lib/data/alerts.ts builds them from the same grants as the per-row check).
 */
export type AlertReach = { everything: true } | { everything: false; scopes: readonly NameScope[] };

function itemsWithin(dialect: DialectName, reach: Extract<AlertReach, { everything: false }>, table: string): RawBuilder<SqlBool> {
  return nameScopeCondition(dialect, reach.scopes, sql<string>`${sql.ref(`${table}.store_id`)}`, sql<string>`${sql.ref(`${table}.item_name`)}`);
}

export class AlertsDb {
  private readonly dialect: DialectName;

  constructor(
    private readonly db: Db,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.dialect = dialectOf(db);
  }

  static async open(dataDir: string): Promise<AlertsDb> {
    const db = await openSqliteArea<AlertsDatabase>(dataDir, ALERTS_DB_FILE, migrate);
    return new AlertsDb(db, () => db.destroy());
  }

  static async openPostgres(url: string): Promise<AlertsDb> {
    return new AlertsDb(await openPostgresArea<AlertsDatabase>(url, ALERTS_SCHEMA, migrate));
  }

  close(): Promise<void> {
    return this.onClose();
  }

  /**
   * A write transaction taken in turn with every other writer of `lock`: on PostgreSQL an advisory
   * lock (replicas on other hosts), on SQLite the file's write lock before the first read (a plain
   * BEGIN would read, then fail with SQLITE_BUSY when a second process wrote in between).
   */
  private async inTurn<T>(lock: string, fn: (trx: Db) => Promise<T>): Promise<T> {
    if (this.dialect === 'postgres') {
      return this.db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`secrets-dashboard:alerts:${lock}`}, 0))`.execute(trx);
        return fn(trx);
      });
    }
    return this.db.connection().execute(async (conn) => {
      await sql`BEGIN IMMEDIATE`.execute(conn);
      try {
        const result = await fn(conn);
        await sql`COMMIT`.execute(conn);
        return result;
      } catch (error) {
        await sql`ROLLBACK`.execute(conn).catch(() => undefined);
        throw error;
      }
    });
  }

  /**
   * Records the full current set of subjects for which a rule's event holds: new ones open (a
   * trigger queued for an immediate rule, unless a silence covers them), ones no longer present
   * resolve (a resolve queued when their trigger was), unchanged ones only touch their last-seen
   * time; an open alert whose silence ended is sent then. One transaction.
   */
  async recordConditions({ rule, event, subjects, now }: RecordInput): Promise<RecordCounts> {
    // A rule not listening to the event would resolve every alert it has of it.
    if (!rule.events.includes(event)) throw new Error(`alert rule ${rule.id} does not listen to ${event}`);
    const at = now.toISOString();
    const selected = new Map<string, ConditionSubject>();
    for (const subject of selectSubjects(rule, event, subjects)) selected.set(alertKey(rule.id, event, subject), subject);
    const immediate = rule.mode === 'immediate';
    return this.inTurn(`record:${rule.id}:${event}`, async (trx) => {
      const silences = await this.silencesInForce(trx, at);
      const silenceFor = (storeId: string, itemName: string) => silences.find((s) => silenceCovers(s, rule.id, storeId, itemName))?.id ?? null;
      const open = new Map(
        (await trx.selectFrom('alerts').selectAll().where('rule_id', '=', rule.id).where('event', '=', event).where('status', '=', 'open').execute()).map((r) => [r.dedup_key, r]),
      );
      const fresh = [...selected.keys()].filter((key) => !open.has(key));
      const known = new Map<string, Selectable<AlertsTable>>();
      for (let i = 0; i < fresh.length; i += WRITE_BATCH)
        for (const row of await trx.selectFrom('alerts').selectAll().where('dedup_key', 'in', fresh.slice(i, i + WRITE_BATCH)).execute()) known.set(row.dedup_key, row);

      const counts: RecordCounts = { opened: 0, resolved: 0, unchanged: 0, silenced: 0, queued: 0 };
      const queue: Omit<DeliveriesTable, 'id'>[] = [];
      const enqueue = (dedupKey: string, action: DeliveryAction, generation: number, message: AlertMessage) =>
        queue.push({
          dedup_key: dedupKey,
          channel_id: rule.channel,
          action,
          generation,
          rule_id: rule.id,
          event,
          message: JSON.stringify(message),
          status: 'pending',
          attempts: 0,
          next_attempt_at: at,
          claim_token: null,
          last_cause: null,
          created_at: at,
          updated_at: at,
          delivered_at: null,
        });

      const inserts: AlertsTable[] = [];
      const reopened: string[] = [];
      for (const key of fresh) {
        const subject = selected.get(key)!;
        const previous = known.get(key);
        const generation = previous ? Number(previous.generation) + 1 : 1;
        const silenceId = silenceFor(subject.storeId, subject.name);
        const notify = immediate && silenceId === null;
        const row: AlertsTable = {
          dedup_key: key,
          rule_id: rule.id,
          event,
          store_id: subject.storeId,
          item_name: subject.name,
          principal: subject.principal ?? '',
          status: 'open',
          generation,
          severity: severityOf(rule, event, subject),
          subject: JSON.stringify(plainSubject(subject)),
          silence_id: silenceId,
          notified: notify ? 1 : 0,
          opened_at: at,
          resolved_at: null,
          last_seen_at: at,
        };
        counts.opened++;
        if (silenceId !== null) counts.silenced++;
        if (notify) enqueue(key, 'trigger', generation, triggerMessage(rule, event, toAlert(row), at));
        inserts.push(row);
        if (previous) reopened.push(key);
      }
      // Reopened alerts are written whole as their next generation (deleted, then inserted with the
      // rest, in batches): no other writer runs between the read and here (taken in turn).
      for (let i = 0; i < reopened.length; i += WRITE_BATCH) await trx.deleteFrom('alerts').where('dedup_key', 'in', reopened.slice(i, i + WRITE_BATCH)).execute();
      for (let i = 0; i < inserts.length; i += WRITE_BATCH)
        await trx.insertInto('alerts').values(inserts.slice(i, i + WRITE_BATCH)).onConflict((oc) => oc.column('dedup_key').doNothing()).execute();

      const gone = [...open.values()].filter((r) => !selected.has(r.dedup_key));
      for (const row of gone) {
        counts.resolved++;
        if (row.notified) enqueue(row.dedup_key, 'resolve', Number(row.generation), resolveMessage(rule, event, toAlert(row), at));
      }
      for (let i = 0; i < gone.length; i += WRITE_BATCH)
        await trx
          .updateTable('alerts')
          .set({ status: 'resolved', resolved_at: at, last_seen_at: at })
          .where('dedup_key', 'in', gone.slice(i, i + WRITE_BATCH).map((r) => r.dedup_key))
          .where('status', '=', 'open')
          .execute();

      // Still open: the last-seen time moves, and the silence covering it follows the silences in
      // force (a digest leaves silenced alerts out); one never sent because a silence covered it is
      // sent once none does.
      const stillOpen = [...open.values()].filter((r) => selected.has(r.dedup_key));
      counts.unchanged = stillOpen.length;
      const nowDue: string[] = [];
      const resilenced = new Map<number | null, string[]>();
      for (const row of stillOpen) {
        const silenceNow = silenceFor(row.store_id, row.item_name);
        const before = row.silence_id === null ? null : Number(row.silence_id);
        if (!row.notified && immediate && silenceNow === null) {
          nowDue.push(row.dedup_key);
          enqueue(row.dedup_key, 'trigger', Number(row.generation), triggerMessage(rule, event, toAlert(row), at));
        } else if (before !== silenceNow) {
          resilenced.set(silenceNow, [...(resilenced.get(silenceNow) ?? []), row.dedup_key]);
        }
      }
      if (stillOpen.length > 0)
        await trx.updateTable('alerts').set({ last_seen_at: at }).where('rule_id', '=', rule.id).where('event', '=', event).where('status', '=', 'open').execute();
      for (let i = 0; i < nowDue.length; i += WRITE_BATCH)
        await trx.updateTable('alerts').set({ notified: 1, silence_id: null }).where('dedup_key', 'in', nowDue.slice(i, i + WRITE_BATCH)).execute();
      for (const [silenceId, keys] of resilenced)
        for (let i = 0; i < keys.length; i += WRITE_BATCH)
          await trx.updateTable('alerts').set({ silence_id: silenceId }).where('dedup_key', 'in', keys.slice(i, i + WRITE_BATCH)).execute();

      counts.queued = await this.enqueue(trx, queue);
      return counts;
    });
  }

  /** Inserts delivery rows; one already queued (same alert, channel, action, generation) is left as it is. Returns how many were new. */
  private async enqueue(trx: Db, rows: Omit<DeliveriesTable, 'id'>[]): Promise<number> {
    let added = 0;
    for (let i = 0; i < rows.length; i += WRITE_BATCH) {
      const result = await trx
        .insertInto('alert_deliveries')
        .values(rows.slice(i, i + WRITE_BATCH))
        .onConflict((oc) => oc.columns(['dedup_key', 'channel_id', 'action', 'generation']).doNothing())
        .returning('id')
        .execute();
      added += result.length;
    }
    return added;
  }

  /**
   * Queues a digest rule's message for the day: ONE message with its first open (unsilenced)
   * alerts and how many there are, whichever replica gets there first. Nothing open, nothing sent.
   */
  async queueDigest(rule: AlertRule, day: string, now: Date, link: string, maxSubjects: number): Promise<DigestOutcome> {
    const at = now.toISOString();
    // The leader asks every few seconds: a day already sent is answered without taking the lock.
    const sent = await this.db.selectFrom('alert_digest_runs').select('items').where('rule_id', '=', rule.id).where('day', '=', day).executeTakeFirst();
    if (sent) return { queued: false, items: Number(sent.items) };
    return this.inTurn(`digest:${rule.id}`, async (trx) => {
      const done = await trx.selectFrom('alert_digest_runs').select('items').where('rule_id', '=', rule.id).where('day', '=', day).executeTakeFirst();
      if (done) return { queued: false, items: Number(done.items) };
      const counted = await trx
        .selectFrom('alerts')
        .select(['event', (eb) => eb.fn.countAll<number>().as('n')])
        .where('rule_id', '=', rule.id)
        .where('status', '=', 'open')
        .where('silence_id', 'is', null)
        .groupBy('event')
        .execute();
      const total = counted.reduce((sum, r) => sum + Number(r.n), 0);
      await trx.insertInto('alert_digest_runs').values({ rule_id: rule.id, day, sent_at: at, items: total }).execute();
      if (total === 0) return { queued: false, items: 0 };
      const first = await trx
        .selectFrom('alerts')
        .select(['subject'])
        .where('rule_id', '=', rule.id)
        .where('status', '=', 'open')
        .where('silence_id', 'is', null)
        .orderBy('opened_at')
        .orderBy('store_id')
        .orderBy('item_name')
        .limit(maxSubjects)
        .execute();
      const byEvent = counted.map((r) => ({ event: r.event as AlertEvent, n: Number(r.n) })).sort((a, b) => b.n - a.n);
      const dedupKey = `digest:${rule.id}:${day}`;
      const message = digestMessage(rule, byEvent, first.map((r) => JSON.parse(r.subject) as AlertSubject), total, link, dedupKey, at);
      const queued = await this.enqueue(trx, [
        {
          dedup_key: dedupKey,
          channel_id: rule.channel,
          action: 'digest',
          generation: 0,
          rule_id: rule.id,
          event: message.event,
          message: JSON.stringify(message),
          status: 'pending',
          attempts: 0,
          next_attempt_at: at,
          claim_token: null,
          last_cause: null,
          created_at: at,
          updated_at: at,
          delivered_at: null,
        },
      ]);
      return { queued: queued > 0, items: total };
    });
  }

  /** Queues an admin's test message for a channel; returns the delivery's id. */
  async queueTest(channelId: string, message: AlertMessage, now: Date): Promise<number> {
    const at = now.toISOString();
    const row = await this.db
      .insertInto('alert_deliveries')
      .values({
        dedup_key: message.dedupKey,
        channel_id: channelId,
        action: 'test',
        generation: 0,
        rule_id: null,
        event: message.event,
        message: JSON.stringify(message),
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        claim_token: null,
        last_cause: null,
        created_at: at,
        updated_at: at,
        delivered_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** The channels with a row due at `now`. */
  async dueChannels(now: Date): Promise<string[]> {
    const rows = await this.db
      .selectFrom('alert_deliveries')
      .select('channel_id')
      .distinct()
      .where('status', 'in', DUE_STATUSES)
      .where('next_attempt_at', '<=', now.toISOString())
      .execute();
    return rows.map((r) => r.channel_id);
  }

  /**
   * Claims the channel's next due row for `token`: waiting, waiting for a retry, or left sending
   * past its claim. A row whose earlier row for the same alert and channel is not done waits for
   * it (a resolve is never sent before its trigger). The claim is one conditional UPDATE by id:
   * a row another replica claimed first is not taken (null: look again).
   */
  async claimNext(channelId: string, now: Date, claimForMs: number, token: string): Promise<ClaimedDelivery | null | 'none'> {
    const at = now.toISOString();
    const candidate = await sql<{ id: number }>`
      SELECT d.id FROM alert_deliveries d
      WHERE d.channel_id = ${channelId} AND d.status IN ('pending', 'failed', 'sending') AND d.next_attempt_at <= ${at}
        AND NOT EXISTS (SELECT 1 FROM alert_deliveries e WHERE e.dedup_key = d.dedup_key AND e.channel_id = d.channel_id AND e.id < d.id
          AND e.status IN ('pending', 'failed', 'sending'))
      ORDER BY d.next_attempt_at, d.id
      LIMIT 1`.execute(this.db);
    const id = candidate.rows[0]?.id;
    if (id === undefined) return 'none';
    const claimed = await this.db
      .updateTable('alert_deliveries')
      .set((eb) => ({
        status: 'sending' as const,
        attempts: eb('attempts', '+', 1),
        claim_token: token,
        next_attempt_at: new Date(now.getTime() + claimForMs).toISOString(),
        updated_at: at,
      }))
      .where('id', '=', Number(id))
      .where('status', 'in', DUE_STATUSES)
      .where('next_attempt_at', '<=', at)
      .returning(['id', 'channel_id', 'action', 'attempts', 'message'])
      .executeTakeFirst();
    if (!claimed) return null;
    return { id: Number(claimed.id), token, channelId: claimed.channel_id, action: claimed.action, attempts: Number(claimed.attempts), message: JSON.parse(claimed.message) as AlertMessage };
  }

  /** Records how a claimed attempt went; false when the claim was lost (timed out and taken by another worker). */
  async recordOutcome(claim: Pick<ClaimedDelivery, 'id' | 'token'>, outcome: DeliveryOutcome, now: Date): Promise<boolean> {
    const at = now.toISOString();
    const set =
      outcome.status === 'delivered'
        ? { status: 'delivered' as const, delivered_at: at, last_cause: null }
        : outcome.status === 'failed'
          ? { status: 'failed' as const, next_attempt_at: outcome.nextAttemptAt, last_cause: outcome.cause.slice(0, 500) }
          : { status: 'dead' as const, last_cause: outcome.cause.slice(0, 500) };
    const result = await this.db
      .updateTable('alert_deliveries')
      .set({ ...set, claim_token: null, updated_at: at })
      .where('id', '=', claim.id)
      .where('status', '=', 'sending')
      .where('claim_token', '=', claim.token)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Forgets delivered and dead messages last touched before `before`, and the digest runs of days
   * before it. Alerts themselves are kept (one row each, whatever their history): their generation
   * is what keeps a reopened alert's next trigger from colliding with an old one.
   */
  async pruneHistory(before: Date): Promise<{ deliveries: number; digests: number }> {
    const cutoff = before.toISOString();
    const deliveries = await this.db.deleteFrom('alert_deliveries').where('status', 'in', ['delivered', 'dead']).where('updated_at', '<', cutoff).executeTakeFirst();
    const digests = await this.db.deleteFrom('alert_digest_runs').where('day', '<', cutoff.slice(0, 10)).executeTakeFirst();
    return { deliveries: Number(deliveries.numDeletedRows), digests: Number(digests.numDeletedRows) };
  }

  /** The delivery log, newest first (optionally one status). */
  /** The delivery log, newest first; a `reach` short of everything keeps the triggers and resolves of alerts on items within it. */
  async deliveries(options: { limit: number; status?: DeliveryStatus; channelId?: string; reach?: AlertReach } = { limit: 100 }): Promise<StoredDelivery[]> {
    let query = this.db.selectFrom('alert_deliveries as d').selectAll('d').orderBy('d.id', 'desc').limit(options.limit);
    if (options.status) query = query.where('d.status', '=', options.status);
    if (options.channelId) query = query.where('d.channel_id', '=', options.channelId);
    const reach = options.reach;
    if (reach && !reach.everything) {
      // A trigger or resolve carries its alert's dedup key: the alert names the item.
      query = query
        .innerJoin('alerts as a', 'a.dedup_key', 'd.dedup_key')
        .where('d.action', 'in', ['trigger', 'resolve'])
        .where((eb) => eb.and([eb('d.event', 'in', [...ITEM_EVENTS]), itemsWithin(this.dialect, reach, 'a')]));
    }
    return (await query.execute()).map(toDelivery);
  }

  async delivery(id: number): Promise<StoredDelivery | null> {
    const row = await this.db.selectFrom('alert_deliveries').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toDelivery(row) : null;
  }

  /** Alerts, open first then newest (optionally one rule or status). */
  /**
   * Alerts, open first then newest (optionally one rule or status). `worstFirst`: the worst severity
   * first, and among equals those of rules not in `digestRules` (a daily digest's many overdue
   * items never crowd a failing rotation out of a page), then the newest.
   */
  async alerts(options: { limit: number; ruleId?: string; status?: 'open' | 'resolved'; reach?: AlertReach; worstFirst?: { digestRules: readonly string[] } } = { limit: 100 }): Promise<StoredAlert[]> {
    // 'open' sorts before 'resolved'.
    let query = this.db.selectFrom('alerts').selectAll().orderBy('status', 'asc');
    if (options.worstFirst) {
      const rank = sql<number>`CASE severity ${sql.join(ALERT_SEVERITIES.map((sev, i) => sql`WHEN ${sev} THEN ${i}`), sql` `)} ELSE ${ALERT_SEVERITIES.length} END`;
      query = query.orderBy(rank);
      const digests = options.worstFirst.digestRules;
      if (digests.length) query = query.orderBy(sql<number>`CASE WHEN rule_id IN (${sql.join([...digests])}) THEN 1 ELSE 0 END`);
    }
    query = query.orderBy('opened_at', 'desc').orderBy('dedup_key').limit(options.limit);
    if (options.ruleId) query = query.where('rule_id', '=', options.ruleId);
    if (options.status) query = query.where('status', '=', options.status);
    const reach = options.reach;
    if (reach && !reach.everything) query = query.where((eb) => eb.and([eb('event', 'in', [...ITEM_EVENTS]), itemsWithin(this.dialect, reach, 'alerts')]));
    return (await query.execute()).map(toAlert);
  }

  /** Open alerts per rule within `reach` (every row for an auditor of everything). */
  async openCountsByRule(reach: AlertReach): Promise<Map<string, number>> {
    let query = this.db.selectFrom('alerts').select(['rule_id', (eb) => eb.fn.countAll<number>().as('n')]).where('status', '=', 'open').groupBy('rule_id');
    if (!reach.everything) query = query.where((eb) => eb.and([eb('event', 'in', [...ITEM_EVENTS]), itemsWithin(this.dialect, reach, 'alerts')]));
    return new Map((await query.execute()).map((r) => [r.rule_id, Number(r.n)]));
  }

  async addSilence(input: Omit<StoredSilence, 'id' | 'liftedAt' | 'liftedBy'>): Promise<number> {
    const row = await this.db
      .insertInto('alert_silences')
      .values({
        rule_id: input.ruleId,
        store_id: input.storeId,
        item_name: input.itemName,
        reason: input.reason,
        expires_at: input.expiresAt,
        created_by: input.createdBy,
        created_at: input.createdAt,
        lifted_at: null,
        lifted_by: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  async silence(id: number): Promise<StoredSilence | null> {
    const row = await this.db.selectFrom('alert_silences').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSilence(row) : null;
  }

  /** Lifts a silence not lifted yet; false when it was. */
  async liftSilence(id: number, by: string, at: string): Promise<boolean> {
    const result = await this.db.updateTable('alert_silences').set({ lifted_at: at, lifted_by: by }).where('id', '=', id).where('lifted_at', 'is', null).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Silences, newest first; a `reach` short of everything keeps those of items within it (not a whole rule's). */
  async silences(limit: number, reach?: AlertReach): Promise<StoredSilence[]> {
    let query = this.db.selectFrom('alert_silences').selectAll().orderBy('id', 'desc').limit(limit);
    if (reach && !reach.everything) query = query.where('item_name', 'is not', null).where(() => itemsWithin(this.dialect, reach, 'alert_silences'));
    return (await query.execute()).map(toSilence);
  }

  private async silencesInForce(trx: Db, at: string): Promise<StoredSilence[]> {
    return (await trx.selectFrom('alert_silences').selectAll().where('lifted_at', 'is', null).where('expires_at', '>', at).execute()).map(toSilence);
  }
}

/** The subject as a message shows it (the selector's owner, team and severity stay out of the stored JSON). */
function plainSubject(subject: ConditionSubject): AlertSubject {
  return {
    storeId: subject.storeId,
    name: subject.name,
    url: subject.url,
    ...(subject.status !== undefined ? { status: subject.status } : {}),
    ...(subject.principal !== undefined ? { principal: subject.principal } : {}),
  };
}

function toAlert(row: Selectable<AlertsTable> | AlertsTable): StoredAlert {
  return {
    dedupKey: row.dedup_key,
    ruleId: row.rule_id,
    event: row.event as AlertEvent,
    storeId: row.store_id,
    itemName: row.item_name,
    principal: row.principal === '' ? null : row.principal,
    status: row.status,
    generation: Number(row.generation),
    severity: row.severity as AlertSeverity,
    subject: JSON.parse(row.subject) as AlertSubject,
    silenceId: row.silence_id === null ? null : Number(row.silence_id),
    notified: Number(row.notified) === 1,
    openedAt: row.opened_at,
    resolvedAt: row.resolved_at,
    lastSeenAt: row.last_seen_at,
  };
}

function toDelivery(row: Selectable<DeliveriesTable>): StoredDelivery {
  return {
    id: Number(row.id),
    dedupKey: row.dedup_key,
    channelId: row.channel_id,
    action: row.action,
    generation: Number(row.generation),
    ruleId: row.rule_id,
    event: row.event as AlertEvent,
    message: JSON.parse(row.message) as AlertMessage,
    status: row.status,
    attempts: Number(row.attempts),
    nextAttemptAt: row.next_attempt_at,
    lastCause: row.last_cause,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    deliveredAt: row.delivered_at,
  };
}

function toSilence(row: Selectable<SilencesTable>): StoredSilence {
  return {
    id: Number(row.id),
    ruleId: row.rule_id,
    storeId: row.store_id,
    itemName: row.item_name,
    reason: row.reason,
    expiresAt: row.expires_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    liftedAt: row.lifted_at,
    liftedBy: row.lifted_by,
  };
}
