import type { APIRequestContext } from '@playwright/test';
import { KMS_DENIED_PARAMETER } from './support/aws-fixtures';
import { axeProblemsAt, THEMES, themedPage, WIDTHS } from './support/axe';
import { FAILING_STORES, HEALTHY_AWS_STORES } from './support/aws-stores';
import { expect, test } from './support/test';

// axe-core (WCAG 2.0 and 2.1 A and AA) on what only AWS stores show, in both themes at both widths:
// the overview and folders with AWS stores and a failing store's banner, Parameter Store and Secrets
// Manager item pages (ARN, policies, rotation, access panel), one whose history KMS refuses, and the
// audit page with its CloudTrail sources. The built-in store's pages: e2e/accessibility.spec.ts.

const PAGES = [
  '/',
  '/browse/prod-secrets/prod/payments',
  `/browse/${FAILING_STORES[0]!.id}`,
  '/items/prod-params/prod/payments/ami-id',
  '/items/prod-secrets/prod/payments/db-credentials',
  `/items/prod-params${KMS_DENIED_PARAMETER}`,
  '/audit',
];

/** Pages are read from the inventory: wait for the healthy AWS stores' first walk. */
async function healthyStoresSynced(request: APIRequestContext): Promise<void> {
  await expect(async () => {
    const response = await request.get('/api/v1/inventory');
    expect(response.ok()).toBe(true);
    const { stores } = (await response.json()) as { stores: { storeId: string; syncedAt: string | null }[] };
    for (const { id } of HEALTHY_AWS_STORES) expect(stores.find((s) => s.storeId === id)?.syncedAt, id).toBeTruthy();
  }).toPass({ timeout: 30_000 });
}

for (const theme of THEMES) {
  for (const width of WIDTHS) {
    test(`no WCAG 2.1 A/AA violation on the AWS stores' pages, ${theme} theme at ${width} px`, async ({ browser, baseURL, adminState }) => {
      test.setTimeout(90_000);
      const page = await themedPage(browser, baseURL!, theme, width, adminState);
      await healthyStoresSynced(page.request);
      const problems: string[] = [];
      for (const path of PAGES) problems.push(...(await axeProblemsAt(page, path)));
      await page.context().close();
      expect(problems, `axe-core found violations:\n${problems.join('\n')}`).toEqual([]);
    });
  }
}
