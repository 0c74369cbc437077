import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLoneRead } from '@/lib/db/lone-read';
import { closePostgres, postgresDb, readPoolSettings } from '@/lib/db/postgres';
import { createTestDatabase } from '../support/databases';

// Page reads have connections of their own: a lone SELECT takes one from the area's read pool, so it
// is answered while the sync's writes and transactions hold every connection of the main pool (80
// stores walking at once keep it full). Without the split the read below waits for the writes.

const SETTINGS = ['DATABASE_POOL_SIZE', 'DATABASE_READ_POOL_SIZE', 'DATABASE_CONNECT_TIMEOUT_MS'] as const;
const saved = Object.fromEntries(SETTINGS.map((name) => [name, process.env[name]]));
let database: Awaited<ReturnType<typeof createTestDatabase>>;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterEach(async () => {
  await closePostgres();
  for (const name of SETTINGS) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});
afterAll(() => database.drop());

interface Db {
  t: { n: number };
}

/** Fills the main pool: `size` transactions that each write and then hold their connection until `release` resolves. */
function holdWrites(db: ReturnType<typeof postgresDb<Db>>, size: number, release: Promise<void>) {
  let holding = 0;
  const all = Array.from({ length: size }, (_, i) =>
    db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ n: i }).execute();
      holding++;
      await release;
    }),
  );
  return { all, holding: () => holding };
}

async function until(check: () => boolean, ms = 5_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('PostgreSQL pools: reads ahead of writes', () => {
  it('a lone read is answered while writes hold every connection of the main pool', async () => {
    Object.assign(process.env, { DATABASE_POOL_SIZE: '2', DATABASE_READ_POOL_SIZE: '1' });
    const db = postgresDb<Db>(database.url, 'public');
    await sql`CREATE TABLE IF NOT EXISTS t (n integer)`.execute(db);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const writes = holdWrites(db, 2, released);
    await until(() => writes.holding() === 2);
    // A third write queues behind the two held ones.
    let queuedWriteDone = false;
    const queuedWrite = db
      .insertInto('t')
      .values({ n: 99 })
      .execute()
      .then(() => (queuedWriteDone = true));

    const started = Date.now();
    const rows = await db.selectFrom('t').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Date.now() - started).toBeLessThan(2_000);
    // The held transactions have not committed: the read sees none of their rows.
    expect(Number(rows.n)).toBe(0);
    expect(queuedWriteDone).toBe(false);

    release();
    await Promise.all([...writes.all, queuedWrite]);
    const after = await db.selectFrom('t').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(after.n)).toBe(3);
  });

  it('a write still waits for the main pool: the read pool is not a way around it', async () => {
    Object.assign(process.env, { DATABASE_POOL_SIZE: '1', DATABASE_READ_POOL_SIZE: '2' });
    const db = postgresDb<Db>(database.url, 'public');
    await sql`CREATE TABLE IF NOT EXISTS t (n integer)`.execute(db);
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    const writes = holdWrites(db, 1, released);
    await until(() => writes.holding() === 1);
    let done = false;
    const write = db
      .insertInto('t')
      .values({ n: 7 })
      .execute()
      .then(() => (done = true));
    // A transaction's reads run on its own connection, so they queue with it too.
    let trxDone = false;
    const trx = db
      .transaction()
      .execute((t) => t.selectFrom('t').selectAll().execute())
      .then(() => (trxDone = true));
    await new Promise((r) => setTimeout(r, 300));
    expect(done).toBe(false);
    expect(trxDone).toBe(false);
    release();
    await Promise.all([...writes.all, write, trx]);
    expect(done && trxDone).toBe(true);
  });

  it('many reads share the read pool and all get their answer', async () => {
    Object.assign(process.env, { DATABASE_POOL_SIZE: '1', DATABASE_READ_POOL_SIZE: '2' });
    const db = postgresDb<Db>(database.url, 'public');
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => sql<{ v: number }>`SELECT ${i}::int AS v`.execute(db)));
    expect(answers.map((a) => a.rows[0]!.v)).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});

describe('which statements count as lone reads', () => {
  it('a SELECT does; a write, a transaction or a data-changing WITH does not', () => {
    expect(isLoneRead('select 1')).toBe(true);
    expect(isLoneRead('  SELECT "name" from "inv_items"')).toBe(true);
    for (const text of ['insert into t values (1)', 'update t set n = 1', 'delete from t', 'begin', 'start transaction isolation level serializable', 'with x as (delete from t returning *) select * from x', 'analyze t'])
      expect(isLoneRead(text)).toBe(false);
  });
});

describe('pool settings', () => {
  it('reads the sizes and the connect timeout, with defaults', () => {
    expect(readPoolSettings({})).toEqual({ DATABASE_POOL_SIZE: 5, DATABASE_READ_POOL_SIZE: 3, DATABASE_CONNECT_TIMEOUT_MS: 10_000 });
    expect(readPoolSettings({ DATABASE_POOL_SIZE: '8', DATABASE_READ_POOL_SIZE: '4', DATABASE_CONNECT_TIMEOUT_MS: '' })).toMatchObject({
      DATABASE_POOL_SIZE: 8,
      DATABASE_READ_POOL_SIZE: 4,
      DATABASE_CONNECT_TIMEOUT_MS: 10_000,
    });
  });

  it('refuses a size that is not a positive whole number, naming the setting', () => {
    for (const value of ['0', '-1', '2.5', 'many'])
      expect(() => readPoolSettings({ DATABASE_READ_POOL_SIZE: value })).toThrow(/DATABASE_READ_POOL_SIZE must be a positive whole number/);
    expect(() => readPoolSettings({ DATABASE_CONNECT_TIMEOUT_MS: '0' })).toThrow(/DATABASE_CONNECT_TIMEOUT_MS/);
  });
});
