import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from '@playwright/test';
import { VALUE_SENTINEL } from '../simulator/vault/vault-data-set';
import { recordResponses } from './support/leak-recorder';
import { signInState } from './support/sign-in';
import { ensureUser } from './support/users';
import { VAULT_AUDIT_FILE, VAULT_AUDIT_SOURCE, VAULT_CLIENT, VAULT_RW_STORE } from './support/vault-stores';
import { expect, test } from './support/test';

// A Vault item's Access from Vault's own audit log (project 'vault': the simulated Vault writes its
// file audit device, and CONFIG_FILE names that file as the writable store's source, read every 3 s).
// A client with a token of its own reads one secret's data through the Vault API and is refused
// another's; the item pages and the /audit timeline then show who read and who was refused, and
// when, to those who may audit: an admin and an auditor, not a viewer. No value, token or HMAC of
// the audit file reaches any response the browser gets.

const vaultUrl = process.env.E2E_SIMULATED_VAULT_URL!;
const auditFile = path.join(process.env.E2E_VAULT_DIR!, VAULT_AUDIT_FILE);
const readItem = `/items/${VAULT_RW_STORE}/${VAULT_CLIENT.readPath}`;
const deniedItem = `/items/${VAULT_RW_STORE}/${VAULT_CLIENT.deniedPath}`;

let accessor = '';
/** When the client made its calls: the panels' times are no earlier. */
let clientCalledAt = 0;

async function vault(pathAndQuery: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${vaultUrl}${pathAndQuery}`, init);
}

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  // The client's token and its policy: read the one folder, denied the other.
  const control = await vault('/__control', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      policies: [{ name: VAULT_CLIENT.policy, paths: { 'secret/data/payments/payouts/*': ['read'], 'secret/data/payments/card-vault/*': ['deny'] } }],
      tokens: [{ id: VAULT_CLIENT.token, policies: ['default', VAULT_CLIENT.policy], displayName: VAULT_CLIENT.displayName }],
    }),
  });
  expect(control.status).toBe(200);
  accessor = ((await control.json()) as { tokens: { accessor: string }[] }).tokens[0]!.accessor;
  clientCalledAt = Date.now() - 1_000;
  const headers = { 'X-Vault-Token': VAULT_CLIENT.token };
  const read = await vault(`/v1/secret/data/${VAULT_CLIENT.readPath}`, { headers });
  expect(read.status).toBe(200);
  expect(JSON.stringify(await read.json())).toContain(VALUE_SENTINEL);
  expect((await vault(`/v1/secret/data/${VAULT_CLIENT.deniedPath}`, { headers })).status).toBe(403);
});

/** Opens `url` until its Access panel names the client (the audit file is read every few seconds). */
async function panelNamingClient(page: Page, url: string) {
  const panel = page.getByTestId('access-panel');
  await expect(async () => {
    await page.goto(url);
    await expect(panel).toContainText(VAULT_CLIENT.displayName, { timeout: 1_000 });
  }).toPass({ timeout: 45_000 });
  return panel;
}

/** The secrets the browser must never see: the value sentinel, the client's token and accessor, and every HMAC in the audit file. */
function secrets(): string[] {
  const hmacs = new Set<string>();
  for (const match of readFileSync(auditFile, 'utf8').matchAll(/hmac-sha256:([0-9a-f]{16,})/g)) hmacs.add(match[1]!);
  expect(hmacs.size).toBeGreaterThan(0);
  return [VALUE_SENTINEL, VAULT_CLIENT.token, accessor, 'hmac-sha256', ...hmacs];
}

/** A user of the role, new to this run (the role is the one they are created with: no grant names them). */
async function addUser(browser: Browser, adminState: Parameters<typeof ensureUser>[1], role: 'viewer' | 'auditor'): Promise<{ email: string; password: string }> {
  const user = { email: `vault-${role}-${Date.now()}@example.com`, password: `e2e-vault-${role}-password-42` };
  await ensureUser(browser, adminState, user, role);
  return user;
}

async function signedInPage(browser: Browser, baseURL: string, user: { email: string; password: string }): Promise<Page> {
  const context = await browser.newContext({ baseURL, storageState: await signInState(baseURL, user.email, user.password) });
  return context.newPage();
}

test('a client’s read and its refusal, from Vault’s audit file, on the item pages and the timeline, with no value, token or HMAC', async ({ page }) => {
  const recorder = recordResponses(page);

  // The read secret's panel: who read it last, and when (no earlier than the client's call).
  const panel = await panelNamingClient(page, readItem);
  await expect(panel).toContainText(`by ${VAULT_CLIENT.displayName} (ReadSecretVersion)`);
  const lastRead = Date.parse((await panel.locator('p', { hasText: 'Last read:' }).locator('time').getAttribute('datetime'))!);
  expect(lastRead).toBeGreaterThanOrEqual(clientCalledAt);
  expect(lastRead).toBeLessThanOrEqual(Date.now());
  // In the 30 and the 90 days' readers, once each, flagged as a reader the item had not had.
  const reader = panel.getByTestId('access-reader').filter({ hasText: VAULT_CLIENT.displayName });
  await expect(reader).toHaveCount(2);
  for (const row of await reader.all()) {
    await expect(row).toContainText('1 read');
    await expect(row).toContainText('new reader');
  }
  await expect(panel.getByTestId('access-event').filter({ hasText: VAULT_CLIENT.displayName })).toContainText('success');

  // The refused secret's panel: the refusal, and no read by the client.
  const refused = await panelNamingClient(page, deniedItem);
  await expect(refused.getByTestId('access-event').filter({ hasText: VAULT_CLIENT.displayName })).toContainText('PermissionDenied');
  await expect(refused.getByTestId('access-reader').filter({ hasText: VAULT_CLIENT.displayName })).toHaveCount(0);

  // The timeline of the store, for the client: the read and the refusal, from the store's audit source.
  await page.goto(`/audit?store=${VAULT_RW_STORE}&actor=${encodeURIComponent(VAULT_CLIENT.displayName)}`);
  const rows = page.getByTestId('audit-row');
  await expect(rows).toHaveCount(2);
  await expect(rows.filter({ hasText: `${VAULT_RW_STORE}:/${VAULT_CLIENT.readPath}` })).toContainText('success');
  await expect(rows.filter({ hasText: `${VAULT_RW_STORE}:/${VAULT_CLIENT.deniedPath}` })).toContainText('PermissionDenied');
  for (const row of await rows.all()) await expect(row).toContainText('ReadSecretVersion');
  const source = page.getByTestId('cloudtrail-sources').getByRole('row').filter({ hasText: VAULT_AUDIT_SOURCE });
  await expect(source).toContainText('vault-file');
  await expect(source).toContainText(`Vault store ${VAULT_RW_STORE}`);

  // The API answers the same, without the token or its HMAC.
  const api = await page.request.get(`/api/v1/audit?store=${VAULT_RW_STORE}&actor=${encodeURIComponent(VAULT_CLIENT.displayName)}`);
  expect(api.status()).toBe(200);
  const body = await api.text();
  expect(((JSON.parse(body) as { entries: unknown[] }).entries).length).toBe(2);
  for (const secret of secrets()) expect(body).not.toContain(secret);

  await page.waitForLoadState('networkidle');
  expect(await recorder.findLeaks(secrets(), { withinMs: 5_000 })).toEqual([]);
});

test('an auditor sees the Vault item’s Access panel; a viewer, who may not audit, sees none and no timeline', async ({ browser, baseURL, adminState }) => {
  const auditorUser = await addUser(browser, adminState, 'auditor');
  const viewerUser = await addUser(browser, adminState, 'viewer');

  const auditor = await signedInPage(browser, baseURL!, auditorUser);
  try {
    const panel = await panelNamingClient(auditor, readItem);
    await expect(panel.getByTestId('access-reader').filter({ hasText: VAULT_CLIENT.displayName }).first()).toBeVisible();
  } finally {
    await auditor.context().close();
  }

  const viewer = await signedInPage(browser, baseURL!, viewerUser);
  try {
    const recorder = recordResponses(viewer);
    await viewer.goto(readItem);
    await expect(viewer.getByRole('heading', { level: 1 })).toHaveText(`/${VAULT_CLIENT.readPath}`);
    await expect(viewer.getByTestId('version').first()).toBeVisible();
    await expect(viewer.getByTestId('access-panel')).toHaveCount(0);
    const timeline = await viewer.goto(`/audit?store=${VAULT_RW_STORE}`);
    expect(timeline?.status()).toBe(404);
    await expect(viewer.getByTestId('audit-row')).toHaveCount(0);
    expect((await viewer.request.get(`/api/v1/audit?store=${VAULT_RW_STORE}`)).status()).toBe(403);
    await viewer.waitForLoadState('networkidle');
    // Who read the secret is audit data: nothing of it in what the viewer received.
    expect(await recorder.findLeaks([VAULT_CLIENT.displayName, ...secrets()], { withinMs: 5_000 })).toEqual([]);
  } finally {
    await viewer.context().close();
  }
});
