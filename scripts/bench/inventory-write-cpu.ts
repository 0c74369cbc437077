// node --conditions=react-server --import tsx scripts/bench/inventory-write-cpu.ts [STORES] [ITEMS_PER_STORE] [--postgres URL]
// The inventory's own write path alone, without AWS: STORES walks staged at once in pages of 50
// (interleaved, as concurrent walks stage), then each swapped in. Prints CPU µs per item for the
// staging and for the swap (this process's CPU: on SQLite that is all of the database's work).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freshnessColumnsOf } from '@/lib/freshness/columns';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { toInventoryRow, type InventoryRecord } from '@/lib/inventory/records';

const PAGE = 50;

function recordOf(store: number, i: number): InventoryRecord {
  const team = i % 20;
  const svc = Math.floor(i / 20) % 50;
  const name = i % 4 === 0 ? `/bulk/param-${String(i).padStart(6, '0')}` : `/scale/team${team}/svc${svc}/param-${String(i).padStart(6, '0')}`;
  return {
    name,
    folder: name.slice(0, name.lastIndexOf('/') + 1),
    kind: 'SecureString',
    description: i % 3 === 0 ? `Generated parameter ${i} for team ${team}` : null,
    tags: {},
    kmsKeyId: 'alias/aws/ssm',
    lastChangedAt: new Date(Date.UTC(2026, 0, 1) + (i % 1000) * 3600_000).toISOString(),
    lastChangedBy: `arn:aws:iam::9000000000${String(store).padStart(2, '0')}:user/deployer`,
    currentVersion: String(1 + (i % 7)),
    labels: [],
    extra: { arn: `arn:aws:ssm:us-east-1:9000000000${store}:parameter${name}`, type: 'SecureString', tier: 'Standard', dataType: 'text' },
  } as InventoryRecord;
}

/** As the sync makes a staged row: freshness from the record's extras. */
function rowOf(db: InventoryDb, storeId: string, record: InventoryRecord) {
  const row = toInventoryRow(storeId, record, false);
  return Object.assign(row, freshnessColumnsOf(row, db.index.policies, record.extra));
}

/** Runs `work` while a setImmediate loop measures the longest gap between its ticks (ms). */
async function longestBlock(work: () => Promise<unknown>): Promise<number> {
  let longest = 0;
  let last = performance.now();
  let running = true;
  const tick = () => {
    const now = performance.now();
    longest = Math.max(longest, now - last);
    last = now;
    if (running) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    await work();
  } finally {
    running = false;
  }
  const now = performance.now();
  return Math.max(longest, now - last);
}

const cpuS = (since: NodeJS.CpuUsage) => {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
};

async function main(): Promise<void> {
  const positional = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--postgres');
  const stores = Number(positional[0] ?? 40);
  const perStore = Number(positional[1] ?? 2500);
  const postgres = process.argv.includes('--postgres') ? process.argv[process.argv.indexOf('--postgres') + 1] : undefined;
  const dir = mkdtempSync(path.join(tmpdir(), 'inventory-write-cpu-'));
  try {
    const db = postgres ? await InventoryDb.openPostgres(postgres) : await InventoryDb.open(dir);
    const ids = Array.from({ length: stores }, (_, s) => `store-${s}`);
    for (const id of ids) await db.beginWalk(id);
    let cpu = process.cpuUsage();
    let started = performance.now();
    const rowsCpu = { s: 0 };
    for (let from = 0; from < perStore; from += PAGE) {
      // A page of each store in turn, four written at once (the sync's stagingWrites).
      const writes: Promise<void>[] = [];
      for (let s = 0; s < stores; s++) {
        const c = process.cpuUsage();
        const rows = [];
        for (let i = from; i < Math.min(perStore, from + PAGE); i++) rows.push(rowOf(db, ids[s]!, recordOf(s, i)));
        rowsCpu.s += cpuS(c);
        writes.push(db.stage(rows));
        if (writes.length >= 4) await Promise.all(writes.splice(0));
      }
      await Promise.all(writes);
    }
    const stageS = cpuS(cpu);
    const stageWall = (performance.now() - started) / 1000;
    cpu = process.cpuUsage();
    started = performance.now();
    let swapBlockMs = 0;
    for (const id of ids) {
      const blocked = await longestBlock(() => db.applyWalk(id, { items: perStore, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, true));
      swapBlockMs = Math.max(swapBlockMs, blocked);
    }
    const swapS = cpuS(cpu);
    const swapWall = (performance.now() - started) / 1000;
    // A warm re-walk: the same rows again (nothing changed).
    for (const id of ids) await db.beginWalk(id);
    cpu = process.cpuUsage();
    for (let from = 0; from < perStore; from += PAGE)
      for (let s = 0; s < stores; s++) {
        const rows = [];
        for (let i = from; i < Math.min(perStore, from + PAGE); i++) rows.push(rowOf(db, ids[s]!, recordOf(s, i)));
        await db.stage(rows);
      }
    for (const id of ids) await db.applyWalk(id, { items: perStore, pages: 1, durationMs: 1, calls: {}, throttled: 0, unreadableItems: 0 }, true);
    const warmS = cpuS(cpu);
    const total = await Promise.all(ids.map((id) => db.index.countStore(id)));
    await db.close();
    const n = stores * perStore;
    const us = (s: number) => Math.round((s * 1e6) / n);
    console.log(
      JSON.stringify({
        dialect: postgres ? 'postgres' : 'sqlite',
        items: n,
        counted: total.reduce((a, b) => a + b, 0),
        rowsUsPerItem: us(rowsCpu.s),
        stageUsPerItem: us(stageS),
        swapUsPerItem: us(swapS),
        warmRewalkUsPerItem: us(warmS),
        stageWallS: Math.round(stageWall * 10) / 10,
        swapWallS: Math.round(swapWall * 10) / 10,
        longestSwapBlockMs: Math.round(swapBlockMs),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
