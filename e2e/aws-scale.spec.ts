import type { Page } from '@playwright/test';
import { expect, test } from './support/test';
import { SCALE_STORE, SLOW_STORE } from './support/aws-stores';

// The inventory at scale, in the browser, against the simulated AWS of simulator (project 'aws'):
// a first sync's progress, one search across several stores, and a 20,000-item folder scrolled
// to its end while the page keeps fewer than 200 rows in the DOM.

async function syncedAt(page: Page, storeId: string): Promise<string | null> {
  const response = await page.request.get(`/api/v1/inventory?store=${storeId}`);
  expect(response.ok()).toBe(true);
  const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
  return stores[0]?.syncedAt ?? null;
}

test('a first sync shows its progress, and the folders appear when it finishes', async ({ page }) => {
  test.setTimeout(90_000);
  expect(await syncedAt(page, SLOW_STORE.id)).toBeNull();
  await page.goto(`/browse/${SLOW_STORE.id}`);
  const progress = page.getByTestId('sync-progress');
  await expect(progress).toBeVisible();
  await expect(page.getByTestId('inventory-pending')).toContainText('first sync of this store is under way');
  await expect(page.getByTestId('inventory-status')).toContainText(/Syncing: [\d,]+ items, [\d,]+ pages so far/);
  // Pages come in while we watch (one every few seconds at this simulator's latency).
  const pagesSoFar = async () => Number(/([\d,]+) pages so far/.exec((await page.getByTestId('inventory-status').textContent()) ?? '')?.[1]?.replace(/,/g, ''));
  const before = await pagesSoFar();
  await expect.poll(pagesSoFar, { timeout: 20_000 }).toBeGreaterThan(before);
  await expect(page.getByRole('navigation', { name: 'Folders' })).toHaveCount(0);

  // The simulator speeds up; the walk finishes and the page shows the store without a reload.
  const control = await page.request.post(`${process.env.E2E_SLOW_AWS_URL}/__control`, { data: { latencyMs: 1, scanWindow: 1000 } });
  expect(control.ok()).toBe(true);
  await expect(page.getByRole('navigation', { name: 'Folders' })).toBeVisible({ timeout: 45_000 });
  await expect(progress).toHaveCount(0);
  await expect(page.getByTestId('synced-age')).toContainText(/Synced .*ago|Synced/);
  expect(await syncedAt(page, SLOW_STORE.id)).not.toBeNull();
});

test('one search finds items in several stores, name matches first, each a link', async ({ page }) => {
  await expect.poll(() => syncedAt(page, 'prod-params'), { timeout: 30_000 }).not.toBeNull();
  await page.goto('/browse/local');
  const input = page.getByTestId('search-input');
  // "/" focuses the box once the page is interactive (hydrated).
  await expect(async () => {
    await page.keyboard.press('/');
    await expect(input).toBeFocused({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  await expect(input).toHaveValue('');
  await input.pressSequentially('stripe');
  const results = page.getByTestId('search-result');
  await expect(results.first()).toBeVisible();
  const texts = await results.allTextContents();
  // The built-in store's demo data and the simulated Parameter Store both hold Stripe keys.
  expect(texts.some((t) => t.includes('Built-in'))).toBe(true);
  expect(texts.some((t) => t.includes('prod-params'))).toBe(true);
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(/\/(items|browse)\//);
  await expect(page.getByRole('heading', { level: 1 })).toContainText('stripe');
});

test('a 20,000-item folder scrolls to its end with fewer than 200 rows in the DOM', async ({ page }) => {
  test.setTimeout(180_000);
  await expect.poll(() => syncedAt(page, SCALE_STORE.id), { timeout: 60_000 }).not.toBeNull();
  await page.goto(`/browse/${SCALE_STORE.id}/bulk`);
  await expect(page.getByTestId('items-count')).toContainText('20,000');
  const scroller = page.getByTestId('items-scroller');
  const rows = page.getByTestId('item-row');
  const last = `item-${String(SCALE_STORE.folderItems).padStart(6, '0')}`;
  let most = 0;
  for (let i = 0; i < 400; i++) {
    await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
    most = Math.max(most, await rows.count());
    if ((await rows.filter({ hasText: last }).count()) > 0) break;
    await page.waitForTimeout(50);
  }
  await expect(rows.filter({ hasText: last })).toBeVisible();
  expect(most).toBeGreaterThan(10);
  expect(most).toBeLessThan(200);
  // The position is in the URL: reloading lands near the end, not at the top.
  await expect(page).toHaveURL(/after=/);
  await page.reload();
  await expect(page.getByRole('link', { name: /Back to the first item/ })).toBeVisible();
  await expect(rows.first()).not.toContainText('item-000001');
});
