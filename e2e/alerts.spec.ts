import type { Page } from '@playwright/test';
import { ALERTS_HOOK_PATH, ALERTS_HOOK_SECRET, ALERTS_HOOK_URL, ALERTS_RECEIVER_URL, ALERTS_RULE, DEAD_ITEM, DELIVERED_ITEM, SILENCED_ITEM, type ReceivedAlert } from './support/alerts-e2e';
import { DEMO_VALUES } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';
import { expect, test } from './support/test';

// /alerts on a server whose CONFIG_FILE routes three stale demo items (overdue, never rotated,
// rotation failing) to a signed webhook on loopback (e2e/support/alerts-receiver-main.ts). The
// server's own conditions raise the alerts and its worker sends them: the receiver takes one
// (delivered) and refuses another with 404 (dead at once, with the cause on the page). An admin
// silences the third from the page, and the next evaluation shows it silenced. Send test goes out
// through the same channel. Every entry links to its item; no value, channel URL or secret
// reaches the browser.

const received = async (page: Page): Promise<ReceivedAlert[]> => (await (await page.request.get(`${ALERTS_RECEIVER_URL}/__received`)).json()) as ReceivedAlert[];
const rows = (page: Page, testId: string, item: string) => page.locator(`[data-testid="${testId}"][data-item="${item}"]`);

/** Reloads until `check` passes (the worker sends every 5 s, the conditions are evaluated every 5 s). */
async function untilShown(page: Page, check: () => Promise<void>): Promise<void> {
  await expect(async () => {
    await page.reload();
    await check();
  }).toPass({ timeout: 20_000, intervals: [1000] });
}

test('shows a delivered, a dead (with its cause) and a silenced alert, and sends a test', async ({ page }) => {
  const recorder = recordResponses(page);
  await page.goto('/alerts');
  await expect(page.locator(`[data-testid="alert-rule-row"][data-rule="${ALERTS_RULE}"]`)).toContainText('e2e-hook · webhook');

  // Raised by the server's conditions and sent by its worker: one taken, one refused.
  await untilShown(page, async () => {
    await expect(rows(page, 'alert-delivery-row', DELIVERED_ITEM).first()).toHaveAttribute('data-status', 'delivered', { timeout: 500 });
    await expect(rows(page, 'alert-delivery-row', DEAD_ITEM).first()).toHaveAttribute('data-status', 'dead', { timeout: 500 });
  });
  const dead = rows(page, 'alert-delivery-row', DEAD_ITEM).first();
  await expect(dead.getByTestId('alert-delivery-status')).toHaveText('Dead');
  await expect(dead.getByTestId('alert-delivery-cause')).toContainText('The webhook answered 404');
  await expect(rows(page, 'alert-delivery-row', DELIVERED_ITEM).first().getByTestId('alert-delivery-status')).toHaveText('Delivered');
  await expect(rows(page, 'alert-row', DELIVERED_ITEM).first()).toHaveAttribute('data-silenced', 'false');

  // An admin silences the third item from the page; the next evaluation marks its alert silenced.
  await page.getByText('Silence a rule or an item').click();
  await page.getByTestId('alert-silence-rule').selectOption(ALERTS_RULE);
  await page.getByTestId('alert-silence-store').selectOption('local');
  await page.getByTestId('alert-silence-item').fill(SILENCED_ITEM);
  await page.getByLabel('Reason (required)').fill('E2E: rotation booked with the notifications team');
  await page.getByRole('button', { name: 'Silence', exact: true }).click();
  await expect(rows(page, 'alert-silence-row', SILENCED_ITEM)).toHaveAttribute('data-state', 'active');
  await untilShown(page, async () => {
    await expect(rows(page, 'alert-row', SILENCED_ITEM).first()).toHaveAttribute('data-silenced', 'true', { timeout: 500 });
  });
  await expect(rows(page, 'alert-row', SILENCED_ITEM).first()).toContainText('Silenced');
  await expect(rows(page, 'alert-row', DELIVERED_ITEM).first()).toHaveAttribute('data-silenced', 'false');

  // What the receiver got: signed triggers at the configured path; the refused one once (a 404 is not retried).
  const triggers = (await received(page)).filter((r) => r.body.action === 'trigger');
  expect(triggers.length).toBeGreaterThanOrEqual(3);
  expect(triggers.every((r) => r.signed && r.path === ALERTS_HOOK_PATH)).toBe(true);
  const refused = triggers.filter((r) => r.status === 404);
  expect(refused.length).toBeGreaterThan(0);
  expect(new Set(refused.map((r) => `${r.body.event}`)).size).toBe(refused.length);

  // Send test: queued, then delivered through the same channel.
  await page.locator('[data-testid="alert-channel"][data-channel="e2e-hook"]').getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByTestId('alert-test-queued')).toBeVisible();
  await untilShown(page, async () => {
    await expect(page.locator('[data-testid="alert-delivery-row"][data-action="test"]').first()).toHaveAttribute('data-status', 'delivered', { timeout: 500 });
  });
  expect((await received(page)).some((r) => r.body.action === 'test' && r.signed)).toBe(true);

  // Nothing secret reached the browser: no demo value, no channel URL (its token) or secret, no variable name.
  const leaks = await recorder.findLeaks([...DEMO_VALUES.filter((v) => v.length >= 8), ALERTS_HOOK_URL, 'e2e-hook-url-token-7q2', ALERTS_HOOK_SECRET, 'E2E_ALERTS_HOOK'], { withinMs: 10_000 });
  expect(leaks).toEqual([]);

  // Each entry links to its alert's item.
  await rows(page, 'alert-delivery-row', DEAD_ITEM).first().getByTestId('alert-delivery-item').click();
  await expect(page).toHaveURL(new RegExp(`/items/local${DEAD_ITEM}$`));
});
