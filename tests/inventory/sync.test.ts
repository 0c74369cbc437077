import { describe, expect, it, vi } from 'vitest';
import { DATABASES } from '../support/databases';
import { PARAMS, useParameterSyncFixture, walk } from './support/parameter-sync-fixture';

// The background sync against a simulated AWS that speaks the real wire protocol to the real SDK,
// with latency and AWS's quotas (throttling answered as AWS does), into an inventory on SQLite and
// on PostgreSQL. What counts calls a second is in sync-rates.test.ts, which runs alone.

const fixture = useParameterSyncFixture();
const sim = fixture.sim;

describe.each(DATABASES)('the inventory sync (%s)', (kind) => {
  const { setup } = fixture.onDatabase(kind);

  describe('a re-walk', () => {
    it('notices deletions and additions, and readers see the old inventory until the swap', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      await walk(sync, 'params');
      const gone = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 3, namePattern: null })).items.map((i) => i.name);
      sim().control({ deleteParameters: gone, addParameters: [{ Name: '/scale/new/one' }, { Name: '/scale/new/two', Description: 'brand new token' }], latencyMs: 40 });

      expect(sync.request('params')).toBe('started');
      // Mid-walk (at most 50 calls a second for 13 pages or more): pages are staged, the served inventory is still the old one.
      await vi.waitFor(() => expect(sync.progress('params')?.walk?.pages).toBeGreaterThan(0), { timeout: 10_000, interval: 5 });
      expect(sync.progress('params')?.walk?.expectedItems).toBe(PARAMS);
      expect(await db.index.countStore('params')).toBe(PARAMS);
      expect(await db.index.getItem('params', gone[0]!)).not.toBeNull();
      expect(await db.index.getItem('params', '/scale/new/one')).toBeNull();

      await sync.idle('params');
      expect(await db.index.countStore('params')).toBe(PARAMS - 3 + 2);
      for (const name of gone) expect(await db.index.getItem('params', name)).toBeNull();
      expect(await db.index.getItem('params', '/scale/new/two')).toMatchObject({ description: 'brand new token' });
      expect((await db.index.getFolder('params', '/scale/new/'))?.directItems).toBe(2);
      expect(await db.index.search([{ storeId: 'params', namePattern: null }], 'brand new', 5)).toHaveLength(1);
      sim().control({ deleteParameters: ['/scale/new/one', '/scale/new/two'], addParameters: gone.map((Name) => ({ Name })) });
    }, 30_000);

    it('queues exactly one more walk when asked while one runs', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      expect(sync.request('params')).toBe('started');
      expect(sync.request('params')).toBe('queued');
      expect(sync.request('params')).toBe('queued');
      expect(sync.request('nope')).toBe('unknown');
      await new Promise((resolve) => setTimeout(resolve, 50));
      await sync.idle('params');
      // The cold walk splits into chains; the queued one knows the store is small and reads it as one chain.
      expect(JSON.parse((await db.index.syncRecord('params'))!.calls)).toEqual({ DescribeParameters: Math.ceil(PARAMS / 50) });
      const calls = sim().stats().operations['ssm:DescribeParameters']!.calls;
      expect(calls).toBeGreaterThan(2 * Math.ceil(PARAMS / 50));
      expect(calls).toBeLessThan(3 * Math.ceil(PARAMS / 50) + 60);
    }, 30_000);
  });

  describe('a failing walk', () => {
    it('keeps serving the last inventory and names the cause', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50 });
      await walk(sync, 'params');
      sim().control({ failAll: 'AccessDeniedException' });
      await walk(sync, 'params');
      const record = await db.index.syncRecord('params');
      expect(record).toMatchObject({ error_code: 'access-denied', items: PARAMS });
      expect(record?.error_message).toContain('AccessDeniedException');
      expect(record?.synced_at).not.toBeNull();
      expect(await db.index.countStore('params')).toBe(PARAMS);

      // The next good walk clears the error.
      sim().control({ failAll: null });
      await walk(sync, 'params');
      expect((await db.index.syncRecord('params'))?.error_code).toBeNull();
    }, 30_000);

    it('leaves a never-synced store without an inventory', async () => {
      sim().control({ failAll: 'ExpiredTokenException' });
      const { db, sync } = await setup();
      await walk(sync, 'secrets');
      expect(await db.index.syncRecord('secrets')).toMatchObject({ synced_at: null, error_code: 'credentials-expired' });
      expect(await db.index.countStore('secrets')).toBe(0);
    });
  });

  describe('Parameter Store tags', () => {
    it('are fetched after the walk, kept across re-walks, and refusals are counted', async () => {
      const { db, sync } = await setup({ DescribeParameters: 50, ListTagsForResource: 200 }, true);
      const denied = ['/scale/team1/svc1/key100', '/scale/team2/svc2/key35', '/scale/team2/svc1/key90'];
      sim().control({ denyTags: denied });
      await walk(sync, 'params');
      for (let i = 0; i < 400 && ((await db.tagsPending('params')) > 0 || sync.progress('params')?.tags.running); i++) await new Promise((r) => setTimeout(r, 50));
      expect(await db.tagsPending('params')).toBe(0);
      const record = await db.index.syncRecord('params');
      expect(record?.unreadable_tags).toBe(denied.length);
      expect(await db.index.getItem('params', denied[0]!)).toMatchObject({ tags: {} });
      expect(sim().stats().operations['ssm:ListTagsForResource']?.calls).toBe(PARAMS);
      const tagged = (await db.index.folderPage({ storeId: 'params', folder: '/', recursive: true, limit: 500, namePattern: null })).items.find(
        (i) => Object.keys(i.tags).length > 0,
      );
      expect(tagged).toBeDefined();
      const [key, value] = Object.entries(tagged!.tags)[0]!;
      expect((await db.index.search([{ storeId: 'params', namePattern: null }], value, 50)).some((h) => h.name === tagged!.name)).toBe(true);

      // A re-walk does not wipe the tags fetched separately.
      await walk(sync, 'params');
      expect((await db.index.getItem('params', tagged!.name))?.tags[key]).toBe(value);
    }, 60_000);
  });
});
