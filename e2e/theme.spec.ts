import type { Page } from '@playwright/test';
import { inlineProblems, nextRuntimeStarted, scriptNonce, watchCsp } from './support/csp-watch';
import { expect, test } from './support/test';

// The theme switch (System / Light / Dark): with no choice the system setting decides; a choice
// applies at once, is kept across reloads and new pages, and is in the server's HTML itself, so the
// page is drawn in it before any script runs (no flash of the other theme); "System" forgets it. All
// under the strict CSP, with no violation.

const LIGHT_BACKGROUND = 'light';
const DARK_BACKGROUND = 'dark';

/** Whether the page's background is drawn light or dark (its relative luminance, drawn on a canvas, whatever the colour space). */
const background = (page: Page) =>
  page.evaluate(() => {
    const canvas = document.createElement('canvas');
    canvas.width = canvas.height = 1;
    const context = canvas.getContext('2d')!;
    context.fillStyle = getComputedStyle(document.body).backgroundColor;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b] = [...context.getImageData(0, 0, 1, 1).data].map((c) => {
      const s = c / 255;
      return s <= 0.04045 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
    });
    const luminance = 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
    return luminance > 0.8 ? 'light' : luminance < 0.05 ? 'dark' : `neither (${luminance})`;
  });

test('the switch applies a theme at once, keeps it across reloads and pages, and System follows the system again', async ({ page, context }) => {
  const watch = await watchCsp(page);

  // No choice yet: the system setting decides, and changes with it.
  await page.emulateMedia({ colorScheme: 'dark' });
  await page.goto('/');
  await nextRuntimeStarted(page);
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  const theSwitch = page.getByRole('combobox', { name: 'Theme' });
  await expect(theSwitch).toHaveValue('system');
  expect(await background(page)).toBe(DARK_BACKGROUND);
  await page.emulateMedia({ colorScheme: 'light' });
  expect(await background(page)).toBe(LIGHT_BACKGROUND);

  // Dark, against the light system: applied without a reload, and remembered in the cookie.
  await theSwitch.selectOption('dark');
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background(page)).toBe(DARK_BACKGROUND);
  // document.cookie reaches the browser's cookie store a moment later (another process): polled.
  const themeCookie = async () => (await context.cookies()).find((c) => c.name === 'theme');
  await expect.poll(async () => (await themeCookie())?.value).toBe('dark');
  const cookie = await themeCookie();
  // Kept beyond this browser session (a year).
  expect(cookie!.expires * 1000).toBeGreaterThan(Date.now() + 300 * 24 * 3600 * 1000);

  // A reload and a new page arrive dark from the server.
  await page.reload();
  await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
  await expect(theSwitch).toHaveValue('dark');
  const other = await context.newPage();
  await other.goto('/browse/local/prod');
  await expect(other.locator('html')).toHaveAttribute('data-theme', 'dark');
  expect(await background(other)).toBe(DARK_BACKGROUND);
  await other.close();
  const html = await (await page.request.get('/audit')).text();
  expect(html).toMatch(/<html[^>]*\sdata-theme="dark"/);

  // Light, against a dark system.
  await page.emulateMedia({ colorScheme: 'dark' });
  await theSwitch.selectOption('light');
  expect(await background(page)).toBe(LIGHT_BACKGROUND);
  await page.reload();
  expect(await background(page)).toBe(LIGHT_BACKGROUND);

  // System forgets the choice: the cookie is gone and the system setting decides again.
  await theSwitch.selectOption('system');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  expect(await background(page)).toBe(DARK_BACKGROUND);
  await expect.poll(async () => (await themeCookie()) === undefined).toBe(true);
  await page.reload();
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  expect(await background(page)).toBe(DARK_BACKGROUND);

  // All of it under the policy: nothing refused, and no inline style or script without the nonce.
  for (const doc of await watch.documents()) expect(inlineProblems(doc.html, scriptNonce(doc.policy)), doc.url).toEqual([]);
  expect(watch.violations).toEqual([]);
  expect(watch.consoleRefusals).toEqual([]);
});

test('the chosen theme is drawn from the HTML alone, before any script runs', async ({ browser, baseURL, adminState }) => {
  // JavaScript off: what the page looks like before hydration, i.e. on its first paint.
  for (const [choice, system, expected] of [
    ['dark', 'light', DARK_BACKGROUND],
    ['light', 'dark', LIGHT_BACKGROUND],
  ] as const) {
    const context = await browser.newContext({ baseURL, storageState: adminState, javaScriptEnabled: false, colorScheme: system });
    await context.addCookies([{ name: 'theme', value: choice, url: baseURL! }]);
    const page = await context.newPage();
    // The proxy's own 400 page too.
    for (const path of ['/', '/items/local/prod/payments/db/password', '/browse/local/%ZZ']) {
      await page.goto(path);
      await expect(page.locator('html'), `${choice} on ${path}`).toHaveAttribute('data-theme', choice);
      expect(await background(page), `${choice} on ${path}`).toBe(expected);
    }
    await context.close();
  }

  // A cookie that is not a choice is no choice: the system setting decides.
  const context = await browser.newContext({ baseURL, storageState: adminState, javaScriptEnabled: false, colorScheme: 'dark' });
  await context.addCookies([{ name: 'theme', value: 'purple', url: baseURL! }]);
  const page = await context.newPage();
  await page.goto('/');
  await expect(page.locator('html')).not.toHaveAttribute('data-theme');
  expect(await background(page)).toBe(DARK_BACKGROUND);
  await context.close();
});

test('the keyboard focus outline has 3:1 contrast against every surface, in both themes', async ({ browser, baseURL, adminState }) => {
  for (const theme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ baseURL, storageState: adminState, colorScheme: theme === 'dark' ? 'light' : 'dark' });
    await context.addCookies([{ name: 'theme', value: theme, url: baseURL! }]);
    const page = await context.newPage();
    await page.goto('/browse/local/prod');
    await expect(page.locator('html')).toHaveAttribute('data-theme', theme);
    // Focus from the keyboard (Tab from the top of the page): the :focus-visible outline.
    await page.keyboard.press('Tab');
    const found = await page.evaluate(() => {
      const canvas = document.createElement('canvas');
      canvas.width = canvas.height = 1;
      const context = canvas.getContext('2d', { willReadFrequently: true })!;
      /** Relative luminance of any CSS colour, as drawn (whatever its colour space). */
      const luminance = (colour: string) => {
        context.clearRect(0, 0, 1, 1);
        context.fillStyle = colour;
        context.fillRect(0, 0, 1, 1);
        const [r, g, b] = [...context.getImageData(0, 0, 1, 1).data].map((c) => {
          const x = c / 255;
          return x <= 0.04045 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4;
        });
        return 0.2126 * r! + 0.7152 * g! + 0.0722 * b!;
      };
      const focused = document.activeElement as HTMLElement;
      const style = getComputedStyle(focused);
      const ring = luminance(style.outlineColor);
      // The page's surfaces: its background, cards, and the slate fills under rows, chips and hovers.
      const ratios: Record<string, number> = {};
      for (const surface of ['--color-slate-50', '--color-white', '--color-slate-100', '--color-slate-200']) {
        const probe = document.createElement('div');
        probe.style.backgroundColor = `var(${surface})`;
        document.body.append(probe);
        const fill = luminance(getComputedStyle(probe).backgroundColor);
        probe.remove();
        ratios[surface] = (Math.max(ring, fill) + 0.05) / (Math.min(ring, fill) + 0.05);
      }
      return { solid: style.outlineStyle === 'solid', ratios };
    });
    expect(found.solid, `${theme}: a solid outline on the focused element`).toBe(true);
    for (const [surface, ratio] of Object.entries(found.ratios)) expect(ratio, `${theme}: focus outline on ${surface}`).toBeGreaterThanOrEqual(3);
    await context.close();
  }
});

test.describe('signed out', () => {
  test.use({ storageState: { cookies: [], origins: [] } });

  test('the sign-in page has the switch too, and the choice carries over to the dashboard', async ({ page, context }) => {
    const watch = await watchCsp(page);
    await page.emulateMedia({ colorScheme: 'light' });
    await page.goto('/sign-in');
    await nextRuntimeStarted(page);
    await page.getByRole('combobox', { name: 'Theme' }).selectOption('dark');
    expect(await background(page)).toBe(DARK_BACKGROUND);
    await expect.poll(async () => (await context.cookies()).find((c) => c.name === 'theme')?.value).toBe('dark');
    await page.reload();
    await expect(page.locator('html')).toHaveAttribute('data-theme', 'dark');
    await expect(page.getByRole('combobox', { name: 'Theme' })).toHaveValue('dark');
    expect(watch.violations).toEqual([]);
    expect(watch.consoleRefusals).toEqual([]);
  });
});
