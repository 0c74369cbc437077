import { expect, test } from './support/test';
import { DEMO_VALUES } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';

// Walks every page of the demo and fails if any seeded plaintext value appears in anything the
// browser receives: HTML, RSC payloads (navigation and prefetch), JSON, scripts.

const MAX_PAGES = 400;

test('no seeded plaintext value reaches the browser on any page', async ({ page, baseURL }) => {
  // About 280 pages: three to four minutes on two busy cores.
  test.setTimeout(480_000);
  expect(DEMO_VALUES.length).toBeGreaterThan(100);
  const recorder = recordResponses(page);
  const origin = new URL(baseURL!).origin;

  const queue = ['/', '/browse/local'];
  const seen = new Set(queue);
  let visited = 0;
  while (queue.length > 0 && visited < MAX_PAGES) {
    const next = queue.shift()!;
    const response = await page.goto(next);
    expect(response?.status(), next).toBeLessThan(400);
    visited++;
    const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) {
      const url = new URL(href);
      if (url.origin !== origin) continue;
      // Every path, and the sort and filter variants (one parameter at a time, no further pages) of
      // folder pages near the top and of the freshness lists: their combinations would multiply the walk.
      if (url.search && (url.pathname.split('/').length > 4 || [...url.searchParams.keys()].length > 1)) continue;
      const key = url.pathname + url.search;
      if (!seen.has(key)) {
        seen.add(key);
        queue.push(key);
      }
    }
  }
  console.log(`walked ${visited} pages`);
  expect(visited).toBeGreaterThan(100);
  expect(queue, 'every reachable page was visited').toEqual([]);

  // Client-side navigation fetches RSC payloads rather than HTML; walk some links that way too.
  await page.goto('/browse/local');
  for (const name of ['prod', 'payments', 'stripe']) {
    await page.getByRole('row').getByRole('link', { name: `${name}/`, exact: true }).click();
    await page.waitForURL(new RegExp(`/${name}$`));
  }
  await page.getByRole('link', { name: 'secret-key' }).click();
  await expect(page.getByRole('heading', { name: 'Version history' })).toBeVisible();
  await page.waitForLoadState('networkidle');

  const responses = await recorder.settle();
  expect(responses.some((r) => r.contentType.includes('text/x-component')), 'RSC payloads were recorded').toBe(true);
  expect(responses.some((r) => r.contentType.includes('text/html')), 'HTML documents were recorded').toBe(true);
  expect(responses.some((r) => r.contentType.includes('javascript')), 'scripts were recorded').toBe(true);
  expect(await recorder.findLeaks(DEMO_VALUES)).toEqual([]);
});

test('the leak check catches a value rendered on purpose', async ({ page }) => {
  const recorder = recordResponses(page);
  const planted = DEMO_VALUES[7]!;
  // Serve the real page with one seeded value added, as a careless component would render it.
  await page.route('**/browse/local/prod', async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace('</main>', `<p data-testid="planted">${planted}</p></main>`);
    await route.fulfill({ response, body });
  });
  const response = await page.goto('/browse/local/prod');
  expect(await response?.text()).toContain(planted);
  const leaks = await recorder.findLeaks(DEMO_VALUES);
  expect(leaks).toEqual([{ url: expect.stringMatching(/\/browse\/local\/prod$/), value: planted }]);
});
