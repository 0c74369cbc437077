import 'server-only';
import type { SecretStore } from '@/lib/stores/types';
import { inventoryDb, inventorySync } from './inventory';
import type { InventoryDb } from './inventory-db';
import type { InventoryIndex } from './inventory-index';
import type { InventorySyncRecord } from './schema';
import type { InventoryStatus } from './status-types';

// Where a store's inventory lives and how fresh it is, for the server's own decisions (the findings,
// the alerts, /metrics). The built-in store is its own inventory; the AWS stores share one
// (DATA_DIR/inventory.db or PostgreSQL's "inventory" schema), filled by the background sync. What a
// caller is shown is cut by lib/data/inventory-status.ts.

/** The built-in store carries its own index. Checked by shape: Next.js bundles server code more
 * than once, so the store may be an instance of another copy of its class. */
function ownIndex(store: SecretStore): InventoryIndex | null {
  return (store as { inventory?: InventoryIndex }).inventory ?? null;
}

export async function inventoryIndexOf(store: SecretStore): Promise<InventoryIndex> {
  return ownIndex(store) ?? (await inventoryDb()).index;
}

/**
 * The store's status with the whole store's figures, for the server's own decisions (is there an
 * inventory yet?) and /metrics. What a caller is shown comes from inventoryStatusFor.
 */
export async function inventoryStatusOf(store: SecretStore): Promise<InventoryStatus> {
  const index = await inventoryIndexOf(store);
  const base = { storeId: store.id, label: store.label, kind: store.kind, scope: 'store' as const };
  if (ownIndex(store)) {
    return {
      ...base,
      live: true,
      syncedAt: null,
      items: (await index.getFolder(store.id, '/'))?.totalItems ?? 0,
      walking: null,
      queued: false,
      error: null,
      unreadable: { items: 0, tags: 0 },
      tags: null,
      lastWalk: null,
    };
  }
  const record = await index.syncRecord(store.id);
  // Folder counts are rebuilt with every walk; the root's is the store's.
  const rootItems = record?.synced_at ? ((await index.getFolder(store.id, '/'))?.totalItems ?? 0) : 0;
  return syncedStatus(store, record, rootItems);
}

/**
 * inventoryStatusOf for many stores at once: the synced stores' records and root counts in one
 * query (every page's header shows every store the caller may see), in the order given.
 */
export async function inventoryStatusesOf(stores: readonly SecretStore[]): Promise<InventoryStatus[]> {
  const synced = stores.filter((store) => !ownIndex(store));
  if (synced.length === 0) return Promise.all(stores.map((store) => inventoryStatusOf(store)));
  // The inventory is asked for once: each ask reads the environment to find it.
  const db = await inventoryDb();
  const known = await db.index.syncRecordsWithRootItems(synced.map((s) => s.id));
  return Promise.all(
    stores.map((store) => {
      if (ownIndex(store)) return inventoryStatusOf(store);
      const found = known.get(store.id);
      return syncedStatus(store, found?.record ?? null, found?.record.synced_at ? (found.rootItems ?? 0) : 0, db);
    }),
  );
}

/** The status of a store the background sync fills, from its sync record and root count. */
async function syncedStatus(store: SecretStore, record: InventorySyncRecord | null, items: number, db?: InventoryDb): Promise<InventoryStatus> {
  const live = inventorySync()?.progress(store.id) ?? null;
  return {
    storeId: store.id,
    label: store.label,
    kind: store.kind,
    scope: 'store',
    live: false,
    syncedAt: record?.synced_at ?? null,
    items,
    walking: live?.walk ? { ...live.walk, retrying: live.walk.retrying && { ...live.walk.retrying } } : null,
    queued: live?.queued ?? false,
    error: record?.error_code
      ? { code: record.error_code, message: record.error_message ?? '', at: record.error_at ?? '', ...(Number(record.error_partial) === 1 ? { partial: true as const } : {}) }
      : null,
    unreadable: { items: record?.unreadable_items ?? 0, tags: record?.unreadable_tags ?? 0 },
    tags: store.kind === 'ssm' && record?.synced_at ? { pending: await (db ?? (await inventoryDb())).tagsPending(store.id), running: live?.tags.running ?? false } : null,
    lastWalk: record?.synced_at
      ? { durationMs: record.duration_ms, pages: record.pages, calls: JSON.parse(record.calls) as Record<string, number>, throttled: record.throttled }
      : null,
  };
}

/** Whether pages can be served from the store's inventory (the built-in store always can). */
export function hasInventory(status: InventoryStatus): boolean {
  return status.live || status.syncedAt !== null;
}
