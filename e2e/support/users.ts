import type { Browser } from '@playwright/test';
import type { signInState } from './sign-in';
import { expect } from './test';

/**
 * A password account the spec signs in as, added by the admin on /settings/users unless it is there already
 * (workers and retries share the server). The role it is created with is replaced by a CONFIG_FILE grant naming it.
 */
export async function ensureUser(
  browser: Browser,
  adminState: Awaited<ReturnType<typeof signInState>>,
  account: { email: string; password: string },
  role = 'viewer',
): Promise<void> {
  const page = await browser.newPage({ storageState: adminState });
  await page.goto('/settings/users');
  if ((await page.getByTestId('user-row').filter({ hasText: account.email }).count()) === 0) {
    await page.getByLabel('Email').fill(account.email);
    await page.getByLabel('Role').selectOption(role);
    await page.getByLabel('Initial password (12+ characters)').fill(account.password);
    await page.getByRole('button', { name: 'Add user' }).click();
    await expect(page.getByTestId('user-row').filter({ hasText: account.email })).toBeVisible();
  }
  await page.close();
}
