import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteArea } from '@/lib/db/area-db';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { toInventoryRow } from '@/lib/inventory/records';
import { inventoryRecord } from '../support/inventory-records';
import { makeTempDir } from '../support/temp-dir';

// On SQLite a page read is answered while a long inventory swap is in progress: the swap yields
// between its name ranges, and lone SELECTs run on a read-only connection of their own, which in
// WAL mode sees the last committed inventory until the swap's one transaction commits.

const temps: { cleanup: () => void }[] = [];
afterEach(() => {
  for (const t of temps.splice(0)) t.cleanup();
});

function tempDir(): string {
  const temp = makeTempDir('secrets-swap-reads-');
  temps.push(temp);
  return temp.dir;
}

async function stageWalk(db: InventoryDb, storeId: string, names: string[]): Promise<void> {
  await db.beginWalk(storeId);
  for (let i = 0; i < names.length; i += 500) await db.stage(names.slice(i, i + 500).map((n) => toInventoryRow(storeId, inventoryRecord(n), false)));
}

const TOTALS = { items: 0, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 };
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SQLite: reads beside a chunked inventory swap', () => {
  it('answers lone reads during the swap with the old inventory, and the new one after its commit', async () => {
    const db = await InventoryDb.open(tempDir());
    try {
      const old = Array.from({ length: 3_000 }, (_, i) => `/old/p-${String(i).padStart(5, '0')}`);
      await stageWalk(db, 's1', old);
      await db.applyWalk('s1', TOTALS, false);
      // The next walk: every old name gone, 12,000 new ones (several ranges of the swap).
      const fresh = Array.from({ length: 12_000 }, (_, i) => `/new/team${i % 7}/p-${String(i).padStart(5, '0')}`);
      await stageWalk(db, 's1', fresh);

      let swapped = false;
      const swap = db.applyWalk('s1', TOTALS, false).then((result) => {
        swapped = true;
        return result;
      });
      const during: { count: number; oldItem: boolean; newItem: boolean }[] = [];
      while (!swapped) {
        await tick();
        const [count, oldItem, newItem] = await Promise.all([db.index.countStore('s1'), db.index.getItem('s1', old[0]!), db.index.getItem('s1', fresh[0]!)]);
        if (!swapped) during.push({ count, oldItem: oldItem !== null, newItem: newItem !== null });
      }
      // Before the split every read waited for the whole swap (none answered while it ran).
      expect(during.length).toBeGreaterThanOrEqual(3);
      for (const read of during) expect(read).toEqual({ count: 3_000, oldItem: true, newItem: false });

      expect(await swap).toEqual({ added: 12_000, changed: 0, deleted: 3_000 });
      expect(await db.index.countStore('s1')).toBe(12_000);
      expect(await db.index.getItem('s1', old[0]!)).toBeNull();
      expect((await db.index.getItem('s1', fresh[0]!))?.name).toBe(fresh[0]);
    } finally {
      await db.close();
    }
  });

  it('keeps reads inside a transaction on the writing connection (they see its own writes), lone reads see the last commit', async () => {
    interface Db {
      t: { n: number };
    }
    const db = await openSqliteArea<Db>(tempDir(), 'reads.db', async (d) => void (await sql`CREATE TABLE t (n integer)`.execute(d)), { reader: true });
    try {
      const count = async (on: typeof db) => Number((await on.selectFrom('t').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      await db.transaction().execute(async (trx) => {
        await trx.insertInto('t').values({ n: 1 }).execute();
        expect(await count(trx)).toBe(1);
        // A lone read while the transaction holds the writing connection: answered, without the uncommitted row.
        expect(await count(db)).toBe(0);
        // The REGEXP function exists on the reader too.
        const matched = await sql<{ m: number }>`SELECT ('/a/b' REGEXP '^/a/') AS m`.execute(db);
        expect(matched.rows[0]!.m).toBe(1);
      });
      expect(await count(db)).toBe(1);
      // The reader is read-only: a write still goes to the writing connection.
      await db.insertInto('t').values({ n: 2 }).execute();
      expect(await count(db)).toBe(2);
    } finally {
      await db.destroy();
    }
  });

  it('without a reader a lone read waits for an open transaction (what the reader avoids)', async () => {
    interface Db {
      t: { n: number };
    }
    const db = await openSqliteArea<Db>(tempDir(), 'no-reader.db', async (d) => void (await sql`CREATE TABLE t (n integer)`.execute(d)));
    try {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const trx = db.transaction().execute(async (t) => {
        await t.insertInto('t').values({ n: 1 }).execute();
        await held;
      });
      await tick();
      let answered = false;
      const read = db.selectFrom('t').selectAll().execute().then((rows) => ((answered = true), rows));
      for (let i = 0; i < 20; i++) await tick();
      expect(answered).toBe(false);
      release();
      await trx;
      expect(await read).toHaveLength(1);
    } finally {
      await db.destroy();
    }
  });
});
