import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { REGION, SCOPED_AUDITOR } from './support/aws-stores';
import { recordResponses } from './support/leak-recorder';
import { signInState } from './support/sign-in';
import { expect, test } from './support/test';

// The audit timeline as a scoped auditor sees it (the 'aws' project: AWS stores and a CONFIG_FILE
// whose grant holds SCOPED_AUDITOR to /prod/payments/**). CloudTrail events and own-log entries
// are seeded into the server's DATA_DIR through the app's APIs; sentinel names outside the grant,
// and an event that maps to no item, must appear in no response the auditor's session receives,
// while an admin sees them (so the check can fail).

const DATA_DIR = path.join(process.env.E2E_AWS_DIR!, 'data');
const INSIDE = '/prod/payments/stripe/api-key';
const SENTINEL_ITEM = '/prod/web/sentinel-outside-4f1c9a';
const SENTINEL_ACTOR = 'arn:aws:iam::111122223333:role/unmapped-sentinel-8d2e';
const READER = 'arn:aws:iam::111122223333:role/payments-reader';
const ACCOUNT = '111122223333';

function record(id: string, minutesAgo: number, fields: Record<string, unknown>) {
  return {
    eventVersion: '1.08',
    eventID: `e2e-audit-${id}`,
    eventTime: new Date(Date.now() - minutesAgo * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    eventSource: 'ssm.amazonaws.com',
    awsRegion: REGION,
    recipientAccountId: ACCOUNT,
    sourceIPAddress: '203.0.113.7',
    userAgent: 'aws-cli/2.15',
    readOnly: true,
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/payments-reader/s1`, sessionContext: { sessionIssuer: { type: 'Role', arn: READER } } },
    ...fields,
  };
}

const records = [
  // Inside the grant: 60 reads, so the timeline has more than one page (50 a page).
  ...Array.from({ length: 60 }, (_, i) => record(`in-${i}`, 10 + i, { eventName: 'GetParameter', requestParameters: { name: INSIDE, withDecryption: true } })),
  record('in-write', 5, { eventName: 'PutParameter', readOnly: false, requestParameters: { name: INSIDE, overwrite: true } }),
  // Outside it: an item of another folder, and an event that maps to no item.
  record('out', 3, { eventName: 'GetParameter', requestParameters: { name: SENTINEL_ITEM } }),
  record('unmapped', 2, {
    eventName: 'DescribeParameters',
    userIdentity: { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/unmapped-sentinel-8d2e/s2`, sessionContext: { sessionIssuer: { type: 'Role', arn: SENTINEL_ACTOR } } },
    requestParameters: {},
  }),
];
const own = [
  { actor: 'admin@example.com', action: 'reveal', target: `prod-params:${SENTINEL_ITEM}`, outcome: 'success' },
  { actor: 'admin@example.com', action: 'reveal', target: `prod-params:${INSIDE}`, outcome: 'success' },
];

test.describe.configure({ mode: 'serial' });

test.beforeAll(() => {
  const input = { auditor: SCOPED_AUDITOR, records, own, stores: [{ storeId: 'prod-params', kind: 'ssm', region: REGION, account: null }] };
  execFileSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'e2e/support/seed-audit-main.ts', DATA_DIR, JSON.stringify(input)], { stdio: 'inherit' });
});

test('an admin sees the sentinel events (the leak check below can fail)', async ({ page }) => {
  await page.goto(`/audit?path=${encodeURIComponent('/prod/web/')}`);
  await expect(page.getByTestId('audit-row').filter({ hasText: SENTINEL_ITEM }).first()).toBeVisible();
  const api = await page.request.get(`/api/v1/audit?actor=${encodeURIComponent('unmapped-sentinel')}`);
  expect(api.status()).toBe(200);
  expect(await api.text()).toContain('unmapped-sentinel-8d2e');
});

test.describe('a scoped auditor', () => {
  test.use({ storageState: async ({ baseURL }, use) => use(await signInState(baseURL!, SCOPED_AUDITOR.email, SCOPED_AUDITOR.password)) });

  test('sees their items in pages, filters, the API, exports and the Access panel, and nothing outside their grant', async ({ page }) => {
    const recorder = recordResponses(page);
    const bodies: string[] = [];

    await page.goto('/audit');
    await expect(page.getByTestId('audit-row').first()).toContainText(INSIDE);
    await expect(page.getByTestId('activity-chart')).toBeVisible();
    // Keyset pages: 61 CloudTrail events and a reveal inside the grant, 50 a page.
    await page.getByTestId('audit-older').click();
    await expect(page).toHaveURL(/cursor=/);
    await expect(page.getByTestId('audit-row').first()).toBeVisible();

    // Filters from the form land in the URL, and the page shows them back.
    await page.goto('/audit');
    const form = page.getByTestId('audit-filters');
    await form.locator('input[name="item"]').fill(INSIDE);
    await form.locator('select[name="access"]').selectOption('write');
    await form.locator('input[name="item"]').press('Enter');
    await expect(page).toHaveURL(/item=%2Fprod%2Fpayments%2Fstripe%2Fapi-key/);
    await expect(page).toHaveURL(/access=write/);
    await expect(form.locator('input[name="item"]')).toHaveValue(INSIDE);
    await expect(page.getByTestId('audit-row')).toHaveCount(1);
    await expect(page.getByTestId('audit-row')).toContainText('PutParameter');

    // Asking for the sentinel by name finds nothing (through the API: the page would echo the
    // name typed into its own filter form); a bad filter is named on the page.
    const byName = await page.request.get(`/api/v1/audit?item=${encodeURIComponent(SENTINEL_ITEM)}`);
    expect(byName.status()).toBe(200);
    expect(((await byName.json()) as { entries: unknown[] }).entries).toEqual([]);
    await page.goto('/audit?from=2026-02-30&colour=red');
    await expect(page.getByTestId('audit-filter-error')).toContainText('from');
    await expect(page.getByTestId('audit-filter-error')).toContainText('colour');

    // The export downloads exactly the filtered set (the reads of the item: 60).
    await page.goto(`/audit?item=${encodeURIComponent(INSIDE)}&access=read&event=GetParameter`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-csv').click()]);
    const csv = readFileSync((await download.path())!, 'utf8');
    bodies.push(csv);
    const lines = csv.trim().split('\n');
    expect(lines.length - 1).toBe(60);
    expect(csv).toContain(INSIDE);

    // The API answers the same way, and a bad filter is a 400 naming the field.
    for (const url of ['/api/v1/audit', '/api/v1/audit?limit=500', `/api/v1/audit/export?format=json`, `/api/v1/audit?actor=${encodeURIComponent('sentinel')}`]) {
      const res = await page.request.get(url);
      expect(res.status(), url).toBe(200);
      bodies.push(await res.text());
    }
    const bad = await page.request.get('/api/v1/audit?to=2026-13-01');
    expect(bad.status()).toBe(400);
    expect(await bad.text()).toContain('to');

    // The item page's Access panel: the reader, counted.
    await page.goto(`/items/prod-params${INSIDE}`);
    const panel = page.getByTestId('access-panel');
    await expect(panel).toBeVisible();
    await expect(panel.getByTestId('access-reader').first()).toContainText('payments-reader');

    const leaks = await recorder.findLeaks([SENTINEL_ITEM, 'sentinel-outside-4f1c9a', 'unmapped-sentinel-8d2e'], { withinMs: 10_000 });
    expect(leaks).toEqual([]);
    for (const body of bodies) {
      expect(body).not.toContain('sentinel-outside-4f1c9a');
      expect(body).not.toContain('unmapped-sentinel-8d2e');
    }
  });

  test('at 390 px the audit page does not scroll sideways', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto('/audit');
    await expect(page.getByTestId('audit-row').first()).toBeVisible();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
  });
});
