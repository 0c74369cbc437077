import type { Page } from '@playwright/test';
import type { OidcLogin } from './oidc-accounts';

/** Goes through the local OpenID Connect provider's login and consent, as a person would; the dashboard then admits or refuses. */
export async function signInAtIdp(page: Page, login: OidcLogin): Promise<void> {
  await page.goto('/browse');
  await page.getByRole('button', { name: 'Sign in with Test IdP' }).click();
  await page.locator('input[name=login]').fill(login);
  await page.locator('input[name=password]').fill('any-password');
  await page.getByRole('button', { name: 'Sign-in' }).click();
  await page.getByRole('button', { name: 'Continue' }).click();
}

/** Signs in through the local OpenID Connect provider of the 'oidc' project, as a person would. */
export async function signInThroughIdp(page: Page, login: OidcLogin): Promise<void> {
  await signInAtIdp(page, login);
  await page.waitForURL(/\/browse/);
}
