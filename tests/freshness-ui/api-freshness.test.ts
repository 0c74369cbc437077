import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as freshnessRoute } from '@/app/api/v1/freshness/route';
import { FRESHNESS_STATUSES, type FreshnessRow } from '@/lib/freshness/types';
import { STATUS_RANK } from '@/lib/freshness/worst-order';
import { bearer, SCOPE, SENTINEL_OUTSIDE, startFreshnessHarness, url, type FreshnessHarness } from './harness';

// GET /api/v1/freshness: token or session, filters validated and named, every answer cut to grants.

let h: FreshnessHarness;
beforeAll(async () => {
  h = await startFreshnessHarness();
});
afterAll(() => h.cleanup());

type Page = { at: string; items: FreshnessRow[]; nextCursor: string | null };

async function get(query: string, init: RequestInit): Promise<{ status: number; text: string; body: Page & { error?: string; fields?: string[] } }> {
  const res = await freshnessRoute(new Request(url(`/api/v1/freshness${query}`), init));
  const text = await res.text();
  expect(res.headers.get('cache-control')).toBe('no-store');
  return { status: res.status, text, body: JSON.parse(text) };
}

/** Every page of a query, and every raw body seen on the way. */
async function all(query: string, init: RequestInit, limit = 1000): Promise<{ rows: FreshnessRow[]; bodies: string[] }> {
  const rows: FreshnessRow[] = [];
  const bodies: string[] = [];
  let cursor: string | null = null;
  do {
    const sep = query ? '&' : '?';
    const res = await get(`${query}${sep}limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`, init);
    expect(res.status).toBe(200);
    bodies.push(res.text);
    rows.push(...res.body.items);
    cursor = res.body.nextCursor;
  } while (cursor);
  return { rows, bodies };
}

const severity = (row: FreshnessRow) => STATUS_RANK[row.status];

describe('GET /api/v1/freshness', () => {
  it('answers 401 without credentials and with a forged token', async () => {
    expect((await get('', {})).status).toBe(401);
    expect((await get('', bearer('sd_forged-token-that-is-not-real'))).status).toBe(401);
  });

  it('answers 400 naming the field for a status that does not exist, and for a bad limit', async () => {
    const stale = await get('?status=stale', bearer(h.tokens.admin));
    expect(stale.status).toBe(400);
    expect(stale.body.fields).toEqual(['status']);
    expect(stale.body.error).toMatch(/status: "stale" is not a status; use rotation-failing, overdue, never-rotated, due-soon, fresh/);
    const limit = await get('?limit=5000', bearer(h.tokens.admin));
    expect(limit.status).toBe(400);
    expect(limit.body.error).toMatch(/limit is at most 1000/);
  });

  it('gives an admin every item, the sentinel too, worst first', async () => {
    const { rows } = await all('', bearer(h.tokens.admin));
    expect(rows.length).toBeGreaterThan(50);
    expect(rows.map((r) => r.name)).toContain(SENTINEL_OUTSIDE);
    const severities = rows.map(severity);
    expect(severities).toEqual([...severities].sort((a, b) => a - b));
    // No value anywhere, only metadata fields.
    for (const row of rows) expect(Object.keys(row).sort()).toEqual(['ageDays', 'dueAt', 'href', 'kind', 'lastChangedAt', 'name', 'owner', 'reason', 'status', 'storeId']);
  });

  it('pages with the cursor through exactly the rows of one big page', async () => {
    const big = await all('', bearer(h.tokens.admin), 1000);
    const small = await all('', bearer(h.tokens.admin), 7);
    expect(small.bodies.length).toBeGreaterThan(2);
    expect(small.rows.map((r) => `${r.storeId}:${r.name}`)).toEqual(big.rows.map((r) => `${r.storeId}:${r.name}`));
  });

  it('filters by status and store', async () => {
    const { rows: everything } = await all('', bearer(h.tokens.admin));
    for (const status of FRESHNESS_STATUSES) {
      const { rows } = await all(`?status=${status}&store=local`, bearer(h.tokens.admin));
      expect(rows.every((r) => r.status === status)).toBe(true);
      expect(rows.length).toBe(everything.filter((r) => r.status === status).length);
    }
    const { rows: two } = await all('?status=overdue,fresh', bearer(h.tokens.admin));
    expect(two.length).toBe(everything.filter((r) => r.status === 'overdue' || r.status === 'fresh').length);
  });

  it.each(['token', 'session'] as const)('never gives a scoped viewer (by %s) an item outside their grants', async (via) => {
    const init = via === 'token' ? bearer(h.tokens.viewer) : { headers: { cookie: `next-auth.session-token=${h.cookies.viewer}` } };
    const queries = ['', '?status=overdue', '?status=rotation-failing,overdue,never-rotated,due-soon,fresh', '?store=local', '?store=local&status=overdue'];
    let seen = 0;
    for (const query of queries) {
      for (const limit of [1000, 3]) {
        const { rows, bodies } = await all(query, init, limit);
        for (const body of bodies) expect(body).not.toContain(SENTINEL_OUTSIDE);
        for (const row of rows) expect(row.name.startsWith(SCOPE)).toBe(true);
        seen += rows.length;
      }
    }
    // The allowed case: the viewer does see their own items.
    expect(seen).toBeGreaterThan(0);
  });
});
