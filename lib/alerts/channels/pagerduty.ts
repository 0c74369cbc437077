import 'server-only';
import { createHash } from 'node:crypto';
import type { AlertMessage, AlertSeverity, ChannelSender, DeliveryResult } from '../types';
import { failureOfAnswer, failureWithoutAnswer, postOnce, shortCode } from './http-post';

// PagerDuty Events API v2: POST /v2/enqueue with the integration's routing key in the body. A
// trigger opens (or adds to) the alert with our dedupKey, a resolve with the same key closes it.
// PagerDuty answers 202 {status:"success"}; 400 for an invalid event (no retry), 429 and 5xx to
// retry later. Limits: summary ≤ 1024 characters, dedup_key ≤ 255, a payload ≤ 512 KB.

export const DEFAULT_PAGERDUTY_EVENTS_URL = 'https://events.pagerduty.com/v2/enqueue';
export const PAGERDUTY_LIMITS = { summary: 1024, dedupKey: 255, links: 10 } as const;

export type PagerDutySeverity = 'critical' | 'error' | 'warning' | 'info';
/** PagerDuty has four severities; ours has five. low pages as warning, so info stays for tests and notes. */
export const PAGERDUTY_SEVERITY: Record<AlertSeverity, PagerDutySeverity> = {
  critical: 'critical',
  high: 'error',
  medium: 'warning',
  low: 'warning',
  info: 'info',
};

export interface PagerDutyTrigger {
  routing_key: string;
  event_action: 'trigger';
  dedup_key: string;
  payload: {
    summary: string;
    source: string;
    severity: PagerDutySeverity;
    timestamp: string;
    component?: string;
    group?: string;
    class: string;
    custom_details: Record<string, unknown>;
  };
  links: { href: string; text: string }[];
  client: string;
  client_url?: string;
}
export interface PagerDutyResolve {
  routing_key: string;
  event_action: 'resolve';
  dedup_key: string;
}

/** Our dedupKey, or its SHA-256 when longer than PagerDuty keeps (the same key each time, so trigger and resolve still meet). */
export function pagerDutyDedupKey(dedupKey: string): string {
  return dedupKey.length <= PAGERDUTY_LIMITS.dedupKey ? dedupKey : `sha256:${createHash('sha256').update(dedupKey).digest('hex')}`;
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

const isHttpUrl = (url: string) => /^https?:\/\//i.test(url);

/** The dashboard's host (from the message's link) names the source; PagerDuty wants a hostname. */
function sourceOf(message: AlertMessage): string {
  try {
    return new URL(message.link).host || 'secrets-dashboard';
  } catch {
    return 'secrets-dashboard';
  }
}

export function pagerDutyTriggerOf(message: AlertMessage, routingKey: string, severity: PagerDutySeverity = PAGERDUTY_SEVERITY[message.severity]): PagerDutyTrigger {
  const only = message.subjects.length === 1 && message.totalItems === 1 ? message.subjects[0] : undefined;
  const stores = new Set(message.subjects.map((s) => s.storeId));
  const links = [
    ...(isHttpUrl(message.link) ? [{ href: message.link, text: message.totalItems > 1 ? `All ${message.totalItems.toLocaleString('en-US')} items` : 'Open in the dashboard' }] : []),
    ...message.subjects.filter((s) => isHttpUrl(s.url) && s.url !== message.link).map((s) => ({ href: s.url, text: truncate(`${s.name} (${s.storeId})`, 200) })),
  ].slice(0, PAGERDUTY_LIMITS.links);
  return {
    routing_key: routingKey,
    event_action: 'trigger',
    dedup_key: pagerDutyDedupKey(message.dedupKey),
    payload: {
      summary: truncate(message.action === 'test' ? `Test: ${message.title}` : message.title, PAGERDUTY_LIMITS.summary),
      source: sourceOf(message),
      severity,
      timestamp: message.at,
      // component: the item; group: its store; class: what happened to it.
      ...(only ? { component: only.name } : {}),
      ...(stores.size === 1 ? { group: [...stores][0] } : {}),
      class: message.event,
      custom_details: {
        summary: message.summary,
        rule: message.rule.id,
        ...(message.rule.description ? { rule_description: message.rule.description } : {}),
        severity: message.severity,
        items: message.totalItems,
        subjects: message.subjects.map((s) => ({
          store: s.storeId,
          name: s.name,
          url: s.url,
          ...(s.status ? { status: s.status } : {}),
          ...(s.principal ? { principal: s.principal } : {}),
        })),
        link: message.link,
      },
    },
    links,
    client: 'Secrets Dashboard',
    ...(isHttpUrl(message.link) ? { client_url: message.link } : {}),
  };
}

export function pagerDutyResolveOf(message: Pick<AlertMessage, 'dedupKey'>, routingKey: string): PagerDutyResolve {
  return { routing_key: routingKey, event_action: 'resolve', dedup_key: pagerDutyDedupKey(message.dedupKey) };
}

export interface PagerDutySenderOptions {
  id: string;
  /** The Events API v2 integration key: a secret. */
  routingKey: string;
  /** https://events.pagerduty.com/v2/enqueue, or the EU service's (https://events.eu.pagerduty.com/v2/enqueue). */
  eventsUrl?: string;
  timeoutMs?: number;
}

/** PagerDuty's error status ("invalid event") from its JSON answer. */
function errorCodeOf(body: string, routingKey: string): string | undefined {
  try {
    const parsed = JSON.parse(body) as { status?: unknown };
    return typeof parsed.status === 'string' ? shortCode(parsed.status, /^[A-Za-z][A-Za-z _-]*$/, [routingKey]) : undefined;
  } catch {
    return undefined;
  }
}

export function createPagerDutySender({ id, routingKey, eventsUrl = DEFAULT_PAGERDUTY_EVENTS_URL, timeoutMs }: PagerDutySenderOptions): ChannelSender {
  const enqueue = async (event: PagerDutyTrigger | PagerDutyResolve, signal: AbortSignal): Promise<DeliveryResult> => {
    const outcome = await postOnce({ url: eventsUrl, body: JSON.stringify(event), headers: {}, timeoutMs, signal });
    if (outcome.kind !== 'answered') return failureWithoutAnswer('PagerDuty', outcome);
    if (outcome.status >= 200 && outcome.status < 300) return { ok: true, detail: `PagerDuty accepted the ${event.event_action}` };
    return failureOfAnswer('PagerDuty', outcome.status, outcome.headers, errorCodeOf(outcome.body, routingKey));
  };
  return {
    id,
    kind: 'pagerduty',
    async send(message, signal) {
      if (message.action === 'resolve') return enqueue(pagerDutyResolveOf(message, routingKey), signal);
      if (message.action === 'trigger') return enqueue(pagerDutyTriggerOf(message, routingKey), signal);
      // A test opens an info alert and closes it at once: the integration is proven, no one stays paged.
      const opened = await enqueue(pagerDutyTriggerOf(message, routingKey, 'info'), signal);
      if (!opened.ok) return opened;
      const closed = await enqueue(pagerDutyResolveOf(message, routingKey), signal);
      return closed.ok ? { ok: true, detail: 'PagerDuty accepted the test event and its resolve' } : { ...closed, cause: `${closed.cause} (the test event was opened; resolve it in PagerDuty)` };
    },
  };
}
