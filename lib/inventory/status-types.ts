import type { StoreKind } from '@/lib/stores/types';
import type { WalkProgress } from './sync';

// A store's inventory status: how fresh it is, whether a walk runs, why the last one failed. The
// whole store's figures for the server's own decisions; lib/data/inventory-status.ts cuts them for
// a caller whose grants do not cover the store. Metadata only.

/**
 * A walk under way as a caller sees it. Its counts are the whole store's, so they are null for a
 * caller whose grants do not cover the whole store (see InventoryStatus.scope).
 */
export interface WalkStatus extends Omit<WalkProgress, 'items' | 'pages' | 'throttled'> {
  items: number | null;
  pages: number | null;
  throttled: number | null;
}

export interface InventoryStatus {
  storeId: string;
  label: string;
  kind: StoreKind;
  /** The built-in store is its own inventory: always current, never synced. */
  live: boolean;
  /**
   * What the counts are: 'store' when the caller's grants cover the whole store (every figure is
   * the store's); 'grants' when they do not: `items` counts only what the caller may list, and the
   * walk's store-wide figures (progress counts, unreadable items and tags, tags pending, the last
   * walk's pages and calls) are null.
   */
  scope: 'store' | 'grants';
  /** When the last complete walk was swapped in (ISO); null before the first. */
  syncedAt: string | null;
  /** Items in the inventory being served (only the caller's when scope is 'grants'). */
  items: number;
  /** A walk under way. */
  walking: WalkStatus | null;
  /** Another walk is queued behind the running one (Refresh while syncing). */
  queued: boolean;
  /**
   * The last walk failed: the inventory served is the one from syncedAt. The message names the call
   * and the cause, never an item, and the store's account and region where known. A Parameter
   * Store walk that AWS refused under some name prefixes is swapped in all the same, with this set
   * (code access-denied, `partial: true`): the message names those prefixes, whose items keep what
   * the inventory had; everything else is the walk of syncedAt.
   */
  error: { code: string; message: string; at: string; partial?: true } | null;
  /** Items left out (names the tree cannot show) and tags AWS refused to give; null when scope is 'grants'. */
  unreadable: { items: number; tags: number } | null;
  /** Parameter Store only: tags are fetched after the walk, one call each (pending is null when scope is 'grants'). */
  tags: { pending: number | null; running: boolean } | null;
  /** The last complete walk's figures; null before the first, and when scope is 'grants'. */
  lastWalk: { durationMs: number; pages: number; calls: Record<string, number>; throttled: number } | null;
}
