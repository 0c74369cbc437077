import { readFileSync } from 'node:fs';
import path from 'node:path';
import { request, type APIRequestContext } from '@playwright/test';
import { DEMO_VAULT_CLIENTS } from '../scripts/demo-vault-traffic.mjs';
import { STORIES } from '../simulator/demo/stories';
import { VALUE_SENTINEL } from '../simulator/vault/vault-data-set';
import { inlineProblems, nextRuntimeStarted, scriptNonce, watchCsp } from './support/csp-watch';
import { DEMO_VALUES } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';
import { expect, test } from './support/test';

// The demo as `DEMO_DATA=1 npm start` serves it (the demo project in playwright.config.ts), walked as the three people it
// is for, against the simulated AWS organisation the launcher started beside the server:
//  - a security reviewer finds the new reader of the production database password in the audit
//    timeline and exports it as CSV;
//  - a lead rotates a demo secret, then sees the rotation in the simulated CloudTrail;
//  - on-call opens the overview, the overdue list, and /alerts, where the failing rotation was delivered to the demo's channel;
//  - the demo Vault's secrets show its clients' reads and a refusal, from its audit file.
// Every response each one receives is searched for values: the simulated ones ("demo-" and 20
// characters), the built-in store's, and the one the lead's rotation wrote (read from the simulator).

const CONFIG = path.join(process.env.E2E_DEMO_DIR ?? '', 'data', 'simulated-aws', 'config.yaml');
const SIMULATED_VALUE = /demo-[a-z0-9]{20}/;
const NEW_READER_ROLE = 'data-platform-etl';
const DB_PASSWORD = `/${STORIES.newReader.secret}`;
/** The lead's secret: rotated every 30 days by its team's function. */
const ROTATED = '/prod/checkout/cart/db-credentials';
const SIM_STORES = ['sim-prod-ssm', 'sim-prod-secrets', 'sim-staging-ssm', 'sim-staging-secrets'];

/** The simulator the launcher started (its port is in the CONFIG_FILE it wrote). */
function simulatorUrl(): string {
  return /endpoint: (http:\/\/127\.0\.0\.1:\d+)/.exec(readFileSync(CONFIG, 'utf8'))![1]!;
}

function expectNoValues(bodies: string[], extra: string[] = []) {
  for (const body of bodies) {
    expect(body).not.toMatch(SIMULATED_VALUE);
    for (const value of [...DEMO_VALUES, ...extra]) if (value.length >= 8) expect(body.includes(value), `a value in a response`).toBe(false);
  }
}

async function settledBodies(recorder: ReturnType<typeof recordResponses>): Promise<string[]> {
  return (await recorder.settle({ withinMs: 10_000 })).map((r) => r.body);
}

let api: APIRequestContext;

test.describe.configure({ mode: 'serial' });
// Only the demo project's server (the demo project in playwright.config.ts) runs the simulated AWS organisation.
test.skip(!process.env.E2E_DEMO_DIR, 'runs in the demo project: npx playwright test --project=demo');

test.beforeAll(async ({ adminState }, workerInfo) => {
  test.setTimeout(300_000);
  api = await request.newContext({ baseURL: workerInfo.project.use.baseURL!, storageState: adminState });
  // The simulated accounts synced, and their CloudTrail walked far enough back for the stories.
  await expect
    .poll(
      async () => {
        const { stores } = (await (await api.get('/api/v1/inventory')).json()) as { stores: { storeId: string; syncedAt: string | null }[] };
        return SIM_STORES.every((id) => stores.some((s) => s.storeId === id && s.syncedAt));
      },
      { timeout: 120_000, intervals: [2_000] },
    )
    .toBe(true);
  // LookupEvents walks newest first: once payments-api's reads of 80 days ago are in, the new
  // reader's 90 days before are too (up to 3 minutes at AWS's 2 calls a second).
  const baseline = `/api/v1/audit?actor=payments-api&item=${encodeURIComponent(DB_PASSWORD)}&to=${new Date(Date.now() - 80 * 86_400_000).toISOString().slice(0, 10)}`;
  await expect
    .poll(async () => ((await (await api.get(baseline)).json()) as { entries: unknown[] }).entries.length, { timeout: 270_000, intervals: [1_000] })
    .toBeGreaterThan(0);
});

test.afterAll(async () => {
  await api?.dispose();
});

test('every page says the AWS stores are a simulated organisation, naming them, within the CSP', async ({ page }) => {
  const watch = await watchCsp(page);
  const banner = page.getByRole('note', { name: 'Simulated AWS' });
  for (const path of ['/', '/audit', `/browse/sim-staging-ssm`, `/items/sim-prod-secrets${DB_PASSWORD}`]) {
    await page.goto(path);
    await nextRuntimeStarted(page);
    await expect(banner).toContainText('Demo on a simulated AWS organisation.');
    for (const id of SIM_STORES) await expect(banner).toContainText(id);
  }
  for (const doc of await watch.documents()) expect(inlineProblems(doc.html, scriptNonce(doc.policy)), doc.url).toEqual([]);
  expect(watch.violations).toEqual([]);
  // Signed out too: the sign-in page says it.
  await page.context().clearCookies();
  await page.goto('/sign-in');
  await expect(banner).toContainText('sim-prod-ssm');
});

test('a security reviewer filters the audit timeline to the new reader and exports it as CSV', async ({ page }) => {
  const recorder = recordResponses(page);
  // The Access panel of the production database password flags the new reader.
  await page.goto(`/items/sim-prod-secrets${DB_PASSWORD}`);
  const panel = page.getByTestId('access-panel');
  await expect(panel).toBeVisible();
  const newReader = panel.getByTestId('access-reader').filter({ hasText: NEW_READER_ROLE }).first();
  await expect(newReader).toContainText('new reader');
  await expect(panel.getByTestId('access-reader').filter({ hasText: 'role/payments-api' }).first()).not.toContainText('new reader');

  // The timeline, filtered to that role and that secret: only its reads, from the last few days.
  await page.goto('/audit');
  const form = page.getByTestId('audit-filters');
  await form.locator('input[name="actor"]').fill(NEW_READER_ROLE);
  await form.locator('input[name="item"]').fill(DB_PASSWORD);
  await form.locator('input[name="item"]').press('Enter');
  await expect(page).toHaveURL(/actor=data-platform-etl/);
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toContainText('GetSecretValue');
  await expect(rows.first()).toContainText(`sim-prod-secrets:${DB_PASSWORD}`);
  for (const row of await rows.all()) await expect(row).toContainText(NEW_READER_ROLE);

  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
  const csv = readFileSync((await download.path())!, 'utf8');
  const lines = csv.trim().split(/\r?\n/);
  expect(lines[0]).toBe('time,source,action,access,actor,actorType,storeId,itemName,sourceIp,outcome,errorCode,via');
  expect(lines.length - 1).toBeGreaterThanOrEqual(STORIES.newReader.startedDaysAgo * 4);
  for (const line of lines.slice(1)) {
    expect(line).toContain(NEW_READER_ROLE);
    expect(line).toContain(`sim-prod-secrets,${DB_PASSWORD}`);
    expect(line).toContain('GetSecretValue');
  }
  const oldest = Math.min(...lines.slice(1).map((l) => Date.parse(l.split(',')[0]!)));
  expect(Date.now() - oldest).toBeLessThan(7 * 86_400_000);

  expectNoValues([...(await settledBodies(recorder)), csv]);
});

test('a lead rotates a demo secret and sees the rotation in the simulated CloudTrail', async ({ page }) => {
  test.setTimeout(300_000);
  const recorder = recordResponses(page);
  await page.goto(`/items/sim-prod-secrets${ROTATED}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(ROTATED);
  const reason = `demo walk: rotate ${new Date().toISOString()}`;
  await page.getByRole('button', { name: 'Rotate now…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Reason/).fill(reason);
  await dialog.getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toBeVisible({ timeout: 30_000 });

  // The simulated CloudTrail records the dashboard's RotateSecret; the audit sync brings it into
  // the item's Access panel and the timeline (CLOUDTRAIL_SYNC_INTERVAL_MINUTES: a minute in the demo, 6 s in this project).
  await expect
    .poll(
      async () => {
        const answer = (await (await api.get(`/api/v1/audit?item=${encodeURIComponent(ROTATED)}&event=RotateSecret&actor=secrets-dashboard`)).json()) as { entries: { time: string }[] };
        return answer.entries.filter((e) => Date.now() - Date.parse(e.time) < 10 * 60_000).length;
      },
      { timeout: 240_000, intervals: [1_000] },
    )
    .toBeGreaterThan(0);
  await page.goto(`/items/sim-prod-secrets${ROTATED}`);
  await expect(page.getByTestId('access-event').filter({ hasText: 'RotateSecret' }).filter({ hasText: 'secrets-dashboard' }).first()).toBeVisible();
  // The dashboard's own audit log has the reason the lead gave.
  await page.goto(`/audit?item=${encodeURIComponent(ROTATED)}`);
  await expect(page.getByTestId('audit-row').filter({ hasText: reason }).first()).toBeVisible();

  // The value the rotation wrote, read from the simulator: in no response the lead received.
  const stored = (await (await api.get(`${simulatorUrl()}/__accounts/prod/us-east-1/__values?service=secretsmanager&name=${encodeURIComponent(ROTATED.slice(1))}`)).json()) as {
    versions: { value: string | null }[];
  };
  const written = stored.versions.map((v) => v.value).filter((v): v is string => v !== null);
  expect(written.length).toBeGreaterThan(0);
  expectNoValues(await settledBodies(recorder), written);
});

test('on-call opens the overview, the overdue list and the alert on the failing rotation', async ({ page }) => {
  const recorder = recordResponses(page);
  await page.goto('/');
  for (const id of SIM_STORES) await expect(page.locator(`[data-testid="overview-store"][data-store="${id}"]`)).toBeVisible();
  const prodSecrets = page.locator('[data-testid="overview-store"][data-store="sim-prod-secrets"]');
  await expect(prodSecrets.locator('[data-testid="overview-count"][data-status="rotation-failing"]')).toHaveText('1');
  const overdue = page.locator('[data-testid="overview-store"][data-store="sim-prod-ssm"] a[data-testid="overview-count"][data-status="overdue"]');
  const count = Number((await overdue.textContent())!.replace(/,/g, ''));
  expect(count).toBeGreaterThan(50);
  await overdue.click();
  await expect(page).toHaveURL(/\/freshness\?store=sim-prod-ssm&status=overdue/);
  const rows = page.getByTestId('freshness-row');
  await expect(rows.first()).toBeVisible();
  await expect(rows.first().getByTestId('freshness-reason')).not.toBeEmpty();
  expect(await rows.count()).toBe(Math.min(count, 100));

  // The failing rotation is named with its cause.
  await page.goto('/freshness?store=sim-prod-secrets&status=rotation-failing');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText(STORIES.failingRotation.secret);
  await expect(rows.first().getByTestId('freshness-reason')).toContainText('AWSPENDING');

  // ...and it reached on-call's channel: the demo's alerts go to a signed-webhook receiver in npm start's process.
  const delivered = page.locator(`[data-testid="alert-delivery-row"][data-status="delivered"][data-item="/${STORIES.failingRotation.secret}"]`);
  await expect
    .poll(
      async () => {
        await page.goto('/alerts?rule=demo-on-call');
        return delivered.count();
      },
      { timeout: 120_000, intervals: [2_000] },
    )
    .toBeGreaterThan(0);
  await expect(page.locator(`[data-testid="alert-row"][data-event="rotation-failing"][data-item="/${STORIES.failingRotation.secret}"]`)).toBeVisible();

  expectNoValues(await settledBodies(recorder));
});

test("the demo Vault's Access panels show its clients' reads and the refusal, from its audit file", async ({ page }) => {
  const recorder = recordResponses(page);
  const { approle, token } = DEMO_VAULT_CLIENTS;
  const panel = page.getByTestId('access-panel');
  // The launcher's clients called at start; the audit file is read every 6 s here.
  const panelNames = async (secret: string, who: string) =>
    expect(async () => {
      await page.goto(`/items/sim-vault/${secret}`);
      await expect(panel).toContainText(who, { timeout: 1_000 });
    }).toPass({ timeout: 60_000 });
  await panelNames(approle.reads[0]!, `approle/${approle.roleName}`);
  await expect(panel).toContainText(`by approle/${approle.roleName} (ReadSecretVersion)`);
  await panelNames(token.reads[0]!, token.displayName);
  await panelNames(token.refused, token.displayName);
  await expect(panel.getByTestId('access-event').filter({ hasText: token.displayName }).first()).toContainText('PermissionDenied');
  const bodies = await settledBodies(recorder);
  expectNoValues(bodies);
  for (const body of bodies) expect(body).not.toContain(VALUE_SENTINEL);
});
