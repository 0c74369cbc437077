import { FAILING_ROTATION_SECRET } from './support/aws-fixtures';
import { recordResponses } from './support/leak-recorder';
import { searchableValues, storedValues } from './support/simulated-aws-values';
import { expect, test } from './support/test';
import type { Page } from '@playwright/test';

// The 'reveal' project: a server with ALLOW_REVEAL=1 over the simulated AWS. Generate on its
// Parameter Store and Secrets Manager, then reveal: of every response of the session, only the
// reveal responses (POST, Cache-Control: no-store) may hold a value; the value hides itself after
// 30 seconds and can be copied.

const PARAMETER = '/prod/payments/db/allowed-cidrs';
const SECRET = FAILING_ROTATION_SECRET; // generate writes it with PutSecretValue; nothing else here touches it

async function generate(page: Page) {
  await page.getByRole('button', { name: 'Generate new value…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel('Kind').selectOption('base64url');
  await dialog.getByLabel(/^Length/).fill('40');
  await dialog.getByLabel(/^Reason/).fill('e2e: new value before reveal');
  await dialog.getByRole('button', { name: 'Confirm: generate new value' }).click();
  await expect(dialog).toBeHidden();
  await expect(page.getByRole('status').filter({ hasText: 'New version' })).toBeVisible();
}

async function reveal(page: Page, reason: string) {
  await page.getByRole('button', { name: 'Reveal value…' }).click();
  await page.getByLabel(/Why do you need to see it/).fill(reason);
  const answer = page.waitForResponse((r) => r.url().includes('/reveal/') && r.request().method() === 'POST');
  await page.getByRole('button', { name: 'Reveal', exact: true }).click();
  return answer;
}

test('generate, then reveal with a reason: only the reveal responses hold a value, and the value hides after 30 s', async ({ page, context }) => {
  test.setTimeout(120_000);
  await context.grantPermissions(['clipboard-read', 'clipboard-write']);
  // The page's clock is Playwright's (time flows as usual until moved on), so the 30 s it shows a value
  // are jumped over instead of waited for.
  await page.clock.install();
  const recorder = recordResponses(page);
  const before = [await storedValues('ssm', PARAMETER), await storedValues('secretsmanager', SECRET)];

  // Parameter Store: generate, then reveal the new value.
  await page.goto(`/items/rw-params${PARAMETER}`);
  await generate(page);
  const parameterNow = (await storedValues('ssm', PARAMETER)).current!;
  expect(parameterNow).toMatch(/^[A-Za-z0-9_-]{40}$/);

  // No reason, no reveal: the server names the problem and reads nothing.
  const refused = await page.request.post(`/api/v1/stores/rw-params/reveal${PARAMETER}`, { data: {} });
  expect(refused.status()).toBe(400);
  expect(await refused.text()).toContain('Give a reason');

  const answer = await reveal(page, 'e2e: checking the deployed value');
  expect(answer.status()).toBe(200);
  expect(answer.headers()['cache-control']).toContain('no-store');
  const shown = page.getByLabel(new RegExp(`^Value of ${PARAMETER}`));
  await expect(shown).toContainText(parameterNow);
  await page.getByRole('button', { name: 'Copy' }).click();
  await expect(page.getByText('Copied', { exact: true })).toBeVisible();
  expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(parameterNow);
  // It hides itself after 30 seconds: still there 20 s on (the countdown ticks every 250 ms), then gone
  // from the page, not just from sight.
  await page.clock.fastForward(20_000);
  await page.waitForTimeout(500);
  await expect(shown).toContainText(parameterNow);
  await page.clock.fastForward(11_000);
  await expect(shown).toHaveCount(0, { timeout: 5_000 });
  expect(await page.content()).not.toContain(parameterNow);

  // Secrets Manager: generate, then reveal.
  await page.goto(`/items/rw-secrets/${SECRET}`);
  await generate(page);
  const secretNow = (await storedValues('secretsmanager', SECRET)).current!;
  expect((await reveal(page, 'e2e: checking the secret')).status()).toBe(200);
  await expect(page.getByLabel(new RegExp(`^Value of /${SECRET}`))).toContainText(secretNow);

  // Every response of the session: the values (old and new) appear only in reveal answers.
  const after = [await storedValues('ssm', PARAMETER), await storedValues('secretsmanager', SECRET)];
  const secrets = [...new Set([...before, ...after].flatMap(searchableValues))];
  const leaks = await recorder.findLeaks(secrets, { withinMs: 10_000 });
  expect(leaks.length).toBeGreaterThanOrEqual(2);
  expect(leaks.filter((l) => !/\/api\/v1\/stores\/[^/]+\/reveal\//.test(l.url))).toEqual([]);
  expect(leaks.map((l) => l.value)).toEqual(expect.arrayContaining([parameterNow, secretNow]));
});
