import { expect, test } from './support/test';
import { FRESHNESS_STATUSES } from '../lib/freshness/types';

// The overview for on-call (the home page) on the demo data: counts by status for the built-in
// store with every status reached, the age chart, the worst items first with a link, badges and
// the status filter in the folder table, the reason on the item page; and all of it at 390 px.

test('the home page is the overview: every status reached on the demo data, worst items first, each a link', async ({ page }) => {
  await page.goto('/');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Overview');
  const local = page.locator('[data-testid="overview-store"][data-store="local"]');
  for (const status of FRESHNESS_STATUSES) {
    const count = local.locator(`[data-testid="overview-count"][data-status="${status}"]`);
    await expect(count, status).toHaveText(/^[1-9][\d,]*$/);
  }
  await expect(page.getByTestId('age-chart')).toBeVisible();

  // Worst first: the first row is failing or overdue, and its link opens the item with its reason.
  const first = page.getByTestId('freshness-row').first();
  await expect(first.getByTestId('freshness-badge')).toHaveAttribute('data-status', /rotation-failing|overdue|never-rotated/);
  const reason = (await first.getByTestId('freshness-reason').textContent())!.trim();
  await first.getByRole('link').first().click();
  await expect(page).toHaveURL(/\/items\/local\//);
  await expect(page.getByText(reason, { exact: false }).first()).toBeVisible();

  // A count opens the list of exactly those items.
  await page.goto('/');
  await local.locator('[data-testid="overview-count"][data-status="overdue"]').click();
  await expect(page).toHaveURL(/\/freshness\?/);
  const badges = page.getByTestId('freshness-row').getByTestId('freshness-badge');
  await expect(badges.first()).toBeVisible();
  for (const status of await badges.evaluateAll((els) => els.map((e) => e.getAttribute('data-status')))) expect(status).toBe('overdue');
});

test('folder tables carry a badge per row and filter by status in the URL', async ({ page }) => {
  await page.goto('/browse/local/prod/payments');
  await expect(page.getByTestId('item-row').first().getByTestId('freshness-badge')).toBeVisible();
  await page.goto('/browse/local/prod/payments?status=overdue,never-rotated');
  const statuses = await page.getByTestId('item-row').getByTestId('freshness-badge').evaluateAll((els) => els.map((e) => e.getAttribute('data-status')));
  for (const status of statuses) expect(['overdue', 'never-rotated']).toContain(status);
  const bad = await page.goto('/browse/local/prod/payments?status=stale');
  expect(bad?.status()).toBe(400);
  await expect(page.getByText('status', { exact: false }).first()).toBeVisible();
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });
  for (const path of ['/', '/freshness?status=overdue', '/browse/local/prod/payments', '/items/local/prod/payments/db/password']) {
    test(`${path} does not scroll sideways at 390 px`, async ({ page }) => {
      await page.goto(path);
      await expect(page.locator('main')).toBeVisible();
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
    });
  }
});
