import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { retryAfterMsOf } from '@/lib/alerts/channels/http-post';
import { createWebhookSender, type WebhookBody } from '@/lib/alerts/channels/webhook';
import { ALERT_EVENTS, type AlertMessage } from '@/lib/alerts/types';
import { signWebhookBody, verifyWebhookSignature } from '@/lib/alerts/webhook-signature';
import { alertMessage, closedPort, digestMessage, never, startReceiver, type HttpReceiver, type ReceivedRequest } from './http-receiver';

const secret = 'whsec-test-0123456789abcdef0123456789abcdef';
const urlToken = 'tok_4f9c2a7e';
let hook: HttpReceiver;
const verdicts: ReturnType<typeof verifyWebhookSignature>[] = [];
const url = () => `${hook.url}/hooks/secrets-dashboard?token=${urlToken}`;

/** The receiver a user would write: it checks the signature over the raw body before trusting anything. */
function verifyingAnswer(request: ReceivedRequest) {
  const verdict = verifyWebhookSignature(request.rawBody, request.headers['x-secrets-dashboard-signature'] as string | undefined, secret);
  verdicts.push(verdict);
  return verdict.ok ? { status: 204 } : { status: 401, body: verdict.reason };
}

beforeAll(async () => {
  hook = await startReceiver(verifyingAnswer);
});
afterAll(async () => {
  await hook.close();
});
beforeEach(() => {
  hook.requests.length = 0;
  verdicts.length = 0;
  hook.answer = verifyingAnswer;
});

const sender = (options: { timeoutMs?: number; now?: () => Date; secret?: string } = {}) =>
  createWebhookSender({ id: 'siem', url: url(), secret: options.secret ?? secret, timeoutMs: options.timeoutMs, now: options.now });

describe('Webhook channel: the signed body', () => {
  it('posts the message as JSON with id = dedupKey, the event header and a signature the receiver verifies', async () => {
    const message = alertMessage();
    expect(await sender().send(message, never())).toEqual({ ok: true });
    expect(verdicts).toEqual([{ ok: true, timestamp: expect.any(Number) }]);
    const [request] = hook.requests;
    expect(request!.headers['x-secrets-dashboard-event']).toBe('overdue');
    expect(request!.headers['x-secrets-dashboard-signature']).toMatch(/^t=\d{10},v1=[0-9a-f]{64}$/);
    const body = JSON.parse(request!.rawBody) as WebhookBody;
    expect(body).toEqual({ id: message.dedupKey, ...message });
    expect(Math.abs((verdicts[0] as { timestamp: number }).timestamp - Date.now() / 1000)).toBeLessThan(5);
  });

  it('every event kind is delivered and verified, and a digest too', async () => {
    for (const event of ALERT_EVENTS) expect(await sender().send(alertMessage({ event }), never())).toEqual({ ok: true });
    expect(await sender().send(digestMessage(5000), never())).toEqual({ ok: true });
    expect(hook.requests.map((r) => r.headers['x-secrets-dashboard-event'])).toEqual([...ALERT_EVENTS, 'overdue']);
    expect(verdicts.every((v) => v.ok)).toBe(true);
  });

  it('a receiver refuses a replay older than the tolerance, an altered body, a wrong secret and a malformed header', async () => {
    await sender().send(alertMessage(), never());
    const { rawBody, headers } = hook.requests[0]!;
    const header = headers['x-secrets-dashboard-signature'] as string;
    const t = Number(/t=(\d+)/.exec(header)![1]);
    const at = (seconds: number) => ({ now: new Date(seconds * 1000) });

    expect(verifyWebhookSignature(rawBody, header, secret, at(t + 299))).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(rawBody, header, secret, at(t + 301))).toEqual({ ok: false, reason: 'too-old' });
    expect(verifyWebhookSignature(rawBody, header, secret, { ...at(t + 3601), toleranceSeconds: 3600 })).toEqual({ ok: false, reason: 'too-old' });
    expect(verifyWebhookSignature(rawBody, header, secret, at(t - 301))).toEqual({ ok: false, reason: 'in-the-future' });

    const altered = rawBody.replace('"severity":"high"', '"severity":"info"');
    expect(altered).not.toBe(rawBody);
    expect(verifyWebhookSignature(altered, header, secret, at(t))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(`${rawBody} `, header, secret, at(t))).toEqual({ ok: false, reason: 'mismatch' });
    expect(verifyWebhookSignature(Buffer.from(rawBody), header, secret, at(t))).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(rawBody, header, `${secret}x`, at(t))).toEqual({ ok: false, reason: 'mismatch' });
    // The timestamp is inside the MAC: moving it forward to pass the replay check breaks the signature.
    const moved = header.replace(`t=${t}`, `t=${t + 1000}`);
    expect(verifyWebhookSignature(rawBody, moved, secret, at(t + 1000))).toEqual({ ok: false, reason: 'mismatch' });

    const v1 = /v1=([0-9a-f]+)/.exec(header)![1]!;
    for (const malformed of [undefined, null, '', 'garbage', `v1=${v1}`, `t=${t}`, `t=abc,v1=${v1}`, `t=${t},v1=${v1.slice(2)}`, `t=${t},v1=${'z'.repeat(64)}`, `t=${t},t=${t},v1=${v1}`, `t=${t},,v1=${v1}`, `t=${t},v1=${v1}${',v1=00'.repeat(400)}`])
      expect(verifyWebhookSignature(rawBody, malformed, secret, at(t)), String(malformed)).toEqual({ ok: false, reason: 'malformed' });
  });

  it('accepts any of several v1 signatures (a secret being changed) and ignores other schemes', () => {
    const body = '{"id":"x"}';
    const t = 1_765_000_000;
    const now = new Date(t * 1000);
    const oldSig = signWebhookBody(body, 'old-secret-0123456789abcdef0123456789', t).split('v1=')[1];
    const newSig = signWebhookBody(body, secret, t).split('v1=')[1];
    expect(verifyWebhookSignature(body, `t=${t},v1=${oldSig},v1=${newSig}`, secret, { now })).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(body, `t=${t},v0=abc,v1=${newSig}`, secret, { now })).toEqual({ ok: true, timestamp: t });
    expect(verifyWebhookSignature(body, `t=${t},v1=${oldSig}`, secret, { now })).toEqual({ ok: false, reason: 'mismatch' });
  });

  it("a delivery signed with another secret, or stamped ten minutes ago, is refused by the receiver and not retried", async () => {
    const wrong = await sender({ secret: 'another-secret-0123456789abcdef0123456789' }).send(alertMessage(), never());
    expect(wrong).toEqual({ ok: false, retryable: false, cause: 'The webhook answered 401' });
    const stale = await sender({ now: () => new Date(Date.now() - 600_000) }).send(alertMessage(), never());
    expect(stale).toEqual({ ok: false, retryable: false, cause: 'The webhook answered 401' });
    expect(verdicts).toEqual([{ ok: false, reason: 'mismatch' }, { ok: false, reason: 'too-old' }]);
  });
});

describe('Webhook channel: how a delivery went', () => {
  const statuses: [number, boolean][] = [
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [410, false],
    [422, false],
    [408, true],
    [429, true],
    [500, true],
    [503, true],
  ];
  for (const [status, retryable] of statuses) {
    it(`${status} is ${retryable ? 'retryable' : 'not retryable'}; the cause names the status only`, async () => {
      hook.answer = () => ({ status, body: `error ${url()} ${secret}` });
      const result = await sender().send(alertMessage(), never());
      expect(result).toEqual({ ok: false, retryable, cause: `The webhook answered ${status}` });
      expect(JSON.stringify(result)).not.toContain(urlToken);
      expect(JSON.stringify(result)).not.toContain(secret);
    });
  }

  it('any 2xx is delivered', async () => {
    for (const status of [200, 201, 202, 204]) {
      hook.answer = () => ({ status });
      expect(await sender().send(alertMessage(), never())).toEqual({ ok: true });
    }
  });

  it('429 and 503 carry Retry-After, in seconds or as a date', async () => {
    hook.answer = () => ({ status: 429, headers: { 'retry-after': '7' } });
    expect(await sender().send(alertMessage(), never())).toEqual({ ok: false, retryable: true, cause: 'The webhook answered 429', retryAfterMs: 7000 });
    const now = Date.parse('2026-12-05T08:00:00Z');
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'Sat, 05 Dec 2026 08:01:30 GMT' }), now)).toBe(90_000);
    expect(retryAfterMsOf(new Headers({ 'retry-after': 'soon' }), now)).toBeUndefined();
    expect(retryAfterMsOf(new Headers(), now)).toBeUndefined();
  });

  it('aborts an attempt at the configured timeout, and an unreachable receiver is retryable', async () => {
    hook.answer = () => ({ status: 204, delayMs: 3000 });
    const started = performance.now();
    expect(await sender({ timeoutMs: 300 }).send(alertMessage(), never())).toEqual({ ok: false, retryable: true, cause: 'The webhook did not answer within 0.3 s' });
    expect(performance.now() - started).toBeLessThan(2000);
    const port = await closedPort();
    const unreachable = await createWebhookSender({ id: 'w', url: `http://127.0.0.1:${port}/?token=${urlToken}`, secret }).send(alertMessage(), never());
    expect(unreachable).toEqual({ ok: false, retryable: true, cause: 'The webhook could not be reached (ECONNREFUSED)' });
  });
});

describe('Webhook channel: a connection reset before any answer', () => {
  /** A receiver that drops the connection of its first `resets` requests, then answers 204. */
  async function resetting(resets: number) {
    let seen = 0;
    const server = createServer((req, res) => {
      seen++;
      if (seen <= resets) req.socket.destroy();
      else res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return { url: `http://127.0.0.1:${port}/hook`, seen: () => seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
  }

  it('is sent once more at once (a kept-alive socket the receiver closed), and delivered', async () => {
    const receiver = await resetting(1);
    try {
      expect(await createWebhookSender({ id: 'w', url: receiver.url, secret }).send(alertMessage(), never())).toEqual({ ok: true });
      expect(receiver.seen()).toBe(2);
    } finally {
      await receiver.close();
    }
  });

  it('is left to the queue, retryable, when the second attempt is reset too', async () => {
    const receiver = await resetting(10);
    try {
      // undici names a socket the other side closed UND_ERR_SOCKET; a reset from the network, ECONNRESET.
      expect(await createWebhookSender({ id: 'w', url: receiver.url, secret }).send(alertMessage(), never())).toEqual({
        ok: false,
        retryable: true,
        cause: expect.stringMatching(/^The webhook could not be reached \((ECONNRESET|UND_ERR_SOCKET)\)$/),
      });
      expect(receiver.seen()).toBe(2);
    } finally {
      await receiver.close();
    }
  });
});

describe("README's receiver snippet", () => {
  // The README shows a receiver verifying the signature with node:crypto alone; run that very code.
  const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### Alert channels'));
  const code = /```js\n([\s\S]*?function verifySignature[\s\S]*?)```/.exec(section)?.[1];

  it('is in the README and verifies a real delivery, refusing the replay, the altered body and the wrong secret', async () => {
    expect(code, 'README: ### Alert channels with a ```js block defining verifySignature').toBeDefined();
    const verifySignature = new Function('require', `${code}\nreturn verifySignature;`)(createRequire(import.meta.url)) as (
      rawBody: Buffer | string,
      header: string | undefined,
      secret: string,
      toleranceSeconds?: number,
    ) => boolean;
    const message: AlertMessage = alertMessage();
    await sender().send(message, never());
    const { rawBody, headers } = hook.requests[0]!;
    const header = headers['x-secrets-dashboard-signature'] as string;
    expect(verifySignature(Buffer.from(rawBody), header, secret)).toBe(true);
    expect(verifySignature(rawBody.replace('high', 'info'), header, secret)).toBe(false);
    expect(verifySignature(rawBody, header, 'wrong-secret')).toBe(false);
    expect(verifySignature(rawBody, 'nonsense', secret)).toBe(false);
    expect(verifySignature(rawBody, undefined, secret)).toBe(false);

    hook.requests.length = 0;
    await sender({ now: () => new Date(Date.now() - 400_000) }).send(message, never());
    const replayed = hook.requests[0]!;
    expect(verifySignature(replayed.rawBody, replayed.headers['x-secrets-dashboard-signature'] as string, secret)).toBe(false);
    expect(verifySignature(replayed.rawBody, replayed.headers['x-secrets-dashboard-signature'] as string, secret, 600)).toBe(true);
  });
});
