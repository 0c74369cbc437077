import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { nextRuntimeStarted } from './support/csp-watch';
import { expect, test } from './support/test';

// axe-core (WCAG 2.0 and 2.1, levels A and AA) on every page of the app, in the light and the dark
// theme, at a desktop (1400 px) and a phone (390 px) width: no violation anywhere. One test per theme
// and width, each walking the pages in one signed-in context (and the sign-in page in a signed-out
// one). The theme is chosen as the switch does, with the theme cookie.

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const THEMES = ['light', 'dark'] as const;
const WIDTHS = [1400, 390] as const;

/** Every kind of page: the status each answers with, and the address. */
const PAGES: { path: string; status: number }[] = [
  { path: '/', status: 200 },
  { path: '/browse', status: 200 },
  { path: '/browse/local/prod/payments', status: 200 },
  { path: '/items/local/prod/payments/db/password', status: 200 },
  { path: '/audit', status: 200 },
  { path: '/findings', status: 200 },
  { path: '/alerts', status: 200 },
  { path: '/freshness', status: 200 },
  { path: '/settings/users', status: 200 },
  { path: '/settings/tokens', status: 200 },
  { path: '/no-such-page', status: 404 },
];

interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown; failureSummary?: string }[];
}

/** Violations as lines a person can act on: rule, impact, what it asks, and each element with why. */
function describe(path: string, violations: AxeViolation[]): string[] {
  return violations.flatMap((v) => [
    `${path}: ${v.id} (${v.impact ?? 'n/a'}): ${v.help}`,
    ...v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`),
  ]);
}

async function check(page: Page, path: string, status: number): Promise<string[]> {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(status);
  await nextRuntimeStarted(page);
  return analyze(page, path);
}

async function analyze(page: Page, what: string): Promise<string[]> {
  const t = Date.now();
  const { violations } = await new AxeBuilder({ page }).withTags(WCAG_TAGS).options({ resultTypes: ['violations'] }).analyze();
  if (process.env.AXE_TIMES) console.log(what, Date.now() - t, 'ms');
  return describe(what, violations);
}

async function themedPage(browser: Browser, baseURL: string, theme: (typeof THEMES)[number], width: number, signedIn: Awaited<ReturnType<BrowserContext['storageState']>> | null) {
  const context = await browser.newContext({
    baseURL,
    viewport: { width, height: 900 },
    storageState: signedIn ?? { cookies: [], origins: [] },
    // The opposite system setting: the chosen theme must win over it.
    colorScheme: theme === 'dark' ? 'light' : 'dark',
  });
  await context.addCookies([{ name: 'theme', value: theme, url: baseURL }]);
  return context.newPage();
}

for (const theme of THEMES) {
  for (const width of WIDTHS) {
    test(`no WCAG 2.1 A/AA violation on any page, ${theme} theme at ${width} px`, async ({ browser, baseURL, adminState }) => {
      test.setTimeout(90_000);
      const problems: string[] = [];

      const signedOut = await themedPage(browser, baseURL!, theme, width, null);
      problems.push(...(await check(signedOut, '/sign-in', 200)));
      await expect(signedOut.locator('html')).toHaveAttribute('data-theme', theme);
      await signedOut.context().close();

      const page = await themedPage(browser, baseURL!, theme, width, adminState);
      for (const { path, status } of PAGES) problems.push(...(await check(page, path, status)));
      // A dialog, open (the item page's rotation, on a writable item).
      await page.goto('/items/local/staging/web/feature-flags');
      await page.getByRole('button', { name: 'Rotate now…' }).click();
      await expect(page.getByRole('dialog')).toBeVisible();
      problems.push(...(await analyze(page, 'the rotation dialog')));
      // The pages were in the chosen theme, not the (opposite) system one.
      await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
      await page.context().close();

      expect(problems, `axe-core found violations:\n${problems.join('\n')}`).toEqual([]);
    });
  }
}
