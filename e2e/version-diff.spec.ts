import AxeBuilder from '@axe-core/playwright';
import { DEMO_METADATA_HISTORY } from '../lib/demo/demo-data';
import { inlineProblems, nextRuntimeStarted, scriptNonce, watchCsp } from './support/csp-watch';
import { DEMO_ITEMS, DEMO_VALUES } from './support/demo-values';
import { recordResponses } from './support/leak-recorder';
import { expect, test } from './support/test';

// "What changed" between two versions on the built-in store: the demo item whose description and
// tags changed in its third version (keeping the second's value), a version written here through
// the rotate dialog, and the addresses a comparison refuses. No value reaches the browser.

const ITEM = DEMO_METADATA_HISTORY.name;
const ITEM_URL = `/items/local${ITEM}`;
const current = DEMO_ITEMS.find((i) => i.name === ITEM)!;

test('compares versions: value changed or unchanged, description and tag changes, never a value; the CSP holds', async ({ page }) => {
  const recorder = recordResponses(page);
  const watch = await watchCsp(page);
  await page.goto(ITEM_URL);
  await nextRuntimeStarted(page);

  // The form picks the pair; the comparison has its own address.
  const form = page.getByTestId('version-compare-form');
  await form.getByLabel('From (before)').selectOption('2');
  await form.getByLabel('To (after)').selectOption('3');
  await form.getByRole('button', { name: 'Compare' }).click();
  await expect(page).toHaveURL(/\?from=2&to=3$/);
  const diff = page.getByTestId('version-diff');
  await expect(diff.getByRole('heading')).toHaveText('What changed from v2 to v3');
  await expect(diff.getByTestId('value-verdict')).toHaveText('Value unchanged');
  const row = (field: string) => diff.getByTestId('version-change').filter({ has: page.getByRole('rowheader', { name: field, exact: true }) });
  await expect(row('Description')).toContainText(DEMO_METADATA_HISTORY.olderDescription);
  await expect(row('Description')).toContainText(current.description!);
  await expect(row(`Tag ${DEMO_METADATA_HISTORY.droppedTag.key}`)).toContainText(DEMO_METADATA_HISTORY.droppedTag.value);
  await expect(row(`Tag ${DEMO_METADATA_HISTORY.droppedTag.key}`)).toContainText('(none)');
  await expect(diff.getByTestId('version-unchanged')).toContainText('Type');
  // The form and the comparison pass axe-core's WCAG 2.1 A/AA rules.
  const axe = await new AxeBuilder({ page }).include('#compare').withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']).analyze();
  expect(axe.violations.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);

  // Each version links to what changed since the one before it: v2 changed only the value.
  await page.getByRole('link', { name: 'What changed in v2 since v1' }).click();
  await expect(page).toHaveURL(/\?from=1&to=2#compare$/);
  await expect(diff.getByTestId('value-verdict')).toHaveText('Value changed');
  await expect(diff.getByTestId('version-change').filter({ has: page.getByRole('rowheader', { name: 'Description', exact: true }) })).toHaveCount(0);

  // A version written now, through the rotate dialog: its value changed, and its label.
  await page.getByRole('button', { name: 'Rotate now…' }).click();
  const dialog = page.getByRole('dialog');
  await dialog.getByLabel(/^Reason/).fill('e2e: what changed');
  await dialog.getByRole('button', { name: 'Confirm: rotate now' }).click();
  await expect(dialog).toBeHidden();
  const newest = page.getByTestId('version').first();
  await expect(newest).toContainText('rotated');
  await newest.getByRole('link', { name: /^What changed in v\d+ since v\d+$/ }).click();
  await expect(diff.getByTestId('value-verdict')).toHaveText('Value changed');
  await expect(row('Labels')).toContainText('rotated');
  await expect(row('Written by')).toContainText('admin@example.com');
  await expect(diff.getByTestId('version-not-recorded')).toHaveCount(0);

  expect(await recorder.findLeaks(DEMO_VALUES, { withinMs: 5_000 })).toEqual([]);
  // Neither the rotated value (32 characters) nor a fingerprint (64 hex digits) is on the page.
  expect(await page.content()).not.toMatch(/[0-9a-f]{64}/);
  for (const doc of await watch.documents()) expect(inlineProblems(doc.html, scriptNonce(doc.policy)), doc.url).toEqual([]);
  expect(watch.violations).toEqual([]);
  expect(watch.consoleRefusals).toEqual([]);
});

test('a version with itself, a malformed or missing one: 400 or 404 with a clear message, never a 500', async ({ page }) => {
  const get = async (query: string) => {
    const response = await page.request.get(`${ITEM_URL}?${query}`);
    return { status: response.status(), text: (await response.text()).replaceAll('&quot;', '"').replaceAll('&#39;', "'") };
  };
  expect(await get('from=3&to=3')).toMatchObject({ status: 400, text: expect.stringContaining('Pick two different versions: version 3 compared with itself shows nothing.') });
  expect(await get('from=3')).toMatchObject({ status: 400, text: expect.stringContaining('Pick two versions to compare: give both from and to') });
  expect(await get('from=3%3B1&to=5')).toMatchObject({ status: 400, text: expect.stringContaining('from: "3;1" is not a version') });
  // Versions belong to the item in the path, so another item's version cannot even be named: a
  // version written as a name is malformed.
  expect(await get(`from=1&to=${encodeURIComponent('/prod/web/session-secret:2')}`)).toMatchObject({ status: 400, text: expect.stringContaining('is not a version') });
  const missing = await get('from=1&to=999');
  expect(missing.status).toBe(404);
  expect(missing.text).toContain('no version “999” to compare');

  // In the browser too: the 404 page says which, and the 400 page names the problem.
  await page.goto(`${ITEM_URL}?from=1&to=999`);
  await expect(page.getByText('no version “999” to compare')).toBeVisible();
  await page.goto(`${ITEM_URL}?from=2&to=2`);
  await expect(page.getByText('Pick two different versions')).toBeVisible();
});
