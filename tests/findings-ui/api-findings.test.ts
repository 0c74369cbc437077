import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { GET as findingsRoute } from '@/app/api/v1/findings/route';
import { DELETE as liftRoute } from '@/app/api/v1/findings/suppressions/[id]/route';
import { GET as suppressionsRoute, POST as suppressRoute } from '@/app/api/v1/findings/suppressions/route';
import type { FindingDto } from '@/lib/findings/queries';
import { bearer, INSIDE, SCOPE, SENTINEL_OUTSIDE, startFindingsHarness, url, type FindingsHarness } from './harness';

// GET /api/v1/findings and the suppression routes: token or session, filters validated and named,
// every answer (page, CSV, ASFF, suppressions) cut to the caller's view-audit grants.

let h: FindingsHarness;
beforeAll(async () => {
  h = await startFindingsHarness();
});
afterAll(async () => {
  await h.cleanup();
});

async function get(query: string, init: RequestInit = {}) {
  const res = await findingsRoute(new Request(url(`/api/v1/findings${query}`), init));
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : null };
}

/** Every page of a JSON query. */
async function all(query: string, init: RequestInit, limit = 1000): Promise<{ items: FindingDto[]; bodies: string[] }> {
  const items: FindingDto[] = [];
  const bodies: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '?';
    const res = await get(`${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, init);
    expect(res.status, res.text).toBe(200);
    bodies.push(res.text);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return { items, bodies };
}

const key = (f: Pick<FindingDto, 'storeId' | 'itemName' | 'control'>) => `${f.storeId}:${f.itemName}:${f.control}`;

function post(body: unknown, init: RequestInit = {}, contentType = 'application/json') {
  return suppressRoute(
    new Request(url('/api/v1/findings/suppressions'), {
      ...init,
      method: 'POST',
      headers: { ...(init.headers as Record<string, string>), 'content-type': contentType },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    }),
  );
}

const lift = (id: string, init: RequestInit = {}) =>
  liftRoute(new Request(url(`/api/v1/findings/suppressions/${id}`), { ...init, method: 'DELETE' }), { params: Promise.resolve({ id }) });

const day = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);

describe('GET /api/v1/findings', () => {
  it('answers 401 without credentials or with a forged token, and 403 to a viewer (no view-audit)', async () => {
    expect((await get('')).status).toBe(401);
    expect((await get('', bearer('sd_forged-token-that-is-not-real'))).status).toBe(401);
    const viewer = await get('', bearer(h.tokens.viewer));
    expect(viewer.status).toBe(403);
    expect(viewer.text).not.toContain(SENTINEL_OUTSIDE);
  });

  it.each([
    ['?severity=urgent', 'severity', /severity: "urgent" is not a severity/],
    ['?control=sm-everything', 'control', /control: "sm-everything" is not a control/],
    ['?status=closed', 'status', /status: "closed" is not a status/],
    ['?account=12', 'account', /account: "12" is not an AWS account id/],
    ['?store=Bad_Store', 'store', /store: "Bad_Store" is not a store id/],
    ['?limit=5000', 'limit', /limit is at most 1000/],
    ['?format=xml', 'format', /format must be one of json, csv, asff/],
    ['?sevrity=high', 'sevrity', /unknown parameter "sevrity"/],
    ['?cursor=not%20a%20cursor', 'cursor', /cursor is malformed/],
  ])('answers 400 naming the field for %s', async (query, field, message) => {
    const res = await get(query, bearer(h.tokens.admin));
    expect(res.status).toBe(400);
    expect(res.body.fields).toContain(field);
    expect(res.body.error).toMatch(message);
  });

  it('answers 400 for a well-formed cursor that is no position, and for a cursor on an export', async () => {
    const bad = await get('?cursor=bm90LWEtcG9zaXRpb24', bearer(h.tokens.admin));
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/cursor/i);
    const first = await get('?limit=1&status=open,suppressed,resolved', bearer(h.tokens.admin));
    expect(first.body.nextCursor).toBeTruthy();
    const csv = await get(`?format=csv&cursor=${first.body.nextCursor}`, bearer(h.tokens.admin));
    expect(csv.status).toBe(400);
    expect(csv.body.fields).toEqual(['cursor']);
  });

  it('gives an admin the sentinel (so the checks below can fail) and the auditor only their paths', async () => {
    const admin = await all('', bearer(h.tokens.admin));
    expect(admin.items.some((f) => f.itemName === SENTINEL_OUTSIDE && f.control === 'no-owner')).toBe(true);
    const auditor = await all('', bearer(h.tokens.auditor));
    expect(auditor.items.length).toBeGreaterThan(0);
    expect(auditor.items.every((f) => f.itemName.startsWith(SCOPE))).toBe(true);
    expect(auditor.items.some((f) => f.itemName === INSIDE && f.control === 'no-owner')).toBe(true);
    for (const body of auditor.bodies) expect(body).not.toContain('zz-findings-sentinel');
    // The auditor's set is exactly the admin's, cut to the scope.
    expect(auditor.items.map(key).sort()).toEqual(admin.items.filter((f) => f.itemName.startsWith(SCOPE)).map(key).sort());
    // Open only by default, worst first, with the page's metadata fields and no value.
    expect(admin.items.every((f) => f.status === 'open')).toBe(true);
    for (const f of admin.items) expect(JSON.stringify(f)).not.toContain('never-shown');
  });

  it('pages with the cursor through exactly the findings of one big page, and filters by control and severity', async () => {
    const big = await all('?status=open,suppressed,resolved', bearer(h.tokens.admin), 1000);
    const small = await all('?status=open,suppressed,resolved', bearer(h.tokens.admin), 3);
    expect(small.bodies.length).toBeGreaterThan(2);
    expect(small.items.map(key)).toEqual(big.items.map(key));
    const noOwner = await all('?control=no-owner', bearer(h.tokens.admin));
    expect(noOwner.items.length).toBe(big.items.filter((f) => f.control === 'no-owner' && f.status === 'open').length);
    const lowOrMedium = await all('?severity=low&severity=medium', bearer(h.tokens.admin));
    expect(lowOrMedium.items.length).toBe(big.items.filter((f) => ['low', 'medium'].includes(f.severity) && f.status === 'open').length);
    const comma = await all('?severity=low,medium', bearer(h.tokens.admin));
    expect(comma.items.map(key)).toEqual(lowOrMedium.items.map(key));
  });

  it('exports every matching finding as CSV, guarded against formulas, as an attachment', async () => {
    const { items } = await all('', bearer(h.tokens.auditor));
    const res = await get('?format=csv', bearer(h.tokens.auditor));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="findings-[\d-]+\.csv"$/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const lines = res.text.trimEnd().split('\r\n');
    expect(lines[0]).toBe('severity,control,control_title,status,store,item,account,owner,first_seen,last_seen,resolved_at,summary');
    expect(lines.length - 1).toBe(items.length);
    expect(res.text).toContain(INSIDE);
    expect(res.text).not.toContain('zz-findings-sentinel');
    // The admin's CSV holds the sentinel: the check above can fail.
    expect((await get('?format=csv', bearer(h.tokens.admin))).text).toContain(SENTINEL_OUTSIDE);
  });

  it('exports ASFF: one finding per matching finding, in the BatchImportFindings shape', async () => {
    const { items } = await all('?control=no-owner', bearer(h.tokens.auditor));
    const res = await get('?format=asff&control=no-owner', bearer(h.tokens.auditor));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-disposition')).toMatch(/\.asff\.json"$/);
    const doc = JSON.parse(res.text) as { Findings: Record<string, unknown>[] };
    expect(doc.Findings).toHaveLength(items.length);
    for (const f of doc.Findings) {
      expect(f).toMatchObject({ SchemaVersion: '2018-10-08', GeneratorId: 'no-owner', AwsAccountId: '000000000000', Workflow: { Status: 'NEW' }, RecordState: 'ACTIVE' });
      expect(f.ProductArn).toMatch(/^arn:aws:securityhub:[a-z0-9-]+:000000000000:product\/000000000000\/default$/);
    }
    expect(res.text).not.toContain('zz-findings-sentinel');
  });

  it('answers a session cookie like a token', async () => {
    const res = await get('?control=no-owner', { headers: { cookie: `next-auth.session-token=${h.cookies.auditor}` } });
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
  });
});

describe('suppressions', () => {
  const input = () => ({ storeId: 'local', itemName: INSIDE, control: 'no-owner', reason: 'owner is being assigned in ticket SEC-42', expiresAt: day(30) });

  it('refuses a viewer (403) and anyone unauthenticated (401), writing nothing', async () => {
    expect((await post(input())).status).toBe(401);
    expect((await post(input(), bearer(h.tokens.viewer))).status).toBe(403);
    expect((await lift('1', bearer(h.tokens.viewer))).status).toBe(403);
    expect((await suppressionsRoute(new Request(url('/api/v1/findings/suppressions'), bearer(h.tokens.viewer)))).status).toBe(403);
  });

  it.each([
    ['without a reason', { reason: undefined }, /reason is required/],
    ['with a blank reason', { reason: '  ' }, /give a reason/],
    ['with an expiry in the past', { expiresAt: day(-1) }, /expiresAt must lie in the future/],
    ['with an expiry over a year ahead', { expiresAt: day(400) }, /at most a year ahead/],
    ['with an expiry that is no date', { expiresAt: 'next tuesday' }, /expiresAt must be a date/],
    ['for a control that does not exist', { control: 'sm-nope' }, /control must be one of/],
    ['with a field too many', { colour: 'red' }, /unknown field colour/],
  ])('answers 400 %s', async (_label, change, message) => {
    const res = await post({ ...input(), ...change }, bearer(h.tokens.auditor));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(message);
  });

  it('answers 415 to a body that is not JSON and 400 to broken JSON', async () => {
    expect((await post('storeId=local', bearer(h.tokens.auditor), 'application/x-www-form-urlencoded')).status).toBe(415);
    expect((await post('{"storeId":', bearer(h.tokens.auditor))).status).toBe(400);
  });

  it('answers 404 for a finding outside the grant or not raised, naming nothing it does not know', async () => {
    const outside = await post({ ...input(), itemName: SENTINEL_OUTSIDE }, bearer(h.tokens.auditor));
    expect(outside.status).toBe(404);
    const notRaised = await post({ ...input(), control: 'sm-unused' }, bearer(h.tokens.auditor));
    expect(notRaised.status).toBe(404);
    const list = await suppressionsRoute(new Request(url('/api/v1/findings/suppressions'), bearer(h.tokens.admin)));
    expect(((await list.json()) as { items: unknown[] }).items).toEqual([]);
  });

  it('suppresses a finding (it moves to suppressed and is listed), then lifts it (open again); a second lift is 409', async () => {
    const created = await post(input(), bearer(h.tokens.auditor));
    expect(created.status).toBe(201);
    const suppression = (await created.json()) as { id: number; active: boolean; reason: string; createdBy: string };
    expect(suppression).toMatchObject({ active: true, reason: 'owner is being assigned in ticket SEC-42' });
    expect(suppression.createdBy).toMatch(/^auditor@example.com \(token /);

    const open = await all('?control=no-owner', bearer(h.tokens.auditor));
    expect(open.items.some((f) => f.itemName === INSIDE)).toBe(false);
    const suppressed = await all('?control=no-owner&status=suppressed', bearer(h.tokens.auditor));
    const found = suppressed.items.find((f) => f.itemName === INSIDE);
    expect(found?.suppression?.id).toBe(suppression.id);

    const listed = await suppressionsRoute(new Request(url('/api/v1/findings/suppressions?active=true'), bearer(h.tokens.auditor)));
    expect(((await listed.json()) as { items: { id: number }[] }).items.map((s) => s.id)).toContain(suppression.id);
    expect((await suppressionsRoute(new Request(url('/api/v1/findings/suppressions?active=maybe'), bearer(h.tokens.auditor)))).status).toBe(400);

    const lifted = await lift(String(suppression.id), bearer(h.tokens.auditor));
    expect(lifted.status).toBe(200);
    expect(((await lifted.json()) as { active: boolean; liftedBy: string }).liftedBy).toMatch(/^auditor@example.com/);
    expect((await all('?control=no-owner', bearer(h.tokens.auditor))).items.some((f) => f.itemName === INSIDE)).toBe(true);
    expect((await lift(String(suppression.id), bearer(h.tokens.auditor))).status).toBe(409);
  });

  it('answers 400 for an id that is no number and 404 for one that does not exist', async () => {
    const bad = await lift('abc', bearer(h.tokens.auditor));
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/not a suppression id/);
    expect((await lift('999999', bearer(h.tokens.auditor))).status).toBe(404);
  });
});
