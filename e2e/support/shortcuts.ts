import type { Locator, Page } from '@playwright/test';
import { expect } from './test';

/**
 * Opens the keyboard shortcuts list with `?`, pressing again until the page's scripts listen: the
 * listener is attached once the shortcuts component has hydrated, which can come after Next's runtime
 * has started, so a single early press can go unheard.
 */
export async function openShortcuts(page: Page): Promise<Locator> {
  const dialog = page.getByTestId('shortcuts-dialog');
  await expect(async () => {
    await page.keyboard.press('?');
    await expect(dialog).toBeVisible({ timeout: 500 });
  }).toPass({ timeout: 15_000 });
  return dialog;
}
