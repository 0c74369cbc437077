import { ADMIN } from './support/accounts';
import { expect, test } from './support/test';

test.describe('signed out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  for (const path of ['/browse', '/browse/local/prod', '/items/local/prod/payments/db/password', '/settings/users', '/settings/tokens']) {
    test(`${path} leads to the sign-in page and back`, async ({ page }) => {
      await page.goto(path);
      await expect(page).toHaveURL(new RegExp(`/sign-in\\?callbackUrl=${encodeURIComponent(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      await expect(page.getByRole('heading', { name: 'Sign in to Secrets Dashboard' })).toBeVisible();
    });
  }

  test('the API answers 401 without credentials', async ({ request }) => {
    for (const path of ['/api/v1/stores/local/items', '/api/v1/stores/local/items/prod/payments/db/password', '/api/v1/audit']) {
      const response = await request.get(path);
      expect(response.status(), path).toBe(401);
    }
    expect((await request.post('/api/v1/stores/local/reveal/prod/payments/db/password')).status()).toBe(401);
  });

  test('signs in with a local account, and a wrong password says so', async ({ page, context }) => {
    await page.goto('/items/local/prod/payments/db/password');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page.getByRole('alert').filter({ hasText: 'Wrong email or password.' })).toBeVisible();

    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/items\/local\/prod\/payments\/db\/password$/);
    await expect(page.getByTestId('current-user')).toContainText(ADMIN.email);

    const cookie = (await context.cookies()).find((c) => c.name.endsWith('next-auth.session-token'))!;
    expect(cookie.httpOnly).toBe(true);
    expect(cookie.sameSite).toBe('Lax');

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/sign-in/);
    await page.goto('/browse/local');
    await expect(page).toHaveURL(/\/sign-in\?callbackUrl=/);
  });

  test('does not follow a callback URL off the site', async ({ page }) => {
    await page.goto('/sign-in?callbackUrl=https://evil.example/');
    await page.getByLabel('Email').fill(ADMIN.email);
    await page.getByLabel('Password').fill(ADMIN.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await expect(page).toHaveURL(/\/browse\/local$/);
  });
});

test('an admin adds a user, creates a token for them that is shown once, and revokes it', async ({ page, request }) => {
  const email = `ci-${Date.now()}@example.com`;
  await page.goto('/settings/users');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByLabel('Initial password (12+ characters)').fill('a-long-initial-password');
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByTestId('user-row').filter({ hasText: email })).toContainText('viewer');

  await page.goto('/settings/tokens');
  await page.getByLabel('Acts as').selectOption({ label: email });
  await page.getByLabel('Name').fill('ci-deploy');
  await page.getByRole('button', { name: 'Create token' }).click();
  const token = (await page.getByTestId('new-token').textContent())!.trim();
  expect(token).toMatch(/^sd_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/);

  const listed = await request.get('/api/v1/stores/local/items?path=/prod/payments/db/', { headers: { authorization: `Bearer ${token}` } });
  expect(listed.status()).toBe(200);
  expect((await listed.json()).items.map((i: { name: string }) => i.name)).toContain('/prod/payments/db/password');

  // Shown once: a reload shows the token's row, never the token again.
  await page.reload();
  await expect(page.getByTestId('new-token')).toHaveCount(0);
  expect(await page.content()).not.toContain(token);
  const row = page.getByTestId('token-row').filter({ hasText: email });
  await row.getByRole('button', { name: 'Revoke' }).click();
  await expect(row).toContainText('revoked');
  const refused = await request.get('/api/v1/stores/local/items', { headers: { authorization: `Bearer ${token}` } });
  expect(refused.status()).toBe(401);
});
