import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSlackSender, slackMessageOf } from '@/lib/alerts/channels/slack';
import type { DeliveryResult } from '@/lib/alerts/types';
import { alertMessage, closedPort, digestMessage, never, startReceiver, type HttpReceiver } from './http-receiver';

// The subset of Block Kit the Slack channel sends, with the limits Slack documents for each
// field: a payload outside them is refused by Slack with 400 invalid_blocks.
const plainText = (max: number) => z.strictObject({ type: z.literal('plain_text'), text: z.string().min(1).max(max), emoji: z.boolean().optional() });
const mrkdwn = z.strictObject({ type: z.literal('mrkdwn'), text: z.string().min(1).max(3000), verbatim: z.boolean().optional() });
const blockId = z.string().max(255).optional();
const slackBlock = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('header'), text: plainText(150), block_id: blockId }),
  z.strictObject({ type: z.literal('section'), text: z.union([mrkdwn, plainText(3000)]), block_id: blockId }),
  z.strictObject({ type: z.literal('context'), elements: z.array(z.union([mrkdwn, plainText(3000)])).min(1).max(10), block_id: blockId }),
  z.strictObject({
    type: z.literal('actions'),
    block_id: blockId,
    elements: z
      .array(
        z.strictObject({
          type: z.literal('button'),
          text: plainText(75),
          url: z.url({ protocol: /^https?$/ }).max(3000),
          action_id: z.string().min(1).max(255).optional(),
          value: z.string().max(2000).optional(),
          style: z.enum(['primary', 'danger']).optional(),
        }),
      )
      .min(1)
      .max(25),
  }),
]);
const slackPayload = z.strictObject({ text: z.string().min(1).max(40_000), blocks: z.array(slackBlock).min(1).max(50) });

/** Every mrkdwn text with its <url|label> links taken out: what is left must hold no raw < or >. */
const withoutLinks = (text: string) => text.replace(/<https?:\/\/[^<>|\s]+\|[^<>]*>/g, '');
const mrkdwnTexts = (payload: z.infer<typeof slackPayload>) =>
  payload.blocks.flatMap((b) => (b.type === 'section' ? [b.text.text] : b.type === 'context' ? b.elements.map((e) => e.text) : []));

let slack: HttpReceiver;
const secretPath = '/services/T00000000/B00000000/XXXXXXXXXXXXXXXXXXXXXXXX';
const webhookUrl = () => `${slack.url}${secretPath}`;

beforeAll(async () => {
  slack = await startReceiver();
});
afterAll(async () => {
  await slack.close();
});
beforeEach(() => {
  slack.requests.length = 0;
  slack.answer = () => ({ status: 200, body: 'ok' });
});

function lastPayload() {
  const request = slack.requests.at(-1);
  expect(request?.method).toBe('POST');
  expect(request?.headers['content-type']).toMatch(/^application\/json/);
  return slackPayload.parse(JSON.parse(request!.rawBody));
}

function expectNoSecretIn(result: DeliveryResult) {
  if (result.ok) return;
  expect(result.cause).not.toContain(secretPath);
  expect(result.cause).not.toContain('XXXXXXXX');
  expect(result.cause).not.toContain('127.0.0.1');
  expect(result.cause).not.toContain(String(slack.port));
}

describe('Slack channel: the message', () => {
  it('posts a Block Kit message to the webhook URL: header, summary, the subject linked, rule and time, a button to the item', async () => {
    const message = alertMessage();
    const result = await createSlackSender({ id: 'oncall-slack', webhookUrl: webhookUrl() }).send(message, never());
    expect(result).toEqual({ ok: true });
    expect(slack.requests).toHaveLength(1);
    expect(slack.requests[0]!.path).toBe(secretPath);
    const payload = lastPayload();
    expect(payload.text).toBe(message.title);
    expect(payload.blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'actions']);
    const [header, summary, subjects, context, actions] = payload.blocks;
    expect(header).toMatchObject({ type: 'header', text: { type: 'plain_text', text: message.title } });
    expect(summary).toMatchObject({ text: { type: 'mrkdwn', text: message.summary } });
    expect(subjects).toMatchObject({ text: { text: `• <${message.subjects[0]!.url}|/prod/payments/db-password> · overdue · sim-prod-secrets` } });
    expect(context).toMatchObject({ elements: [{ type: 'mrkdwn', text: expect.stringContaining('Rule overdue-prod (Production secrets past their rotation policy) · overdue · high') }] });
    expect(JSON.stringify(context)).toContain(message.at);
    expect(actions).toEqual({ type: 'actions', elements: [{ type: 'button', text: { type: 'plain_text', text: 'Open in the dashboard' }, url: message.link, action_id: 'open-link' }] });
  });

  it('says resolved when the condition cleared', async () => {
    const result = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage({ action: 'resolve' }), never());
    expect(result.ok).toBe(true);
    const payload = lastPayload();
    expect(payload.blocks[0]).toMatchObject({ text: { text: 'Resolved: Overdue: /prod/payments/db-password (sim-prod-secrets)' } });
    expect(payload.blocks[1]).toMatchObject({ text: { text: expect.stringMatching(/^\*Resolved\.\* /) } });
    expect(JSON.stringify(payload.blocks.at(-2))).toContain('cleared 2026-12-05T07:30:00.000Z');
    // A trigger does not say so.
    expect(JSON.stringify(slackMessageOf(alertMessage()))).not.toMatch(/resolved/i);
  });

  it('a digest of 5,000 items is one message: the first 50 listed, "and 4,950 more" with the full list linked, within Block Kit limits', async () => {
    const message = digestMessage(5000);
    expect((await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(message, never())).ok).toBe(true);
    expect(slack.requests).toHaveLength(1);
    const payload = lastPayload();
    const text = JSON.stringify(payload);
    for (const subject of message.subjects) expect(text).toContain(`<${subject.url}|${subject.name}>`);
    const more = payload.blocks.find((b) => b.type === 'section' && b.text.text.startsWith('…and'));
    expect(more).toMatchObject({ text: { text: `…and 4,950 more: <${message.link}|see the full list>` } });
    expect(payload.blocks.at(-1)).toMatchObject({ elements: [{ text: { text: 'See all 5,000' }, url: message.link }] });
  });

  it('keeps to 3,000 characters a text and 50 blocks when the subjects are long, counting the ones left out in "more"', () => {
    const message = digestMessage(5000, 2500);
    message.title = `Daily digest: ${'very long title '.repeat(20)}`;
    const payload = slackPayload.parse(slackMessageOf(message));
    expect(payload.blocks.length).toBeLessThanOrEqual(50);
    expect((payload.blocks[0] as { text: { text: string } }).text.text).toHaveLength(150);
    const listed = payload.blocks.filter((b) => b.type === 'section').reduce((n, b) => n + (b.text.text.match(/^• /gm)?.length ?? 0), 0);
    expect(listed).toBeGreaterThan(0);
    expect(listed).toBeLessThanOrEqual(50);
    expect(JSON.stringify(payload)).toContain(`…and ${(5000 - listed).toLocaleString('en-US')} more`);
  });

  it("escapes Slack's control characters in names and summaries, so a name cannot forge a link or a mention", () => {
    const message = alertMessage({
      summary: 'A <!channel> & <https://evil.example|click> summary',
      subjects: [{ storeId: 'local', name: 'a<b>&c|d', url: 'https://dashboard.example.com/x|y>z', status: 'overdue' }],
    });
    const payload = slackPayload.parse(slackMessageOf(message));
    for (const text of mrkdwnTexts(payload)) expect(withoutLinks(text)).not.toMatch(/[<>]/);
    const all = mrkdwnTexts(payload).join('\n');
    expect(all).toContain('A &lt;!channel&gt; &amp; &lt;https://evil.example|click&gt; summary');
    expect(all).toContain('<https://dashboard.example.com/x%7Cy%3Ez|a&lt;b&gt;&amp;c¦d>');
  });

  it('a test message says it is a test', () => {
    const payload = slackMessageOf(alertMessage({ action: 'test', title: 'Send test from the alerts page' }));
    expect(payload.blocks[0]).toMatchObject({ text: { text: 'Test: Send test from the alerts page' } });
  });
});

describe('Slack channel: how a delivery went', () => {
  const cases: { status: number; body: string; retryable: boolean; headers?: Record<string, string>; retryAfterMs?: number }[] = [
    { status: 400, body: 'invalid_payload', retryable: false },
    { status: 403, body: 'invalid_token', retryable: false },
    { status: 403, body: 'action_prohibited', retryable: false },
    { status: 404, body: 'no_service', retryable: false },
    { status: 404, body: 'channel_not_found', retryable: false },
    { status: 410, body: 'channel_is_archived', retryable: false },
    { status: 429, body: 'rate_limited', retryable: true, headers: { 'retry-after': '30' }, retryAfterMs: 30_000 },
    { status: 500, body: 'rollup_error', retryable: true },
    { status: 503, body: 'service_unavailable', retryable: true },
  ];
  for (const { status, body, retryable, headers, retryAfterMs } of cases) {
    it(`${status} ${body} is ${retryable ? 'retryable' : 'not retryable'}, named in the cause without the URL`, async () => {
      slack.answer = () => ({ status, body, headers });
      const result = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage(), never());
      expect(result).toEqual({ ok: false, retryable, cause: `Slack answered ${status} (${body})`, ...(retryAfterMs ? { retryAfterMs } : {}) });
      expectNoSecretIn(result);
    });
  }

  it('quotes no answer that is not a short code (an HTML page, the URL echoed back)', async () => {
    slack.answer = () => ({ status: 502, body: `<html>Bad gateway for ${webhookUrl()}</html>` });
    const page = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage(), never());
    expect(page).toEqual({ ok: false, retryable: true, cause: 'Slack answered 502' });
    slack.answer = () => ({ status: 400, body: secretPath.split('/').at(-1)!.toLowerCase() });
    const echoed = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage(), never());
    expect(echoed).toEqual({ ok: false, retryable: false, cause: 'Slack answered 400' });
  });

  it('does not follow a redirect (the body would go to another host)', async () => {
    slack.answer = (req) => (req.path === '/elsewhere' ? { status: 200, body: 'ok' } : { status: 302, headers: { location: `${slack.url}/elsewhere` } });
    const result = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage(), never());
    expect(result).toMatchObject({ ok: false, retryable: false, cause: expect.stringContaining('Slack answered 302') });
    expect(slack.requests.map((r) => r.path)).toEqual([secretPath]);
  });

  it('aborts an attempt at the configured timeout, retryable', async () => {
    slack.answer = () => ({ status: 200, body: 'ok', delayMs: 3000 });
    const started = performance.now();
    const result = await createSlackSender({ id: 's', webhookUrl: webhookUrl(), timeoutMs: 400 }).send(alertMessage(), never());
    const took = performance.now() - started;
    expect(result).toEqual({ ok: false, retryable: true, cause: 'Slack did not answer within 0.4 s' });
    expect(took).toBeGreaterThanOrEqual(380);
    expect(took).toBeLessThan(2000);
  });

  it('a closed port is retryable and names the network error, not the address', async () => {
    const port = await closedPort();
    const result = await createSlackSender({ id: 's', webhookUrl: `http://127.0.0.1:${port}${secretPath}` }).send(alertMessage(), never());
    expect(result).toEqual({ ok: false, retryable: true, cause: 'Slack could not be reached (ECONNREFUSED)' });
    expect(JSON.stringify(result)).not.toContain(String(port));
  });

  it("stops when the queue's signal aborts", async () => {
    slack.answer = () => ({ status: 200, body: 'ok', delayMs: 3000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const result = await createSlackSender({ id: 's', webhookUrl: webhookUrl() }).send(alertMessage(), controller.signal);
    expect(result).toEqual({ ok: false, retryable: true, cause: 'the delivery to Slack was cancelled before it finished' });
  });
});
