import 'server-only';
import { canListSubtree, listableNamePattern, listableNameRanges } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { cachedForGrantSet, inventoryVersion, listGrantSet } from '@/lib/inventory/folder-cache';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from '@/lib/inventory/store-status';
import type { SecretStore } from '@/lib/stores/types';
import type { InventoryStatus } from './inventory-types';

// A store's inventory status as a caller may see it (the whole store's figures come from
// lib/inventory/store-status.ts, re-exported here for the data layer's other modules).

export { hasInventory, inventoryIndexOf, inventoryStatusOf };

/** A refused walk's message names the refused name prefixes, which may lie outside the caller's grants: not shown to them. */
const REFUSED = 'AWS refused the inventory walk, in part or whole (AccessDeniedException). An admin of the whole store can see where.';

/**
 * A status cut for a caller whose grants do not cover the whole store: `items` becomes their own
 * count, and every figure of the walk (which counts the whole store) is left out. What the UI needs
 * to follow a sync stays: when, whether one runs or is queued, why the last one failed (the message
 * names the call and the cause, never an item; a partly refused walk's prefixes are left out). A new object.
 */
export function statusForGrants(status: InventoryStatus, ownItems: number): InventoryStatus {
  return {
    ...status,
    error: status.error && (status.error.code === 'access-denied' ? { ...status.error, message: REFUSED } : status.error),
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
  return statusCutFor(principal, store, await inventoryStatusOf(store), now);
}

/** inventoryStatusFor from the whole store's status already read (inventoryStatusOf). */
export async function statusCutFor(principal: Principal, store: SecretStore, status: InventoryStatus, now = new Date()): Promise<InventoryStatus> {
  if (canListSubtree(principal, store.id, '/')) return status;
  const pattern = listableNamePattern(principal, store.id);
  if (pattern === false || pattern === null || !hasInventory(status)) return statusForGrants(status, 0);
  // Counted over the grants' name ranges (the freshness overview's own count of what the caller
  // may see), and kept per inventory version and grant set (lib/inventory/folder-cache.ts): every
  // page's header asks, and even over the ranges a count walks every name the grants list.
  const index = await inventoryIndexOf(store);
  const key = { inventory: index, storeId: store.id, version: inventoryVersion(status), grantSet: listGrantSet(principal, store.id), what: 'count' };
  const total = await cachedForGrantSet(key, async () => (await index.freshnessSummary(store.id, pattern, now, listableNameRanges(principal, store.id))).total);
  return statusForGrants(status, total);
}
