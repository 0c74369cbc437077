import AxeBuilder from '@axe-core/playwright';
import type { Page } from '@playwright/test';
import { openShortcuts } from './support/shortcuts';
import { signInState } from './support/sign-in';
import { expect, test } from './support/test';

// Issue 23's keyboard: `?` lists the shortcuts and Esc closes the list, g-sequences go to the four
// pages, j/k move through a folder's rows and Enter opens one, [ and ] go up and down the folder
// tree, and nothing fires while typing in the search box.

/** Opens the shortcuts list once the page's scripts listen, and checks what it lists. */
async function shortcutsReady(page: Page) {
  const dialog = await openShortcuts(page);
  await expect(dialog.getByRole('heading', { name: 'Keyboard shortcuts' })).toBeVisible();
  await expect(dialog).toContainText('Go to the audit log');
  return dialog;
}

/** Closes the shortcuts list with Esc. */
async function closeShortcuts(page: Page) {
  const dialog = page.getByTestId('shortcuts-dialog');
  await page.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
}

test('? lists the shortcuts, g-sequences go to the pages, typing in the search box fires none', async ({ page }) => {
  await page.goto('/audit');
  await shortcutsReady(page);
  const axe = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(axe.violations.map((v) => v.id)).toEqual([]);
  await closeShortcuts(page);

  await page.keyboard.press('g');
  await page.keyboard.press('o');
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Overview');
  await page.keyboard.press('g');
  await page.keyboard.press('f');
  await expect(page).toHaveURL(/\/freshness$/);
  await page.keyboard.press('g');
  await page.keyboard.press('b');
  await expect(page).toHaveURL(/\/browse(\/local)?\/?$/);
  await page.keyboard.press('g');
  await page.keyboard.press('a');
  await expect(page).toHaveURL(/\/audit$/);

  // In the search box (reached with /, as before) the same keys are text.
  await page.keyboard.press('/');
  const search = page.getByTestId('search-input');
  await expect(search).toBeFocused();
  await page.keyboard.type('go?j[');
  await expect(search).toHaveValue('go?j[');
  await expect(page).toHaveURL(/\/audit$/);
  await expect(page.getByTestId('shortcuts-dialog')).toBeHidden();
  // A lone key with Ctrl held is the browser's, not a shortcut.
  await search.blur();
  await page.keyboard.press('Control+j');
  await expect(page).toHaveURL(/\/audit$/);
});

test('j/k move through a folder table, Enter opens the row, [ and ] go up and down the folder tree', async ({ page }) => {
  await page.goto('/browse/local/prod');
  await shortcutsReady(page);
  await closeShortcuts(page);
  const rows = page.getByTestId('folder-row');
  await expect(rows).toHaveCount(6);

  await page.keyboard.press('j');
  await expect(rows.nth(0).getByRole('link')).toBeFocused();
  // Focus moved from the keyboard is drawn by the global :focus-visible outline (the browser's own ring is 'auto').
  expect(await rows.nth(0).getByRole('link').evaluate((el) => getComputedStyle(el).outlineStyle)).toBe('solid');
  await page.keyboard.press('j');
  await page.keyboard.press('j');
  await expect(rows.nth(2).getByRole('link')).toBeFocused();
  await page.keyboard.press('k');
  await expect(rows.nth(1).getByRole('link')).toBeFocused();
  const name = (await rows.nth(1).getByRole('link').textContent())!.trim().replace(/\/$/, '');
  await page.keyboard.press('Enter');
  await expect(page).toHaveURL(new RegExp(`/browse/local/prod/${name}$`));
  await expect(page.getByRole('navigation', { name: 'Folders' }).locator('[aria-current="page"]')).toContainText(name);

  // [ : the folder before it in the tree (its parent, for a first sub-folder); ] : the next one down.
  await page.goto('/browse/local/prod');
  await shortcutsReady(page);
  await closeShortcuts(page);
  const tree = page.getByRole('navigation', { name: 'Folders' });
  const firstChild = (await rows.nth(0).getByRole('link').textContent())!.trim().replace(/\/$/, '');
  await page.keyboard.press(']');
  await expect(page).toHaveURL(new RegExp(`/browse/local/prod/${firstChild}$`));
  await expect(tree.locator('[aria-current="page"]')).toContainText(firstChild);
  await page.keyboard.press('[');
  await expect(page).toHaveURL(/\/browse\/local\/prod$/);
  await expect(tree.locator('[aria-current="page"]')).toContainText('prod');
});

test('a viewer (no audit permission) is not offered g a, g a does nothing for them, and the server refuses /audit to them', async ({ page, browser, baseURL }) => {
  // The allowed case first: the admin is offered g a and gets the page.
  expect((await page.request.get('/audit')).status()).toBe(200);
  // A viewer, added by the admin.
  const email = `viewer-keys-${Date.now()}@example.com`;
  const password = 'a-long-viewer-password';
  await page.goto('/settings/users');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Role').selectOption('viewer');
  await page.getByLabel('Initial password (12+ characters)').fill(password);
  await page.getByRole('button', { name: 'Add user' }).click();
  await expect(page.getByTestId('user-row').filter({ hasText: email })).toContainText('viewer');

  const context = await browser.newContext({ baseURL, storageState: await signInState(baseURL!, email, password) });
  const viewer = await context.newPage();
  const auditRequests: string[] = [];
  viewer.on('request', (request) => {
    if (new URL(request.url()).pathname === '/audit') auditRequests.push(request.url());
  });
  await viewer.goto('/');
  await expect(viewer.getByRole('heading', { level: 1 })).toHaveText('Overview');
  // The list offers the other destinations, not the audit log.
  const dialog = await openShortcuts(viewer);
  await expect(dialog).toContainText('Go to freshness');
  await expect(dialog).not.toContainText('Go to the audit log');
  await viewer.keyboard.press('Escape');
  await expect(dialog).toBeHidden();
  // g a: nothing; the next sequence still works (the keys were heard), and /audit was never asked for.
  await viewer.keyboard.press('g');
  await viewer.keyboard.press('a');
  await viewer.keyboard.press('g');
  await viewer.keyboard.press('f');
  await expect(viewer).toHaveURL(/\/freshness$/);
  expect(auditRequests).toEqual([]);
  // Asked for directly, the server refuses it (no such page for them).
  const refused = await viewer.goto('/audit');
  expect(refused?.status()).toBe(404);
  await expect(viewer.getByTestId('audit-row')).toHaveCount(0);
  await context.close();
});
