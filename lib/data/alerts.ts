import 'server-only';
import { createSilence, liftSilence, sendTestAlert, type SilenceState } from '@/lib/alerts/admin';
import { alertsConfig } from '@/lib/alerts/alerts-config';
import { alertsDb } from '@/lib/alerts/alerts';
import type { AlertReach, DeliveryAction, DeliveryStatus, StoredAlert, StoredDelivery, StoredSilence } from '@/lib/alerts/alerts-db';
import { EVENT_LABELS } from '@/lib/alerts/messages';
import type { AlertEvent, AlertSeverity, ChannelKind } from '@/lib/alerts/types';
import { authorize, can, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { browseHref, itemHref } from '@/lib/links';
import { ITEM_EVENTS, type AlertsPageFilters } from '@/lib/validations/alerts';
import { auditScopes } from './audit-scopes';

// The data access layer for alerts: what /alerts shows and what its buttons do, cut to the
// caller's grants by lib/auth/authorize.ts like every other surface. An alert about an item (and
// its deliveries, and a silence naming it) is seen by those who may view-audit that item; one about
// no item (a store's sync, the audit chain), a digest, a test message or a silence of a whole rule
// only by those who may audit everything, as the findings about workloads are. The rules and
// channels as configured are that second kind too (their selectors name paths of every store).
// Silencing, lifting and "Send test" are for manage-alerts (admins); lib/alerts/admin.ts checks
// it again and writes the audit entries. Small DTOs: no message body, no channel URL or secret.

/** Rows read from the store per list, already cut to the caller's reach in SQL (the page shows fewer). */
const SCAN_ROWS = 2000;
const OPEN_SHOWN = 200;
const RESOLVED_SHOWN = 50;
const DELIVERIES_SHOWN = 100;
const SILENCES_SHOWN = 200;

export interface AlertChannelDto {
  id: string;
  kind: ChannelKind;
}

export interface AlertRuleDto {
  id: string;
  description: string | null;
  events: AlertEvent[];
  channel: AlertChannelDto | null;
  mode: 'immediate' | 'digest';
  /** "HH:MM" UTC, for a digest. */
  digestAt: string | null;
  severity: AlertSeverity | null;
  selector: { stores: string[]; paths: string[]; owners: string[]; teams: string[]; minSeverity: AlertSeverity | null };
}

/** What an alert, a delivery or a silence is about, with where to look. */
export interface AlertTarget {
  storeId: string;
  /** The item's name, or what failed ("audit chain", a store id). */
  name: string;
  /** Whether it is an item (its page linked) or a store or the dashboard. */
  isItem: boolean;
  href: string;
}

export interface AlertDto {
  /** The alert's key: rule, event, item and principal. */
  key: string;
  ruleId: string;
  event: AlertEvent;
  eventLabel: string;
  severity: AlertSeverity;
  status: 'open' | 'resolved';
  target: AlertTarget;
  /** "overdue", a finding's control, a failure… */
  detail: string | null;
  principal: string | null;
  openedAt: string;
  resolvedAt: string | null;
  lastSeenAt: string;
  silenced: boolean;
}

export interface DeliveryDto {
  id: number;
  channelId: string;
  channelKind: ChannelKind | null;
  action: DeliveryAction;
  status: DeliveryStatus;
  attempts: number;
  /** Why the last attempt failed ("The webhook answered 404"); never a URL or a secret. */
  lastCause: string | null;
  ruleId: string | null;
  event: AlertEvent;
  eventLabel: string;
  /** The alert's item (trigger and resolve); null for a digest or a test. */
  target: AlertTarget | null;
  /** How many items the message names (a digest's count). */
  items: number;
  createdAt: string;
  updatedAt: string;
  deliveredAt: string | null;
  /** When the next attempt is due (pending and failed). */
  nextAttemptAt: string | null;
}

export interface SilenceDto {
  id: number;
  ruleId: string | null;
  target: AlertTarget | null;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
  liftedAt: string | null;
  liftedBy: string | null;
  state: SilenceState;
}

export interface AlertsView {
  /** The rules and channels as configured; null for a caller who may not audit everything. */
  rules: AlertRuleDto[] | null;
  channels: AlertChannelDto[] | null;
  /** The worst first, immediate rules' before digest rules' (a daily digest's many overdue items never bury a failing rotation), then the newest. */
  open: AlertDto[];
  /** Open alerts per rule within the caller's reach, most first (the list shows the first of them). */
  openByRule: { ruleId: string; count: number }[];
  resolved: AlertDto[];
  silences: SilenceDto[];
  deliveries: DeliveryDto[];
  /** Whether the caller may silence, lift and send tests (the actions check again). */
  mayManage: boolean;
}

const digestRuleIds = () => alertsConfig().rules.filter((r) => r.mode === 'digest').map((r) => r.id);


/** Whether the caller may see something about `storeId`/`name` raised by `event`: its item's audit trail, or everything. */
function maySee(principal: Principal, event: AlertEvent, storeId: string, name: string): boolean {
  return ITEM_EVENTS.includes(event) ? can(principal, 'view-audit', { storeId, name }) : canEverywhere(principal, 'view-audit');
}

/** Where a non-item alert is looked into: the store's folder for its sync, the audit log for CloudTrail and the chain. */
function targetOf(event: AlertEvent, storeId: string, name: string): AlertTarget {
  if (ITEM_EVENTS.includes(event)) return { storeId, name, isItem: true, href: itemHref(storeId, name) };
  if (event === 'sync-failing' && name === storeId) return { storeId, name, isItem: false, href: browseHref(storeId, '/') };
  return { storeId, name, isItem: false, href: '/audit' };
}

function toAlertDto(a: StoredAlert): AlertDto {
  return {
    key: a.dedupKey,
    ruleId: a.ruleId,
    event: a.event,
    eventLabel: EVENT_LABELS[a.event] ?? a.event,
    severity: a.severity,
    status: a.status,
    target: targetOf(a.event, a.storeId, a.itemName),
    detail: a.subject.status ?? null,
    principal: a.principal,
    openedAt: a.openedAt,
    resolvedAt: a.resolvedAt,
    lastSeenAt: a.lastSeenAt,
    silenced: a.silenceId !== null,
  };
}

/** The item a trigger or resolve is about (its message's one subject); null for digests and tests. */
function deliverySubject(d: StoredDelivery): { storeId: string; name: string } | null {
  if (d.action !== 'trigger' && d.action !== 'resolve') return null;
  const subject = d.message.subjects[0];
  return subject ? { storeId: subject.storeId, name: subject.name } : null;
}

function mayLogDelivery(principal: Principal, d: StoredDelivery): boolean {
  const subject = deliverySubject(d);
  return subject ? maySee(principal, d.event, subject.storeId, subject.name) : canEverywhere(principal, 'view-audit');
}

function toDeliveryDto(d: StoredDelivery, kinds: Map<string, ChannelKind>): DeliveryDto {
  const subject = deliverySubject(d);
  return {
    id: d.id,
    channelId: d.channelId,
    channelKind: kinds.get(d.channelId) ?? null,
    action: d.action,
    status: d.status,
    attempts: d.attempts,
    lastCause: d.lastCause,
    ruleId: d.ruleId,
    event: d.event,
    eventLabel: EVENT_LABELS[d.event] ?? d.event,
    target: subject ? targetOf(d.event, subject.storeId, subject.name) : null,
    items: d.message.totalItems,
    createdAt: d.createdAt,
    updatedAt: d.updatedAt,
    deliveredAt: d.deliveredAt,
    nextAttemptAt: d.status === 'pending' || d.status === 'failed' ? d.nextAttemptAt : null,
  };
}

function stateOf(s: StoredSilence, now: Date): SilenceState {
  if (s.liftedAt) return 'lifted';
  return Date.parse(s.expiresAt) > now.getTime() ? 'active' : 'expired';
}

/** A silence of an item is seen by its auditors; one of a whole rule only by auditors of everything. */
function maySeeSilence(principal: Principal, s: Pick<StoredSilence, 'storeId' | 'itemName'>): boolean {
  return s.storeId !== null && s.itemName !== null ? can(principal, 'view-audit', { storeId: s.storeId, name: s.itemName }) : canEverywhere(principal, 'view-audit');
}

function toSilenceDto(s: StoredSilence, now: Date): SilenceDto {
  return {
    id: s.id,
    ruleId: s.ruleId,
    target: s.storeId !== null && s.itemName !== null ? { storeId: s.storeId, name: s.itemName, isItem: true, href: itemHref(s.storeId, s.itemName) } : null,
    reason: s.reason,
    expiresAt: s.expiresAt,
    createdBy: s.createdBy,
    createdAt: s.createdAt,
    liftedAt: s.liftedAt,
    liftedBy: s.liftedBy,
    state: stateOf(s, now),
  };
}

function channelDtos(): AlertChannelDto[] {
  return alertsConfig().senders.map((s) => ({ id: s.id, kind: s.kind }));
}

function ruleDtos(channels: AlertChannelDto[]): AlertRuleDto[] {
  return alertsConfig().rules.map((r) => ({
    id: r.id,
    description: r.description ?? null,
    events: [...r.events],
    channel: channels.find((c) => c.id === r.channel) ?? null,
    mode: r.mode,
    digestAt: r.digestAt ?? null,
    severity: r.severity ?? null,
    selector: {
      stores: r.selector?.stores ?? [],
      paths: r.selector?.paths ?? [],
      owners: r.selector?.owners ?? [],
      teams: r.selector?.teams ?? [],
      minSeverity: r.selector?.minSeverity ?? null,
    },
  }));
}

/** The configured rule and channel ids, for the page to name a filter that matches none. */
export function configuredAlertIds(principal: Principal): { rules: string[]; channels: string[] } | null {
  if (!canEverywhere(principal, 'view-audit')) return null;
  const config = alertsConfig();
  return { rules: config.rules.map((r) => r.id), channels: config.senders.map((s) => s.id) };
}

/**
 * Everything /alerts shows, cut to the caller's grants: the rules and channels (auditors of
 * everything), open and recently resolved alerts, silences and the delivery log, newest first.
 * Callers without view-audit anywhere are refused (audited) by authorize().
 */
export async function getAlertsView(principal: Principal, filters: AlertsPageFilters = {}, now: Date = new Date()): Promise<AlertsView> {
  await authorize(principal, 'view-audit');
  const db = await alertsDb();
  const everything = canEverywhere(principal, 'view-audit');
  const channels = channelDtos();
  const kinds = new Map(channels.map((c) => [c.id, c.kind]));
  const ruleFilter = filters.ruleId ? { ruleId: filters.ruleId } : {};
  // The rows are cut in SQL by the caller's reach (so a path-limited auditor's own alerts are never
  // crowded out by newer ones outside it), then each checked again by the per-item rule below.
  const reach: AlertReach = everything ? { everything: true } : { everything: false, scopes: await auditScopes(principal) };
  const [open, openCounts, resolved, deliveries, silences] = await Promise.all([
    db.alerts({ limit: SCAN_ROWS, status: 'open', reach, worstFirst: { digestRules: digestRuleIds() }, ...ruleFilter }),
    db.openCountsByRule(reach),
    db.alerts({ limit: SCAN_ROWS, status: 'resolved', reach, ...ruleFilter }),
    db.deliveries({ limit: SCAN_ROWS, reach, ...(filters.deliveryStatus ? { status: filters.deliveryStatus } : {}), ...(filters.channelId ? { channelId: filters.channelId } : {}) }),
    db.silences(SCAN_ROWS, reach),
  ]);
  const seen = (a: StoredAlert) => maySee(principal, a.event, a.storeId, a.itemName);
  return {
    rules: everything ? ruleDtos(channels).filter((r) => !filters.ruleId || r.id === filters.ruleId) : null,
    channels: everything ? channels : null,
    open: open.filter(seen).slice(0, OPEN_SHOWN).map(toAlertDto),
    openByRule: [...openCounts]
      .filter(([ruleId]) => !filters.ruleId || ruleId === filters.ruleId)
      .map(([ruleId, count]) => ({ ruleId, count }))
      .sort((a, b) => b.count - a.count || a.ruleId.localeCompare(b.ruleId)),
    resolved: resolved
      .filter(seen)
      .sort((a, b) => (b.resolvedAt ?? '').localeCompare(a.resolvedAt ?? ''))
      .slice(0, RESOLVED_SHOWN)
      .map(toAlertDto),
    silences: silences
      .filter((s) => maySeeSilence(principal, s))
      .filter((s) => !filters.ruleId || s.ruleId === filters.ruleId || s.ruleId === null)
      .slice(0, SILENCES_SHOWN)
      .map((s) => toSilenceDto(s, now)),
    deliveries: deliveries
      .filter((d) => !filters.ruleId || d.ruleId === filters.ruleId)
      .filter((d) => mayLogDelivery(principal, d))
      .slice(0, DELIVERIES_SHOWN)
      .map((d) => toDeliveryDto(d, kinds)),
    mayManage: can(principal, 'manage-alerts'),
  };
}

/** Silences a rule and/or an item (admins; validated, audited by lib/alerts/admin.ts). */
export async function silenceAlerts(principal: Principal, input: unknown, now: Date = new Date()): Promise<SilenceDto> {
  return toSilenceDto(await createSilence(principal, input, now), now);
}

/** Lifts a silence (admins; 404 unknown, 409 lifted already; audited). */
export async function liftAlertSilence(principal: Principal, input: unknown, now: Date = new Date()): Promise<SilenceDto> {
  return toSilenceDto(await liftSilence(principal, input, now), now);
}

/** Queues a test message to a channel (admins; audited); its delivery shows in the log. */
export async function sendChannelTest(principal: Principal, input: unknown, now: Date = new Date()): Promise<{ deliveryId: number }> {
  return { deliveryId: await sendTestAlert(principal, input, now) };
}
