import type { Page } from '@playwright/test';
import { ADMIN } from './support/accounts';
import { signInAtIdp, signInThroughIdp } from './support/oidc-sign-in';
import { expect, test } from './support/test';

// Identity-provider sign-ins are bound to the provider's subject; an email reaches an existing
// account only when verified and linking is on (off on this server). Refused sign-ins land on the
// sign-in page saying why and what an admin can do, sign no one in, and are audited.
test.use({ storageState: { cookies: [], origins: [] } });

async function expectRefused(page: Page) {
  await page.waitForURL(/\/sign-in\?error=IdentityNotLinked/);
  const alert = page.getByRole('alert').filter({ hasText: 'An account with this email address' });
  await expect(alert).toContainText('An account with this email address already exists here');
  await expect(alert).toContainText('nothing was changed');
  await expect(alert).toContainText('OIDC_LINK_VERIFIED_EMAIL');
  await expect(alert).toContainText('remove the existing account');
  // Signed in as no one.
  await page.goto('/browse');
  await expect(page).toHaveURL(/\/sign-in/);
  await expect(page.getByRole('button', { name: 'Sign in with Test IdP' })).toBeVisible();
}

test("an unverified email equal to the admin's is refused, says why, and is audited; the admin is untouched", async ({ page, browser, adminState }) => {
  await signInAtIdp(page, 'admin-lookalike');
  await expectRefused(page);

  const admin = await browser.newPage({ storageState: adminState });
  // The admin still signs in as before, still an admin (the Users page is theirs).
  expect((await admin.goto('/settings/users'))?.status()).toBe(200);
  await expect(admin.getByTestId('current-user')).toContainText(ADMIN.email);
  await admin.goto(`/audit?actor=${encodeURIComponent(ADMIN.email)}&outcome=error`);
  const refusal = admin.getByTestId('audit-row').filter({ hasText: 'linking-off' }).first();
  await expect(refusal).toContainText('sign-in');
  await expect(refusal).toContainText('denied');
  await admin.close();
});

test("another subject with an OIDC user's email is refused; that user's own subject still signs in", async ({ page, browser }) => {
  test.setTimeout(90_000);
  // The lead's own identity, bound at its first sign-in (here or in another spec).
  const lead = await browser.newPage({ storageState: { cookies: [], origins: [] } });
  await signInThroughIdp(lead, 'lead@example.com');
  await expect(lead.getByTestId('current-user')).toContainText('lead@example.com');
  await lead.close();

  await signInAtIdp(page, 'lead-second-account');
  await expectRefused(page);

  const again = await browser.newPage({ storageState: { cookies: [], origins: [] } });
  await signInThroughIdp(again, 'lead@example.com');
  await expect(again.getByTestId('current-user')).toContainText('lead@example.com');
  await again.close();
});
