import 'server-only';
import { auditableNamePattern, auditableNameRanges } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { NameScope } from '@/lib/db/name-scope';
import { getStores } from '@/lib/stores/registry';

// What a caller may audit, per store, as the SQL cut of the tables that name items (findings,
// alerts): the same grants as authorize()'s per-item check, so a page and the check agree.

/** One scope per store (of `storeIds`, when given) where the caller may audit anything. */
export async function auditScopes(principal: Principal, storeIds?: readonly string[]): Promise<NameScope[]> {
  const stores = await getStores();
  return stores.flatMap((store) => {
    if (storeIds && !storeIds.includes(store.id)) return [];
    const namePattern = auditableNamePattern(principal, store.id);
    return namePattern === false ? [] : [{ storeId: store.id, namePattern, ranges: namePattern === null ? null : auditableNameRanges(principal, store.id) }];
  });
}
