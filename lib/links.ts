// Addresses of folder and item pages, and the sort keys they take. Free of zod and of anything
// server-side, so client components link with it without pulling validation code into the browser.

export const SORT_KEYS = ['name', 'kind', 'version', 'changed', 'by'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface BrowseLinkQuery {
  q?: string;
  sort?: SortKey;
  dir?: 'asc' | 'desc';
  /** Freshness statuses (a comma list in the URL). */
  status?: readonly string[];
  after?: string;
}

/** URL of a folder view. Names only hold URL-safe characters, so no escaping is needed. */
export function browseHref(storeId: string, folder: string, query: BrowseLinkQuery = {}): string {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.sort) params.set('sort', query.sort);
  if (query.dir) params.set('dir', query.dir);
  if (query.status?.length) params.set('status', query.status.join(','));
  if (query.after) params.set('after', query.after);
  const search = params.toString();
  return `/browse/${storeId}${folder === '/' ? '' : folder.slice(0, -1)}${search ? `?${search}` : ''}`;
}

export function itemHref(storeId: string, name: string): string {
  return `/items/${storeId}${name}`;
}

/** URL of the freshness list: items of the given stores (all when none) with the given statuses (all when none). */
export function freshnessHref(query: { store?: readonly string[]; status?: readonly string[]; cursor?: string } = {}): string {
  const params = new URLSearchParams();
  if (query.store?.length) params.set('store', query.store.join(','));
  if (query.status?.length) params.set('status', query.status.join(','));
  if (query.cursor) params.set('cursor', query.cursor);
  const search = params.toString().replace(/%2C/g, ',');
  return `/freshness${search ? `?${search}` : ''}`;
}
