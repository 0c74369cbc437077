import type { Page } from '@playwright/test';
import { inlineProblems, nextRuntimeStarted, reportCounts, scriptNonce, watchCsp } from './support/csp-watch';
import { expect, test } from './support/test';

// The strict Content-Security-Policy in a real browser: signed in as the admin, every kind of page
// (overview, folders, items, search, freshness, audit, users, tokens, sign-in, 404, the proxy's 400
// page) loads and works with no `securitypolicyviolation` event, no "Refused to …" console line and
// no report reaching /api/csp-report. Each document carries the policy with its own nonce, its HTML
// has no event handler or style attribute and no script or style element without that nonce, and
// there is no HSTS over http. A planted inline script, handler and style are then refused and
// reported, which shows the watch would see a violation. Serial: the report count is compared
// before and after the walk, and the planted page (last) adds reports of its own.

test.describe.configure({ mode: 'serial' });

/** Pages by address (paths only: sorted and filtered views render the same components). */
const CRAWL_LIMIT = 30;
const PAGE_AREAS = /^\/($|browse(\/|$)|items\/|freshness$|audit$|settings\/(users|tokens)$)/;

/** Views a crawl by path would not reach, and pages that are not linked. */
const EXTRA_PAGES = [
  '/browse',
  '/browse/local/prod/payments?status=overdue,never-rotated',
  '/browse/local/prod/payments/stripe?sort=changed&dir=desc',
  '/freshness?status=overdue',
  '/audit?bucket=day',
  '/browse/local/prod/nowhere',
  '/no-such-page',
];
/** The proxy's own 400 page: plain HTML with a nonce-carrying style element, no scripts. */
const BAD_REQUEST_PAGES = ['/browse/local/%ZZ', '/items/local/prod/key%3Bdrop'];

/** An uncaught error the policy caused (eval refused, say); other page errors are other specs' business. */
const isCspError = (message: string) => /Content Security Policy|Refused to|unsafe-eval|EvalError/i.test(message);

async function visit(page: Page, path: string, expectStatus: (status: number) => boolean) {
  const response = await page.goto(path);
  expect(response, path).not.toBeNull();
  expect(expectStatus(response!.status()), `${path} answered ${response!.status()}`).toBe(true);
  return response!;
}

test('every page loads under the policy with no violation, console refusal or report', async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  const before = await reportCounts(page.request);
  const watch = await watchCsp(page);
  const origin = new URL(baseURL!).origin;

  // Crawl from the overview and the built-in store, paths only.
  const queue = ['/', '/browse/local'];
  const seen = new Set(queue);
  let crawled = 0;
  while (queue.length > 0 && crawled < CRAWL_LIMIT) {
    const path = queue.shift()!;
    await visit(page, path, (s) => s === 200);
    await nextRuntimeStarted(page);
    crawled++;
    const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) {
      const url = new URL(href);
      if (url.origin !== origin || !PAGE_AREAS.test(url.pathname) || seen.has(url.pathname)) continue;
      seen.add(url.pathname);
      queue.push(url.pathname);
    }
  }
  expect(crawled).toBeGreaterThan(20);
  for (const area of ['/items/', '/freshness', '/audit', '/settings/users', '/settings/tokens'])
    expect([...seen].some((p) => p.startsWith(area)), `the crawl reached ${area}`).toBe(true);

  for (const path of EXTRA_PAGES) {
    await visit(page, path, (s) => s === 200 || s === 404);
    await nextRuntimeStarted(page);
  }
  for (const path of BAD_REQUEST_PAGES) {
    await visit(page, path, (s) => s === 400);
    // Its style element was allowed (by the nonce): the page is styled.
    expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain('system-ui');
  }

  // What the browser draws with styles after hydration (through the CSSOM, which the policy allows).
  await page.goto('/');
  await expect(page.getByTestId('age-chart').locator('svg.recharts-surface')).toBeVisible();
  await page.goto('/browse/local/prod/payments/stripe');
  await expect(page.getByTestId('item-row').first()).toHaveAttribute('style', /translateY/);
  await page.getByTestId('items-scroller').evaluate((el) => el.scrollTo(0, el.scrollHeight));

  // Search: the dropdown is positioned by script.
  const input = page.getByTestId('search-input');
  await expect(async () => {
    await page.keyboard.press('/');
    await expect(input).toBeFocused({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await input.pressSequentially('stripe');
  await expect(page.getByTestId('search-result').first()).toBeVisible();
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/(items|browse)\//);

  // Client-side navigation (RSC payloads, no new document) and a dialog.
  await page.goto('/browse/local');
  for (const name of ['prod', 'payments', 'db']) {
    await page.getByRole('row').getByRole('link', { name: `${name}/`, exact: true }).click();
    await page.waitForURL(new RegExp(`/${name}$`));
  }
  await page.getByRole('link', { name: 'password', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Version history' })).toBeVisible();
  await page.goto('/items/local/staging/web/feature-flags');
  await page.getByRole('button', { name: 'Rotate now…' }).click();
  await expect(page.getByRole('dialog')).toBeVisible();
  await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();
  await expect(page.getByRole('dialog')).toBeHidden();
  await page.waitForLoadState('networkidle');

  // Documents: the policy with a nonce of its own on each, the nonce on every script and style element, no HSTS over http.
  const documents = await watch.documents();
  expect(documents.length).toBeGreaterThan(crawled);
  const nonces = new Set<string>();
  for (const doc of documents) {
    const nonce = scriptNonce(doc.policy);
    expect(nonce, `${doc.url} carries a policy with a nonce`).not.toBeNull();
    expect(doc.policy, doc.url).toContain("'strict-dynamic'");
    expect(doc.policy, doc.url).not.toContain('unsafe-inline');
    expect(doc.policy, doc.url).not.toContain('unsafe-eval');
    expect(doc.hsts, `${doc.url}: no HSTS over http`).toBeNull();
    expect(inlineProblems(doc.html, nonce), doc.url).toEqual([]);
    nonces.add(nonce!);
  }
  expect(nonces.size, 'every document has a nonce of its own').toBe(documents.length);

  // Nothing was refused, said so on the console, failed, or reported.
  expect(watch.violations).toEqual([]);
  expect(watch.consoleRefusals).toEqual([]);
  expect(watch.pageErrors.filter(isCspError)).toEqual([]);
  const after = await reportCounts(page.request);
  expect(after.total - before.total, `reports received: ${JSON.stringify(after.byDirective)}`).toBe(0);
});

test('the same address gets a different nonce on every request', async ({ request }) => {
  for (const path of ['/', '/browse/local/prod', '/browse/local/%ZZ']) {
    const [a, b] = await Promise.all([request.get(path), request.get(path)]);
    const first = scriptNonce(a.headers()['content-security-policy'] ?? null);
    const second = scriptNonce(b.headers()['content-security-policy'] ?? null);
    expect(first, path).not.toBeNull();
    expect(second, path).not.toBeNull();
    expect(first, path).not.toBe(second);
    // The HTML's scripts carry the header's nonce, not one cached from another request.
    if (a.status() === 200) expect(await a.text(), path).toContain(`nonce="${first}"`);
    expect(a.headers()['strict-transport-security'], path).toBeUndefined();
  }
});

test.describe('signed out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('the sign-in page loads and works under the policy', async ({ page }) => {
    const watch = await watchCsp(page);
    await page.goto('/sign-in');
    await nextRuntimeStarted(page);
    await page.getByLabel('Email').fill('nobody@example.com');
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();
    const [doc] = await watch.documents();
    expect(scriptNonce(doc!.policy)).not.toBeNull();
    expect(inlineProblems(doc!.html, scriptNonce(doc!.policy))).toEqual([]);
    expect(watch.violations).toEqual([]);
    expect(watch.consoleRefusals).toEqual([]);
    expect(watch.pageErrors.filter(isCspError)).toEqual([]);
  });
});

test('a planted inline script, event handler and style attribute are refused and reported', async ({ page }) => {
  const before = await reportCounts(page.request);
  const watch = await watchCsp(page);
  // The proxy's 400 page (plain HTML, nothing to hydrate), with what an injection would add.
  const address = '/browse/local/%ZZ';
  await page.route(
    (url) => url.pathname === address,
    async (route) => {
      const response = await route.fetch();
      const planted =
        '<script>window.__planted = "script ran"</script>' +
        '<img src="/icon.svg" alt="" data-testid="planted-img" onload="window.__planted = \'handler ran\'">' +
        '<p data-testid="planted-style" style="color: rgb(255, 0, 0)">planted</p>';
      await route.fulfill({ response, body: (await response.text()).replace('</body>', `${planted}</body>`) });
    },
  );
  expect((await page.goto(address))?.status()).toBe(400);
  await expect(page.getByTestId('planted-style')).toBeVisible();
  await expect(page.getByTestId('planted-img')).toHaveJSProperty('complete', true);

  // The page's own nonce-carrying style element still applies; nothing planted does.
  expect(await page.evaluate(() => getComputedStyle(document.body).fontFamily)).toContain('system-ui');
  expect(await page.evaluate(() => (window as unknown as { __planted?: string }).__planted)).toBeUndefined();
  expect(await page.getByTestId('planted-style').evaluate((el) => getComputedStyle(el).color)).not.toBe('rgb(255, 0, 0)');
  const directives = ['script-src-elem', 'script-src-attr', 'style-src-attr'];
  await expect.poll(() => [...new Set(watch.violations.map((v) => v.directive))].sort()).toEqual([...directives].sort());
  expect(watch.consoleRefusals.length).toBeGreaterThan(0);
  // The browser reported each to /api/csp-report.
  await expect.poll(async () => (await reportCounts(page.request)).total - before.total, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
  const after = await reportCounts(page.request);
  for (const directive of directives) expect((after.byDirective[directive] ?? 0) - (before.byDirective[directive] ?? 0), directive).toBeGreaterThan(0);
});
