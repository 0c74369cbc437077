import { recordResponses } from './support/leak-recorder';
import { signInThroughIdp } from './support/oidc-sign-in';
import { expect, test } from './support/test';

// The audit timeline in the browser: an auditor held to /prod/payments/** filters it by URL, exports
// it, and receives nothing of what happened outside their paths, in any response.
test.use({ storageState: { cookies: [], origins: [] } });

test('a payments auditor sees only their paths on the audit timeline, filters it by URL and exports it', async ({ browser, page }) => {
  test.setTimeout(120_000);
  // Something to hide: a lead is denied an item outside /prod/payments (audited as a denial).
  const lead = await browser.newPage({ storageState: { cookies: [], origins: [] } });
  await signInThroughIdp(lead, 'lead@example.com');
  expect((await lead.goto('/items/local/staging/api/audit-sentinel'))?.status()).toBe(404);
  // And something inside their paths: a rotation by the lead.
  expect((await lead.goto('/items/local/prod/payments/stripe/webhook-secret'))?.status()).toBe(200);
  const versions = await lead.getByTestId('version').count();
  await lead.getByRole('button', { name: 'Rotate now…' }).click();
  await lead.getByRole('dialog').getByLabel(/^Reason/).fill('e2e: lead rotates inside their paths');
  await lead.getByRole('dialog').getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(lead.getByTestId('version')).toHaveCount(versions + 1);
  await lead.close();

  await signInThroughIdp(page, 'payments-auditor@example.com');
  const recorder = recordResponses(page);
  await page.goto('/audit');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText('Audit');
  await expect(page.getByTestId('audit-row').first()).toBeVisible();
  await expect(page.getByTestId('activity-chart').or(page.getByText('No activity in this view.'))).toBeVisible();

  // Filters live in the URL and survive a reload.
  await page.getByLabel('Actor').fill('lead@example.com');
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await expect(page).toHaveURL(/actor=lead%40example.com/);
  await page.reload();
  await expect(page.getByLabel('Actor')).toHaveValue('lead@example.com');
  const rows = page.getByTestId('audit-row');
  await expect(rows.first()).toBeVisible();
  for (const text of await rows.allTextContents()) expect(text).toContain('lead@example.com');

  // A bad filter names its field.
  await page.goto('/audit?from=2026-02-30');
  await expect(page.getByTestId('audit-filter-error')).toContainText('from: 2026-02-30 is not a real date');

  // The export downloads exactly what the filters select.
  await page.goto('/audit?actor=lead%40example.com');
  const download = page.waitForEvent('download');
  await page.getByTestId('export-csv').click();
  const file = await (await download).path();
  const csv = (await import('node:fs')).readFileSync(file, 'utf8');
  expect(csv.split('\r\n')[0]).toContain('time,source,action');
  expect(csv).not.toContain('/staging/');

  const responses = await recorder.settle({ withinMs: 5_000 });
  expect(responses.length).toBeGreaterThan(3);
  const leaks = responses.filter((r) => r.body.includes('audit-sentinel') || r.body.includes('local:/staging')).map((r) => r.url);
  expect(leaks).toEqual([]);
  // What is inside their paths does reach them.
  expect(responses.some((r) => r.body.includes('/prod/payments/'))).toBe(true);
});
