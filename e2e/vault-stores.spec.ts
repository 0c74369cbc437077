import type { Page } from '@playwright/test';
import { VALUE_SENTINEL } from '../simulator/vault/vault-data-set';
import { axeProblemsAt, themedPage, THEMES } from './support/axe';
import { nextRuntimeStarted, reportCounts, watchCsp } from './support/csp-watch';
import { recordResponses } from './support/leak-recorder';
import { demoPathWithLabel, VAULT_CLIENT, VAULT_RO_PREFIX, VAULT_RO_STORE, VAULT_ROTATED_PATH, VAULT_RW_STORE, VAULT_TOKEN } from './support/vault-stores';
import { expect, test } from './support/test';

// Vault stores in the browser (project 'vault': a writable and a read-only store on the simulated
// Vault's demo set). Browsing a folder and items reads metadata only (the simulator's request log has
// no data/ request), custom metadata shows as tags, deleted and destroyed versions are labelled; a
// JSON secret rotates with check-and-set, and a version written while the dialog is open is reported,
// not overwritten. No value sentinel reaches any response; the pages are CSP-clean and axe-clean.

const vaultUrl = process.env.E2E_SIMULATED_VAULT_URL!;
const BROWSED = 'payments/checkout-api/api-key';
const deleted = demoPathWithLabel(`${VAULT_RO_PREFIX}/`, 'deleted');
const destroyed = demoPathWithLabel(`${VAULT_RO_PREFIX}/`, 'destroyed');
const roItem = (path: string) => `/items/${VAULT_RO_STORE}/${path.slice(VAULT_RO_PREFIX.length + 1)}`;

interface RecordedRequest {
  method: string;
  path: string;
}

async function vaultRequests(page: Page): Promise<RecordedRequest[]> {
  const response = await page.request.get(`${vaultUrl}/__requests`);
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { requests: RecordedRequest[] }).requests;
}

async function vaultApi(page: Page, path: string) {
  const response = await page.request.get(`${vaultUrl}/v1/secret/${path}`, { headers: { 'X-Vault-Token': VAULT_TOKEN } });
  expect(response.ok(), path).toBe(true);
  return ((await response.json()) as { data: Record<string, unknown> }).data;
}

async function vaultStoresSynced(page: Page): Promise<void> {
  await expect(async () => {
    const response = await page.request.get('/api/v1/inventory');
    expect(response.ok()).toBe(true);
    const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
    for (const id of [VAULT_RW_STORE, VAULT_RO_STORE]) expect(stores.find((s) => s.storeId === id)?.syncedAt, id).toBeTruthy();
  }).toPass({ timeout: 30_000 });
}

test('browsing Vault folders and items reads metadata only: versions, custom metadata as tags, deleted and destroyed labels, no value, CSP clean', async ({ page }) => {
  await vaultStoresSynced(page);
  const recorder = recordResponses(page);
  const watch = await watchCsp(page);
  const reportsBefore = await reportCounts(page.request);

  // The overview and the freshness list count the Vault stores as any other.
  await page.goto('/');
  await expect(page.locator(`[data-testid="overview-store"][data-store="${VAULT_RW_STORE}"]`)).toBeVisible();
  await page.goto(`/freshness?store=${VAULT_RW_STORE}`);
  await expect(page.getByTestId('freshness-row').first()).toBeVisible();

  // A folder, down to an item.
  await page.goto(`/browse/${VAULT_RW_STORE}`);
  await page.getByRole('row').getByRole('link', { name: 'payments/' }).click();
  await page.getByRole('row').getByRole('link', { name: 'checkout-api/' }).click();
  await expect(page).toHaveURL(new RegExp(`/browse/${VAULT_RW_STORE}/payments/checkout-api$`));
  await expect(page.getByTestId('item-row')).toHaveCount(10);
  await page.getByRole('link', { name: 'api-key', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(`/${BROWSED}`);
  const meta = await vaultApi(page, `metadata/${BROWSED}`);
  const versions = Object.keys(meta.versions as object).length;
  await expect(page.getByTestId('version')).toHaveCount(versions);
  await expect(page.getByTestId('version').first()).toContainText(`v${meta.current_version as number}`);
  const custom = meta.custom_metadata as Record<string, string>;
  for (const [key, value] of Object.entries(custom)) await expect(page.getByText(`${key}=${value}`)).toBeVisible();
  const settings = page.getByTestId('vault-settings');
  await expect(settings).toContainText('Check-and-set required');
  // The writable store's access comes from the simulator's audit file: its panel, not how to configure one.
  await expect(page.getByTestId('access-panel')).toContainText('Last read:');
  await expect(page.getByTestId('access-panel')).toContainText('All events of this item');
  await expect(page.getByTestId('vault-audit-example')).toHaveCount(0);
  await expect(page.getByRole('button', { name: 'Rotate now…' })).toBeVisible();

  // The read-only store under its prefix: deleted and destroyed versions labelled, nothing to write.
  await page.goto(roItem(deleted.path));
  await expect(page.getByTestId('version').filter({ hasText: `v${deleted.version}` })).toContainText('deleted');
  await expect(page.getByRole('button', { name: 'Rotate now…' })).toHaveCount(0);
  // No audit source names the read-only store: the panel's place says how to add one.
  await expect(page.getByTestId('access-panel')).toContainText(`no Vault audit log is configured for the store ${VAULT_RO_STORE}`);
  await expect(page.getByTestId('vault-audit-example')).toContainText(`kind: vault-file, store: ${VAULT_RO_STORE}`);
  await expect(page.getByTestId('access-panel').getByText('Last read:')).toHaveCount(0);
  await page.goto(roItem(destroyed.path));
  await expect(page.getByTestId('version').filter({ hasText: `v${destroyed.version}` })).toContainText('destroyed');
  // The same deleted current version in the writable store: no rotate (its keys cannot be read), and why.
  await page.goto(`/items/${VAULT_RW_STORE}/${deleted.path}`);
  await expect(page.getByTestId('vault-settings')).toContainText('undelete it in Vault');
  await expect(page.getByRole('button', { name: 'Rotate now…' })).toHaveCount(0);

  // Search finds a Vault item by name.
  const search = await page.request.get(`/api/v1/search?q=${encodeURIComponent('checkout-api/api-key')}`);
  expect(search.ok()).toBe(true);
  expect(JSON.stringify(await search.json())).toContain(`/${BROWSED}`);
  await page.waitForLoadState('networkidle');

  // Metadata only: the item's metadata was read, and no data/ path but the one the rotate test writes
  // and the two the access spec's own client reads through the Vault API.
  const requests = await vaultRequests(page);
  expect(requests.some((r) => r.path === `secret/metadata/${BROWSED}`)).toBe(true);
  const others = new Set([VAULT_ROTATED_PATH, VAULT_CLIENT.readPath, VAULT_CLIENT.deniedPath].map((p) => `secret/data/${p}`));
  expect(requests.filter((r) => r.path.startsWith('secret/data/') && !others.has(r.path))).toEqual([]);

  expect(await recorder.findLeaks([VALUE_SENTINEL], { withinMs: 5_000 })).toEqual([]);
  expect(watch.violations).toEqual([]);
  expect(watch.consoleRefusals).toEqual([]);
  expect((await reportCounts(page.request)).total - reportsBefore.total).toBe(0);
});

test('rotating a JSON Vault secret writes the next version with check-and-set; a version written meanwhile is reported and kept', async ({ page }) => {
  test.setTimeout(60_000);
  await vaultStoresSynced(page);
  const recorder = recordResponses(page);
  const before = await vaultApi(page, `data/${VAULT_ROTATED_PATH}`);
  const version = (before.metadata as { version: number }).version;
  const keys = before.data as Record<string, string>;

  await page.goto(`/items/${VAULT_RW_STORE}/${VAULT_ROTATED_PATH}`);
  await expect(page.getByTestId('version')).toHaveCount(version);

  const rotate = async (reason: string, between: () => Promise<void> = async () => {}) => {
    await page.getByRole('button', { name: 'Rotate now…' }).click();
    const dialog = page.getByRole('dialog');
    await expect(dialog).toBeVisible();
    await expect(dialog).toContainText('check-and-set');
    await dialog.getByLabel('JSON key to replace (optional)').fill('password');
    await dialog.getByLabel(/^Reason/).fill(reason);
    await between();
    await dialog.getByRole('button', { name: 'Confirm: rotate now' }).click();
    return dialog;
  };

  // The new version appears, with the other key kept and only the named one changed.
  await expect(await rotate('e2e: vault rotation')).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toContainText(`New version ${version + 1}`);
  await expect(page.getByTestId('version')).toHaveCount(version + 1);
  const rotated = await vaultApi(page, `data/${VAULT_ROTATED_PATH}`);
  expect((rotated.data as Record<string, string>).username).toBe(keys.username);
  expect((rotated.data as Record<string, string>).password).not.toBe(keys.password);

  // Someone else writes a version between opening the dialog and confirming: told so, and theirs stays.
  const theirs = { username: keys.username!, password: `${VALUE_SENTINEL}-written-by-someone-else` };
  const dialog = await rotate('e2e: vault rotation that loses the race', async () => {
    const response = await page.request.post(`${vaultUrl}/__control`, { data: { writeSecrets: [{ mount: 'secret', path: VAULT_ROTATED_PATH, data: theirs }] } });
    expect(response.ok()).toBe(true);
  });
  await expect(dialog.getByRole('alert')).toContainText('someone else wrote a new version');
  await expect(dialog.getByRole('alert')).toContainText('nothing was overwritten');
  const after = await vaultApi(page, `data/${VAULT_ROTATED_PATH}`);
  expect((after.metadata as { version: number }).version).toBe(version + 2);
  expect(after.data).toEqual(theirs);

  expect(await recorder.findLeaks([VALUE_SENTINEL, (rotated.data as Record<string, string>).password!], { withinMs: 5_000 })).toEqual([]);
});

test('Vault pages are axe-clean in both themes', async ({ browser, baseURL, adminState }) => {
  test.setTimeout(60_000);
  const problems: string[] = [];
  for (const theme of THEMES) {
    const page = await themedPage(browser, baseURL!, theme, 1400, adminState);
    for (const path of [`/browse/${VAULT_RW_STORE}/payments/checkout-api`, `/items/${VAULT_RW_STORE}/${BROWSED}`, roItem(deleted.path)]) {
      problems.push(...(await axeProblemsAt(page, path)).map((p) => `${theme}: ${p}`));
    }
    await nextRuntimeStarted(page);
    await page.context().close();
  }
  expect(problems).toEqual([]);
});
