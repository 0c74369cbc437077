import { createHash } from 'node:crypto';
import type { AlertRule } from './alerts-config';
import type { AlertEvent, AlertMessage, AlertSeverity, AlertSubject } from './types';

// The words of an alert: titles and summaries for a trigger, its resolve, a rule's daily digest and
// an admin's test, and the dedup key that ties an alert's messages together. Metadata only: items,
// statuses, principals and links, never a value (subjects carry nothing else).

/** A subject as a condition hands it over: what a message shows, plus what the rule's selector reads. */
export interface ConditionSubject extends AlertSubject {
  /** The item's owner and team tags (selector.owners / selector.teams). */
  owner?: string | null;
  team?: string | null;
  /** finding-opened: the finding's severity (the message's, and selector.minSeverity's). */
  severity?: AlertSeverity;
}

export const EVENT_LABELS: Record<AlertEvent, string> = {
  'due-soon': 'Due soon',
  overdue: 'Overdue',
  'rotation-failing': 'Rotation failing',
  'rotation-failed': 'Rotation failed',
  'new-reader': 'New reader',
  'access-denied': 'Access denied repeatedly',
  'finding-opened': 'Finding opened',
  'sync-failing': 'Sync failing',
  'audit-chain': 'Audit chain broken',
};

/** What an event is worth when the rule does not say (finding-opened: the finding's own severity). */
export const DEFAULT_SEVERITY: Record<AlertEvent, AlertSeverity> = {
  'due-soon': 'low',
  overdue: 'high',
  'rotation-failing': 'high',
  'rotation-failed': 'high',
  'new-reader': 'medium',
  'access-denied': 'medium',
  'finding-opened': 'medium',
  'sync-failing': 'high',
  'audit-chain': 'critical',
};

/** At most this many subjects in one digest message; the link leads to the rest. */
export const DIGEST_SUBJECTS = 50;

export function severityOf(rule: AlertRule, event: AlertEvent, subject: ConditionSubject): AlertSeverity {
  if (event === 'finding-opened' && subject.severity) return subject.severity;
  return rule.severity ?? DEFAULT_SEVERITY[event];
}

/**
 * The alert's dedup key: the rule, the event and a digest of store, item and principal (item names
 * and principal ARNs are long; PagerDuty takes 255 characters). Stable across retries, replicas,
 * restarts and the alert's resolve.
 */
export function alertKey(ruleId: string, event: AlertEvent, subject: Pick<AlertSubject, 'storeId' | 'name' | 'principal'>): string {
  const digest = createHash('sha256')
    .update(JSON.stringify([subject.storeId, subject.name, subject.principal ?? '']))
    .digest('base64url')
    .slice(0, 22);
  return `${ruleId}:${event}:${digest}`;
}

/** The fields of a stored alert a message needs. */
export interface AlertForMessage {
  dedupKey: string;
  severity: AlertSeverity;
  subject: AlertSubject;
}

function describe(subject: AlertSubject): string {
  return `${subject.name} (${subject.storeId})${subject.principal ? ` by ${subject.principal}` : ''}`;
}

function ruleLine(rule: AlertRule): string {
  return `Rule ${rule.id}${rule.description ? `: ${rule.description}` : ''}.`;
}

const ruleOf = (rule: AlertRule) => ({ id: rule.id, ...(rule.description ? { description: rule.description } : {}) });

export function triggerMessage(rule: AlertRule, event: AlertEvent, alert: AlertForMessage, at: string): AlertMessage {
  const { subject } = alert;
  return {
    dedupKey: alert.dedupKey,
    action: 'trigger',
    event,
    severity: alert.severity,
    rule: ruleOf(rule),
    title: `${EVENT_LABELS[event]}: ${describe(subject)}`,
    summary: `${EVENT_LABELS[event]} on ${subject.name} in store "${subject.storeId}"${subject.principal ? ` by ${subject.principal}` : ''}${subject.status ? ` (${subject.status})` : ''}. ${ruleLine(rule)}`,
    subjects: [subject],
    totalItems: 1,
    link: subject.url,
    at,
  };
}

export function resolveMessage(rule: AlertRule, event: AlertEvent, alert: AlertForMessage, at: string): AlertMessage {
  const { subject } = alert;
  return {
    ...triggerMessage(rule, event, alert, at),
    action: 'resolve',
    title: `Resolved: ${EVENT_LABELS[event]}: ${describe(subject)}`,
    summary: `${EVENT_LABELS[event]} on ${subject.name} in store "${subject.storeId}"${subject.principal ? ` by ${subject.principal}` : ''} no longer holds. ${ruleLine(rule)}`,
  };
}

const count = (n: number) => n.toLocaleString('en-US');

/** One message for a rule's day: its first subjects, how many there are in all, and where to see them. */
export function digestMessage(
  rule: AlertRule,
  byEvent: readonly { event: AlertEvent; n: number }[],
  subjects: readonly AlertSubject[],
  total: number,
  link: string,
  dedupKey: string,
  at: string,
): AlertMessage {
  const main = byEvent[0]?.event ?? rule.events[0]!;
  const what = byEvent.length === 1 ? `${count(total)} item${total === 1 ? '' : 's'} ${EVENT_LABELS[main].toLowerCase()}` : `${count(total)} open alerts`;
  const parts = byEvent.map((e) => `${count(e.n)} ${EVENT_LABELS[e.event].toLowerCase()}`).join(', ');
  const shown = subjects.slice(0, DIGEST_SUBJECTS);
  return {
    dedupKey,
    action: 'trigger',
    event: main,
    severity: byEvent.reduce<AlertSeverity>((worst, e) => {
      const s = rule.severity ?? DEFAULT_SEVERITY[e.event];
      return SEVERITY_ORDER.indexOf(s) < SEVERITY_ORDER.indexOf(worst) ? s : worst;
    }, 'info'),
    rule: ruleOf(rule),
    title: `Daily digest (${rule.id}): ${what}`,
    summary: `${parts}. ${shown.length < total ? `The first ${shown.length} are listed; the full list is at the link.` : 'All are listed.'} ${ruleLine(rule)}`,
    subjects: [...shown],
    totalItems: total,
    link,
    at,
  };
}

const SEVERITY_ORDER: readonly AlertSeverity[] = ['critical', 'high', 'medium', 'low', 'info'];

export function testMessage(channelId: string, actor: string, at: string, dedupKey: string, link: string): AlertMessage {
  return {
    dedupKey,
    action: 'test',
    event: 'audit-chain',
    severity: 'info',
    rule: { id: 'test', description: 'Send test' },
    title: `Test message for channel ${channelId}`,
    summary: `A test from the Secrets Dashboard, sent by ${actor}. If you read this, the channel works; nothing needs doing.`,
    subjects: [],
    totalItems: 0,
    link,
    at,
  };
}

/** An absolute URL of a dashboard page: NEXTAUTH_URL (the address people reach it at) before the path, when set. */
export function dashboardUrl(pathAndQuery: string, base: string | undefined = process.env.NEXTAUTH_URL): string {
  if (!base) return pathAndQuery;
  try {
    return new URL(pathAndQuery, base).toString();
  } catch {
    return pathAndQuery;
  }
}
