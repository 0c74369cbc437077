import 'server-only';
import { grantCoversStore } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { roleAllows } from '@/lib/auth/roles';
import type { InventoryStatus } from './status-types';

// What a folder page shows that depends on the inventory and on the caller's grants, but not on who
// the caller is: the folder tree, sub-folders and their counts, whether a folder shows at all, how
// many items the grants list. Every page view used to compute these again (for a path-limited viewer
// a count over the whole store, twice). Here they are computed once per store, inventory version and
// grant set, and kept in a bounded LRU. Deciding whether the caller may do a thing is not cached: the
// pages still ask lib/auth/authorize.ts on every request; an entry only holds what its grant set may
// see, and only that grant set finds it. Entries are shared between requests: read them, never change them.

/**
 * The version of a store's inventory, from the whole store's status (read on every page anyway). The
 * names it holds change only when a walk is swapped in (syncedAt grows with every swap, see
 * inventory-db.ts) or when the dashboard adds an item (the root's count grows; nothing removes an
 * item outside a swap), so either gives a new version. Rows' other columns may change under one
 * version: nothing kept here reads them.
 */
export function inventoryVersion(status: Pick<InventoryStatus, 'syncedAt' | 'items' | 'live'>): string {
  return `${status.live ? 'live' : (status.syncedAt ?? 'none')}|${status.items}`;
}

/**
 * The grant set that decides what a caller may list in one store: the globs of their grants that
 * allow listing and cover the store. Two callers with the same set see the same folders and counts
 * (can(…'list'…), canListSubtree and listableNamePattern read nothing else), whatever their roles.
 */
export function listGrantSet(principal: Principal, storeId: string): string {
  const globs = principal.grants.filter((g) => roleAllows(g.role, 'list') && grantCoversStore(g, storeId)).flatMap((g) => g.paths);
  return JSON.stringify([...new Set(globs)].sort());
}

interface Entry<V> {
  value: V;
  weight: number;
}

/** A map that keeps the most recently used entries within a count and a total weight. */
export class BoundedLru<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private weight = 0;

  constructor(
    readonly maxEntries: number,
    readonly maxWeight: number,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get totalWeight(): number {
    return this.weight;
  }

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    // Map keeps insertion order: moving the entry to the end makes it the most recent.
    this.entries.delete(key);
    this.entries.set(key, entry);
    return entry.value;
  }

  set(key: string, value: V, weight = 1): void {
    this.delete(key);
    if (weight > this.maxWeight) return;
    this.entries.set(key, { value, weight });
    this.weight += weight;
    for (const [oldest, entry] of this.entries) {
      if (this.entries.size <= this.maxEntries && this.weight <= this.maxWeight) break;
      this.entries.delete(oldest);
      this.weight -= entry.weight;
    }
  }

  /** Sets the weight of an entry already there, keeping its place (a value whose size is known only later). */
  reweigh(key: string, value: V, weight: number): void {
    const entry = this.entries.get(key);
    if (!entry || entry.value !== value) return;
    if (weight > this.maxWeight) {
      this.delete(key);
      return;
    }
    this.weight += weight - entry.weight;
    entry.weight = weight;
    if (this.weight > this.maxWeight) this.set(key, value, weight);
  }

  delete(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    this.entries.delete(key);
    this.weight -= entry.weight;
  }

  deleteWhere(drop: (key: string) => boolean): void {
    for (const key of [...this.entries.keys()]) if (drop(key)) this.delete(key);
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }
}

/** At most this many entries, and folder nodes in all (a tree of 1,000 sub-folders weighs 1,000). */
const MAX_ENTRIES = 5_000;
const MAX_WEIGHT = 200_000;

interface FolderCacheState {
  lru: BoundedLru<Promise<unknown>>;
  /** The newest version seen per store: entries of older ones are dropped when a newer one shows. */
  versions: Map<string, string>;
}

// Next.js bundles server code more than once (each route, instrumentation): one cache on globalThis for all copies.
const g = globalThis as unknown as { __folderCache?: FolderCacheState };

function state(): FolderCacheState {
  g.__folderCache ??= { lru: new BoundedLru(MAX_ENTRIES, MAX_WEIGHT), versions: new Map() };
  return g.__folderCache;
}

export interface GrantSetKey {
  /** The inventory read (its InventoryIndex): another database, or the same one opened again, starts afresh. */
  inventory: object;
  storeId: string;
  /** inventoryVersion of the store's status, read for this request. */
  version: string;
  /** listGrantSet of the caller for the store. */
  grantSet: string;
  /** What is kept, e.g. "count" or "folder:/prod/"; anything else the value depends on goes here too. */
  what: string;
}

const SEP = '\u0000';
const inventoryIds = new WeakMap<object, number>();
let lastInventoryId = 0;
function inventoryId(inventory: object): number {
  let id = inventoryIds.get(inventory);
  if (id === undefined) inventoryIds.set(inventory, (id = ++lastInventoryId));
  return id;
}

/**
 * The value for this store, inventory version, grant set and purpose: computed once (callers asking
 * meanwhile share the one computation), then kept. A failed computation is not kept.
 */
export function cachedForGrantSet<V>(key: GrantSetKey, compute: () => Promise<V>, weigh: (value: V) => number = () => 1): Promise<V> {
  const { lru, versions } = state();
  const store = `${inventoryId(key.inventory)}${SEP}${key.storeId}${SEP}`;
  if (versions.get(store) !== key.version) {
    versions.set(store, key.version);
    const current = store + key.version + SEP;
    lru.deleteWhere((k) => k.startsWith(store) && !k.startsWith(current));
  }
  const k = [store + key.version, key.grantSet, key.what].join(SEP);
  const known = lru.get(k) as Promise<V> | undefined;
  if (known) return known;
  const computing = compute();
  lru.set(k, computing, 1);
  computing.then(
    (value) => lru.reweigh(k, computing, Math.max(1, weigh(value))),
    () => lru.delete(k),
  );
  return computing;
}

/** Forgets everything (tests; a process that changes its configuration). */
export function clearFolderCache(): void {
  g.__folderCache = undefined;
}

/** Entries and total weight now (tests, diagnostics). */
export function folderCacheSize(): { entries: number; weight: number } {
  const { lru } = state();
  return { entries: lru.size, weight: lru.totalWeight };
}
