import type { APIRequestContext, Page } from '@playwright/test';
import { GENERATED_VALUE } from '../simulator/vault/vault-data-set';
import type { VaultControlCommand } from '../simulator/vault/simulated-vault';
import { reportCounts, watchCsp } from './support/csp-watch';
import { recordResponses } from './support/leak-recorder';
import { DENIED_FOLDER, DENIED_TOKEN, EXPIRING_TOKEN, EXPIRING_TOKEN_ENV, FAULT_STORES, FAULT_TOKENS, KV1_MOUNT, VAULT_RW_STORE, VAULT_TOKEN } from './support/vault-stores';
import { expect, test } from './support/test';

// Vault's failures in the browser (issue 24), on the project's second simulated Vault (its state flips
// here, so the file runs in order): sealed, on standby, a policy refusing one folder, an expired token, a
// KV v1 mount. For each, the store's pages show a banner naming the cause in words and what to do; the
// overview and the other Vault store go on; the paths that were readable stay browsable. Item pages read
// Vault when they open (the banner is the live answer); folder pages show the inventory and the last
// sync's outcome, so a case runs a sync with the strip's Refresh, as an operator would. Every case puts
// the simulator back as it was. No value or token reaches any response, and nothing breaks the CSP.

test.describe.configure({ mode: 'serial' });

const faultsUrl = process.env.E2E_SIMULATED_VAULT_FAULTS_URL!;
/** vault-faults browses the demo set's search/ team, vault-expiring its mobile/ team (their pathPrefix). */
const FAULTS_ITEM = '/indexer/api-key';
const EXPIRING_ITEM = '/push-gateway/api-key';
const FORBIDDEN = [GENERATED_VALUE, VAULT_TOKEN, DENIED_TOKEN, EXPIRING_TOKEN];

async function control(request: APIRequestContext, command: VaultControlCommand): Promise<void> {
  const response = await request.post(`${faultsUrl}/__control`, { data: command });
  expect(response.ok(), await response.text()).toBe(true);
}

/** Runs a sync of the store from its folder page's Refresh and waits for the page to show its outcome. */
async function syncFromStrip(page: Page, storeId: string, outcome: 'failed' | 'partial' | 'ok'): Promise<void> {
  await page.goto(`/browse/${storeId}`);
  await page.getByTestId('refresh-inventory').click();
  const error = page.getByTestId('sync-error');
  if (outcome === 'failed') await expect(error).toBeVisible({ timeout: 20_000 });
  else if (outcome === 'partial') await expect(page.getByTestId('sync-partial')).toBeVisible({ timeout: 20_000 });
  else {
    // The strip re-renders the page once the sync ran: the last failure is gone.
    await expect(error).toHaveCount(0, { timeout: 20_000 });
    await expect(page.getByTestId('sync-partial')).toHaveCount(0);
  }
}

/** The rest of the dashboard goes on: the overview lists every store, the other Vault store browses. */
async function restStillWorks(page: Page): Promise<void> {
  await page.goto('/');
  await expect(page.locator(`[data-testid="overview-store"][data-store="${VAULT_RW_STORE}"]`).getByTestId('overview-count').first()).toBeVisible();
  await page.goto(`/browse/${VAULT_RW_STORE}/payments/checkout-api`);
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await expect(page.getByTestId('store-error')).toHaveCount(0);
}

let csp: Awaited<ReturnType<typeof watchCsp>>;
let recorder: ReturnType<typeof recordResponses>;
let reportsBefore: number;

test.beforeEach(async ({ page }) => {
  csp = await watchCsp(page);
  recorder = recordResponses(page);
  reportsBefore = (await reportCounts(page.request)).total;
});

test.afterEach(async ({ page }) => {
  // Restored whatever the case did (also when it failed half-way): unsealed, active, the tokens valid again.
  await control(page.request, { sealed: false, standby: false, activeAddress: null, tokens: FAULT_TOKENS });
  expect(await recorder.findLeaks(FORBIDDEN, { withinMs: 5_000 })).toEqual([]);
  expect(csp.violations).toEqual([]);
  expect(csp.consoleRefusals).toEqual([]);
  expect((await reportCounts(page.request)).total - reportsBefore).toBe(0);
});

test('a sealed Vault: the store names it and says to unseal; its last inventory stays browsable; the rest goes on', async ({ page }) => {
  test.setTimeout(90_000);
  const store = FAULT_STORES.faults;
  await control(page.request, { sealed: true });

  // The item page asks Vault now: the banner names the store once, the cause and what to do (a page, not an error page).
  const opened = await page.goto(`/items/${store}${FAULTS_ITEM}`);
  expect(opened?.status()).toBe(200);
  const banner = page.getByTestId('store-error');
  await expect(banner).toContainText(`Store “${store}” could not be read: unavailable.Vault at ${faultsUrl} is sealed`);
  await expect(banner).toContainText('is sealed; unseal it (vault operator unseal) and the store comes back by itself');
  await expect(banner).not.toContainText(`Store "${store}"`);

  // A sync fails and says so; the folders the last sync found are still there to browse.
  await syncFromStrip(page, store, 'failed');
  await expect(page.getByTestId('sync-error')).toContainText(`The last sync of ${store}`);
  await expect(page.getByTestId('sync-error')).toContainText('is sealed; unseal it');
  await expect(page.getByTestId('sync-error')).toContainText('Showing the inventory from');
  await page.getByRole('row').getByRole('link', { name: 'indexer/', exact: true }).click();
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await restStillWorks(page);

  // Unsealed, the next sync clears it and the item opens again.
  await control(page.request, { sealed: false });
  await syncFromStrip(page, store, 'ok');
  await page.goto(`/items/${store}${FAULTS_ITEM}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(FAULTS_ITEM);
});

test('a standby node: the store names it and where the active node is; the rest goes on', async ({ page }) => {
  test.setTimeout(90_000);
  const store = FAULT_STORES.faults;
  const active = 'http://vault-active.example:8200';
  await control(page.request, { standby: true, activeAddress: active });

  await page.goto(`/items/${store}${FAULTS_ITEM}`);
  const banner = page.getByTestId('store-error');
  await expect(banner).toContainText(`is a standby node and redirects to ${active}; set address to the active node`);

  await syncFromStrip(page, store, 'failed');
  await expect(page.getByTestId('sync-error')).toContainText('is a standby node');
  await page.getByRole('row').getByRole('link', { name: 'indexer/', exact: true }).click();
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await restStillWorks(page);

  // A standby that knows no active node says so too.
  await control(page.request, { activeAddress: null });
  await page.goto(`/items/${store}${FAULTS_ITEM}`);
  await expect(page.getByTestId('store-error')).toContainText("is a standby node and knows no active node; check the cluster's leader");

  await control(page.request, { standby: false });
  await syncFromStrip(page, store, 'ok');
});

test("a policy refusing one folder: the readable folders stay browsable, the refused one is named with what to allow", async ({ page }) => {
  test.setTimeout(90_000);
  const store = FAULT_STORES.denied;
  // The first sync (at start-up) read everything but the refused folder, and says so.
  await page.goto(`/browse/${store}`);
  const partial = page.getByTestId('sync-partial');
  await expect(partial).toContainText(`The last sync of ${store}`);
  await expect(partial).toContainText(`completed, except under paths Vault's policy refused`);
  await expect(partial).toContainText(`under "/${DENIED_FOLDER}/"`);
  await expect(partial).toContainText("Allow list and read on those paths in the token's policy");
  await expect(page.getByRole('row').getByRole('link', { name: `${DENIED_FOLDER}/`, exact: true })).toHaveCount(0);

  // The readable ones browse down to an item.
  await page.getByRole('row').getByRole('link', { name: 'identity/', exact: true }).click();
  await page.getByRole('row').getByRole('link', { name: 'login/', exact: true }).click();
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await page.getByRole('link', { name: 'api-key', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/identity/login/api-key');

  // An item in the refused folder, opened by its address: the banner names the refusal and the path to allow.
  await page.goto(`/items/${store}/${DENIED_FOLDER}/checkout-api/api-key`);
  const banner = page.getByTestId('store-error');
  await expect(banner).toContainText('access refused');
  await expect(banner).toContainText(`Vault's policy refuses reading the metadata of /${DENIED_FOLDER}/checkout-api/api-key (read on secret/metadata/${DENIED_FOLDER}/checkout-api/api-key)`);

  // Another sync ends the same way.
  await syncFromStrip(page, store, 'partial');
  await expect(page.getByTestId('sync-partial')).toContainText(`"/${DENIED_FOLDER}/"`);
  await restStillWorks(page);
});

test('an expired token: the store says the token in its variable is no longer accepted and what to do; the rest goes on', async ({ page }) => {
  test.setTimeout(90_000);
  const store = FAULT_STORES.expiring;
  await page.goto(`/items/${store}${EXPIRING_ITEM}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(EXPIRING_ITEM);
  await control(page.request, { expireTokens: [EXPIRING_TOKEN] });

  await page.goto(`/items/${store}${EXPIRING_ITEM}`);
  const banner = page.getByTestId('store-error');
  await expect(banner).toContainText('credentials refused or expired');
  await expect(banner).toContainText(`Vault no longer accepts the token in ${EXPIRING_TOKEN_ENV} (expired or revoked); put a valid token there and restart`);

  await syncFromStrip(page, store, 'failed');
  await expect(page.getByTestId('sync-error')).toContainText(`Vault refused the token in ${EXPIRING_TOKEN_ENV}`);
  await page.getByRole('row').getByRole('link', { name: 'push-gateway/', exact: true }).click();
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await restStillWorks(page);

  // The token valid again (as after a restart with a new one): the next sync succeeds.
  await control(page.request, { tokens: FAULT_TOKENS.filter((t) => t.id === EXPIRING_TOKEN) });
  await syncFromStrip(page, store, 'ok');
});

test('a KV version 1 mount: the store says the dashboard reads KV version 2 and how to upgrade; the rest goes on', async ({ page }) => {
  test.setTimeout(60_000);
  const store = FAULT_STORES.kv1;
  await page.goto(`/browse/${store}`);
  const error = page.getByTestId('sync-error');
  await expect(error).toContainText(`The last sync of ${store}`);
  await expect(error).toContainText(`the mount "${KV1_MOUNT}/" is KV version 1, which keeps no versions or metadata`);
  await expect(error).toContainText(`vault kv enable-versioning ${KV1_MOUNT}/`);
  await expect(error).toContainText('Nothing to show until a sync succeeds.');

  await page.goto(`/items/${store}/billing/invoices/db-password`);
  await expect(page.getByTestId('store-error')).toContainText('is KV version 1');

  await page.goto('/');
  await expect(page.locator(`[data-testid="overview-store"][data-store="${store}"]`)).toContainText('the first sync failed');
  await restStillWorks(page);
});
