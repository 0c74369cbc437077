import { NextRequest } from 'next/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GET as listItemsRoute } from '@/app/api/v1/stores/[store]/items/route';
import { FRESHNESS_STATUSES } from '@/lib/freshness/types';
import { proxy } from '@/proxy';
import { bearer, SCOPE, SENTINEL_OUTSIDE, startFreshnessHarness, url, type FreshnessHarness } from './harness';

// status= on folder pages (checked by the proxy before the page runs) and on the items API.

let h: FreshnessHarness;
beforeAll(async () => {
  h = await startFreshnessHarness();
});
afterAll(() => h.cleanup());

const params = { params: Promise.resolve({ store: 'local' }) };
type Row = { name: string; freshness: { status: string; reason: string } };

async function fetchRows(query: string, token: string): Promise<{ text: string; rows: Row[] }> {
  const res = await listItemsRoute(new Request(url(`/api/v1/stores/local/items?path=/prod/&recursive=true&limit=500${query}`), bearer(token)), params);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, rows: (JSON.parse(text) as { items: Row[] }).items };
}

describe('status= on folder pages', () => {
  it('answers the 400 page naming a status that does not exist', async () => {
    const res = await proxy(new NextRequest(url('/browse/local/prod?status=overdue,stale')));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(/status: (&quot;|")stale(&quot;|") is not a status/);
  });

  it('lets a list of real statuses through', async () => {
    const res = await proxy(new NextRequest(url('/browse/local/prod?status=overdue,due-soon&sort=changed')));
    expect(res.status).toBe(200);
  });
});

describe('filters of the freshness list (/freshness)', () => {
  it.each([
    ['/freshness?status=stale', /stale/],
    ['/freshness?limit=5000', /limit/],
    ['/freshness?colour=red', /unknown parameter (&quot;|")colour/],
  ])('%s answers the 400 page naming the problem', async (path, message) => {
    const res = await proxy(new NextRequest(url(path)));
    expect(res.status).toBe(400);
    expect(await res.text()).toMatch(message);
  });

  it('lets good filters through', async () => {
    expect((await proxy(new NextRequest(url('/freshness?store=local&status=overdue,due-soon&limit=10')))).status).toBe(200);
    expect((await proxy(new NextRequest(url('/freshness')))).status).toBe(200);
  });
});

describe('status= on /api/v1/stores/{store}/items', () => {
  it('answers 400 naming the field', async () => {
    const res = await listItemsRoute(new Request(url('/api/v1/stores/local/items?path=/prod/&status=stale'), bearer(h.tokens.admin)), params);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/status: "stale" is not a status/);
  });

  it('gives each row its status and reason, and keeps only the chosen statuses', async () => {
    const { rows: everything } = await fetchRows('', h.tokens.admin);
    expect(everything.length).toBeGreaterThan(10);
    for (const row of everything) {
      expect(FRESHNESS_STATUSES).toContain(row.freshness.status);
      expect(row.freshness.reason.length).toBeGreaterThan(0);
    }
    for (const status of FRESHNESS_STATUSES) {
      const { rows } = await fetchRows(`&status=${status}`, h.tokens.admin);
      expect(rows.map((r) => r.name)).toEqual(everything.filter((r) => r.freshness.status === status).map((r) => r.name));
    }
    expect(everything.map((r) => r.name)).toContain(SENTINEL_OUTSIDE);
  });

  it('never gives a scoped viewer a row outside their grants, whatever the status filter', async () => {
    let seen = 0;
    for (const status of ['', ...FRESHNESS_STATUSES]) {
      const { text, rows } = await fetchRows(status ? `&status=${status}` : '', h.tokens.viewer);
      expect(text).not.toContain(SENTINEL_OUTSIDE);
      expect(rows.every((r) => r.name.startsWith(SCOPE) && (!status || r.freshness.status === status))).toBe(true);
      seen += rows.length;
    }
    expect(seen).toBeGreaterThan(0);
  });
});
