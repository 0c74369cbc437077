import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { GET } from '@/app/api/v1/alerts/route';
import { DATABASES } from '../support/databases';
import { bearer } from '../support/subject-credentials';
import { HOOK_SECRET, HOOK_URL, INSIDE, INSIDE_DEAD, RULE_SILENCE_REASON, SCOPE, SENTINEL_OUTSIDE, startAlertsHarness, type AlertsHarness, type Subject } from './harness';

// GET /api/v1/alerts: the page's view as JSON, cut the same way. An admin gets the rules and
// channels (ids and kinds only) and every alert; a path-limited auditor only what is about items
// inside their grant (no rules, no store-level or audit-chain alert, no rule silence, the sentinel
// nowhere in the body); a viewer is refused; a bad parameter is a 400 naming it. SQLite and PostgreSQL.

describe.each(DATABASES)('GET /api/v1/alerts (%s)', (database) => {
  let h: AlertsHarness;
  beforeAll(async () => {
    h = await startAlertsHarness(database);
  });
  afterAll(async () => {
    await h?.cleanup();
  });
  const get = async (subject: Subject | null, query = '') => {
    const res = await GET(new Request(`http://dashboard.test/api/v1/alerts${query}`, subject ? bearer(h.tokens[subject]) : {}));
    return { status: res.status, text: await res.text() };
  };

  it('gives an admin the rules, channels and every alert, never the channel URL or secret', async () => {
    const { status, text } = await get('admin');
    expect(status).toBe(200);
    const body = JSON.parse(text);
    expect(body.rules.map((r: { id: string }) => r.id)).toEqual(['prod-overdue', 'ops']);
    expect(body.channels).toEqual([{ id: 'hook', kind: 'webhook' }]);
    expect(body.open.map((a: { target: { name: string } }) => a.target.name)).toContain(SENTINEL_OUTSIDE);
    expect(body.deliveries.find((d: { target: { name: string } | null }) => d.target?.name === INSIDE_DEAD)).toMatchObject({ status: 'dead', lastCause: 'The webhook answered 404' });
    expect(body.mayManage).toBe(true);
    expect(text).not.toContain(HOOK_URL);
    expect(text).not.toContain(HOOK_SECRET);
    // Small DTOs: no stored message body.
    expect(text).not.toContain('"message"');
    expect(text).not.toContain('"summary"');
  });

  it('cuts a path-limited auditor to their items', async () => {
    const { status, text } = await get('auditor');
    expect(status).toBe(200);
    const body = JSON.parse(text);
    expect(body.rules).toBeNull();
    expect(body.channels).toBeNull();
    expect(body.mayManage).toBe(false);
    const names = [...body.open, ...body.resolved].map((a: { target: { name: string } }) => a.target.name);
    expect(names).toContain(INSIDE);
    expect(names.every((n: string) => n.startsWith(SCOPE))).toBe(true);
    expect(body.deliveries.every((d: { target: { name: string } | null }) => d.target !== null && d.target.name.startsWith(SCOPE))).toBe(true);
    expect(text).not.toContain('zz-alert-sentinel');
    expect(text).not.toContain(RULE_SILENCE_REASON);
    expect(text).not.toContain('audit chain');
  });

  it('refuses a viewer (403), no one signed in (401), and names a bad parameter (400)', async () => {
    expect((await get('viewer')).status).toBe(403);
    expect((await get(null)).status).toBe(401);
    const bad = await get('admin', '?delivery=lost&colour=red');
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text)).toMatchObject({ error: expect.stringContaining('delivery must be one of'), fields: expect.arrayContaining(['delivery', 'colour']) });
  });
});
