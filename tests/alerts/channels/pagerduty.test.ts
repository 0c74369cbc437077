import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createPagerDutySender, PAGERDUTY_SEVERITY } from '@/lib/alerts/channels/pagerduty';
import { ALERT_SEVERITIES, type DeliveryResult } from '@/lib/alerts/types';
import { alertMessage, closedPort, digestMessage, never, startReceiver, type HttpReceiver } from './http-receiver';

// PagerDuty's Events API v2 as documented (developer.pagerduty.com, "Send an Alert Event"): the
// fields of a trigger and a resolve, their limits, and the answers 202, 400, 429 and 5xx.
const routingKeyField = z.string().length(32);
const dedupKeyField = z.string().min(1).max(255);
const pdTrigger = z.strictObject({
  routing_key: routingKeyField,
  event_action: z.literal('trigger'),
  dedup_key: dedupKeyField.optional(),
  payload: z.strictObject({
    summary: z.string().min(1).max(1024),
    source: z.string().min(1),
    severity: z.enum(['critical', 'error', 'warning', 'info']),
    timestamp: z.iso.datetime({ offset: true }).optional(),
    component: z.string().optional(),
    group: z.string().optional(),
    class: z.string().optional(),
    custom_details: z.record(z.string(), z.unknown()).optional(),
  }),
  images: z.array(z.strictObject({ src: z.url({ protocol: /^https$/ }), href: z.url().optional(), alt: z.string().optional() })).optional(),
  links: z.array(z.strictObject({ href: z.url(), text: z.string().optional() })).optional(),
  client: z.string().optional(),
  client_url: z.url().optional(),
});
const pdResolve = z.strictObject({ routing_key: routingKeyField, event_action: z.literal('resolve'), dedup_key: dedupKeyField });
const pdEvent = z.discriminatedUnion('event_action', [pdTrigger, pdResolve]);

const routingKey = 'R0UT1NGKEY0123456789abcdefABCDEF';
let pd: HttpReceiver;
const accepted = (dedup: string) => ({ status: 202, body: JSON.stringify({ status: 'success', message: 'Event processed', dedup_key: dedup }), headers: { 'content-type': 'application/json' } });

beforeAll(async () => {
  pd = await startReceiver();
});
afterAll(async () => {
  await pd.close();
});
beforeEach(() => {
  pd.requests.length = 0;
  pd.answer = (req) => accepted((JSON.parse(req.rawBody) as { dedup_key: string }).dedup_key);
});

const sender = (timeoutMs?: number) => createPagerDutySender({ id: 'pager', routingKey, eventsUrl: `${pd.url}/v2/enqueue`, timeoutMs });
const events = () => pd.requests.map((r) => pdEvent.parse(JSON.parse(r.rawBody)));

function expectNoSecretIn(result: DeliveryResult) {
  if (result.ok) return;
  expect(result.cause).not.toContain(routingKey);
  expect(result.cause).not.toContain(pd.url);
  expect(result.cause).not.toContain('/v2/enqueue');
}

describe('PagerDuty channel: the events', () => {
  it('a trigger is a valid Events v2 alert: dedup key, summary, source, severity, timestamp, component, group, class, details, links', async () => {
    const message = alertMessage();
    expect(await sender().send(message, never())).toEqual({ ok: true, detail: 'PagerDuty accepted the trigger' });
    expect(pd.requests[0]!.path).toBe('/v2/enqueue');
    const [event] = events();
    expect(event).toEqual({
      routing_key: routingKey,
      event_action: 'trigger',
      dedup_key: message.dedupKey,
      payload: {
        summary: message.title,
        source: 'dashboard.example.com',
        severity: 'error',
        timestamp: message.at,
        component: '/prod/payments/db-password',
        group: 'sim-prod-secrets',
        class: 'overdue',
        custom_details: {
          summary: message.summary,
          rule: 'overdue-prod',
          rule_description: 'Production secrets past their rotation policy',
          severity: 'high',
          items: 1,
          subjects: [{ store: 'sim-prod-secrets', name: '/prod/payments/db-password', url: message.subjects[0]!.url, status: 'overdue' }],
          link: message.link,
        },
      },
      links: [{ href: message.link, text: 'Open in the dashboard' }],
      client: 'Secrets Dashboard',
      client_url: message.link,
    });
  });

  it("maps the five severities onto PagerDuty's four", async () => {
    for (const severity of ALERT_SEVERITIES) await sender().send(alertMessage({ severity }), never());
    expect(events().map((e) => (e.event_action === 'trigger' ? e.payload.severity : null))).toEqual(['critical', 'error', 'warning', 'warning', 'info']);
    expect(Object.keys(PAGERDUTY_SEVERITY)).toEqual([...ALERT_SEVERITIES]);
  });

  it('a resolve sends only routing_key, event_action and dedup_key', async () => {
    const message = alertMessage({ action: 'resolve' });
    expect(await sender().send(message, never())).toEqual({ ok: true, detail: 'PagerDuty accepted the resolve' });
    expect(JSON.parse(pd.requests[0]!.rawBody)).toEqual({ routing_key: routingKey, event_action: 'resolve', dedup_key: message.dedupKey });
  });

  it('a test triggers an info event and resolves it with the same dedup key', async () => {
    const message = alertMessage({ action: 'test', dedupKey: 'test:pager:2026-12-05T07:30:00Z', severity: 'critical', title: 'Send test from the alerts page' });
    expect(await sender().send(message, never())).toEqual({ ok: true, detail: 'PagerDuty accepted the test event and its resolve' });
    const [opened, closed] = events();
    expect(opened).toMatchObject({ event_action: 'trigger', dedup_key: message.dedupKey, payload: { severity: 'info', summary: 'Test: Send test from the alerts page' } });
    expect(closed).toEqual({ routing_key: routingKey, event_action: 'resolve', dedup_key: message.dedupKey });
  });

  it('a test whose trigger is refused sends no resolve', async () => {
    pd.answer = () => ({ status: 400, body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: ['x'] }) });
    const result = await sender().send(alertMessage({ action: 'test' }), never());
    expect(result).toEqual({ ok: false, retryable: false, cause: 'PagerDuty answered 400 (invalid event)' });
    expect(pd.requests).toHaveLength(1);
  });

  it('a digest stays one event: summary cut to 1,024 characters, the subjects in the details, at most 10 links, no single component', async () => {
    const message = digestMessage(5000);
    message.title = `Daily digest: ${'x'.repeat(2000)}`;
    await sender().send(message, never());
    const [event] = events();
    if (event?.event_action !== 'trigger') throw new Error('expected a trigger');
    expect(event.payload.summary).toHaveLength(1024);
    expect(event.payload.component).toBeUndefined();
    expect(event.payload.group).toBe('sim-prod-ssm');
    expect(event.payload.custom_details).toMatchObject({ items: 5000, link: message.link });
    expect((event.payload.custom_details as { subjects: unknown[] }).subjects).toHaveLength(50);
    expect(event.links).toHaveLength(10);
    expect(event.links?.[0]).toEqual({ href: message.link, text: 'All 5,000 items' });
  });

  it('a dedup key longer than 255 characters is hashed, the same way for the trigger and its resolve', async () => {
    const dedupKey = `rule:${'k'.repeat(300)}`;
    await sender().send(alertMessage({ dedupKey }), never());
    await sender().send(alertMessage({ dedupKey, action: 'resolve' }), never());
    const [trigger, resolve] = events();
    expect(trigger!.dedup_key).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(resolve!.dedup_key).toBe(trigger!.dedup_key);
    // Another long key gives another dedup key.
    await sender().send(alertMessage({ dedupKey: `${dedupKey}2` }), never());
    expect(events()[2]!.dedup_key).not.toBe(trigger!.dedup_key);
  });
});

describe('PagerDuty channel: how a delivery went', () => {
  it('400 invalid event is not retryable; the cause names the status, not the errors list', async () => {
    pd.answer = () => ({
      status: 400,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ status: 'invalid event', message: 'Event object is invalid', errors: [`Length of 'routing_key' is incorrect (should be 32 characters): ${routingKey}`] }),
    });
    const result = await sender().send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: false, cause: 'PagerDuty answered 400 (invalid event)' });
    expectNoSecretIn(result);
  });

  it('429 is retryable, with Retry-After when PagerDuty gives it', async () => {
    pd.answer = () => ({ status: 429, body: '' });
    expect(await sender().send(alertMessage(), never())).toEqual({ ok: false, retryable: true, cause: 'PagerDuty answered 429' });
    pd.answer = () => ({ status: 429, body: '', headers: { 'retry-after': '120' } });
    expect(await sender().send(alertMessage(), never())).toEqual({ ok: false, retryable: true, cause: 'PagerDuty answered 429', retryAfterMs: 120_000 });
  });

  it('500 and 502 are retryable', async () => {
    for (const status of [500, 502]) {
      pd.answer = () => ({ status, body: '<html>error</html>' });
      expect(await sender().send(alertMessage(), never())).toEqual({ ok: false, retryable: true, cause: `PagerDuty answered ${status}` });
    }
  });

  it('never quotes a status that carries the routing key', async () => {
    pd.answer = () => ({ status: 400, body: JSON.stringify({ status: routingKey }) });
    const result = await sender().send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: false, cause: 'PagerDuty answered 400' });
  });

  it('aborts an attempt at the configured timeout, retryable', async () => {
    pd.answer = () => ({ ...accepted('x'), delayMs: 3000 });
    const started = performance.now();
    const result = await sender(500).send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: true, cause: 'PagerDuty did not answer within 0.5 s' });
    expect(performance.now() - started).toBeGreaterThanOrEqual(480);
    expect(performance.now() - started).toBeLessThan(2500);
  });

  it('an unreachable endpoint is retryable', async () => {
    const port = await closedPort();
    const result = await createPagerDutySender({ id: 'p', routingKey, eventsUrl: `http://127.0.0.1:${port}/v2/enqueue` }).send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: true, cause: 'PagerDuty could not be reached (ECONNREFUSED)' });
    expectNoSecretIn(result);
  });
});
