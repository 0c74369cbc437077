import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
// The suppress and lift forms ask for the router, which only a running app mounts.
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import FindingsPage from '@/app/(dashboard)/findings/page';
import ItemPage from '@/app/(dashboard)/items/[store]/[...name]/page';
import DashboardLayout from '@/app/(dashboard)/layout';
import OverviewPage from '@/app/(dashboard)/page';
import { suppressFinding } from '@/lib/actions/suppress-finding';
import { sessionJar } from '../support/next-headers-mock';
import { INSIDE, SCOPE, SENTINEL_OUTSIDE, startFindingsHarness, type FindingsHarness } from './harness';

// The /findings page, the item page's Findings panel, the overview's card and the nav link, rendered
// on the server as the pages would be, per caller: an auditor held to /prod/payments/**, an admin,
// and a viewer who may audit nothing (no link, no card, no panel, and /findings is a 404).

let h: FindingsHarness;
beforeAll(async () => {
  h = await startFindingsHarness();
});
afterAll(async () => {
  await h.cleanup();
});
beforeEach(() => {
  sessionJar.cookie = null;
});

const render = async (page: Promise<React.ReactNode>) => renderToStaticMarkup(await page);
const findings = (query: Record<string, string | string[]> = {}) => render(FindingsPage({ searchParams: Promise.resolve(query) }));
const item = (name: string) => render(ItemPage({ params: Promise.resolve({ store: 'local', name: name.split('/').slice(1) }) }));
const itemLinks = (html: string) => [...html.matchAll(/data-testid="finding-item"[^>]*>([^<]+)</g)].map((m) => m[1]!);
const isNotFound = (error: unknown) => String((error as { digest?: string }).digest ?? '').includes('404');

describe('/findings', () => {
  it('shows the auditor counts, the list with evidence and suppress forms, exports, only under their paths', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await findings();
    expect(html).toContain('data-testid="findings-control-row"');
    expect(html).toContain('data-testid="findings-unused-cost"');
    expect(html).toMatch(/href="\/findings\?control=no-owner&amp;status=open"/);
    const links = itemLinks(html);
    expect(links).toContain(INSIDE);
    expect(links.every((name) => name.startsWith(SCOPE))).toBe(true);
    expect(html).not.toContain('zz-findings-sentinel');
    // The suppress form is drawn when its <details> is opened (e2e/demo-findings.spec.ts fills it; its markup is tested below).
    expect(html).toContain('data-testid="finding-suppress"');
    expect(html).not.toContain('name="expiresAt"');
    expect(html).toMatch(/href="\/api\/v1\/findings\?format=csv"/);
    expect(html).toMatch(/href="\/api\/v1\/findings\?format=asff"/);
  });

  it('shows an admin the sentinel (so the check above can fail)', async () => {
    sessionJar.cookie = h.cookies.admin;
    expect(itemLinks(await findings({ control: 'no-owner' }))).toContain(SENTINEL_OUTSIDE);
  });

  it('keeps the filters in the export links and the count links', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await findings({ control: 'no-owner', severity: ['low', 'medium'], store: 'local' });
    expect(html).toContain('href="/api/v1/findings?control=no-owner&amp;severity=low,medium&amp;store=local&amp;format=csv"');
    expect(itemLinks(html).length).toBeGreaterThan(0);
  });

  it('names a bad filter instead of failing', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await findings({ severity: 'urgent', colour: 'red' });
    expect(html).toContain('data-testid="findings-filter-error"');
    expect(html).toContain('severity: &quot;urgent&quot; is not a severity');
    expect(html).toContain('unknown parameter &quot;colour&quot;');
    const cursor = await findings({ cursor: 'bm90LWEtcG9zaXRpb24' });
    expect(cursor).toContain('data-testid="findings-filter-error"');
  });

  it('is a 404 for a viewer, like /audit', async () => {
    sessionJar.cookie = h.cookies.viewer;
    await expect(findings()).rejects.toSatisfy(isNotFound);
  });
});

describe('the Findings panel on the item page', () => {
  it('lists the item’s findings for the auditor, with a suppress form', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await item(INSIDE);
    expect(html).toContain('data-testid="findings-panel"');
    expect(html).toMatch(/data-control="no-owner"/);
    expect(html).toContain('data-testid="finding-suppress"');
  });

  it('is not there at all for a viewer', async () => {
    sessionJar.cookie = h.cookies.viewer;
    const html = await item(INSIDE);
    expect(html).toContain(INSIDE);
    expect(html).not.toContain('findings-panel');
    expect(html).not.toContain('No owner tag');
  });

  it('shows a suppression with its reason, and a lift button instead of the form', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const result = await suppressFinding({ storeId: 'local', itemName: INSIDE, control: 'no-owner', reason: 'panel test: owner arrives next sprint', expiresAt: new Date(Date.now() + 7 * 86_400_000).toISOString().slice(0, 10) });
    expect(result.ok).toBe(true);
    const html = await item(INSIDE);
    expect(html).toContain('data-testid="finding-suppression"');
    expect(html).toContain('panel test: owner arrives next sprint');
    expect(html).toContain('data-testid="finding-lift"');
    // …and in the suppressions list of /findings.
    expect(await findings()).toMatch(/data-testid="suppression-row" data-active="true"/);
  });
});

describe('overview card and nav link', () => {
  it('shows the auditor open counts per severity linking to /findings, and the nav link', async () => {
    sessionJar.cookie = h.cookies.auditor;
    const html = await render(OverviewPage());
    expect(html).toContain('data-testid="overview-findings"');
    expect(html).toMatch(/href="\/findings\?severity=low"/);
    const layout = await render(DashboardLayout({ children: null }));
    expect(layout).toContain('href="/findings"');
  });

  it('shows a viewer neither', async () => {
    sessionJar.cookie = h.cookies.viewer;
    expect(await render(OverviewPage())).not.toContain('overview-findings');
    expect(await render(DashboardLayout({ children: null }))).not.toContain('href="/findings"');
  });
});
