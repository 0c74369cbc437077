import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));

import OverviewPage from '@/app/(dashboard)/page';
import FreshnessListPage from '@/app/(dashboard)/freshness/page';
import { sessionJar } from '../support/next-headers-mock';
import { SCOPE, SENTINEL_OUTSIDE, startFreshnessHarness, type FreshnessHarness } from './harness';

// The overview and the /freshness list rendered on the server as the page would be, per caller.

let h: FreshnessHarness;
beforeAll(async () => {
  h = await startFreshnessHarness();
});
afterAll(() => h.cleanup());
beforeEach(() => {
  sessionJar.cookie = null;
});

const render = async (page: Promise<React.ReactNode>) => renderToStaticMarkup(await page);
const list = (query: Record<string, string>) => render(FreshnessListPage({ searchParams: Promise.resolve(query) }));
const itemLinks = (html: string) => [...html.matchAll(/href="\/items\/local([^"]+)"/g)].map((m) => m[1]!);

describe('the overview (home page)', () => {
  it('shows an admin counts per status linking to the list, the age chart and the worst items', async () => {
    sessionJar.cookie = h.cookies.admin;
    const html = await render(OverviewPage());
    expect(html).toContain('data-testid="overview-store"');
    expect(html).toMatch(/href="\/freshness\?store=local&amp;status=overdue"/);
    expect(html).toContain('data-testid="age-chart"');
    expect(html).toContain('data-testid="overview-worst"');
    // The sentinel is 400 days old: among the worst for someone who may see it.
    expect(itemLinks(html)).toContain(SENTINEL_OUTSIDE);
    expect(html).toMatch(/owner <span[^>]*>sentinel-owner<\/span>/);
  });

  it('shows a scoped viewer only their own items', async () => {
    sessionJar.cookie = h.cookies.viewer;
    const html = await render(OverviewPage());
    expect(html).not.toContain(SENTINEL_OUTSIDE);
    expect(html).not.toContain('sentinel-owner');
    const links = itemLinks(html);
    expect(links.length).toBeGreaterThan(0);
    expect(links.every((name) => name.startsWith(SCOPE))).toBe(true);
  });
});

describe('/freshness', () => {
  it('lists items of the chosen status, worst first, with a link to the next page', async () => {
    sessionJar.cookie = h.cookies.admin;
    const html = await list({ status: 'overdue,never-rotated,rotation-failing,due-soon,fresh', store: 'local' });
    const links = itemLinks(html);
    expect(links.length).toBeGreaterThan(50);
    expect(links).toContain(SENTINEL_OUTSIDE);
  });

  it('pages with More links through the same items as one long page', async () => {
    sessionJar.cookie = h.cookies.admin;
    const all = itemLinks(await list({ limit: '1000' }));
    const paged: string[] = [];
    let query: Record<string, string> = { limit: '25' };
    let pages = 0;
    for (; pages < 10; pages++) {
      const html = await list(query);
      paged.push(...itemLinks(html));
      const more = /<a [^>]*data-testid="freshness-more"[^>]*>/.exec(html)?.[0];
      if (!more) break;
      const cursor = /href="\/freshness\?cursor=([A-Za-z0-9_=-]+)"/.exec(more)?.[1];
      expect(cursor).toBeDefined();
      query = { limit: '25', cursor: cursor! };
    }
    expect(all.length).toBeGreaterThan(50);
    expect(pages).toBe(Math.ceil(all.length / 25) - 1);
    expect(paged).toEqual(all);
  });

  it('names a bad filter on the page', async () => {
    sessionJar.cookie = h.cookies.admin;
    const html = await list({ status: 'stale' });
    expect(html).toContain('data-testid="freshness-filter-error"');
    expect(html).toMatch(/status: &quot;stale&quot; is not a status/);
    expect(itemLinks(html)).toEqual([]);
  });

  it('never shows a scoped viewer an item outside their grants', async () => {
    sessionJar.cookie = h.cookies.viewer;
    let seen = 0;
    for (const status of ['', 'overdue', 'fresh', 'due-soon,never-rotated']) {
      const html = await list(status ? { status } : {});
      expect(html).not.toContain(SENTINEL_OUTSIDE);
      expect(itemLinks(html).every((name) => name.startsWith(SCOPE))).toBe(true);
      seen += itemLinks(html).length;
    }
    expect(seen).toBeGreaterThan(0);
  });
});
