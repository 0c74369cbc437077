import type { APIRequestContext, Page } from '@playwright/test';
import type { SimRecordedCall } from '../simulator/simulated-aws';
import { CHANGED_PARAMETER, PENDING_ROTATION_SECRET, SENTINELS, VALUE_READING_OPERATIONS } from './support/aws-fixtures';
import { HEALTHY_AWS_STORES } from './support/aws-stores';
import { recordResponses } from './support/leak-recorder';
import { expect, test } from './support/test';

// "What changed" between two versions on the simulated AWS stores (project 'aws'): Parameter
// Store's history has each version's description, tier, labels and policies; Secrets Manager's
// versions have only stages and dates, and the page says AWS keeps no older metadata. Compared on
// what browsing reads anyway: no value-reading call, no value in anything the browser receives.

const SIMULATED_AWS = process.env.E2E_SIMULATED_AWS_URL!;
const PARAMETER_URL = `/items/prod-params${CHANGED_PARAMETER.name}`;
const SECRET_URL = `/items/prod-secrets/${PENDING_ROTATION_SECRET}`;
const PREVIOUS = 'a1b2c3d4-0001-4000-8000-00000000aaaa';
const CURRENT = 'a1b2c3d4-0002-4000-8000-00000000bbbb';

async function simulatorCalls(request: APIRequestContext): Promise<SimRecordedCall[]> {
  const response = await request.get(`${SIMULATED_AWS}/__calls`);
  expect(response.ok()).toBe(true);
  return ((await response.json()) as { calls: SimRecordedCall[] }).calls;
}

/** The item pages ask AWS directly, but the store must be known: wait for the healthy stores' first walk. */
async function storesSynced(page: Page): Promise<void> {
  await expect(async () => {
    const response = await page.request.get('/api/v1/inventory');
    const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
    for (const { id } of HEALTHY_AWS_STORES) expect(stores.find((s) => s.storeId === id)?.syncedAt, id).toBeTruthy();
  }).toPass({ timeout: 30_000 });
}

test('Parameter Store: description, tier, labels and policies between versions; Secrets Manager: stages, and no older metadata', async ({ page, request }) => {
  await storesSynced(page);
  const firstSeq = Math.max(0, ...(await simulatorCalls(request)).map((c) => c.seq));
  const recorder = recordResponses(page);

  await page.goto(`${PARAMETER_URL}?from=1&to=3`);
  const diff = page.getByTestId('version-diff');
  const row = (field: string) => diff.getByTestId('version-change').filter({ has: page.getByRole('rowheader', { name: field, exact: true }) });
  await expect(diff.getByRole('heading')).toHaveText('What changed from v1 to v3');
  await expect(row('Description')).toContainText(CHANGED_PARAMETER.firstDescription);
  await expect(row('Description')).toContainText('Stripe live secret key for the payments service');
  await expect(row('Tier')).toHaveText(/Standard\s*Advanced/);
  await expect(row('Labels')).toContainText('live');
  await expect(row('Written by')).toContainText('user/alice');
  await expect(row('Policy Expiration')).toContainText('(none)');
  await expect(diff.getByTestId('value-verdict')).toHaveText('Values are not compared: browsing an AWS store never reads them.');
  await expect(diff.getByTestId('version-not-recorded')).toContainText('Not compared (Tags): Parameter Store keeps tags for the parameter, not for each version');
  await expect(diff.getByTestId('version-unchanged')).toContainText('KMS key');

  // From the timeline: v2 to v3 changed labels and policies, not the description or tier.
  await page.getByRole('link', { name: 'What changed in v3 since v2' }).click();
  await expect(page).toHaveURL(/\?from=2&to=3#compare$/);
  await expect(row('Labels')).toHaveText(/previous\s*live/);
  await expect(row('Policy NoChangeNotification')).toBeVisible();
  await expect(row('Description')).toHaveCount(0);
  await expect(row('Tier')).toHaveCount(0);

  // Secrets Manager: the picker, then stages and dates only, with the note instead of a guess.
  await page.goto(SECRET_URL);
  const form = page.getByTestId('version-compare-form');
  await form.getByLabel('From (before)').selectOption(PREVIOUS);
  await form.getByLabel('To (after)').selectOption(CURRENT);
  await form.getByRole('button', { name: 'Compare' }).click();
  await expect(page).toHaveURL(new RegExp(`\\?from=${PREVIOUS}&to=${CURRENT}$`));
  await expect(row('Stages')).toHaveText(/AWSPREVIOUS\s*AWSCURRENT/);
  await expect(diff.getByTestId('version-not-recorded')).toContainText(
    'Not compared (Description, Tags, KMS key): AWS keeps no older metadata for Secrets Manager versions',
  );
  await expect(row('Description')).toHaveCount(0);
  await expect(diff.getByTestId('value-verdict')).toHaveText('Values are not compared: browsing an AWS store never reads them.');

  // A version id the secret does not have: the 404 page, never a 500.
  const missing = await page.request.get(`${SECRET_URL}?from=${PREVIOUS}&to=a1b2c3d4-0009-4000-8000-00000000ffff`);
  expect(missing.status()).toBe(404);

  // Nothing but metadata was asked of AWS for these items, and no value reached the browser.
  const calls = (await simulatorCalls(request)).filter((c) => c.seq > firstSeq && c.scope === 'ok');
  const names = [CHANGED_PARAMETER.name, PENDING_ROTATION_SECRET];
  const ours = calls.filter((c) => c.name !== null && names.some((n) => c.name!.includes(n)));
  expect(new Set(ours.map((c) => c.operation))).toContain('GetParameterHistory');
  expect(ours.filter((c) => VALUE_READING_OPERATIONS.includes(c.operation) || c.withDecryption)).toEqual([]);
  expect(await recorder.findLeaks(SENTINELS, { withinMs: 5_000 })).toEqual([]);
});
