import 'server-only';
import path from 'node:path';
import { loadStoreConfigs } from '@/lib/config/stores';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { getStores } from '@/lib/stores/registry';
import { InventoryDb } from './inventory-db';
import { InventorySync } from './sync';

// The process-wide inventory of the AWS stores and its sync. Next.js bundles server code more than
// once (instrumentation, each route), so both live on globalThis: every copy sees one of each.

const g = globalThis as unknown as { __inventory?: { dir: string; db: InventoryDb; sync: InventorySync | null } };

function slot() {
  const dir = path.resolve(readEnv().DATA_DIR);
  if (g.__inventory?.dir !== dir) g.__inventory = { dir, db: InventoryDb.open(dir), sync: null };
  return g.__inventory;
}

export function inventoryDb(): InventoryDb {
  return slot().db;
}

export function inventorySync(): InventorySync | null {
  return g.__inventory?.sync ?? null;
}

/** Starts the background sync of every AWS store (once per process): a walk now, then every interval. */
export async function startInventorySync(): Promise<InventorySync> {
  const current = slot();
  if (current.sync) return current.sync;
  const env = readEnv();
  const stores = (await getStores()).filter(isInventoryWalkable);
  const rates = Object.fromEntries(loadStoreConfigs(env).flatMap((c) => (c.kind !== 'local' && c.rateLimits ? [[c.id, c.rateLimits as Record<string, number>]] : [])));
  const sync = new InventorySync(current.db, stores, { intervalMs: env.SYNC_INTERVAL_MINUTES * 60_000, rates, maxAttempts: env.SYNC_MAX_ATTEMPTS });
  current.sync = sync;
  if (stores.length > 0) {
    logger.info({ stores: stores.map((s) => s.id), everyMinutes: env.SYNC_INTERVAL_MINUTES }, 'inventory sync started');
    sync.start();
  }
  return sync;
}
