import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import { blockedOrigin, createReportLimiter, directiveName, MAX_REPORT_BYTES, MAX_REPORTS_PER_BODY } from '@/lib/http/csp-report';

// POST /api/csp-report: both report formats browsers send are accepted and logged as the directive
// and the blocked origin only; anything else (wrong type, too big, not a report, too many) is refused.

type Route = typeof import('@/app/api/csp-report/route');
let route: Route;
/** logger.warn, as the route calls it: (fields, message). */
let warn: MockInstance<(fields: object, message: string) => void>;

beforeEach(async () => {
  // A fresh module per test: its rate limit and counters start over.
  vi.resetModules();
  route = await import('@/app/api/csp-report/route');
  const { logger: freshLogger } = await import('@/lib/logger');
  warn = vi.spyOn(freshLogger, 'warn').mockImplementation(() => undefined) as unknown as typeof warn;
});
afterEach(() => {
  vi.restoreAllMocks();
});

const post = (body: string | ReadableStream<Uint8Array>, contentType = 'application/csp-report', extra: Record<string, string> = {}) =>
  route.POST(
    new Request('http://127.0.0.1:3000/api/csp-report', {
      method: 'POST',
      headers: { 'content-type': contentType, ...extra },
      body,
      ...(typeof body === 'string' ? {} : { duplex: 'half' }),
    } as RequestInit),
  );

const SECRET_PATH = '/v1/collect?token=sk_live_abcdef&name=/prod/payments/stripe-key';

/** What a browser sends for report-uri (Chrome's shape). */
const legacy = (overrides: Record<string, string> = {}) =>
  JSON.stringify({
    'csp-report': {
      'document-uri': 'http://127.0.0.1:3000/items/local/prod/payments/stripe-key',
      referrer: '',
      'violated-directive': 'script-src-elem',
      'effective-directive': 'script-src-elem',
      'original-policy': "default-src 'self'; script-src 'self' 'nonce-abc' 'strict-dynamic'",
      disposition: 'enforce',
      'blocked-uri': `https://evil.example:8443${SECRET_PATH}`,
      'status-code': 200,
      'script-sample': 'alert(document.cookie)',
      ...overrides,
    },
  });

/** Everything the route logged, as one string. */
const logged = () => JSON.stringify(warn.mock.calls);

describe('POST /api/csp-report', () => {
  it('accepts a report-uri report (204) and logs only the directive and the blocked origin', async () => {
    const response = await post(legacy());
    expect(response.status).toBe(204);
    expect(await response.text()).toBe('');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]![0]).toEqual({ directive: 'script-src-elem', blocked: 'https://evil.example:8443', count: 1 });
    expect(logged()).not.toContain('sk_live');
    expect(logged()).not.toContain('stripe-key');
    expect(logged()).not.toContain('alert(');
    expect(logged()).not.toContain('nonce-');
  });

  it('accepts a Reporting API batch, logging each different violation once with its count and skipping other report types', async () => {
    const violation = (directive: string, blockedURL: string) => ({
      type: 'csp-violation',
      age: 10,
      url: 'https://secrets.example.com/audit',
      user_agent: 'Chrome',
      body: { documentURL: 'https://secrets.example.com/audit', blockedURL, effectiveDirective: directive, disposition: 'enforce', sample: 'x' },
    });
    const batch = [
      violation('style-src-attr', 'inline'),
      violation('style-src-attr', 'inline'),
      violation('connect-src', `https://collector.example${SECRET_PATH}`),
      { type: 'deprecation', body: { id: 'x', message: 'old api' } },
    ];
    const response = await post(JSON.stringify(batch), 'application/reports+json');
    expect(response.status).toBe(204);
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      { directive: 'style-src-attr', blocked: 'inline', count: 2 },
      { directive: 'connect-src', blocked: 'https://collector.example', count: 1 },
    ]);
    expect(logged()).not.toContain('sk_live');
    expect(logged()).not.toContain('/audit');
  });

  it('reads a CSP2-style violated-directive that carries its sources, and names what it cannot read "unknown"', async () => {
    expect((await post(legacy({ 'effective-directive': '', 'violated-directive': "img-src 'self' data:" }))).status).toBe(204);
    expect((await post(legacy({ 'effective-directive': 'made-up-src', 'blocked-uri': 'eval' }))).status).toBe(204);
    expect(warn.mock.calls.map((call) => call[0])).toEqual([
      { directive: 'unknown', blocked: 'https://evil.example:8443', count: 1 },
      { directive: 'unknown', blocked: 'eval', count: 1 },
    ]);
  });

  it.each([
    ['text/plain', 'text/plain'],
    ['no content type', ''],
    ['form data', 'application/x-www-form-urlencoded'],
  ])('refuses %s with 415, logging nothing', async (_, type) => {
    const response = await post(legacy(), type);
    expect(response.status).toBe(415);
    expect(((await response.json()) as { error: string }).error).toContain('application/csp-report');
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses a body whose Content-Length is over the limit, before reading it (413)', async () => {
    const response = await post(legacy(), 'application/csp-report', { 'content-length': String(MAX_REPORT_BYTES + 1) });
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: string }).error).toContain(`at most ${MAX_REPORT_BYTES} bytes`);
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses a body over the limit (413)', async () => {
    const response = await post(legacy({ 'script-sample': 'x'.repeat(MAX_REPORT_BYTES) }));
    expect(response.status).toBe(413);
    expect(warn).not.toHaveBeenCalled();
  });

  it('refuses a body over the limit that gives no Content-Length, while reading it (413)', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(4096));
    let sent = 0;
    const endless = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
      },
    });
    const response = await post(endless);
    expect(response.status).toBe(413);
    // It stopped reading soon after the limit, not at the end of the stream.
    expect(sent).toBeLessThan(MAX_REPORT_BYTES * 2);
  });

  it.each([
    ['not JSON', '{"csp-report": ', 400],
    ['JSON that is not a report', '{"hello": "world"}', 400],
    ['a report field of the wrong type', JSON.stringify({ 'csp-report': { 'blocked-uri': 42 } }), 400],
    ['an empty batch', '[]', 400],
    ['a batch over the limit', JSON.stringify(Array.from({ length: MAX_REPORTS_PER_BODY + 1 }, () => ({ type: 'csp-violation', body: {} }))), 400],
    ['an over-long field', legacy({ 'blocked-uri': `https://x.example/${'a'.repeat(9000)}` }), 400],
  ])('refuses %s with 400 naming what it expects', async (_, body, status) => {
    const response = await post(body);
    expect(response.status).toBe(status);
    if (status === 400) expect(((await response.json()) as { error: string }).error).toMatch(/not JSON|not a CSP violation report/);
    expect(warn).not.toHaveBeenCalled();
  });

  it('answers 429 with Retry-After once a burst of requests is used up, and counts what it refused', async () => {
    const statuses: number[] = [];
    for (let i = 0; i < 35; i++) statuses.push((await post(legacy())).status);
    expect(statuses.slice(0, 30).every((s) => s === 204)).toBe(true);
    expect(statuses.slice(30).every((s) => s === 429)).toBe(true);
    const refused = await post(legacy());
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(warn).toHaveBeenCalledTimes(30);
  });
});

describe('GET /api/csp-report', () => {
  it('needs a signed-in admin', async () => {
    const response = await route.GET(new Request('http://127.0.0.1:3000/api/csp-report'));
    expect(response.status).toBe(401);
    const forged = await route.GET(new Request('http://127.0.0.1:3000/api/csp-report', { headers: { authorization: 'Bearer not-a-token!' } }));
    expect(forged.status).toBe(401);
  });
});

describe('what a report is boiled down to', () => {
  it.each([
    ['https://cdn.example/lib.js?key=secret', 'https://cdn.example'],
    ['http://127.0.0.1:3000/_next/static/x.js', 'http://127.0.0.1:3000'],
    ['wss://push.example/socket', 'wss://push.example'],
    ['inline', 'inline'],
    ['EVAL', 'eval'],
    ['data', 'data'],
    ['data:image/png;base64,AAAA', 'data:'],
    ['blob:http://127.0.0.1:3000/1234-5678', 'blob:'],
    ['chrome-extension://abcdef/content.js', 'chrome-extension:'],
    ['', 'none'],
    [undefined, 'none'],
    ['not a url at all', 'unparsable'],
  ])('blocked %j is logged as %j', (raw, expected) => {
    expect(blockedOrigin(raw)).toBe(expected);
  });

  it.each([
    ['script-src-elem', 'script-src-elem'],
    ["style-src 'self' 'nonce-abc'", 'style-src'],
    ['  Frame-Ancestors  ', 'frame-ancestors'],
    ['script-src-elem; drop table', 'unknown'],
    ['x'.repeat(100), 'unknown'],
    [undefined, 'unknown'],
  ])('directive %j is logged as %j', (raw, expected) => {
    expect(directiveName(raw)).toBe(expected);
  });

  it('refills the rate limit over time, one request a second after the burst', () => {
    let now = 0;
    const limiter = createReportLimiter({ burst: 3, perSecond: 1, now: () => now });
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
    expect(limiter.retryAfterSeconds()).toBe(1);
    now += 500;
    expect(limiter.take()).toBe(false);
    now += 600;
    expect(limiter.take()).toBe(true);
    now += 60_000;
    expect([limiter.take(), limiter.take(), limiter.take(), limiter.take()]).toEqual([true, true, true, false]);
  });
});
