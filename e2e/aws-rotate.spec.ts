import { DB_CREDENTIALS_SECRET, ROTATABLE_SECRET, VALUE_SENTINEL } from './support/aws-fixtures';
import { recordResponses } from './support/leak-recorder';
import { searchableValues, storedValues } from './support/simulated-aws-values';
import { expect, test } from './support/test';
import type { Page } from '@playwright/test';

// Rotate and generate on the simulated Parameter Store and Secrets Manager through the item page,
// with reveal off (this server): every response of the session is searched for the old and the new
// values, which the test reads from the simulated AWS. None may appear anywhere.

const PARAMETER = '/prod/payments/db/host';

/** The server actions' answers, read in full as they arrive (a navigation could drop them from the recorder). */
const actionAnswers: string[] = [];

/** Server actions are POSTs to the page: each is fetched here, its answer kept whole, then handed to the page. */
async function recordActionAnswers(page: Page) {
  await page.route('**/items/**', async (route) => {
    if (route.request().method() !== 'POST') return route.fallback();
    const response = await route.fetch();
    const body = await response.text();
    actionAnswers.push(body);
    await route.fulfill({ response, body });
  });
}

async function confirm(page: Page, dialog: ReturnType<Page['getByRole']>, button: string) {
  const before = actionAnswers.length;
  await dialog.getByRole('button', { name: `Confirm: ${button.toLowerCase()}` }).click();
  await expect.poll(() => actionAnswers.length).toBe(before + 1);
}

async function confirmWrite(page: Page, button: 'Rotate now' | 'Generate new value', fill: (dialog: ReturnType<Page['getByRole']>) => Promise<void> = async () => {}) {
  await page.getByRole('button', { name: `${button}…` }).click();
  const dialog = page.getByRole('dialog');
  await expect(dialog).toBeVisible();
  await fill(dialog);
  await dialog.getByLabel(/^Reason/).fill(`e2e: ${button.toLowerCase()} on ${new Date().toISOString()}`);
  await confirm(page, dialog, button);
  return dialog;
}

test('rotate and generate on AWS stores answer with the new version only, and no value reaches the browser', async ({ page }) => {
  test.setTimeout(120_000);
  const recorder = recordResponses(page);
  await recordActionAnswers(page);
  const before = {
    parameter: await storedValues('ssm', PARAMETER),
    json: await storedValues('secretsmanager', DB_CREDENTIALS_SECRET),
    rotated: await storedValues('secretsmanager', ROTATABLE_SECRET),
  };

  // Parameter Store: rotate (a 32-character password), then generate 48 hex characters.
  await page.goto(`/items/rw-params${PARAMETER}`);
  await expect(page.getByRole('heading', { name: 'Reveal the value' })).toHaveCount(0);
  const versionsBefore = before.parameter.versions.length;
  let dialog = await confirmWrite(page, 'Rotate now');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toContainText(`New version ${versionsBefore + 1}`);
  await confirmWrite(page, 'Generate new value', async (d) => {
    await d.getByLabel('Kind').selectOption('hex');
    await d.getByLabel(/^Length/).fill('48');
  });
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toContainText(`New version ${versionsBefore + 2}`);
  await expect(page.getByTestId('version')).toHaveCount(versionsBefore + 2);
  const parameterNow = await storedValues('ssm', PARAMETER);
  expect(parameterNow.current).toMatch(/^[0-9a-f]{48}$/);

  // A JSON secret: without a key it is refused, naming the keys; with one, only that key changes.
  await page.goto(`/items/rw-secrets/${DB_CREDENTIALS_SECRET}`);
  dialog = await confirmWrite(page, 'Generate new value');
  await expect(dialog.getByRole('alert')).toContainText('holds JSON with the keys "username", "password", "host"');
  await dialog.getByLabel(/JSON key/).fill('password');
  await confirm(page, dialog, 'Generate new value');
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toBeVisible();
  const jsonNow = JSON.parse((await storedValues('secretsmanager', DB_CREDENTIALS_SECRET)).current!);
  expect(jsonNow).toMatchObject({ username: 'payments_app', host: 'db.internal' });
  expect(jsonNow.password).not.toBe(VALUE_SENTINEL);

  // A secret with a rotation function: RotateSecret, followed from AWSPENDING to AWSCURRENT.
  await page.goto(`/items/rw-secrets/${ROTATABLE_SECRET}`);
  await confirmWrite(page, 'Rotate now');
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toContainText('(pending)');
  await expect(page.locator('[data-rotation-state]')).toHaveAttribute('data-rotation-state', 'current', { timeout: 20_000 });
  await expect(page.getByTestId('version').first()).toContainText('AWSCURRENT');

  // A store without `writable: true` (the same data, read-only) offers no writes.
  await page.goto(`/items/prod-params${PARAMETER}`);
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(PARAMETER);
  await expect(page.getByRole('button', { name: 'Rotate now…' })).toHaveCount(0);

  // Browse, search and the audit log, which now name the writes.
  await page.goto('/browse/rw-params/prod/payments/db');
  await page.goto('/audit');
  await expect(page.getByText('e2e: rotate now', { exact: false }).first()).toBeVisible();

  const after = {
    parameter: await storedValues('ssm', PARAMETER),
    json: await storedValues('secretsmanager', DB_CREDENTIALS_SECRET),
    rotated: await storedValues('secretsmanager', ROTATABLE_SECRET),
  };
  const secrets = [...new Set([...Object.values(before), ...Object.values(after)].flatMap(searchableValues))];
  expect(secrets.length).toBeGreaterThan(6);
  // The actions answered with versions (so a value in them would have been seen), and never with a value.
  expect(actionAnswers).toHaveLength(5);
  expect(actionAnswers.some((body) => body.includes(`"version":"${versionsBefore + 2}"`))).toBe(true);
  expect(actionAnswers.filter((body) => secrets.some((value) => body.includes(value)))).toEqual([]);
  expect(await recorder.findLeaks(secrets, { withinMs: 10_000 })).toEqual([]);
});
