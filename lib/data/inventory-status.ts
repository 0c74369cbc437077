import 'server-only';
import { canListSubtree, listableNamePattern, listableNameRanges } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { inventoryDb, inventorySync } from '@/lib/inventory/inventory';
import type { InventoryIndex } from '@/lib/inventory/inventory-index';
import type { SecretStore } from '@/lib/stores/types';
import type { InventoryStatus } from './inventory-types';

// Where a store's inventory lives and how fresh it is. The built-in store is its own inventory;
// the AWS stores share one (DATA_DIR/inventory.db or PostgreSQL's "inventory" schema), filled by
// the background sync.

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
  const live = inventorySync()?.progress(store.id) ?? null;
  // Folder counts are rebuilt with every walk; the root's is the store's.
  const items = record?.synced_at ? ((await index.getFolder(store.id, '/'))?.totalItems ?? 0) : 0;
  return {
    ...base,
    live: false,
    syncedAt: record?.synced_at ?? null,
    items,
    walking: live?.walk ? { ...live.walk, retrying: live.walk.retrying && { ...live.walk.retrying } } : null,
    queued: live?.queued ?? false,
    error: record?.error_code ? { code: record.error_code, message: record.error_message ?? '', at: record.error_at ?? '' } : null,
    unreadable: { items: record?.unreadable_items ?? 0, tags: record?.unreadable_tags ?? 0 },
    tags: store.kind === 'ssm' && record?.synced_at ? { pending: await (await inventoryDb()).tagsPending(store.id), running: live?.tags.running ?? false } : null,
    lastWalk: record?.synced_at
      ? { durationMs: record.duration_ms, pages: record.pages, calls: JSON.parse(record.calls) as Record<string, number>, throttled: record.throttled }
      : null,
  };
}

/**
 * A status cut for a caller whose grants do not cover the whole store: `items` becomes their own
 * count, and every figure of the walk (which counts the whole store) is left out. What the UI needs
 * to follow a sync stays: when, whether one runs or is queued, why the last one failed (the message
 * names the call and the cause, never an item). A new object.
 */
export function statusForGrants(status: InventoryStatus, ownItems: number): InventoryStatus {
  return {
    ...status,
    scope: 'grants',
    items: ownItems,
    walking: status.walking && { ...status.walking, items: null, pages: null, expectedItems: null, throttled: null },
    unreadable: null,
    tags: status.tags && { pending: null, running: status.tags.running },
    lastWalk: null,
  };
}

/**
 * The store's status as the caller may see it: the whole store's figures only when their grants
 * cover the whole store; else their own item count (the names their grants list, as a recursive
 * listing from "/" returns them) and none of the walk's figures.
 */
export async function inventoryStatusFor(principal: Principal, store: SecretStore, now = new Date()): Promise<InventoryStatus> {
  const status = await inventoryStatusOf(store);
  if (canListSubtree(principal, store.id, '/')) return status;
  const pattern = listableNamePattern(principal, store.id);
  if (pattern === false || pattern === null || !hasInventory(status)) return statusForGrants(status, 0);
  // Counted over the grants' name ranges (the freshness overview's own count of what the caller
  // may see): every page's header asks, and a regular expression over the whole store would cost
  // tens of milliseconds per 100,000 items where the ranges cost one or two.
  const { total } = await (await inventoryIndexOf(store)).freshnessSummary(store.id, pattern, now, listableNameRanges(principal, store.id));
  return statusForGrants(status, total);
}

/** Whether pages can be served from the store's inventory (the built-in store always can). */
export function hasInventory(status: InventoryStatus): boolean {
  return status.live || status.syncedAt !== null;
}
