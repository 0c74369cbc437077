import path from 'node:path';
import Database from 'better-sqlite3';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});
// Pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import ItemPage from '@/app/(dashboard)/items/[store]/[...name]/page';
import { principalForUser } from '@/lib/session';
import { getVersionDiff } from '@/lib/data/version-diff';
import { DB_FILE } from '@/lib/stores/embedded/open';
import { SENTINEL } from '../contract/fixture';
import { sessionJar } from '../support/next-headers-mock';
import { INSIDE, OUTSIDE, startHarness, type Harness, type Subject } from './harness';

// "What changed" between two versions of a built-in item, through its data access function and its
// page rendered on the server: the same authorization as the item page (a caller who may not view
// the item gets its 404, with no hint it exists), whether the value changed from keyed
// fingerprints, and neither a value nor a fingerprint in what reaches the page.

/** Outside /prod/payments/** and with two versions. */
const OUTSIDE_NAME = '/dev/app/feature-flags';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h.cleanup());
beforeEach(() => {
  sessionJar.cookie = null;
});

const principal = async (subject: Subject) => (await principalForUser(h.userIds[subject], 'session'))!;
const isNotFound = (error: unknown) => String((error as { digest?: string }).digest ?? '').includes('404');
const renderItem = async (subject: Subject, name: string, query: Record<string, string>) => {
  sessionJar.cookie = h.cookies[subject];
  return renderToStaticMarkup(await ItemPage({ params: Promise.resolve({ store: 'local', name: name.split('/').slice(1) }), searchParams: Promise.resolve(query) }));
};

describe.each([
  // The viewer, scoped admin and auditor are held to /prod/payments/**; the admin has every path.
  ['viewer', INSIDE.name, true],
  ['auditor', INSIDE.name, true],
  ['scoped-admin', INSIDE.name, true],
  ['admin', OUTSIDE_NAME, true],
  ['viewer', OUTSIDE_NAME, false],
  ['scoped-admin', OUTSIDE_NAME, false],
] as const)('%s comparing versions of %s', (subject, name, allowed) => {
  it(allowed ? 'gets the comparison' : 'gets nothing, as for an item that does not exist', async () => {
    const result = await getVersionDiff(await principal(subject), 'local', name, { from: '1', to: '2' });
    if (allowed) expect(result).toMatchObject({ kind: 'diff', diff: { from: { id: '1' }, to: { id: '2' }, value: 'changed' } });
    else expect(result).toBeNull();
  });

  it(allowed ? 'sees it on the item page' : 'gets the 404 page', async () => {
    const page = renderItem(subject, name, { from: '1', to: '2' });
    if (allowed) {
      const html = await page;
      expect(html).toContain('data-testid="version-diff"');
      expect(html).toContain('Value changed');
    } else {
      await expect(page).rejects.toSatisfy(isNotFound);
    }
  });
});

describe('the comparison on the built-in store', () => {
  const NAME = INSIDE.written;

  it('says whether the value changed, and names description and tag changes, with no value or fingerprint in it', async () => {
    const before = (await h.store.getItem(NAME))!;
    const current = `${SENTINEL}-dbhost-moved`;
    await h.store.putValue({ name: NAME, value: current, kind: before.kind, actor: 'test' });
    // Same value, new description and tags: a metadata-only version.
    await h.store.putValue({ name: NAME, value: current, kind: before.kind, description: 'Primary host (moved)', tags: { ...before.tags, owner: 'dba' }, actor: 'test' });
    const after = (await h.store.getItem(NAME))!;
    const [newest, previous] = [after.versions[0]!.id, after.versions[1]!.id];

    const admin = await principal('admin');
    const same = await getVersionDiff(admin, 'local', NAME, { from: previous, to: newest });
    expect(same?.kind).toBe('diff');
    const diff = same!.kind === 'diff' ? same!.diff : null;
    expect(diff!.value).toBe('unchanged');
    expect(diff!.changes).toEqual(
      expect.arrayContaining([
        { field: 'Description', before: before.description, after: 'Primary host (moved)', format: 'text' },
        { field: 'Tag owner', before: null, after: 'dba', format: 'text' },
      ]),
    );
    expect(diff!.notRecorded).toEqual([]);

    const older = await getVersionDiff(admin, 'local', NAME, { from: '1', to: newest });
    expect(older?.kind === 'diff' && older.diff.value).toBe('changed');

    // Nothing of a value or a fingerprint in what the page gets, nor in its HTML.
    const html = await renderItem('admin', NAME, { from: previous, to: newest });
    expect(html).toContain('Value unchanged');
    expect(html).toContain('Primary host (moved)');
    for (const text of [JSON.stringify([same, older]), html]) {
      expect(text).not.toContain(SENTINEL);
      expect(text).not.toContain(current);
      expect(text).not.toMatch(/[0-9a-f]{64}/);
    }
  });

  it('a version that does not exist: named in the result, and the page is a 404', async () => {
    const admin = await principal('admin');
    expect(await getVersionDiff(admin, 'local', INSIDE.name, { from: '1', to: '99' })).toEqual({ kind: 'no-such-version', missing: ['99'] });
    expect(await getVersionDiff(admin, 'local', INSIDE.name, { from: 'abc', to: '2' })).toEqual({ kind: 'no-such-version', missing: ['abc'] });
    await expect(renderItem('admin', INSIDE.name, { from: '1', to: '99' })).rejects.toSatisfy(isNotFound);
    // The same 404 for an item the caller may not see, whichever versions it has.
    await expect(renderItem('viewer', OUTSIDE.name, { from: '1', to: '99' })).rejects.toSatisfy(isNotFound);
    await expect(renderItem('viewer', OUTSIDE_NAME, { from: '1', to: '2' })).rejects.toSatisfy(isNotFound);
  });

  it('a malformed or same-version pair reaching the page (past the proxy) shows the message, not a 500', async () => {
    const html = await renderItem('admin', INSIDE.name, { from: '2', to: '2' });
    expect(html).toContain('Pick two different versions: version 2 compared with itself shows nothing.');
    expect(html).not.toContain('data-testid="version-diff"');
  });

  it('versions written before metadata was recorded are not compared, and the page says so', async () => {
    const db = new Database(path.join(process.env.DATA_DIR!, DB_FILE));
    try {
      db.prepare('UPDATE versions SET metadata = NULL WHERE version = 1 AND item_id = (SELECT id FROM items WHERE name = ?)').run(INSIDE.name);
    } finally {
      db.close();
    }
    const result = await getVersionDiff(await principal('admin'), 'local', INSIDE.name, { from: '1', to: '2' });
    expect(result?.kind === 'diff' && result.diff.notRecorded).toEqual(['Type', 'Description', 'Tags', 'KMS key']);
    const html = await renderItem('admin', INSIDE.name, { from: '1', to: '2' });
    expect(html).toContain('written before the dashboard recorded metadata with each version');
    // The value is still compared: the fingerprints need no recorded metadata.
    expect(html).toContain('Value changed');
  });
});
