import { DEMO_ITEMS } from './support/demo-values';
import { expect, test } from './support/test';

test('an admin rotates and generates a value: new versions appear, no value is shown', async ({ page }) => {
  const item = DEMO_ITEMS.find((i) => i.name === '/staging/web/feature-flags')!;
  await page.goto(`/items/local${item.name}`);
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length);

  await page.getByRole('button', { name: 'Rotate now' }).click();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 1);
  await expect(page.getByTestId('version').first()).toContainText('rotated');
  await expect(page.getByTestId('version').first()).toContainText('admin@example.com');

  // The browser's own check would stop this; remove it to see what the server answers.
  await page.getByLabel('Length').evaluate((input) => input.removeAttribute('min'));
  await page.getByLabel('Length').fill('8');
  await page.getByRole('button', { name: 'Generate new value' }).click();
  await expect(page.getByRole('alert').filter({ hasText: 'at least 16 characters' })).toBeVisible();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 1);

  await page.getByLabel('Length').fill('64');
  await page.getByLabel('Characters').selectOption('hex');
  await page.getByRole('button', { name: 'Generate new value' }).click();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 2);
  // Whatever was generated, no 64-character hex string is on the page.
  expect(await page.content()).not.toMatch(/[0-9a-f]{64}/);
});
