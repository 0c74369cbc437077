import type { Page } from '@playwright/test';
import { DEMO_ITEMS } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';
import type { OidcLogin } from './support/oidc-accounts';
import { signInThroughIdp as signInAs } from './support/oidc-sign-in';
import { expect, test } from './support/test';

// Signs in through a real OpenID Connect provider started for this run; CONFIG_FILE maps the
// groups it sends (payments-leads -> operator on /prod/payments/**, security -> auditor on /**).
test.use({ storageState: { cookies: [], origins: [] } });

async function signInThroughIdp(page: Page, login: OidcLogin) {
  await signInAs(page, login);
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
  // An operator here: rotate and generate are offered.
  await expect(page.getByRole('button', { name: 'Rotate now' })).toBeVisible();
  await expect(page.getByRole('button', { name: 'Generate new value' })).toBeVisible();

  for (const path of ['/browse/local/staging', '/browse/local/prod/web', '/items/local/prod/web/session-secret', '/settings/users']) {
    const response = await page.goto(path);
    expect(response?.status(), path).toBe(404);
  }
  await expect(page.getByRole('link', { name: 'Users' })).toHaveCount(0);
  await expect(page.getByRole('link', { name: 'Audit log' })).toHaveCount(0);
  expect((await page.goto('/audit'))?.status()).toBe(404);
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
  await page.getByRole('link', { name: 'Audit log' }).click();
  await expect(page.getByTestId('audit-chain')).toContainText('Keyed hash chain intact');
  await expect(page.getByTestId('audit-row').filter({ hasText: 'security@example.com' }).first()).toContainText('sign-in');
  // An auditor reads but does not change values.
  await page.goto('/items/local/prod/payments/db/password');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/db/password');
  await expect(page.getByRole('button', { name: 'Rotate now' })).toHaveCount(0);
  expect((await page.goto('/settings/tokens'))?.status()).toBe(404);
});

test('someone whose groups hold no grant signs in but sees nothing', async ({ page }) => {
  await signInThroughIdp(page, 'stranger@example.com');
  await expect(page.getByText('You have no grants on any store yet')).toBeVisible();
  expect((await page.goto('/browse/local/prod'))?.status()).toBe(404);
  expect((await page.request.get('/api/v1/stores/local/items')).status()).toBe(404);
});

test('nothing outside a lead\'s grants reaches the browser, not even a name', async ({ page, baseURL }) => {
  test.setTimeout(120_000);
  await signInThroughIdp(page, 'lead@example.com');
  const recorder = recordResponses(page);
  const origin = new URL(baseURL!).origin;
  const queue = ['/browse/local'];
  const seen = new Set(queue);
  while (queue.length > 0) {
    const next = queue.shift()!;
    expect((await page.goto(next))?.status(), next).toBeLessThan(400);
    for (const href of await page.locator('a[href]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href))) {
      const url = new URL(href);
      if (url.origin !== origin || url.search || seen.has(url.pathname)) continue;
      seen.add(url.pathname);
      queue.push(url.pathname);
    }
  }
  expect(seen.size).toBeGreaterThan(5);
  // Full names of every demo item outside /prod/payments/, and the folders and leaves only they have.
  const outside = DEMO_ITEMS.map((i) => i.name).filter((n) => !n.startsWith('/prod/payments/'));
  const markers = [...outside, '/staging', '/dev/', '/prod/web', '/prod/auth', 'session-secret', 'elastic', 'twilio', 'jwt'];
  const responses = await recorder.settle({ withinMs: 5_000 });
  expect(responses.length).toBeGreaterThan(10);
  const leaks = responses.flatMap((r) => markers.filter((m) => r.body.includes(m)).map((m) => `${m} in ${r.url}`));
  expect(leaks).toEqual([]);
  // And the walk did see what the lead may see.
  expect(responses.some((r) => r.body.includes('/prod/payments/stripe'))).toBe(true);
});
