// The store contract, written once against the SecretStore interface. Each backend's test file
// calls describeStoreContract with a factory that returns a store holding FIXTURE.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StoreError } from '@/lib/stores/errors';
import { ITEM_KINDS, type ItemMetadata, type SecretStore } from '@/lib/stores/types';
import { BULK_COUNT, FIXTURE, SENTINEL } from './fixture';

export interface ContractOptions {
  /** Whether the backend reports the fixture's kind (Secrets Manager reports 'secret' for all). */
  preservesKind: boolean;
  /** Whether the backend knows who changed an item (Secrets Manager does not without CloudTrail). */
  reportsChangedBy: boolean;
  /** Whether the backend puts labels on versions (Vault KV has none; default true). */
  versionLabels?: boolean;
  teardown?: () => Promise<void> | void;
}

async function listAll(store: SecretStore, path: string, recursive: boolean, limit?: number) {
  const pages: ItemMetadata[][] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 100; guard++) {
    const page = await store.list({ path, recursive, cursor, limit });
    pages.push(page.items);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return { pages, items: pages.flat() };
}

const fixtureByName = new Map(FIXTURE.map((item) => [item.name, item]));

export function describeStoreContract(
  label: string,
  makeStore: () => Promise<SecretStore> | SecretStore,
  options: ContractOptions,
) {
  describe(`store contract: ${label}`, () => {
    let store: SecretStore;
    beforeAll(async () => {
      store = await makeStore();
    });
    afterAll(async () => {
      await options.teardown?.();
    });

    it('lists one level: only the items directly in the folder', async () => {
      const { items } = await listAll(store, '/prod/payments/', false);
      expect(items.map((i) => i.name)).toEqual(['/prod/payments/stripe-key']);
      const [item] = items;
      expect(item).toMatchObject({
        folder: '/prod/payments/',
        description: 'Stripe live secret key',
        currentVersion: expect.any(String),
      });
      expect(ITEM_KINDS).toContain(item!.kind);
      if (options.preservesKind) expect(item!.kind).toBe('SecureString');
      expect(Number.isNaN(Date.parse(item!.lastChangedAt))).toBe(false);
    });

    it('lists the root level', async () => {
      const { items } = await listAll(store, '/', false);
      expect(items.map((i) => i.name)).toEqual(['/motd']);
    });

    it('lists recursively: everything below the folder and nothing else', async () => {
      const { items } = await listAll(store, '/prod/', true);
      expect(items.map((i) => i.name).sort()).toEqual(
        ['/prod/payments/db/host', '/prod/payments/db/password', '/prod/payments/stripe-key', '/prod/web/allowed-origins'].sort(),
      );
    });

    it('does not treat a name prefix as a folder', async () => {
      // "/prod/pay/" must not match "/prod/payments/..."
      const { items } = await listAll(store, '/prod/pay/', true);
      expect(items).toEqual([]);
    });

    it('lists immediate sub-folders', async () => {
      expect(await store.listFolders('/')).toEqual(['/bulk/', '/dev/', '/prod/', '/staging/']);
      expect(await store.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
      expect(await store.listFolders('/prod/payments/')).toEqual(['/prod/payments/db/']);
      expect(await store.listFolders('/prod/payments/db/')).toEqual([]);
    });

    it('pages through a large folder with a cursor, each item once', async () => {
      const { pages, items } = await listAll(store, '/bulk/', false, 50);
      expect(pages.length).toBeGreaterThan(1);
      for (const page of pages) {
        expect(page.length).toBeLessThanOrEqual(50);
        const names = page.map((i) => i.name);
        expect(names).toEqual([...names].sort());
      }
      const names = items.map((i) => i.name);
      expect(new Set(names).size).toBe(BULK_COUNT);
      expect(names.every((n) => n.startsWith('/bulk/item-'))).toBe(true);
    });

    it('returns an empty list for a folder that does not exist', async () => {
      expect((await store.list({ path: '/nowhere/' })).items).toEqual([]);
      expect(await store.listFolders('/nowhere/')).toEqual([]);
    });

    it('gives item detail with every version, newest first, and no value', async () => {
      const detail = await store.getItem('/prod/payments/stripe-key');
      expect(detail).not.toBeNull();
      const fixture = fixtureByName.get('/prod/payments/stripe-key')!;
      expect(detail!.versions).toHaveLength(fixture.versions.length);
      const times = detail!.versions.map((v) => Date.parse(v.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
      expect(detail!.currentVersion).toBe(detail!.versions[0]!.id);
      expect(detail!.tags).toEqual(fixture.tags);
      expect(detail!.description).toBe(fixture.description);
      if (options.reportsChangedBy) expect(detail!.versions[0]!.createdBy).toBe(fixture.versions.at(-1)!.createdBy);
    });

    it.skipIf(options.versionLabels === false)('carries labels on the version they were put on', async () => {
      const detail = await store.getItem('/prod/payments/stripe-key');
      expect(detail!.versions[0]!.labels).toContain('live');
      expect(detail!.labels).toContain('live');
    });

    it('returns null for an item that does not exist', async () => {
      expect(await store.getItem('/prod/payments/missing')).toBeNull();
    });

    it('refuses a malformed name before any backend call, naming the rule', async () => {
      await expect(store.getItem('/prod/bad name!')).rejects.toBeInstanceOf(StoreError);
      await expect(store.getItem('/prod/bad name!')).rejects.toMatchObject({ code: 'invalid-name' });
      await expect(store.list({ path: 'no-slash/' })).rejects.toMatchObject({ code: 'invalid-name' });
    });

    it('never puts a value into metadata', async () => {
      const listed = await listAll(store, '/', true);
      const details = await Promise.all(FIXTURE.slice(0, 7).map((f) => store.getItem(f.name)));
      const everything = JSON.stringify([listed.items, details]);
      expect(listed.items.length).toBe(FIXTURE.length);
      expect(everything).not.toContain(SENTINEL);
    });
  });
}
