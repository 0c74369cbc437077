import type { Page } from '@playwright/test';
import { FAILING_STORES, HEALTHY_AWS_STORES, SLOW_STORE } from './support/aws-stores';
import { inlineProblems, nextRuntimeStarted, reportCounts, scriptNonce, watchCsp } from './support/csp-watch';
import { expect, test } from './support/test';

// The strict Content-Security-Policy on the AWS stores' pages (project 'aws'; e2e/csp.spec.ts walks
// the built-in store's): Parameter Store and Secrets Manager folders and items, a store whose sync
// fails (its banner), a store in its first sync (the progress strip) and the audit log. No violation, no console
// refusal, no report; every document carries its own nonce and no inline handler or style.

const CRAWL_LIMIT = 20;

async function healthyStoresSynced(page: Page): Promise<void> {
  await expect(async () => {
    const response = await page.request.get('/api/v1/inventory');
    expect(response.ok()).toBe(true);
    const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
    for (const { id } of HEALTHY_AWS_STORES) expect(stores.find((s) => s.storeId === id)?.syncedAt, id).toBeTruthy();
  }).toPass({ timeout: 30_000 });
}

test('AWS store pages load under the policy with no violation, console refusal or report', async ({ page, baseURL }) => {
  test.setTimeout(90_000);
  await healthyStoresSynced(page);
  const before = await reportCounts(page.request);
  const watch = await watchCsp(page);
  const origin = new URL(baseURL!).origin;
  const ids = HEALTHY_AWS_STORES.map((s) => s.id);
  const inHealthyStore = (pathname: string) => ids.some((id) => pathname.startsWith(`/browse/${id}`) || pathname.startsWith(`/items/${id}/`));

  const queue = ids.map((id) => `/browse/${id}`);
  const seen = new Set(queue);
  let crawled = 0;
  while (queue.length > 0 && crawled < CRAWL_LIMIT) {
    const path = queue.shift()!;
    expect((await page.goto(path))?.status(), path).toBe(200);
    await nextRuntimeStarted(page);
    crawled++;
    const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) {
      const url = new URL(href);
      if (url.origin !== origin || !inHealthyStore(url.pathname) || seen.has(url.pathname)) continue;
      seen.add(url.pathname);
      queue.push(url.pathname);
    }
  }
  expect([...seen].some((p) => p.startsWith('/items/'))).toBe(true);

  // A failing store's banner, a store in its first sync (its progress strip), the audit log with AWS activity.
  for (const path of [`/browse/${FAILING_STORES[0]!.id}`, `/items/${FAILING_STORES[0]!.id}/prod/payments/stripe/api-key`, `/browse/${SLOW_STORE.id}`, '/audit']) {
    await page.goto(path);
    await nextRuntimeStarted(page);
  }
  await page.waitForLoadState('networkidle');

  const documents = await watch.documents();
  const nonces = new Set<string>();
  for (const doc of documents) {
    const nonce = scriptNonce(doc.policy);
    expect(nonce, `${doc.url} carries a policy with a nonce`).not.toBeNull();
    expect(doc.hsts, doc.url).toBeNull();
    expect(inlineProblems(doc.html, nonce), doc.url).toEqual([]);
    nonces.add(nonce!);
  }
  expect(nonces.size).toBe(documents.length);
  expect(watch.violations).toEqual([]);
  expect(watch.consoleRefusals).toEqual([]);
  const after = await reportCounts(page.request);
  expect(after.total - before.total, `reports received: ${JSON.stringify(after.byDirective)}`).toBe(0);
});
