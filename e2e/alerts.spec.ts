import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { ALERTS_ENV, ALERTS_HOOK_SECRET, ALERTS_HOOK_URL, ALERTS_RECEIVER_PORT, ALERTS_RULE, DEAD_ITEM, DELIVERED_ITEM, SILENCED_ITEM } from './support/alerts-e2e';
import { DEMO_VALUES } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';
import { expect, test } from './support/test';

// /alerts on a server with a signed webhook channel to a receiver on loopback (this spec's): an
// admin silences one item from the page, three demo items then turn overdue (recorded through
// lib/alerts, as the overdue condition does), and the server's delivery worker sends two of them:
// the receiver takes one (delivered) and refuses the other with 404 (dead at once, with the cause).
// The page shows the delivered, the dead and the silenced alert, each linking to its item, and a
// Send test goes out through the same channel. No value, channel URL or secret reaches the browser.

const DATA_DIR = path.join(process.env.E2E_ALERTS_DIR ?? '', 'data');
const CONFIG_FILE = path.join(process.env.E2E_ALERTS_DIR ?? '', 'dashboard.yaml');

interface Received {
  path: string;
  /** Whether the signature header is HMAC-SHA-256 of "<t>.<raw body>" under the channel's secret (README, "Alert channels"). */
  signed: boolean;
  body: { action: string; subjects: { name: string }[] };
}

function signatureMatches(raw: string, header: string | undefined): boolean {
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header ?? '');
  return Boolean(match && createHmac('sha256', ALERTS_HOOK_SECRET).update(`${match[1]}.${raw}`).digest('hex') === match[2]);
}

const received: Received[] = [];
let receiver: Server;

test.describe.configure({ mode: 'serial' });

test.beforeAll(async () => {
  receiver = createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Received['body'];
      received.push({ path: req.url ?? '', signed: signatureMatches(raw, req.headers['x-secrets-dashboard-signature'] as string | undefined), body });
      const refused = body.subjects.some((s) => s.name === DEAD_ITEM);
      res.writeHead(refused ? 404 : 200, { 'content-type': 'text/plain' }).end(refused ? 'no such hook' : 'ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(ALERTS_RECEIVER_PORT, '127.0.0.1', resolve));
});

test.afterAll(async () => {
  receiver?.closeAllConnections();
  await new Promise<void>((resolve) => (receiver ? receiver.close(() => resolve()) : resolve()));
});

const row = (page: import('@playwright/test').Page, testId: string, item: string) => page.locator(`[data-testid="${testId}"][data-item="${item}"]`);

test('shows a delivered, a dead (with its cause) and a silenced alert, and sends a test', async ({ page, baseURL }) => {
  const recorder = recordResponses(page);
  await page.goto('/alerts');
  await expect(page.locator(`[data-testid="alert-rule-row"][data-rule="${ALERTS_RULE}"]`)).toContainText('e2e-hook · webhook');
  await expect(page.locator('[data-testid="alert-channel"][data-channel="e2e-hook"]')).toBeVisible();

  // Silence one item from the page, before its alert opens.
  await page.getByText('Silence a rule or an item').click();
  await page.getByTestId('alert-silence-store').selectOption('local');
  await page.getByTestId('alert-silence-item').fill(SILENCED_ITEM);
  await page.getByLabel('Reason (required)').fill('E2E: rotation booked with the notifications team');
  await page.getByRole('button', { name: 'Silence' }).click();
  await expect(row(page, 'alert-silence-row', SILENCED_ITEM)).toHaveAttribute('data-state', 'active');

  // The three items turn overdue; the server's worker (every 5 s) sends what is not silenced.
  execFileSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'e2e/support/seed-alerts-main.ts', baseURL!], {
    stdio: 'inherit',
    env: { ...process.env, DATA_DIR, CONFIG_FILE, LOG_LEVEL: 'warn', ...ALERTS_ENV },
  });
  await expect(async () => {
    await page.reload();
    await expect(row(page, 'alert-delivery-row', DELIVERED_ITEM)).toHaveAttribute('data-status', 'delivered', { timeout: 500 });
    await expect(row(page, 'alert-delivery-row', DEAD_ITEM)).toHaveAttribute('data-status', 'dead', { timeout: 500 });
  }).toPass({ timeout: 20_000, intervals: [1000] });

  const dead = row(page, 'alert-delivery-row', DEAD_ITEM);
  await expect(dead.getByTestId('alert-delivery-cause')).toContainText('The webhook answered 404');
  await expect(dead.getByTestId('alert-delivery-status')).toHaveText('Dead');
  await expect(row(page, 'alert-delivery-row', DELIVERED_ITEM).getByTestId('alert-delivery-status')).toHaveText('Delivered');
  await expect(row(page, 'alert-row', SILENCED_ITEM)).toHaveAttribute('data-silenced', 'true');
  await expect(row(page, 'alert-row', SILENCED_ITEM)).toContainText('Silenced');
  await expect(row(page, 'alert-row', DELIVERED_ITEM)).toHaveAttribute('data-silenced', 'false');
  await expect(row(page, 'alert-delivery-row', SILENCED_ITEM)).toHaveCount(0);

  // What the receiver got: one signed trigger each for the two, nothing for the silenced one; a 404 is not retried.
  const triggers = received.filter((r) => r.body.action === 'trigger');
  expect(triggers.map((r) => r.body.subjects[0]!.name).sort()).toEqual([DEAD_ITEM, DELIVERED_ITEM].sort());
  expect(triggers.every((r) => r.path === new URL(ALERTS_HOOK_URL).pathname && r.signed)).toBe(true);

  // Send test: queued, then delivered through the same channel.
  await page.locator('[data-testid="alert-channel"][data-channel="e2e-hook"]').getByRole('button', { name: 'Send test' }).click();
  await expect(page.getByTestId('alert-test-queued')).toBeVisible();
  await expect(async () => {
    await page.reload();
    await expect(page.locator('[data-testid="alert-delivery-row"][data-action="test"]').first()).toHaveAttribute('data-status', 'delivered', { timeout: 500 });
  }).toPass({ timeout: 20_000, intervals: [1000] });
  expect(received.some((r) => r.body.action === 'test')).toBe(true);

  // Nothing secret reached the browser: no demo value, no channel URL (its token) or secret.
  const leaks = await recorder.findLeaks([...DEMO_VALUES.filter((v) => v.length >= 8), ALERTS_HOOK_URL, 'e2e-hook-url-token-7q2', ALERTS_HOOK_SECRET, 'E2E_ALERTS_HOOK'], { withinMs: 10_000 });
  expect(leaks).toEqual([]);

  // Each entry links to its alert's item.
  await row(page, 'alert-delivery-row', DEAD_ITEM).getByTestId('alert-delivery-item').click();
  await expect(page).toHaveURL(new RegExp(`/items/local${DEAD_ITEM}$`));
});
