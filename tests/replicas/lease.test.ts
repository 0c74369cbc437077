import { hostname } from 'node:os';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appDb } from '@/lib/db/app-db';
import { leaseHolder, release, tryAcquire } from '@/lib/db/lease';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The lease table's rules, in one process, on both dialects: one holder at a time, renewal by the
// holder, take-over only once expired, release only by the holder.

describe.each(DATABASES)('leases (%s)', (kind) => {
  const temp = makeTempDir('secrets-lease-');
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    process.env.DATA_DIR = temp.dir;
    ({ cleanup } = await useDatabase(kind));
  });
  afterAll(async () => {
    await cleanup();
    temp.cleanup();
  });

  it('a free lease goes to the first asker; another holder is refused while it is unexpired', async () => {
    expect(await tryAcquire('free', 'a', 60_000)).toBe(true);
    expect(await tryAcquire('free', 'b', 60_000)).toBe(false);
    expect(await leaseHolder('free')).toMatchObject({ holder: 'a' });
  });

  it('the holder renews: a later expiry, the same acquired time', async () => {
    expect(await tryAcquire('renewed', 'a', 1_000)).toBe(true);
    const first = (await leaseHolder('renewed'))!;
    expect(await tryAcquire('renewed', 'a', 600_000)).toBe(true);
    const renewed = (await leaseHolder('renewed'))!;
    expect(renewed.acquiredAt).toBe(first.acquiredAt);
    expect(renewed.expiresAt > first.expiresAt).toBe(true);
    expect(renewed.expiresAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  it('an expired lease is taken over, with a new acquired time', async () => {
    expect(await tryAcquire('expiring', 'a', 20)).toBe(true);
    const before = (await leaseHolder('expiring'))!;
    await vi.waitFor(async () => expect(await leaseHolder('expiring')).toBeNull(), { timeout: 5_000, interval: 20 });
    expect(await tryAcquire('expiring', 'b', 60_000)).toBe(true);
    const after = (await leaseHolder('expiring'))!;
    expect(after.holder).toBe('b');
    expect(after.acquiredAt >= before.expiresAt).toBe(true);
    expect(await tryAcquire('expiring', 'a', 60_000)).toBe(false);
  });

  it('a lease left by a dead process of this host is taken at once on SQLite; on PostgreSQL it waits for the expiry', async () => {
    const me = `${hostname()}:${process.pid}:mine`;
    // A pid no process has, and this very pid with another random part (a predecessor in a restarted container).
    for (const [i, dead] of [`${hostname()}:2147483646:gone`, `${hostname()}:${process.pid}:predecessor`].entries()) {
      expect(await tryAcquire(`dead-${i}`, dead, 600_000)).toBe(true);
      expect(await tryAcquire(`dead-${i}`, me, 60_000)).toBe(kind === 'sqlite');
    }
    // A live process of this host, or any process of another host, keeps its lease.
    expect(await tryAcquire('alive', `${hostname()}:${process.ppid}:parent`, 600_000)).toBe(true);
    expect(await tryAcquire('alive', me, 60_000)).toBe(false);
    expect(await tryAcquire('elsewhere', 'other-host:2147483646:x', 600_000)).toBe(true);
    expect(await tryAcquire('elsewhere', me, 60_000)).toBe(false);
  });

  it('release frees the lease for others at once, but only when the releaser holds it', async () => {
    expect(await tryAcquire('released', 'a', 60_000)).toBe(true);
    await release('released', 'b');
    expect(await leaseHolder('released')).toMatchObject({ holder: 'a' });
    await release('released', 'a');
    expect(await leaseHolder('released')).toBeNull();
    expect(await tryAcquire('released', 'b', 60_000)).toBe(true);
  });

  it('many askers at once: exactly one wins', async () => {
    const askers = Array.from({ length: 12 }, (_, i) => `h${i}`);
    const won = await Promise.all(askers.map((h) => tryAcquire('race', h, 60_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
    expect((await leaseHolder('race'))!.holder).toBe(askers[won.indexOf(true)]);
  });

  it('leases with different names are independent', async () => {
    expect(await tryAcquire('one', 'a', 60_000)).toBe(true);
    expect(await tryAcquire('two', 'b', 60_000)).toBe(true);
    const rows = await (await appDb()).selectFrom('leases').select(['name', 'holder']).where('name', 'in', ['one', 'two']).orderBy('name').execute();
    expect(rows).toEqual([
      { name: 'one', holder: 'a' },
      { name: 'two', holder: 'b' },
    ]);
  });

  it('refuses a nonsensical time to live or an empty holder, naming it', async () => {
    await expect(tryAcquire('bad', 'a', 0)).rejects.toThrow(/time to live/);
    await expect(tryAcquire('bad', '', 1000)).rejects.toThrow(/holder/);
  });
});
