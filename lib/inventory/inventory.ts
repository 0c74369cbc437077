import 'server-only';
import path from 'node:path';
import { loadStoreConfigs } from '@/lib/config/stores';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { getStores } from '@/lib/stores/registry';
import { InventoryDb } from './inventory-db';
import { InventorySync } from './sync';

// The process-wide inventory of the AWS stores and its sync: PostgreSQL when DATABASE_URL is set,
// else DATA_DIR/inventory.db (reopened when either changes, as tests do). Next.js bundles server
// code more than once (instrumentation, each route), so both live on globalThis: every copy sees
// one of each.

interface Slot {
  key: string;
  db: Promise<InventoryDb>;
  sync: InventorySync | null;
}

const g = globalThis as unknown as { __inventory?: Slot };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__inventory?.key !== key) {
    const opening = env.DATABASE_URL ? InventoryDb.openPostgres(env.DATABASE_URL) : InventoryDb.open(path.resolve(env.DATA_DIR));
    const current: Slot = { key, db: opening, sync: null };
    // A failed open is not remembered, so the next call tries again.
    opening.catch(() => {
      if (g.__inventory === current) g.__inventory = undefined;
    });
    g.__inventory = current;
  }
  return g.__inventory;
}

/** The AWS stores' inventory, opened (and migrated) on first use. */
export function inventoryDb(): Promise<InventoryDb> {
  return slot().db;
}

/** Closes the process's inventory (tests, command-line tools); the next inventoryDb() opens it again. */
export async function closeInventoryDb(): Promise<void> {
  const current = g.__inventory;
  if (!current) return;
  g.__inventory = undefined;
  await current.sync?.stop();
  await (await current.db.catch(() => null))?.close();
}

export function inventorySync(): InventorySync | null {
  return g.__inventory?.sync ?? null;
}

/** Starts the background sync of every AWS store (once per process): a walk now, then every interval. */
export async function startInventorySync(): Promise<InventorySync> {
  const current = slot();
  if (current.sync) return current.sync;
  const db = await current.db;
  if (current.sync) return current.sync;
  const env = readEnv();
  const stores = (await getStores()).filter(isInventoryWalkable);
  if (current.sync) return current.sync;
  const rates = Object.fromEntries(loadStoreConfigs(env).flatMap((c) => (c.kind !== 'local' && c.rateLimits ? [[c.id, c.rateLimits as Record<string, number>]] : [])));
  const sync = new InventorySync(db, stores, { intervalMs: env.SYNC_INTERVAL_MINUTES * 60_000, rates, maxAttempts: env.SYNC_MAX_ATTEMPTS });
  current.sync = sync;
  if (stores.length > 0) {
    logger.info({ stores: stores.map((s) => s.id), everyMinutes: env.SYNC_INTERVAL_MINUTES }, 'inventory sync started');
    sync.start();
  }
  return sync;
}
