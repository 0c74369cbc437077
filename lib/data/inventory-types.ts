import type { FreshnessStatus } from '@/lib/freshness/types';
import type { StoreKind } from '@/lib/stores/types';

// The inventory's shapes as pages, API responses and client components see them: metadata only.

export type { InventoryStatus, WalkStatus } from '@/lib/inventory/status-types';

/** An item's freshness as tables and search results show it: the status and why. */
export interface RowFreshness {
  status: FreshnessStatus;
  reason: string;
}

export interface ItemRow {
  name: string;
  leaf: string;
  kind: string;
  version: string;
  lastChangedAt: string;
  lastChangedBy: string | null;
  freshness: RowFreshness;
}

export interface SearchItemResult {
  storeId: string;
  storeLabel: string;
  name: string;
  leaf: string;
  folder: string;
  kind: string;
  description: string | null;
  matchedIn: 'name' | 'description' | 'tags';
  /** The item's freshness status (the search box shows it as a small badge). */
  status: FreshnessStatus;
  href: string;
}

export interface SearchFolderResult {
  storeId: string;
  storeLabel: string;
  path: string;
  /** Items below the folder, when the caller may see all of them; else null. */
  totalItems: number | null;
  href: string;
}

export interface SearchResults {
  query: string;
  /** The query was cut to the longest searchable length. */
  truncated: boolean;
  items: SearchItemResult[];
  folders: SearchFolderResult[];
  /** Stores whose first sync has not finished, so they could not be searched yet. */
  pending: string[];
}
