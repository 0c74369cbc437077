import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { APIRequestContext, Page } from '@playwright/test';
import type { SimRecordedCall } from '../simulator/simulated-aws';
import { expect, test } from './support/test';
import { KMS_DENIED_PARAMETER, PAYMENTS_KEY_ARN, SENTINELS, VALUE_SENTINEL, VALUE_READING_OPERATIONS, parameterArn, secretArnPattern } from './support/aws-fixtures';
import { FAILING_STORES, HEALTHY_AWS_STORES, REGION } from './support/aws-stores';
import { recordResponses } from './support/leak-recorder';

// AWS stores in the browser, against the project's simulated AWS holding the browser tests' data
// set (e2e/support/aws-fixtures.ts; project 'aws' in playwright.config.ts): browsing Parameter
// Store and Secrets Manager, every injected AWS failure as a banner that leaves the other stores
// working, and proof from the simulator's own call log that browsing never read a value.

const SIMULATED_AWS = process.env.E2E_SIMULATED_AWS_URL!;

function banner(page: Page, storeId: string) {
  // Next.js's route announcer is role="alert" too; the banner is the one naming the store.
  return page.getByRole('alert').filter({ hasText: `Store “${storeId}” could not be read` });
}

async function simulatorCalls(request: APIRequestContext): Promise<SimRecordedCall[]> {
  const response = await request.get(`${SIMULATED_AWS}/__calls`);
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { calls: SimRecordedCall[] }).calls;
}

/** A store's tab in the store picker (the built-in store's label does not name its id). */
function storeLink(page: Page, storeId: string) {
  return page.getByRole('navigation', { name: 'Stores' }).locator(`a[href="/browse/${storeId}"]`);
}

/** Browsing is served from the inventory: wait until the healthy AWS stores' first walk is in. */
async function healthyStoresSynced(page: Page): Promise<void> {
  await expect(async () => {
    const response = await page.request.get('/api/v1/inventory');
    expect(response.ok()).toBe(true);
    const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
    for (const { id } of HEALTHY_AWS_STORES) expect(stores.find((s) => s.storeId === id)?.syncedAt, id).toBeTruthy();
  }).toPass({ timeout: 30_000 });
}

test.beforeEach(async ({ page }) => {
  await healthyStoresSynced(page);
});

function metadataRow(page: Page, label: string) {
  return page.locator('dl > div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) }).locator('dd');
}

test('browses Parameter Store down to an item with its ARN, tier, data type, KMS key, policies and tags', async ({ page }) => {
  await page.goto('/browse/prod-params');
  // Several stores are configured, so the picker shows them all.
  const picker = page.getByRole('navigation', { name: 'Stores' });
  for (const id of ['local', ...HEALTHY_AWS_STORES.map((s) => s.id), ...FAILING_STORES.map((s) => s.id)])
    await expect(storeLink(page, id)).toBeVisible();
  await expect(picker.getByRole('link', { name: `prod-params (${REGION})` })).toHaveAttribute('aria-current', 'page');
  await expect(picker.getByRole('link', { name: `slow-params (${REGION})` })).toBeVisible();

  const tree = page.getByRole('navigation', { name: 'Folders' });
  await expect(tree.getByRole('link', { name: /prod$/ })).toBeVisible();
  await expect(tree.getByRole('link', { name: /staging$/ })).toBeVisible();

  for (const folder of ['prod', 'payments', 'stripe']) {
    await page.getByRole('row').getByRole('link', { name: `${folder}/`, exact: true }).click();
    await page.waitForURL(new RegExp(`/${folder}$`));
  }
  await expect(page).toHaveURL(/\/browse\/prod-params\/prod\/payments\/stripe$/);
  await expect(page.getByTestId('item-row')).toHaveCount(2);
  await expect(page.getByTestId('item-row').nth(0)).toContainText('api-key');
  await expect(page.getByTestId('item-row').nth(0)).toContainText('SecureString');
  await expect(page.getByTestId('item-row').nth(1)).toContainText('webhook-secret');
  // The tree is open along the path.
  await expect(tree.getByRole('link', { name: /stripe$/ })).toHaveAttribute('aria-current', 'page');

  await page.getByRole('link', { name: 'api-key', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/stripe/api-key');
  await expect(metadataRow(page, 'ARN')).toHaveText(parameterArn('/prod/payments/stripe/api-key'));
  await expect(metadataRow(page, 'Type')).toHaveText('SecureString');
  await expect(metadataRow(page, 'Tier')).toHaveText('Advanced');
  await expect(metadataRow(page, 'Data type')).toHaveText('text');
  await expect(metadataRow(page, 'KMS key')).toHaveText(PAYMENTS_KEY_ARN);
  await expect(metadataRow(page, 'Tags')).toContainText('team=payments');
  await expect(metadataRow(page, 'Tags')).toContainText('env=prod');
  await expect(metadataRow(page, 'Current version')).toHaveText('3');
  await expect(metadataRow(page, 'Labels')).toHaveText('live');
  await expect(metadataRow(page, 'Expiration')).toContainText('"Timestamp":"2031-12-02T21:34:33.000Z"');
  await expect(metadataRow(page, 'Expiration')).toContainText('(Pending)');
  await expect(metadataRow(page, 'ExpirationNotification')).toContainText('(Pending)');
  await expect(metadataRow(page, 'NoChangeNotification')).toContainText('(Finished)');
  await expect(page.getByTestId('version')).toHaveCount(3);
  await expect(page.getByTestId('version').first()).toContainText('v3');
  await expect(page.getByTestId('version').first()).toContainText('current');
  await expect(page.getByTestId('version').first()).toContainText('assumed-role/deploy/ci');
  // An older version keeps its label.
  await expect(page.getByTestId('version').nth(1)).toContainText('previous');

  // Another parameter: a data type other than text, and no policies.
  await page.goto('/items/prod-params/prod/payments/ami-id');
  await expect(metadataRow(page, 'Data type')).toHaveText('aws:ec2:image');
  await expect(metadataRow(page, 'Tier')).toHaveText('Standard');
  await expect(page.getByRole('heading', { name: 'Rotation and policies' })).toHaveCount(0);
});

test('browses Secrets Manager down to a secret with rotation, version stages and replication', async ({ page }) => {
  await page.goto('/browse/prod-secrets');
  await page.getByRole('row').getByRole('link', { name: 'prod/', exact: true }).click();
  await page.getByRole('row').getByRole('link', { name: 'payments/', exact: true }).click();
  await expect(page).toHaveURL(/\/browse\/prod-secrets\/prod\/payments$/);
  // "/prod/payments/webhooks/signing-secret" is named with a leading slash in AWS: same tree.
  await expect(page.getByRole('row').getByRole('link', { name: 'webhooks/', exact: true })).toBeVisible();
  await expect(page.getByTestId('item-row')).toHaveCount(3);
  await expect(page.getByTestId('item-row').nth(0)).toContainText('db-credentials');
  await expect(page.getByTestId('item-row').nth(1)).toContainText('legacy-rotation');
  await expect(page.getByTestId('item-row').nth(2)).toContainText('stripe-api-key');

  await page.getByRole('link', { name: 'stripe-api-key', exact: true }).click();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/stripe-api-key');
  await expect(page.getByTestId('item-header')).toContainText('Stripe key, rotated by Lambda');
  await expect(metadataRow(page, 'ARN')).toHaveText(secretArnPattern('prod/payments/stripe-api-key'));
  await expect(metadataRow(page, 'KMS key')).toHaveText(PAYMENTS_KEY_ARN);
  await expect(metadataRow(page, 'Tags')).toContainText('team=payments');
  await expect(metadataRow(page, 'Current version')).toHaveText('a1b2c3d4-0002-4000-8000-00000000bbbb');
  await expect(metadataRow(page, 'Labels')).toHaveText('AWSCURRENT');
  await expect(metadataRow(page, 'Rotation')).toHaveText('enabled');
  await expect(metadataRow(page, 'Schedule')).toHaveText('rate(30 days)');
  await expect(metadataRow(page, 'Last rotated').locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  await expect(metadataRow(page, 'Last rotated')).toContainText('12 days ago');
  await expect(metadataRow(page, 'Next rotation').locator('time')).toHaveAttribute('datetime', /^\d{4}-\d\d-\d\dT/);
  await expect(metadataRow(page, 'Rotation function')).toHaveText(/function:rotate-stripe-key$/);
  await expect(metadataRow(page, 'Replicated to')).toHaveText('eu-west-1 (InSync), us-west-2 (InProgress)');

  // Every version, deprecated ones included, with its staging labels; AWSCURRENT is the current one.
  const versions = page.getByTestId('version');
  await expect(versions).toHaveCount(4);
  await expect(versions.filter({ hasText: 'AWSPENDING' })).toHaveCount(1);
  await expect(versions.filter({ hasText: 'AWSCURRENT' })).toContainText('current');
  await expect(versions.filter({ hasText: 'AWSPREVIOUS' })).toHaveCount(1);
  await expect(versions.first()).toContainText('AWSPENDING');

  // A secret without rotation, and one named with a leading slash.
  await page.goto('/items/prod-secrets/prod/payments/db-credentials');
  await expect(metadataRow(page, 'Rotation')).toHaveText('disabled');
  await expect(metadataRow(page, 'Replicated to')).toHaveCount(0);
  await page.goto('/items/prod-secrets/prod/payments/webhooks/signing-secret');
  await expect(metadataRow(page, 'ARN')).toHaveText(secretArnPattern('/prod/payments/webhooks/signing-secret'));
  await expect(page.getByTestId('version')).toHaveCount(2);
});

test('a KMS denial on one parameter gives its banner and the rest of the store keeps working', async ({ page }) => {
  await page.goto(`/items/prod-params${KMS_DENIED_PARAMETER}`);
  const alert = banner(page, 'prod-params');
  await expect(alert).toContainText('(access-denied)');
  await expect(alert).toContainText('AWS KMS denied access during ssm:GetParameterHistory (AccessDeniedException)');
  await expect(alert).toContainText('kms:DescribeKey');
  await expect(page.getByRole('heading', { name: 'Version history' })).toHaveCount(0);

  // The folder still lists it, and its neighbours open.
  await page.goto('/browse/prod-params/prod/payments/legacy');
  await expect(page.getByTestId('item-row')).toContainText('signing-key');
  await page.goto('/items/prod-params/prod/payments/stripe/webhook-secret');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/stripe/webhook-secret');
  await expect(page.getByRole('alert').filter({ hasText: 'could not be read' })).toHaveCount(0);
});

for (const [index, store] of FAILING_STORES.entries()) {
  test(`${store.cause} on "${store.id}" gives its banner and the other stores keep working`, async ({ page }) => {
    const healthy = ['prod-params', 'prod-secrets', 'local'][index % 3]!;

    // The store's first inventory walk fails (after its retries): its banner names the cause.
    const alert = page.getByTestId('sync-error');
    await expect(async () => {
      await page.goto(`/browse/${store.id}`);
      await expect(alert).toContainText(`(${store.code})`, { timeout: 1_000 });
    }).toPass({ timeout: 30_000 });
    await expect(alert).toContainText(`Store "${store.id}"`);
    await expect(alert).toContainText(`(${store.cause})`);
    await expect(alert).toContainText('Nothing to show until a sync succeeds');
    await expect(page.getByRole('navigation', { name: 'Folders' })).toHaveCount(0);
    // The picker still leads to the other stores, which work.
    await storeLink(page, healthy).click();
    await expect(page).toHaveURL(new RegExp(`/browse/${healthy}$`));
    await expect(page.getByRole('row').getByRole('link', { name: 'prod/', exact: true })).toBeVisible();
    await expect(page.getByRole('alert').filter({ hasText: 'could not be read' })).toHaveCount(0);

    // An item page of the failing store says the same, and the healthy store still answers after it.
    await page.goto(`/items/${store.id}/prod/payments/stripe/api-key`);
    await expect(banner(page, store.id)).toContainText(`(${store.cause})`);
    await page.goto(`/browse/${healthy}/prod/payments`);
    await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/');
    await expect(page.getByRole('alert').filter({ hasText: 'could not be read' })).toHaveCount(0);
  });
}

test('browsing every AWS page reads no value: the simulated AWS saw no value-reading call, no decryption, and no value reached the browser', async ({
  page,
  request,
  baseURL,
}) => {
  test.setTimeout(90_000);
  const recorder = recordResponses(page);
  const origin = new URL(baseURL!).origin;
  const stores = [...HEALTHY_AWS_STORES.map((s) => s.id), ...FAILING_STORES.map((s) => s.id)];
  const inAws = (pathname: string) => stores.some((id) => pathname === `/browse/${id}` || pathname.startsWith(`/browse/${id}/`) || pathname.startsWith(`/items/${id}/`));

  const queue = stores.map((id) => `/browse/${id}`);
  const seen = new Set(queue);
  const visited: string[] = [];
  while (queue.length > 0) {
    const next = queue.shift()!;
    const response = await page.goto(next);
    expect(response?.status(), next).toBe(200);
    visited.push(next);
    const hrefs = await page.locator('a[href]').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
    for (const href of hrefs) {
      const url = new URL(href);
      // Paths only: sorted views of a folder make the same AWS calls.
      if (url.origin !== origin || url.search || !inAws(url.pathname) || seen.has(url.pathname)) continue;
      seen.add(url.pathname);
      queue.push(url.pathname);
    }
  }
  expect(visited.filter((p) => p.startsWith('/items/prod-params/'))).toHaveLength(7);
  // Four secrets, the one whose rotation always fails and the rotatable one (the data set).
  expect(visited.filter((p) => p.startsWith('/items/prod-secrets/'))).toHaveLength(6);

  // Client-side navigation fetches RSC payloads instead of HTML; walk one path that way too.
  await page.goto('/browse/prod-secrets');
  for (const folder of ['prod', 'payments', 'webhooks']) {
    await page.getByRole('row').getByRole('link', { name: `${folder}/`, exact: true }).click();
    await page.waitForURL(new RegExp(`/${folder}$`));
  }
  await page.getByRole('link', { name: 'signing-secret', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Version history' })).toBeVisible();
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('/prod/payments/webhooks/signing-secret');

  // Only what browsing asked for: the test of the test and the stores that write (other specs) are apart.
  const calls = (await simulatorCalls(request)).filter((c) => c.scope === 'ok');
  // The log is real: every metadata call browsing needs is in it, signed.
  const operations = new Set(calls.map((c) => `${c.service}:${c.operation}`));
  for (const op of ['ssm:DescribeParameters', 'ssm:GetParameterHistory', 'ssm:ListTagsForResource', 'secretsmanager:ListSecrets', 'secretsmanager:DescribeSecret', 'secretsmanager:ListSecretVersionIds'])
    expect(operations, op).toContain(op);
  expect(calls.filter((c) => !c.signed)).toEqual([]);
  expect(calls.filter((c) => VALUE_READING_OPERATIONS.includes(c.operation))).toEqual([]);
  expect(calls.filter((c) => c.withDecryption)).toEqual([]);

  // Bodies the browser never finished receiving (prefetches the router stopped reading) cannot
  // carry anything; none of them may be an AWS page, whose bodies all have to be searched.
  const responses = await recorder.settle({ withinMs: 5_000 });
  expect(recorder.unfinished.filter((url) => inAws(new URL(url).pathname))).toEqual([]);
  expect(responses.some((r) => r.contentType.includes('text/x-component')), 'RSC payloads were recorded').toBe(true);
  expect(responses.filter((r) => inAws(new URL(r.url).pathname)).length).toBeGreaterThan(40);
  expect(await recorder.findLeaks(SENTINELS)).toEqual([]);
});

test('the simulated AWS records a value-reading call and answers it with the sentinel (test of the test)', async ({ request }) => {
  // A real, signed SDK call, under the /probe scope so browsing's log stays apart.
  const client = new SSMClient({
    endpoint: `${SIMULATED_AWS}/probe`,
    region: REGION,
    credentials: { accessKeyId: 'AKIAFAKEE2E000000000', secretAccessKey: 'fake-secret-access-key-for-browser-tests' },
    maxAttempts: 1,
  });
  try {
    const answer = await client.send(new GetParameterCommand({ Name: '/prod/payments/stripe/api-key', WithDecryption: true }));
    expect(answer.Parameter?.Value).toBe(VALUE_SENTINEL);
  } finally {
    client.destroy();
  }
  const probes = (await simulatorCalls(request)).filter((c) => c.scope === 'probe');
  expect(probes).toContainEqual(
    expect.objectContaining({ service: 'ssm', operation: 'GetParameter', name: '/prod/payments/stripe/api-key', withDecryption: true, signed: true }),
  );
});
