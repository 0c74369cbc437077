import { DEMO_METADATA_HISTORY } from '../lib/demo/demo-data';
import { axeProblems, axeProblemsAt, THEMES, themedPage, WIDTHS } from './support/axe';
import { nextRuntimeStarted } from './support/csp-watch';
import { openShortcuts } from './support/shortcuts';
import { expect, test } from './support/test';

// axe-core (WCAG 2.0 and 2.1, levels A and AA) on every page of the app, in the light and the dark
// theme, at a desktop (1400 px) and a phone (390 px) width: no violation anywhere. One test per theme
// and width, each walking the pages in one signed-in context (and the sign-in page in a signed-out
// one). The AWS stores' own pages: e2e/aws-accessibility.spec.ts.

/** Every kind of page: the address and the status it answers with. */
const PAGES: { path: string; status: number }[] = [
  { path: '/', status: 200 },
  { path: '/browse', status: 200 },
  { path: '/browse/local/prod/payments', status: 200 },
  { path: '/items/local/prod/payments/db/password', status: 200 },
  // An item with the version comparison open (the demo item whose description and tags changed in v3).
  { path: `/items/local${DEMO_METADATA_HISTORY.name}?from=2&to=3`, status: 200 },
  { path: '/audit', status: 200 },
  { path: '/findings', status: 200 },
  { path: '/alerts', status: 200 },
  { path: '/freshness', status: 200 },
  { path: '/settings/users', status: 200 },
  { path: '/settings/tokens', status: 200 },
  { path: '/no-such-page', status: 404 },
];

for (const theme of THEMES) {
  for (const width of WIDTHS) {
    test(`no WCAG 2.1 A/AA violation on any page, ${theme} theme at ${width} px`, async ({ browser, baseURL, adminState }) => {
      test.setTimeout(90_000);
      const problems: string[] = [];

      const signedOut = await themedPage(browser, baseURL!, theme, width, null);
      problems.push(...(await axeProblemsAt(signedOut, '/sign-in')));
      await expect(signedOut.locator('html')).toHaveAttribute('data-theme', theme);
      await signedOut.context().close();

      const page = await themedPage(browser, baseURL!, theme, width, adminState);
      for (const { path, status } of PAGES) problems.push(...(await axeProblemsAt(page, path, status)));
      // What opens over a page: on a phone the menu and the folder drawer; everywhere the shortcuts list.
      await page.goto('/browse/local/prod/payments');
      await nextRuntimeStarted(page);
      if (width < 768) {
        await page.getByTestId('menu-button').click();
        await expect(page.locator('#main-menu')).toBeVisible();
        problems.push(...(await axeProblems(page, 'the open menu')));
        await page.keyboard.press('Escape');
        await page.getByTestId('folder-drawer-button').click();
        await expect(page.getByRole('navigation', { name: 'Folders' })).toBeVisible();
        problems.push(...(await axeProblems(page, 'the open folder drawer')));
        await page.keyboard.press('Escape');
      }
      await openShortcuts(page);
      problems.push(...(await axeProblems(page, 'the shortcuts dialog')));
      await page.keyboard.press('Escape');
      // A dialog, open (the item page's rotation, on a writable item).
      await page.goto('/items/local/staging/web/feature-flags');
      await page.getByRole('button', { name: 'Rotate now…' }).click();
      await expect(page.getByRole('dialog')).toBeVisible();
      problems.push(...(await axeProblems(page, 'the rotation dialog')));
      // The pages were in the chosen theme, not the (opposite) system one.
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      await page.context().close();

      expect(problems, `axe-core found violations:\n${problems.join('\n')}`).toEqual([]);
    });
  }
}
