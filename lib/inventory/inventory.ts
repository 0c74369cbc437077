import 'server-only';
import path from 'node:path';
import { loadStoreConfigs } from '@/lib/config/stores';
import { readEnv } from '@/lib/config/env';
import { z } from 'zod';
import { runWhileLeader, type LeaderHandle } from '@/lib/background/leader';
import { requestRun } from '@/lib/background/run-requests';
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
  /** Only on the replica that leads the sync ('inventory-sync' lease). */
  sync: InventorySync | null;
  leader: LeaderHandle | null;
}

const g = globalThis as unknown as { __inventory?: Slot };

function slot(): Slot {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (g.__inventory?.key !== key) {
    const opening = env.DATABASE_URL ? InventoryDb.openPostgres(env.DATABASE_URL) : InventoryDb.open(path.resolve(env.DATA_DIR));
    const current: Slot = { key, db: opening, sync: null, leader: null };
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
  if (current.leader) await current.leader.stop();
  else await current.sync?.stop();
  await (await current.db.catch(() => null))?.close();
}

export function inventorySync(): InventorySync | null {
  return g.__inventory?.sync ?? null;
}

const SYNC_LEASE = 'inventory-sync';
const walkRequest = z.object({ storeId: z.string().min(1).max(64) });

/**
 * Starts leading the background sync of every AWS store when this replica can (once per process):
 * a walk now, then every interval. With several replicas one holds the lease and walks; another
 * takes over when it dies.
 */
export async function startInventorySync(): Promise<void> {
  const current = slot();
  if (current.leader) return;
  const db = await current.db;
  const env = readEnv();
  const stores = (await getStores()).filter(isInventoryWalkable);
  if (current.leader || stores.length === 0) return;
  const rates = Object.fromEntries(
    loadStoreConfigs(env).flatMap((c) =>
      c.kind === 'vault' ? [[c.id, { VaultRequests: c.rate }]] : c.kind !== 'local' && c.rateLimits ? [[c.id, c.rateLimits as Record<string, number>]] : [],
    ),
  );
  current.leader = runWhileLeader(SYNC_LEASE, {
    // A new sync each time this replica leads: stop() is final.
    onLead: () => {
      const sync = new InventorySync(db, stores, { intervalMs: env.SYNC_INTERVAL_MINUTES * 60_000, rates, maxAttempts: env.SYNC_MAX_ATTEMPTS });
      current.sync = sync;
      logger.info({ stores: stores.map((s) => s.id), everyMinutes: env.SYNC_INTERVAL_MINUTES }, 'inventory sync started');
      sync.start();
    },
    onLoseLead: async () => {
      const sync = current.sync;
      current.sync = null;
      await sync?.stop();
    },
    // Refresh asked on a replica that does not lead.
    onRequests: (payloads) => {
      for (const payload of payloads) {
        const parsed = walkRequest.safeParse(payload);
        if (parsed.success) current.sync?.request(parsed.data.storeId);
      }
    },
  });
}

/** A walk of one store now: run by this replica when it leads, else asked of the one that does. */
export async function requestInventoryWalk(storeId: string): Promise<'started' | 'queued'> {
  const state = inventorySync()?.request(storeId);
  if (state === 'started' || state === 'queued') return state;
  await requestRun(SYNC_LEASE, { storeId });
  return 'queued';
}
