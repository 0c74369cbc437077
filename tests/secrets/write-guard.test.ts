import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { appDb } from '@/lib/db/app-db';
import { databaseNow } from '@/lib/db/database-clock';
import { oncePerRequest, oneAtATime } from '@/lib/secrets/write-guard';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// The write guard in one process, on both dialects (two processes: tests/replicas/write-guard.test.ts).

let unique = 0;
const key = (what: string) => `${what}-${process.pid}-${++unique}`;

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe.each(DATABASES)('write guard (%s)', (kind) => {
  const temp = makeTempDir('secrets-write-guard-');
  let cleanup: () => Promise<void>;
  let url: string | undefined;
  beforeAll(async () => {
    process.env.DATA_DIR = temp.dir;
    ({ cleanup, url } = await useDatabase(kind));
  });
  afterAll(async () => {
    await cleanup();
    temp.cleanup();
  });

  it('runs the writes to one item one after another, in the order asked', async () => {
    const item = key('item');
    const events: string[] = [];
    const write = (n: number) =>
      oneAtATime(item, async () => {
        events.push(`start ${n}`);
        await new Promise((r) => setTimeout(r, 5));
        events.push(`end ${n}`);
        return n;
      });
    expect(await Promise.all([write(1), write(2), write(3)])).toEqual([1, 2, 3]);
    expect(events).toEqual(['start 1', 'end 1', 'start 2', 'end 2', 'start 3', 'end 3']);
  });

  it('writes to different items run side by side', async () => {
    const bStarted = deferred();
    // a finishes only once b has started: were they serialized, this would never settle.
    const a = oneAtATime(key('a'), async () => {
      await bStarted.promise;
      return 'a';
    });
    const b = oneAtATime(key('b'), async () => {
      bStarted.resolve();
      return 'b';
    });
    expect(await Promise.all([a, b])).toEqual(['a', 'b']);
  });

  it('a failed write does not hold up the next one to the item', async () => {
    const item = key('failing');
    const first = oneAtATime(item, async () => {
      throw new Error('store refused');
    });
    const second = oneAtATime(item, async () => 'written');
    await expect(first).rejects.toThrow('store refused');
    expect(await second).toBe('written');
  });

  it('a request id runs once; every repeat gets the first answer', async () => {
    const request = key('request');
    let runs = 0;
    const work = async () => ({ version: `v${++runs}`, createdAt: '2025-01-01T00:00:00.000Z', via: 'built-in' });
    const answers = await Promise.all([oncePerRequest(request, work), oncePerRequest(request, work)]);
    expect(await oncePerRequest(request, work)).toEqual(answers[0]);
    expect(answers[1]).toEqual(answers[0]);
    expect(runs).toBe(1);
  });

  it('a failed request is forgotten: trying again runs again', async () => {
    const request = key('retry');
    let runs = 0;
    await expect(
      oncePerRequest(request, async () => {
        runs++;
        throw new Error('store unavailable');
      }),
    ).rejects.toThrow('store unavailable');
    expect(await oncePerRequest(request, async () => ++runs)).toBe(2);
  });

  if (kind !== 'postgres') return;

  // What other replicas see: the lock and the claim rows in the database.

  async function otherConnection<T>(fn: (c: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      return await fn(client);
    } finally {
      await client.end();
    }
  }
  const lockFree = (item: string) =>
    otherConnection(async (c) => {
      const { rows } = await c.query<{ got: boolean }>('SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS got', [`write-guard:${item}`]);
      if (rows[0]!.got) await c.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`write-guard:${item}`]);
      return rows[0]!.got;
    });

  it('holds a database lock on the item while the write runs, and frees it after', async () => {
    const item = key('locked');
    const seenFromElsewhere = deferred<boolean>();
    await oneAtATime(item, async () => seenFromElsewhere.resolve(await lockFree(item)));
    expect(await seenFromElsewhere.promise).toBe(false);
    expect(await lockFree(item)).toBe(true);
    // Also after a failed write.
    await expect(oneAtATime(item, async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(await lockFree(item)).toBe(true);
  });

  it('waits while another replica holds the item', async () => {
    const item = key('held-elsewhere');
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      await client.query('SELECT pg_advisory_lock(hashtextextended($1, 0))', [`write-guard:${item}`]);
      let ran = false;
      const write = oneAtATime(item, async () => (ran = true));
      // The write is waiting for the lock: nothing ran while the other session holds it.
      await new Promise((r) => setTimeout(r, 100));
      expect(ran).toBe(false);
      await client.query('SELECT pg_advisory_unlock(hashtextextended($1, 0))', [`write-guard:${item}`]);
      expect(await write).toBe(true);
    } finally {
      await client.end();
    }
  });

  it('many items at once do not run out of connections (the audit append inside needs one too)', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        oneAtATime(key(`busy-${i}`), async () => {
          const db = await appDb();
          await db.selectFrom('leases').select('name').execute();
          return i;
        }),
      ),
    );
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => i));
  });

  it('keeps the answer in write_requests as JSON, without the names in the key', async () => {
    const request = key('stored-answer');
    await oncePerRequest(request, async () => ({ version: '7', createdAt: '2025-01-01T00:00:00.000Z', via: 'PutParameter' }));
    const rows = await (await appDb()).selectFrom('write_requests').selectAll().execute();
    const row = rows.find((r) => r.result?.includes('"version":"7"'))!;
    expect(row).toMatchObject({ state: 'done' });
    expect(row.request_key).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.parse(row.result!)).toEqual({ version: '7', createdAt: '2025-01-01T00:00:00.000Z', via: 'PutParameter' });
  });

  async function claimElsewhere(request: string, expiresInMs = 60_000) {
    const { createHash } = await import('node:crypto');
    const requestKey = createHash('sha256').update(request).digest('hex');
    const db = await appDb();
    await db
      .insertInto('write_requests')
      .values({ request_key: requestKey, state: 'running', result: null, holder: 'other-replica', created_at: databaseNow('postgres'), expires_at: databaseNow('postgres', expiresInMs) })
      .execute();
    return { db, requestKey };
  }

  it('a repeat of a request another replica is running waits for, and returns, its answer', async () => {
    const request = key('elsewhere-done');
    const { db, requestKey } = await claimElsewhere(request);
    let ran = false;
    const repeat = oncePerRequest(request, async () => (ran = true));
    await new Promise((r) => setTimeout(r, 200));
    await db.updateTable('write_requests').set({ state: 'done', result: JSON.stringify({ version: 'from-b' }) }).where('request_key', '=', requestKey).execute();
    expect(await repeat).toEqual({ version: 'from-b' });
    expect(ran).toBe(false);
  });

  it('when the other replica fails (its claim goes), the repeat runs the work itself', async () => {
    const request = key('elsewhere-failed');
    const { db, requestKey } = await claimElsewhere(request);
    const repeat = oncePerRequest(request, async () => 'ran here');
    await new Promise((r) => setTimeout(r, 200));
    await db.deleteFrom('write_requests').where('request_key', '=', requestKey).execute();
    expect(await repeat).toBe('ran here');
  });

  it('a claim left by a replica that died mid-write is taken over once it expires', async () => {
    const request = key('elsewhere-died');
    await claimElsewhere(request, 300);
    const work = vi.fn(async () => 'ran after expiry');
    expect(await oncePerRequest(request, work)).toBe('ran after expiry');
    expect(work).toHaveBeenCalledTimes(1);
  });
});
