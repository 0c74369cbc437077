import 'server-only';
import { canListSubtree, listableNamePattern, listableNameRanges } from '@/lib/auth/authorize';
import { grantCoversStore } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { MAX_SEARCH_QUERY, normalizeSearchQuery, type InventoryIndex, type SearchHit, type SearchScope } from '@/lib/inventory/inventory-index';
import { getStores } from '@/lib/stores/registry';
import { browseHref, itemHref } from '@/lib/validations/browse';
import { folderVisible } from './browse';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from './inventory-status';
import type { SearchFolderResult, SearchItemResult, SearchResults } from './inventory-types';

// One search over every store the caller may see: names (substring, any case), descriptions and
// tag keys and values, name matches first, each result cut to the caller's grants in SQL.

const FOLDER_RESULTS = 5;

export async function searchEverything(principal: Principal, rawQuery: string, limit: number): Promise<SearchResults> {
  const query = normalizeSearchQuery(rawQuery);
  const truncated = rawQuery.replace(/\s+/g, ' ').trim().length > MAX_SEARCH_QUERY;
  const empty: SearchResults = { query, truncated, items: [], folders: [], pending: [] };
  if (!query) return empty;

  const stores = (await getStores()).filter((s) => principal.grants.some((g) => grantCoversStore(g, s.id)));
  const labels = new Map(stores.map((s) => [s.id, s.label]));
  // Stores sharing an index (the AWS ones share one inventory) are searched in one query.
  const byIndex = new Map<InventoryIndex, SearchScope[]>();
  for (const store of stores) {
    const pattern = listableNamePattern(principal, store.id);
    if (pattern === false) continue;
    if (!hasInventory(await inventoryStatusOf(store))) {
      empty.pending.push(store.id);
      continue;
    }
    const index = await inventoryIndexOf(store);
    // The ranges of names the grants allow, so the cut seeks them in the name index instead of matching every row.
    const nameRanges = pattern === null ? null : listableNameRanges(principal, store.id);
    byIndex.set(index, [...(byIndex.get(index) ?? []), { storeId: store.id, namePattern: pattern, nameRanges }]);
  }

  const hits: SearchHit[] = [];
  const folders: SearchFolderResult[] = [];
  for (const [index, scopes] of byIndex) {
    hits.push(...(await index.search(scopes, query, limit)));
    const candidates = await index.searchFolders(scopes.map((s) => s.storeId), query, FOLDER_RESULTS * 4);
    for (const folder of candidates) {
      if (!(await folderVisible(principal, index, folder.storeId, folder.path))) continue;
      folders.push({
        storeId: folder.storeId,
        storeLabel: labels.get(folder.storeId) ?? folder.storeId,
        path: folder.path,
        totalItems: canListSubtree(principal, folder.storeId, folder.path) ? folder.totalItems : null,
        href: browseHref(folder.storeId, folder.path),
      });
    }
  }
  // Name matches first across stores; the index already ordered each store's by closeness.
  const order = { name: 0, description: 1, tags: 2 } as const;
  const items: SearchItemResult[] = hits
    .map((hit, position) => ({ hit, position }))
    .sort((a, b) => order[a.hit.matchedIn] - order[b.hit.matchedIn] || a.position - b.position)
    .slice(0, limit)
    .map(({ hit }) => ({
      storeId: hit.storeId,
      storeLabel: labels.get(hit.storeId) ?? hit.storeId,
      name: hit.name,
      leaf: hit.leaf,
      folder: hit.folder,
      kind: hit.kind,
      description: hit.description,
      matchedIn: hit.matchedIn,
      status: hit.freshness.status,
      href: itemHref(hit.storeId, hit.name),
    }));
  return { ...empty, items, folders: folders.sort((a, b) => a.path.length - b.path.length).slice(0, FOLDER_RESULTS) };
}
