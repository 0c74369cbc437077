// Alerts (issue 21): rules in CONFIG_FILE's `alerts:` section turn what the dashboard already knows
// (freshness, rotation, CloudTrail readers and refusals, findings, sync health, the audit chain)
// into messages on Slack, PagerDuty, e-mail or a signed webhook, delivered once across replicas.
// This file is the contract between the parts: the conditions that raise alerts, the delivery queue
// and the channels. Metadata only: a message names items, statuses, principals and links, never a value.

export const ALERT_EVENTS = [
  /** An item's freshness became due-soon. */
  'due-soon',
  /** An item's freshness became overdue (or never-rotated past its policy). */
  'overdue',
  /** An item's rotation is failing (Secrets Manager AWSPENDING left behind, the built-in store's last rotation failed). */
  'rotation-failing',
  /** A rotation started from the dashboard failed. */
  'rotation-failed',
  /** A principal not seen reading the item in the look-back started reading it. */
  'new-reader',
  /** Repeated AccessDenied on an item from one principal. */
  'access-denied',
  /** A finding of the rule's severity (or above) opened. */
  'finding-opened',
  /** A store's sync has been failing for longer than the rule's minutes. */
  'sync-failing',
  /** The audit chain does not verify, or an anchor write failed. */
  'audit-chain',
] as const;
export type AlertEvent = (typeof ALERT_EVENTS)[number];

export const CHANNEL_KINDS = ['slack', 'pagerduty', 'email', 'webhook'] as const;
export type ChannelKind = (typeof CHANNEL_KINDS)[number];

export const ALERT_SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'] as const;
export type AlertSeverity = (typeof ALERT_SEVERITIES)[number];

/** One item an alert is about, as a message shows it. */
export interface AlertSubject {
  storeId: string;
  /** Item name (or, for sync-failing and audit-chain, what failed: a store id, "audit chain"). */
  name: string;
  /** Absolute URL of the item's page (or of the page that shows the failure). */
  url: string;
  /** "overdue", "rotation failing", a finding's control… */
  status?: string;
  /** For new-reader and access-denied: the principal. */
  principal?: string;
}

/** What a channel is asked to say. Built by the delivery queue from recorded alert events. */
export interface AlertMessage {
  /**
   * Stable for one alert across retries, replicas and its resolve: PagerDuty's dedup_key, the
   * webhook's `id`, the e-mail's Message-ID seed. (Rule id, event, store, item and principal.)
   */
  dedupKey: string;
  /** trigger: the condition holds; resolve: it cleared; test: the admin's "Send test". */
  action: 'trigger' | 'resolve' | 'test';
  event: AlertEvent;
  severity: AlertSeverity;
  rule: { id: string; description?: string };
  /** One line: "Overdue: /prod/payments/db-password (sim-prod-secrets)" or "Daily digest: 5,000 items overdue". */
  title: string;
  /** A sentence or two a person reads. */
  summary: string;
  /** The items: one for an immediate alert; for a digest the first ones (at most 50), with totalItems. */
  subjects: AlertSubject[];
  totalItems: number;
  /** Where to see everything: the item's page, or for a digest the full list (e.g. /freshness?status=overdue). */
  link: string;
  /** ISO 8601: when the condition was seen (or cleared). */
  at: string;
}

/** How one delivery attempt went. A failure names the cause a person can act on, never a secret (no URL, key or token). */
export type DeliveryResult =
  | { ok: true; detail?: string }
  | {
      ok: false;
      /** false for what a retry cannot fix (401/403/404, Slack invalid_token, PagerDuty 400): dead-lettered at once. */
      retryable: boolean;
      /** "Slack answered 404 (no_service)", "SMTP connection timed out after 10 s"… */
      cause: string;
      /** When the service said when to come back (HTTP 429 Retry-After). */
      retryAfterMs?: number;
    };

/** A configured channel, ready to send (its secrets resolved from the environment at start-up). */
export interface ChannelSender {
  id: string;
  kind: ChannelKind;
  send(message: AlertMessage, signal: AbortSignal): Promise<DeliveryResult>;
}
