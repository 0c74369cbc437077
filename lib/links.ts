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

/**
 * A name or folder as a URL path. AWS names hold only URL-safe characters, but may have "." and ".."
 * levels, which a browser would resolve away before asking (so /a/../b would open /b). Such a level
 * is joined to its neighbour with an escaped "/" ("a%2F.."), which no browser resolves and the
 * route's decoding turns back into two levels of the same literal name.
 */
export function namePath(name: string): string {
  const levels = name.split('/').slice(1);
  const parts: string[] = [];
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    const dots = level === '.' || level === '..';
    if (dots && i + 1 < levels.length) levels[i + 1] = `${level}%2F${levels[i + 1]}`;
    else if (dots && parts.length > 0) parts.push(`${parts.pop()}%2F${level}`);
    else parts.push(level);
  }
  return parts.map((p) => `/${p}`).join('');
}

/** URL of a folder view. */
export function browseHref(storeId: string, folder: string, query: BrowseLinkQuery = {}): string {
  const params = new URLSearchParams();
  if (query.q) params.set('q', query.q);
  if (query.sort) params.set('sort', query.sort);
  if (query.dir) params.set('dir', query.dir);
  if (query.status?.length) params.set('status', query.status.join(','));
  if (query.after) params.set('after', query.after);
  const search = params.toString();
  return `/browse/${storeId}${folder === '/' ? '' : namePath(folder.slice(0, -1))}${search ? `?${search}` : ''}`;
}

export function itemHref(storeId: string, name: string): string {
  return `/items/${storeId}${namePath(name)}`;
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

/** The findings list's filters as the URL carries them (each a comma list; absent: any; status absent: open only). */
export interface FindingsLinkQuery {
  control?: readonly string[];
  severity?: readonly string[];
  store?: readonly string[];
  account?: readonly string[];
  owner?: readonly string[];
  status?: readonly string[];
  cursor?: string;
}

const FINDINGS_LINK_KEYS = ['control', 'severity', 'store', 'account', 'owner', 'status'] as const;

/** Query string of the findings filters ("" for none), shared by the page's links and its export links. */
export function findingsSearch(query: FindingsLinkQuery = {}, extra: Record<string, string> = {}): string {
  const params = new URLSearchParams();
  for (const key of FINDINGS_LINK_KEYS) if (query[key]?.length) params.set(key, query[key]!.join(','));
  if (query.cursor) params.set('cursor', query.cursor);
  for (const [key, value] of Object.entries(extra)) params.set(key, value);
  const search = params.toString().replace(/%2C/g, ',');
  return search ? `?${search}` : '';
}

/** URL of the findings page with these filters. */
export function findingsHref(query: FindingsLinkQuery = {}): string {
  return `/findings${findingsSearch(query)}`;
}
