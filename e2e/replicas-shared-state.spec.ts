import type { Page } from '@playwright/test';
import { ADMIN } from './support/accounts';
import { replicaUrls } from './support/replicas';
import { expect, test } from './support/test';

// Two servers on one PostgreSQL database, each with a data folder of its own: what one does, the
// other shows, and a session ended on one is over on both.

const ITEM = '/prod/web/feature-flags';

async function versionCount(page: Page, base: string): Promise<number> {
  await page.goto(`${base}/items/local${ITEM}`);
  await expect(page.getByTestId('version').first()).toBeVisible();
  return page.getByTestId('version').count();
}

test('a rotation made through one replica shows on the other, and both append to one intact audit chain', async ({ page }) => {
  const { a, b } = replicaUrls();
  const before = await versionCount(page, b);

  await page.goto(`${a}/items/local${ITEM}`);
  await page.getByRole('button', { name: 'Rotate now…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Reason/).fill('e2e: rotate on replica A');
  await dialog.getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(page.getByTestId('version')).toHaveCount(before + 1);

  // Replica B has no copy of its own: the new version is there at once.
  await page.goto(`${b}/items/local${ITEM}`);
  await expect(page.getByTestId('version')).toHaveCount(before + 1);
  await expect(page.getByTestId('version').first()).toContainText('rotated');

  // And a rotation through B is seen by A.
  await page.getByRole('button', { name: 'Rotate now…' }).click();
  await page.getByRole('dialog').getByLabel(/^Reason/).fill('e2e: rotate on replica B');
  await page.getByRole('dialog').getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(page.getByTestId('version')).toHaveCount(before + 2);
  await page.goto(`${a}/items/local${ITEM}`);
  await expect(page.getByTestId('version')).toHaveCount(before + 2);

  // Both replicas wrote to the one chain; either verifies it whole.
  for (const base of [a, b]) {
    await page.goto(`${base}/audit`);
    await expect(page.getByTestId('audit-chain')).toContainText('Keyed hash chain intact');
  }
});

test.describe('signed in afresh', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('a session signed out on one replica is refused by the other', async ({ page, context }) => {
    const { a, b } = replicaUrls();
    await page.goto(`${a}/sign-in`);
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByTestId('current-user')).toContainText(ADMIN.email);

    // The same cookie works on B (same host, one database, one signing key)…
    await page.goto(`${b}/browse/local`);
    await expect(page.getByTestId('current-user')).toContainText(ADMIN.email);
    const cookies = await context.cookies();
    expect(cookies.some((c) => c.name.endsWith('next-auth.session-token'))).toBe(true);

    // …until it is signed out on A. Put the old cookie back, as a stolen copy would be.
    await page.goto(`${a}/browse/local`);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await context.addCookies(cookies);
    await page.goto(`${b}/browse/local`);
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
    const api = await page.request.get(`${b}/api/v1/inventory`);
    expect(api.status()).toBe(401);
  });
});
