import { expect, test } from './support/test';
import { DEMO_ITEMS } from './support/demo-values';

test('Browse opens the embedded store at the root', async ({ page }) => {
  await page.goto('/browse');
  await expect(page).toHaveURL(/\/browse\/local$/);
  const tree = page.getByRole('navigation', { name: 'Folders' });
  for (const env of ['prod', 'staging', 'dev']) await expect(tree.getByRole('link', { name: env, exact: false }).first()).toBeVisible();
});

test('browses down the path tree to an item and shows its version history without a value', async ({ page }) => {
  const demo = DEMO_ITEMS.find((i) => i.name === '/prod/payments/db/password')!;
  await page.goto('/browse/local');
  await page.getByRole('row').getByRole('link', { name: 'prod/' }).click();
  await page.getByRole('row').getByRole('link', { name: 'payments/' }).click();
  await page.getByRole('row').getByRole('link', { name: 'db/' }).click();
  await expect(page).toHaveURL(/\/browse\/local\/prod\/payments\/db$/);
  const crumbs = page.getByRole('navigation', { name: 'Breadcrumb' });
  await expect(crumbs).toContainText('local');
  await expect(crumbs).toContainText('payments');
  await page.getByRole('link', { name: 'password', exact: true }).click();

  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/db/password');
  await expect(page.getByTestId('version')).toHaveCount(demo.versions.length);
  await expect(page.getByTestId('version').first()).toContainText(`v${demo.versions.length}`);
  await expect(page.getByTestId('version').first()).toContainText('current');
  await expect(page.locator('body')).not.toContainText(demo.versions.at(-1)!.value);

  // Breadcrumbs lead back up.
  await page.getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'payments' }).click();
  await expect(page).toHaveURL(/\/browse\/local\/prod\/payments$/);
});

test('sorts the table by a column, and the sort lives in the URL', async ({ page }) => {
  await page.goto('/browse/local/prod/payments/stripe');
  await page.getByRole('link', { name: 'Last changed' }).click();
  await expect(page).toHaveURL(/sort=changed&dir=asc/);
  // The URL changes before the sorted rows stream in behind the page's shell: wait for the new table.
  await expect(page.getByRole('columnheader', { name: /Last changed/ })).toHaveAttribute('aria-sort', 'ascending');
  const ascending = await page.locator('[data-testid=item-row] time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime')!)));
  expect(ascending.length).toBeGreaterThan(1);
  expect(ascending).toEqual([...ascending].sort((a, b) => a - b));

  await page.getByRole('link', { name: /Last changed/ }).click();
  await expect(page).toHaveURL(/sort=changed&dir=desc/);
  await expect(page.getByRole('columnheader', { name: /Last changed/ })).toHaveAttribute('aria-sort', 'descending');
  const descending = await page.locator('[data-testid=item-row] time').evaluateAll((ts) => ts.map((t) => Date.parse(t.getAttribute('datetime')!)));
  expect(descending).toEqual([...ascending].reverse());

  // A linked view renders the same way on a fresh load.
  await page.goto('/browse/local/prod/payments/stripe?sort=changed&dir=desc');
  await expect(page.getByRole('columnheader', { name: /Last changed/ })).toHaveAttribute('aria-sort', 'descending');
});

test('filters by name through the URL', async ({ page }) => {
  await page.goto('/browse/local/prod/payments/stripe');
  const all = await page.getByTestId('item-row').count();
  await page.getByLabel('Filter by name').fill('webhook');
  await page.getByRole('button', { name: 'Filter' }).click();
  await expect(page).toHaveURL(/\?q=webhook/);
  await expect(page.getByTestId('item-row')).toHaveCount(1);
  expect(all).toBeGreaterThan(1);
  await expect(page.getByTestId('item-row')).toContainText('webhook-secret');
});

test.describe('bad addresses', () => {
  test('a malformed name gets a 400 page that names the problem', async ({ page }) => {
    const response = await page.goto('/browse/local/prod/bad%20name!');
    expect(response?.status()).toBe(400);
    await expect(page.locator('body')).toContainText('only letters, digits and _ . - / are allowed');
    const item = await page.goto('/items/local/prod/key%3Bdrop');
    expect(item?.status()).toBe(400);
    await expect(page.locator('body')).toContainText('Name contains ";"');
    const encoding = await page.goto('/items/local/prod/%E0%A4%A');
    expect(encoding?.status()).toBe(400);
    const store = await page.goto('/browse/Not_A_Store');
    expect(store?.status()).toBe(400);
    const sort = await page.goto('/browse/local/prod?sort=value');
    expect(sort?.status()).toBe(400);
    await expect(page.locator('body')).toContainText('sort must be one of');
  });

  test('an unknown path gets a 404 page that names it', async ({ page }) => {
    const folder = await page.goto('/browse/local/prod/nowhere');
    expect(folder?.status()).toBe(404);
    await expect(page.locator('body')).toContainText('There is no folder /prod/nowhere/ in store “local”');
    const item = await page.goto('/items/local/prod/payments/missing');
    expect(item?.status()).toBe(404);
    await expect(page.locator('body')).toContainText('/prod/payments/missing');
    const store = await page.goto('/browse/no-such-store');
    expect(store?.status()).toBe(404);
    await expect(page.locator('body')).toContainText('There is no store “no-such-store”');
  });
});

test('pages are sent with security headers', async ({ request }) => {
  for (const path of ['/browse/local', '/sign-in', '/api/v1/stores/local/items']) {
    const headers = (await request.get(path)).headers();
    expect(headers['x-frame-options'], path).toBe('DENY');
    expect(headers['content-security-policy'], path).toContain("frame-ancestors 'none'");
    expect(headers['x-content-type-options'], path).toBe('nosniff');
    expect(headers['referrer-policy'], path).toBe('same-origin');
  }
});

test('GET /api/health answers ok once the store is open', async ({ request }) => {
  const response = await request.get('/api/health');
  expect(response.status()).toBe(200);
  expect(await response.json()).toMatchObject({ status: 'ok' });
});
