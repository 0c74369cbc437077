import 'server-only';
import { globMatchesName } from '@/lib/auth/path-glob';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { NEW_READER_LOOKBACK_DAYS, DEFAULT_NEW_READER_DAYS } from '@/lib/cloudtrail/event-queries';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from '@/lib/inventory/store-status';
import { ReadsByName, summariseReads } from '@/lib/findings/evaluate-store';
import type { IndexedItem } from '@/lib/inventory/inventory-index';
import { itemHref } from '@/lib/links';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, DAY_MS, ownerAndTeam, pathScopeOf, selectsOwner, storesOf, type Condition } from './common';

// new-reader: principals whose first successful read of an item lies within the rule's
// newReaderDays (default 7) and who had not read it in the 90 days before: the findings' grouped
// reads of a store (EventQueries.readsOfStore, folder reads spread to the items below by the
// findings' ReadsByName, summariseReads deciding who is new), so the Access panel, the findings
// and the alerts agree. Only items with a read inside the window are looked at, never every item.
// A store whose index does not reach back the whole look-back raises nothing (nobody is known new).

/** Items per page when a new reader read a whole folder. */
const FOLDER_PAGE = 1000;
const BATCH = 500;

export const newReaderCondition: Condition = async (rule, { now }) => {
  const days = rule.newReaderDays ?? DEFAULT_NEW_READER_DAYS;
  const windowStart = now.getTime() - days * DAY_MS;
  const from = new Date(windowStart - NEW_READER_LOOKBACK_DAYS * DAY_MS).toISOString();
  const scope = pathScopeOf(rule);
  const paths = rule.selector?.paths;
  const events = (await auditEventIndex()).queries;
  const subjects: ConditionSubject[] = [];

  for (const store of await storesOf(rule)) {
    // CloudTrail records nothing of the built-in store.
    if (store.kind === 'local') continue;
    const coverage = await events.storeCoverage(store.id);
    if (coverage === null || coverage > from) continue;
    if (!hasInventory(await inventoryStatusOf(store))) continue;
    const reads = await events.readsOfStore(store.id, from);
    const recent = reads.filter((r) => r.principal !== null && Date.parse(r.firstAt) >= windowStart);
    if (recent.length === 0) continue;
    const byName = new ReadsByName(reads);
    const index = await inventoryIndexOf(store);

    // The items a recent first read reaches: the item itself, or those below a folder read.
    const seen = new Set<string>();
    const consider = (item: IndexedItem) => {
      if (seen.has(item.name)) return;
      seen.add(item.name);
      const who = ownerAndTeam(item.tags);
      if (!selectsOwner(rule, who)) return;
      for (const reader of summariseReads(byName.of(item.name), windowStart).newReaders) {
        subjects.push({
          storeId: store.id,
          name: item.name,
          url: absoluteUrl(itemHref(store.id, item.name)),
          status: `first read ${reader.firstReadAt}`,
          principal: reader.principal,
          ...who,
        });
      }
    };
    const names = [...new Set(recent.filter((r) => !r.itemName.endsWith('/')).map((r) => r.itemName))].filter((n) => !paths || paths.some((glob) => globMatchesName(glob, n)));
    for (let i = 0; i < names.length; i += BATCH) for await (const batch of index.itemsNamed(store.id, names.slice(i, i + BATCH), now)) batch.forEach(consider);
    const folders = new Map<string, boolean>();
    for (const r of recent) if (r.itemName.endsWith('/')) folders.set(r.itemName, (folders.get(r.itemName) ?? false) || r.recursive);
    for (const [folder, recursive] of folders) {
      let cursor: string | undefined;
      do {
        const page = await index.folderPage({ storeId: store.id, folder, recursive, namePattern: scope.pattern, limit: FOLDER_PAGE, cursor, now });
        page.items.forEach(consider);
        cursor = page.nextCursor;
      } while (cursor);
    }
  }
  return subjects;
};
