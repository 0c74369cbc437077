// How many table rows a folder page keeps in the DOM while someone scrolls through it, measured in
// Debian's Chromium: a MutationObserver records the most item rows present at any moment.
import { chromium } from '@playwright/test';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface DomRows {
  /** The most item rows in the DOM at any moment. */
  most: number;
  /** Rows loaded into the table by scrolling (fetched pages), so the figure is not of an idle page. */
  scrolledPast: number;
  /** Whether the last item of the folder was reached. */
  reachedEnd: boolean;
}

export async function measureDomRows(input: {
  url: string;
  cookie: string;
  folderPath: string;
  expectedCount: string;
  lastItem: string;
  /** How long to keep scrolling (each step to the bottom of what is loaded) before giving up on the end. */
  maxSeconds: number;
}): Promise<DomRows> {
  const browser = await chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  try {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const [name, value] = [input.cookie.slice(0, input.cookie.indexOf('=')), input.cookie.slice(input.cookie.indexOf('=') + 1)];
    await context.addCookies([{ name, value, url: input.url }]);
    const page = await context.newPage();
    // A string, not a function: the benchmark runs through tsx, whose helpers do not exist in the page.
    await page.addInitScript(`
      window.__mostRows = 0;
      new MutationObserver(() => {
        window.__mostRows = Math.max(window.__mostRows, document.querySelectorAll('[data-testid="item-row"]').length);
      }).observe(document, { childList: true, subtree: true });
    `);
    await page.goto(`${input.url}${input.folderPath}`, { waitUntil: 'load' });
    await page.getByTestId('items-count').filter({ hasText: input.expectedCount }).waitFor({ timeout: 30_000 });
    const scroller = page.getByTestId('items-scroller');
    const rows = page.getByTestId('item-row');
    let reachedEnd = false;
    let highestIndex = 0;
    const deadline = Date.now() + input.maxSeconds * 1000;
    while (!reachedEnd && Date.now() < deadline) {
      await scroller.evaluate((el) => el.scrollTo({ top: el.scrollHeight }));
      await page.waitForTimeout(40);
      reachedEnd = (await rows.filter({ hasText: input.lastItem }).count()) > 0;
      highestIndex = Math.max(highestIndex, Number((await rows.last().getAttribute('aria-rowindex')) ?? 0));
    }
    const most = await page.evaluate(() => (window as unknown as { __mostRows: number }).__mostRows);
    return { most, scrolledPast: highestIndex, reachedEnd };
  } finally {
    await browser.close();
  }
}
