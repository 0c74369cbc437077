import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildDemoItems } from '@/lib/demo/demo-data';
import { seedDemoData } from '@/lib/demo/seed';
import { BUILTIN_SCHEMA, StoreOpenError } from '@/lib/stores/embedded/open';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { builtinTarget, newKey, type BuiltinTarget } from './builtin-target';

// Several replicas of the dashboard share one PostgreSQL database and nothing else: two
// EmbeddedStore instances over one database stand for two replicas.

describe('built-in store on PostgreSQL: replicas', () => {
  let target: BuiltinTarget;
  const stores: EmbeddedStore[] = [];
  beforeAll(async () => {
    target = await builtinTarget('postgres');
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await target.reset();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  async function replica(key: string) {
    const opened = await EmbeddedStore.open('local', 'Built-in', target.options(key));
    stores.push(opened.store);
    return opened;
  }

  async function schemaExists(): Promise<boolean> {
    const client = await target.client();
    try {
      const { rows } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [BUILTIN_SCHEMA]);
      return rows.length > 0;
    } finally {
      await client.end();
    }
  }

  it('refuses to start without MASTER_KEY, says what to do and writes nothing', async () => {
    const error = await EmbeddedStore.open('local', 'Built-in', target.options(undefined)).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreOpenError);
    expect((error as Error).message).toMatch(/DATABASE_URL is set/);
    expect((error as Error).message).toMatch(/set MASTER_KEY/);
    expect((error as Error).message).toMatch(/openssl rand -base64 32/);
    expect(await schemaExists()).toBe(false);
  });

  it('refuses a wrong MASTER_KEY before writing anything, even to a store another replica is using', async () => {
    const key = newKey();
    const { store } = await replica(key);
    await store.putValue({ name: '/app/a', value: 'one', actor: 't' });
    const before = await target.snapshot();
    await expect(replica(newKey())).rejects.toThrow(/master key does not match.*Nothing was changed/);
    expect(await target.snapshot()).toEqual(before);
    expect(await store.readValue('/app/a')).toBe('one');
  });

  it('two replicas starting at once on an empty database: one creates the store, both open it', async () => {
    const key = newKey();
    const [a, b] = await Promise.all([replica(key), replica(key)]);
    expect([a.created, b.created].sort()).toEqual([false, true]);
    await a.store.putValue({ name: '/app/a', value: 'from a', actor: 't' });
    expect(await b.store.readValue('/app/a')).toBe('from a');
  });

  it('a rotation through one replica is read by the other: metadata, version, value and inventory', async () => {
    const key = newKey();
    const a = (await replica(key)).store;
    const b = (await replica(key)).store;
    await a.putValue({ name: '/prod/db/password', value: 'first', actor: 'alice', description: 'Primary DB' });
    expect(await b.getItem('/prod/db/password')).toMatchObject({ currentVersion: '1', lastChangedBy: 'alice', description: 'Primary DB' });

    const written = await a.writeValue({ name: '/prod/db/password', value: 'rotated', actor: 'bob', requestId: randomUUID(), labels: ['rotated'] });
    expect(written.version).toBe('2');
    const seen = await b.getItem('/prod/db/password');
    expect(seen).toMatchObject({ currentVersion: '2', lastChangedBy: 'bob', labels: ['rotated'], description: 'Primary DB' });
    expect(seen?.versions.map((v) => v.id)).toEqual(['2', '1']);
    expect(await b.readValue('/prod/db/password')).toBe('rotated');
    expect(await b.readValue('/prod/db/password', '1')).toBe('first');
    expect(await b.inventory.getItem('local', '/prod/db/password')).toMatchObject({ version: '2', lastChangedBy: 'bob', labels: ['rotated'] });
  });

  it('concurrent writes of one item from both replicas give gap-free versions, each value kept once', async () => {
    const key = newKey();
    const a = (await replica(key)).store;
    const b = (await replica(key)).store;
    const writes = 24;
    // The item does not exist yet: the first writes race to create it too.
    const results = await Promise.all(
      Array.from({ length: writes }, (_, i) => (i % 2 === 0 ? a : b).putValue({ name: '/race/item', value: `value-${i}`, actor: i % 2 === 0 ? 'a' : 'b' })),
    );
    const versions = results.map((r) => Number(r.version)).sort((x, y) => x - y);
    expect(versions).toEqual(Array.from({ length: writes }, (_, i) => i + 1));
    const detail = await b.getItem('/race/item');
    expect(detail?.currentVersion).toBe(String(writes));
    expect(detail?.versions.map((v) => Number(v.id))).toEqual(Array.from({ length: writes }, (_, i) => writes - i));
    const values = await Promise.all(results.map((r) => a.readValue('/race/item', r.version)));
    expect(values.sort()).toEqual(Array.from({ length: writes }, (_, i) => `value-${i}`).sort());
    expect(await a.inventory.getItem('local', '/race/item')).toMatchObject({ version: String(writes) });
    expect(await a.inventory.getFolder('local', '/race/')).toEqual({ directItems: 1, totalItems: 1 });
  });

  it('batches touching the same items in opposite orders on two replicas all commit', async () => {
    const key = newKey();
    const a = (await replica(key)).store;
    const b = (await replica(key)).store;
    const names = ['/batch/x', '/batch/y', '/batch/z'];
    await Promise.all(
      Array.from({ length: 8 }, (_, i) => {
        const order = i % 2 === 0 ? names : [...names].reverse();
        return (i % 2 === 0 ? a : b).putMany(order.map((name) => ({ name, value: `${name}-${i}`, actor: 't' })));
      }),
    );
    for (const name of names) expect((await a.getItem(name))?.currentVersion).toBe('8');
    expect(await b.inventory.getFolder('local', '/batch/')).toEqual({ directItems: 3, totalItems: 3 });
  });

  it('demo data is seeded once when two replicas start together on an empty database', async () => {
    const key = newKey();
    const [a, b] = await Promise.all([replica(key), replica(key)]);
    const now = new Date();
    const seeded = await Promise.all([seedDemoData(a.store, now), seedDemoData(b.store, now)]);
    const demo = buildDemoItems(now);
    expect(seeded.sort((x, y) => x - y)).toEqual([0, demo.length]);
    expect(await b.store.count()).toBe(demo.length);
    for (const item of demo.slice(0, 5)) expect((await a.store.getItem(item.name))?.currentVersion).toBe(String(item.versions.length));
    expect(await a.store.inventory.countStore('local')).toBe(demo.length);
  });
});
