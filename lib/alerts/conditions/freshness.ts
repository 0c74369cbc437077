import 'server-only';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from '@/lib/inventory/store-status';
import { FRESHNESS_LABELS, type FreshnessStatus } from '@/lib/freshness/types';
import { itemHref } from '@/lib/links';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, ownerAndTeam, pathScopeOf, selectsOwner, storesOf, type Condition } from './common';

// due-soon, overdue (with never-rotated: past its policy without a rotation) and rotation-failing,
// from the inventory's freshness columns as the Freshness page lists them: per store, worst first,
// one index walk per status (InventoryIndex.worstPage), so only the items in the status are read,
// never the whole store. Path globs cut in the same query; owner and team tags on the rows found.

/** Items per page of the walk: the 5,000 overdue of the benchmark are five pages per store. */
const PAGE = 1000;

function freshnessCondition(statuses: FreshnessStatus[]): Condition {
  return async (rule, { now }) => {
    const scope = pathScopeOf(rule);
    const subjects: ConditionSubject[] = [];
    for (const store of await storesOf(rule)) {
      // A store whose first sync has not finished has no statuses yet (sync-failing covers a failing one).
      if (!hasInventory(await inventoryStatusOf(store))) continue;
      const index = await inventoryIndexOf(store);
      let cursor: string | undefined;
      for (;;) {
        const page = await index.worstPage({ storeId: store.id, namePattern: scope.pattern, nameRanges: scope.ranges, statuses, limit: PAGE, now, cursor });
        for (const item of page.items) {
          const who = ownerAndTeam(item.tags);
          if (!selectsOwner(rule, who)) continue;
          subjects.push({
            storeId: store.id,
            name: item.name,
            url: absoluteUrl(itemHref(store.id, item.name)),
            status: FRESHNESS_LABELS[item.freshness.status].toLowerCase(),
            ...who,
          });
        }
        if (!page.hasMore || !page.nextCursor) break;
        cursor = page.nextCursor;
      }
    }
    return subjects;
  };
}

export const dueSoonCondition = freshnessCondition(['due-soon']);
export const overdueCondition = freshnessCondition(['overdue', 'never-rotated']);
export const rotationFailingCondition = freshnessCondition(['rotation-failing']);
