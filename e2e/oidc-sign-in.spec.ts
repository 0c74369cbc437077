import type { Page } from '@playwright/test';
import type { OidcLogin } from './support/oidc-accounts';
import { expect, test } from './support/test';

// Signs in through a real OpenID Connect provider started for this run; CONFIG_FILE maps the
// groups it sends (payments-leads -> operator on /prod/payments/**, security -> auditor on /**).
test.use({ storageState: { cookies: [], origins: [] } });

async function signInThroughIdp(page: Page, login: OidcLogin) {
  await page.goto('/browse');
  await page.getByRole('button', { name: 'Sign in with Test IdP' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any-password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.waitForURL(/\/browse/);
  await expect(page.getByTestId('current-user')).toContainText(login);
}

const rootFolders = (page: Page) => page.getByRole('row').getByRole('link', { name: /\/$/ }).allTextContents();

test('a payments lead sees only /prod/payments, may not audit, and is not an admin', async ({ page }) => {
  await signInThroughIdp(page, 'lead@example.com');
  await expect(page).toHaveURL(/\/browse\/local$/);
  expect((await rootFolders(page)).map((t) => t.trim())).toEqual(['prod/']);

  await page.goto('/browse/local/prod');
  expect((await rootFolders(page)).map((t) => t.trim())).toEqual(['payments/']);
  await page.goto('/browse/local/prod/payments/db');
  await expect(page.getByTestId('item-row')).not.toHaveCount(0);
  await page.getByRole('link', { name: 'password', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/db/password');

  for (const path of ['/browse/local/staging', '/browse/local/prod/web', '/items/local/prod/web/session-secret', '/settings/users']) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
  }
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  expect((await page.request.get('/api/v1/audit')).status()).toBe(403);
  const listed = await page.request.get('/api/v1/stores/local/items?path=/&recursive=true&limit=500');
  const names: string[] = (await listed.json()).items.map((i: { name: string }) => i.name);
  expect(names.length).toBeGreaterThan(0);
  expect(names.every((n) => n.startsWith('/prod/payments/'))).toBe(true);
});

test('a security reviewer sees every environment and the audit trail, but not the admin pages', async ({ page }) => {
  await signInThroughIdp(page, 'security@example.com');
  expect((await rootFolders(page)).map((t) => t.trim()).sort()).toEqual(['dev/', 'prod/', 'staging/']);
  expect((await page.request.get('/api/v1/audit')).status()).toBe(200);
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  expect((await page.goto('/settings/tokens'))?.status()).toBe(404);
});

test('someone whose groups hold no grant signs in but sees nothing', async ({ page }) => {
  await signInThroughIdp(page, 'stranger@example.com');
  await expect(page.getByText('You have no grants on any store yet')).toBeVisible();
  expect((await page.goto('/browse/local/prod'))?.status()).toBe(404);
  expect((await page.request.get('/api/v1/stores/local/items')).status()).toBe(404);
});
