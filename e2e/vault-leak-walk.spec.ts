import type { APIRequestContext } from '@playwright/test';
import { dataSetPaths, GENERATED_VALUE } from '../simulator/vault/vault-data-set';
import { leaksIn, recordResponses, type Leak } from './support/leak-recorder';
import { walkPages } from './support/page-walk';
import { signInState } from './support/sign-in';
import { expect, test } from './support/test';
import { ensureUser } from './support/users';
import { DENIED_TOKEN, EXPIRING_TOKEN, FAULT_STORES, LOCAL_ONLY_USER, VAULT_RO_STORE, VAULT_RW_STORE, VAULT_TOKEN } from './support/vault-stores';

// The Vault project's leak walks. As the admin, every page reachable from / is fetched (and a sample
// opened in a browser, e2e/support/page-walk.ts) and no Vault value (any value the simulator's demo set
// holds: GENERATED_VALUE) and no Vault token reaches any response. As a signed-in user whose grant covers
// the built-in store only, the Vault stores' pages and API routes are refused or empty and name no Vault
// item; the admin's same requests do name them, so the check can fail.

const MAX_PAGES = 700;
const BROWSER_EVERY = 8;
/** What must never reach a browser: any value of the simulators' data sets, and every token they know. */
const FORBIDDEN = [GENERATED_VALUE, VAULT_TOKEN, DENIED_TOKEN, EXPIRING_TOKEN];
/** The faults simulator's stores are walked by e2e/vault-errors.spec.ts (their state flips while this walk runs). */
const FAULT_STORE_IDS: readonly string[] = Object.values(FAULT_STORES);

/** Every demo item and folder, as a path that no page of the built-in store can hold by chance. */
const VAULT_NAMES = [...new Set(dataSetPaths({ kind: 'demo' }).flatMap((p) => [p, p.split('/').slice(0, 2).join('/')]))];

function isFaultStoreLink(link: URL): boolean {
  const [section, store] = link.pathname.split('/').filter(Boolean);
  if ((section === 'browse' || section === 'items') && store && FAULT_STORE_IDS.includes(store)) return true;
  return link.searchParams.getAll('store').some((s) => s.split(',').some((id) => FAULT_STORE_IDS.includes(id)));
}

test('no Vault value or token reaches the browser on any page the admin can reach', async ({ page, baseURL }) => {
  test.setTimeout(300_000);
  const recorder = recordResponses(page);
  const origin = new URL(baseURL!).origin;
  const documentLeaks: Leak[] = [];
  const vaultPages = new Set<string>();
  const walk = await walkPages(page, origin, {
    start: ['/', `/browse/${VAULT_RW_STORE}`, `/browse/${VAULT_RO_STORE}`],
    maxPages: MAX_PAGES,
    browserEvery: BROWSER_EVERY,
    skip: isFaultStoreLink,
    onDocument: (path, html) => {
      documentLeaks.push(...leaksIn(path, html, FORBIDDEN));
      if (path.startsWith(`/items/${VAULT_RW_STORE}/`) || path.startsWith(`/items/${VAULT_RO_STORE}/`)) vaultPages.add(path);
    },
  });
  console.log(JSON.stringify(walk.byKind));
  console.log(`walked ${walk.visited} pages, ${walk.opened} of them (${Object.keys(walk.byKind).length} kinds) in the browser`);
  // Every demo item of both stores was reached (vault-ro holds one team's 50 under its prefix).
  expect(vaultPages.size).toBe(dataSetPaths({ kind: 'demo' }).length + 50);
  expect(walk.opened).toBeGreaterThan(walk.visited / BROWSER_EVERY);
  expect(walk.unvisited, 'every reachable page was visited').toEqual([]);
  expect(documentLeaks).toEqual([]);

  // Client-side navigation fetches RSC payloads rather than HTML; walk some links that way too.
  await page.goto(`/browse/${VAULT_RW_STORE}`);
  for (const name of ['payments', 'checkout-api']) {
    await page.getByRole('row').getByRole('link', { name: `${name}/`, exact: true }).click();
    await page.waitForURL(new RegExp(`/${name}$`));
  }
  await page.getByRole('link', { name: 'db-password', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Version history' })).toBeVisible();
  await page.waitForLoadState('networkidle');

  const responses = await recorder.settle({ withinMs: 10_000 });
  expect(responses.some((r) => r.contentType.includes('text/x-component')), 'RSC payloads were recorded').toBe(true);
  expect(responses.some((r) => r.contentType.includes('text/html')), 'HTML documents were recorded').toBe(true);
  expect(responses.some((r) => r.contentType.includes('javascript')), 'scripts were recorded').toBe(true);
  expect(await recorder.findLeaks(FORBIDDEN, { withinMs: 5_000 })).toEqual([]);
});

test('the leak check recognises a Vault value rendered on purpose', async ({ page }) => {
  const recorder = recordResponses(page);
  const planted = 'VAULTSIM-VALUE-SENTINEL-0123456789abcdef';
  await page.route(`**/browse/${VAULT_RW_STORE}`, async (route) => {
    const response = await route.fetch();
    const body = (await response.text()).replace('</main>', `<p>${planted}</p><p>svc-payments</p></main>`);
    await route.fulfill({ response, body });
  });
  await page.goto(`/browse/${VAULT_RW_STORE}`);
  const leaks = await recorder.findLeaks(FORBIDDEN, { withinMs: 5_000 });
  expect(leaks).toEqual([{ url: expect.stringMatching(new RegExp(`/browse/${VAULT_RW_STORE}$`)), value: 'VAULTSIM-VALUE-SENTINEL' }]);
  expect(leaksIn('planted', '<p>svc-payments</p>', FORBIDDEN)).toEqual([{ url: 'planted', value: 'svc-payments' }]);
});

const ITEM = 'payments/checkout-api/api-key';
/** The Vault store's pages and API routes, each with what the admin's answer holds (proof the request reaches Vault items). */
const VAULT_REQUESTS: { path: string; admin: string }[] = [
  { path: '/', admin: VAULT_RW_STORE },
  { path: '/browse/local', admin: VAULT_RW_STORE },
  { path: `/browse/${VAULT_RW_STORE}`, admin: 'payments/' },
  { path: `/browse/${VAULT_RW_STORE}/payments/checkout-api`, admin: ITEM },
  { path: `/items/${VAULT_RW_STORE}/${ITEM}`, admin: `/${ITEM}` },
  { path: `/freshness?store=${VAULT_RW_STORE}`, admin: '/payments/' },
  { path: `/api/v1/inventory`, admin: VAULT_RW_STORE },
  { path: `/api/v1/stores/${VAULT_RW_STORE}/items?path=/payments/&recursive=true`, admin: ITEM },
  { path: `/api/v1/stores/${VAULT_RW_STORE}/items/${ITEM}`, admin: `/${ITEM}` },
  { path: `/api/v1/stores/${VAULT_RW_STORE}/access/${ITEM}`, admin: 'lastRead' },
  { path: `/api/v1/search?q=checkout-api`, admin: ITEM },
  { path: `/api/v1/freshness?store=${VAULT_RW_STORE}`, admin: '/payments/' },
  // The demo set raises no findings: both answers are the header alone, the user's must stay so.
  { path: `/api/v1/findings?format=csv&store=${VAULT_RW_STORE}`, admin: '' },
  { path: `/api/v1/audit/export?format=csv`, admin: '' },
];

/**
 * The Vault values, tokens, store ids and item and folder names in one answer to the user without a
 * grant, but those the request itself named (a page echoes its own URL in its RSC payload).
 */
function vaultNamesIn(path: string, body: string): Leak[] {
  const named = [...VAULT_NAMES, VAULT_RW_STORE, VAULT_RO_STORE].filter((name) => !path.includes(name));
  return leaksIn(path, body, [...FORBIDDEN, ...named]);
}

test('a user without a grant on the Vault stores gets refusals or empty answers that name no Vault item; the admin gets the items', async ({
  browser,
  adminState,
  baseURL,
}) => {
  test.setTimeout(120_000);
  // The account; its grant (CONFIG_FILE) covers the built-in store only.
  await ensureUser(browser, adminState, LOCAL_ONLY_USER);
  const localOnly = await signInState(baseURL!, LOCAL_ONLY_USER.email, LOCAL_ONLY_USER.password);
  const adminContext = await browser.newContext({ storageState: adminState });
  const adminApi = adminContext.request;
  const userContext = await browser.newContext({ storageState: localOnly });
  const userApi: APIRequestContext = userContext.request;

  const leaks: Leak[] = [];
  const answers: string[] = [];
  for (const { path, admin } of VAULT_REQUESTS) {
    // Allowed: the admin's answer holds the item (the audit export holds no item before any was revealed).
    const allowed = await adminApi.get(path);
    expect(allowed.status(), `admin ${path}`).toBe(200);
    if (admin) expect(await allowed.text(), `admin ${path}`).toContain(admin);

    // Denied: refused (403/404) or an answer with none of the Vault stores' names.
    const denied = await userApi.get(path);
    const body = await denied.text();
    answers.push(`${path} ${denied.status()}`);
    expect(denied.status(), path).not.toBe(500);
    leaks.push(...vaultNamesIn(path, body));
  }
  console.log(`as ${LOCAL_ONLY_USER.email}: ${answers.join(', ')}`);
  expect(leaks).toEqual([]);
  // The store's own pages and item routes are refused outright.
  for (const path of [`/browse/${VAULT_RW_STORE}`, `/items/${VAULT_RW_STORE}/${ITEM}`, `/api/v1/stores/${VAULT_RW_STORE}/items/${ITEM}`])
    expect(answers, path).toContainEqual(expect.stringMatching(new RegExp(`^${path.replace(/[?.]/g, '\\$&')} 40[34]$`)));
  // Write routes too: a sync, a reveal.
  for (const path of [`/api/v1/stores/${VAULT_RW_STORE}/sync`, `/api/v1/stores/${VAULT_RW_STORE}/reveal/${ITEM}`]) {
    const refused = await userApi.post(path, { data: { reason: 'e2e: not allowed' } });
    expect([403, 404], path).toContain(refused.status());
    expect(vaultNamesIn(path, await refused.text())).toEqual([]);
  }

  // In the browser: the overview, the store picker and search hold nothing of the Vault stores.
  const page = await userContext.newPage();
  const recorder = recordResponses(page);
  await page.goto('/');
  await expect(page.locator('[data-testid="overview-store"][data-store="local"]')).toBeVisible();
  await expect(page.locator(`[data-testid="overview-store"][data-store^="vault-"]`)).toHaveCount(0);
  await page.goto('/browse/local');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const opened = await page.goto(`/browse/${VAULT_RW_STORE}/payments`);
  expect([403, 404]).toContain(opened?.status());
  await page.waitForLoadState('networkidle');
  expect((await recorder.settle({ withinMs: 5_000 })).length).toBeGreaterThan(0);
  expect(await recorder.findLeaks([...FORBIDDEN, ...VAULT_NAMES, VAULT_RO_STORE], { withinMs: 5_000 })).toEqual([]);
  await userContext.close();
  await adminContext.close();
});
