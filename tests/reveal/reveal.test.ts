import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { SENTINEL } from '../contract/fixture';
import { bearer, INSIDE, OUTSIDE, startHarness, type Harness, type Subject } from '../auth/harness';

// Reveal through its route handler: a reason is required and audited, the answer is never cached,
// and nothing is read when the request is refused.

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.cleanup());
afterEach(() => {
  process.env.ALLOW_REVEAL = '1';
  vi.restoreAllMocks();
});

const segments = (name: string) => name.split('/').filter(Boolean);

async function reveal(options: { subject?: Subject; name?: string; body?: string; cookie?: boolean } = {}) {
  const { subject = 'admin', name = INSIDE.name, body = JSON.stringify({ reason: 'incident 4242: verify the key' }) } = options;
  const init: RequestInit = options.cookie
    ? { method: 'POST', body, headers: { cookie: `next-auth.session-token=${h.cookies[subject]}` } }
    : bearer(h.tokens[subject], { method: 'POST', body });
  const res = await revealRoute(new Request(`http://dashboard.test/api/v1/stores/local/reveal${name}`, init), {
    params: Promise.resolve({ store: 'local', name: segments(name) }),
  });
  return { res, text: await res.text() };
}

/** Audit entries appended while `run` ran. */
async function auditDuring(run: () => Promise<unknown>): Promise<AuditEntry[]> {
  const before = (await listAudit(1))[0]?.seq ?? 0;
  await run();
  return (await listAudit(50)).filter((e) => e.seq > before);
}

describe('reveal with a reason', () => {
  it('answers the value with no-store, and audits the reason and version but never the value', async () => {
    let answer!: Awaited<ReturnType<typeof reveal>>;
    const entries = await auditDuring(async () => {
      answer = await reveal();
    });
    expect(answer.res.status).toBe(200);
    expect(answer.res.headers.get('cache-control')).toBe('no-store');
    expect(answer.res.headers.get('pragma')).toBe('no-cache');
    const item = await h.store.getItem(INSIDE.name);
    expect(JSON.parse(answer.text)).toEqual({ store: 'local', name: INSIDE.name, version: item!.currentVersion, value: `${SENTINEL}-stripe-v3` });

    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      actor: expect.stringContaining('admin@example.com'),
      action: 'reveal',
      target: `local:${INSIDE.name}`,
      outcome: 'success',
      details: { reason: 'incident 4242: verify the key', version: item!.currentVersion },
    });
    expect(JSON.stringify(entries)).not.toContain(SENTINEL);
  });

  it('works with a session cookie as with a token', async () => {
    const { res, text } = await reveal({ cookie: true, subject: 'scoped-admin' });
    expect(res.status).toBe(200);
    expect(JSON.parse(text).value).toBe(`${SENTINEL}-stripe-v3`);
  });

  it.each([
    ['no body', '', 'Give a reason (at most 500 characters).'],
    ['no reason', '{}', 'Give a reason (at most 500 characters).'],
    ['a blank reason', JSON.stringify({ reason: '   ' }), 'Give a reason (at most 500 characters).'],
    ['a reason over 500 characters', JSON.stringify({ reason: 'r'.repeat(501) }), 'The reason is at most 500 characters (got 501).'],
    ['a body that is not JSON', 'reason=because', 'The request body is not JSON; send {"reason": "…"}.'],
    ['a body that is not an object', '"because"', 'Send a JSON body with the reason, e.g. {"reason": "incident 1234"}.'],
    ['a huge body', JSON.stringify({ reason: 'r'.repeat(10_000) }), 'The request body is over 8192 characters; send only {"reason": "…"}.'],
  ])('%s: 400 naming the problem, nothing read, nothing revealed in the audit log', async (_, body, message) => {
    const read = vi.spyOn(h.store, 'readValue');
    let answer!: Awaited<ReturnType<typeof reveal>>;
    const entries = await auditDuring(async () => {
      answer = await reveal({ body });
    });
    expect(answer.res.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ error: message });
    expect(answer.text).not.toContain(SENTINEL);
    expect(read).not.toHaveBeenCalled();
    expect(entries.filter((e) => e.action === 'reveal' && e.outcome === 'success')).toEqual([]);
  });

  it('a reason of exactly 500 characters is accepted', async () => {
    const { res } = await reveal({ body: JSON.stringify({ reason: 'r'.repeat(500) }) });
    expect(res.status).toBe(200);
  });

  it('ALLOW_REVEAL off: 403 saying so, for admins too, nothing read, and the denial audited', async () => {
    process.env.ALLOW_REVEAL = '0';
    const read = vi.spyOn(h.store, 'readValue');
    let answer!: Awaited<ReturnType<typeof reveal>>;
    const entries = await auditDuring(async () => {
      answer = await reveal();
    });
    expect(answer.res.status).toBe(403);
    expect(JSON.parse(answer.text).error).toBe('Revealing values is turned off on this dashboard.');
    expect(read).not.toHaveBeenCalled();
    expect(entries).toMatchObject([{ action: 'reveal', outcome: 'denied', details: { status: 403 } }]);
  });

  it('refused callers read nothing: an operator gets 403, a scoped admin outside their paths 404', async () => {
    const read = vi.spyOn(h.store, 'readValue');
    expect((await reveal({ subject: 'operator' })).res.status).toBe(403);
    const outside = await reveal({ subject: 'scoped-admin', name: OUTSIDE.name });
    expect(outside.res.status).toBe(404);
    expect(outside.text).not.toContain(SENTINEL);
    expect(read).not.toHaveBeenCalled();
  });

  it('a failed read answers the error and audits a failure with the reason and the error code only', async () => {
    const { StoreError } = await import('@/lib/stores/errors');
    vi.spyOn(h.store, 'readValue').mockRejectedValue(new StoreError('integrity', 'local', 'The stored value failed its integrity check.'));
    let answer!: Awaited<ReturnType<typeof reveal>>;
    const entries = await auditDuring(async () => {
      answer = await reveal();
    });
    expect(answer.res.status).toBe(500);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ action: 'reveal', outcome: 'failure', details: { reason: 'incident 4242: verify the key', code: 'integrity' } });
    expect(JSON.stringify(entries[0]!.details)).not.toContain('integrity check');
  });

  it('an item that does not exist: 404, audited as a failure', async () => {
    let answer!: Awaited<ReturnType<typeof reveal>>;
    const entries = await auditDuring(async () => {
      answer = await reveal({ name: '/prod/payments/missing' });
    });
    expect(answer.res.status).toBe(404);
    expect(entries).toMatchObject([{ action: 'reveal', outcome: 'failure', details: { code: 'not-found' } }]);
  });
});
