import type { Page } from '@playwright/test';
import { DEMO_ITEMS } from './support/demo-values';
import { expect, test } from './support/test';

async function openDialog(page: Page, button: 'Rotate now' | 'Generate new value') {
  await page.getByRole('button', { name: `${button}…` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  return dialog;
}

test('an admin rotates and generates a value behind a confirmation with a reason: new versions appear, no value is shown', async ({ page }) => {
  const item = DEMO_ITEMS.find((i) => i.name === '/staging/web/feature-flags')!;
  await page.goto(`/items/local${item.name}`);
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length);

  // Cancel writes nothing.
  let dialog = await openDialog(page, 'Rotate now');
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length);

  dialog = await openDialog(page, 'Rotate now');
  await dialog.getByLabel(/^Reason/).fill('e2e: scheduled rotation');
  await dialog.getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 1);
  await expect(page.getByTestId('version').first()).toContainText('rotated');
  await expect(page.getByTestId('version').first()).toContainText('admin@example.com');

  // The browser's own checks would stop these; remove them to see what the server answers.
  dialog = await openDialog(page, 'Generate new value');
  await dialog.getByLabel(/^Reason/).fill('e2e: too short');
  await dialog.getByLabel(/^Length/).evaluate((input) => input.removeAttribute('min'));
  await dialog.getByLabel(/^Length/).fill('7');
  await dialog.getByRole('button', { name: 'Confirm: generate new value' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Length must be from 8 to 4096 (got 7)');
  await dialog.getByLabel(/^Reason/).evaluate((input) => input.removeAttribute('required'));
  await dialog.getByLabel(/^Reason/).fill('');
  await dialog.getByLabel(/^Length/).fill('64');
  await dialog.getByRole('button', { name: 'Confirm: generate new value' }).click();
  await expect(dialog.getByRole('alert')).toContainText('Give a reason');
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 1);

  await dialog.getByLabel(/^Reason/).fill('e2e: new hex key');
  await dialog.getByLabel('Kind').selectOption('hex');
  await dialog.getByLabel(/^Length/).fill('64');
  await dialog.getByRole('button', { name: 'Confirm: generate new value' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('version')).toHaveCount(item.versions.length + 2);
  // Whatever was generated, no 64-character hex string is on the page.
  expect(await page.content()).not.toMatch(/[0-9a-f]{64}/);
});

test.describe('on a phone', () => {
  test.use({ viewport: { width: 390, height: 844 } });
  test('the write dialog fits at 390 px', async ({ page }) => {
    await page.goto('/items/local/staging/web/feature-flags');
    const dialog = await openDialog(page, 'Generate new value');
    const box = await dialog.boundingBox();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(390);
    expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  });
});
