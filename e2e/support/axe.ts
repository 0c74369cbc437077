import AxeBuilder from '@axe-core/playwright';
import type { Browser, BrowserContext, Page } from '@playwright/test';
import { expect } from '@playwright/test';
import { nextRuntimeStarted } from './csp-watch';

// axe-core (WCAG 2.0 and 2.1, levels A and AA) on the browser tests' pages, in a chosen theme and
// width, with its findings as lines a person can act on.

const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
export const THEMES = ['light', 'dark'] as const;
export type Theme = (typeof THEMES)[number];
/** A desktop and a phone. */
export const WIDTHS = [1400, 390] as const;

type StorageState = Awaited<ReturnType<BrowserContext['storageState']>>;

interface AxeViolation {
  id: string;
  impact?: string | null;
  help: string;
  nodes: { target: unknown; failureSummary?: string }[];
}

/** Rule, impact and what it asks, then each element with why it fails. */
function describe(what: string, violations: AxeViolation[]): string[] {
  return violations.flatMap((v) => [
    `${what}: ${v.id} (${v.impact ?? 'n/a'}): ${v.help}`,
    ...v.nodes.map((n) => `    ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\s+/g, ' ').trim()}`),
  ]);
}

/** The page as it is now; AXE_TIMES=1 prints how long each analysis took. */
export async function axeProblems(page: Page, what: string): Promise<string[]> {
  const started = Date.now();
  // Only the violations in full: axe then skips the details of what passed, a good part of its time.
  // (options() replaces what withTags() set, so it comes first.)
  const { violations } = await new AxeBuilder({ page }).options({ resultTypes: ['violations'] }).withTags(WCAG_TAGS).analyze();
  if (process.env.AXE_TIMES) console.log(`axe ${what}: ${Date.now() - started} ms`);
  return describe(what, violations);
}

/** Opens `path` (expecting `status`), waits for the app to run (charts are drawn then), and checks it. */
export async function axeProblemsAt(page: Page, path: string, status = 200): Promise<string[]> {
  const response = await page.goto(path);
  expect(response?.status(), path).toBe(status);
  await nextRuntimeStarted(page);
  return axeProblems(page, path);
}

/**
 * A page in its own context at `width`, in `theme` chosen as the switch does (the theme cookie), with
 * the opposite system setting so the choice must win; signed in with `state`, or signed out.
 */
export async function themedPage(browser: Browser, baseURL: string, theme: Theme, width: number, state: StorageState | null): Promise<Page> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width, height: 900 },
    storageState: state ?? { cookies: [], origins: [] },
    colorScheme: theme === 'dark' ? 'light' : 'dark',
  });
  await context.addCookies([{ name: 'theme', value: theme, url: baseURL }]);
  return context.newPage();
}
