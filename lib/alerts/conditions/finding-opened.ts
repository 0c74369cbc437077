import 'server-only';
import { inventoryIndexOf } from '@/lib/inventory/store-status';
import { findingsDb } from '@/lib/findings/findings';
import { severityRank, type FindingPosition, type FindingScope } from '@/lib/findings/findings-db';
import { SEVERITIES, type Severity } from '@/lib/findings/types';
import { itemHref } from '@/lib/links';
import type { ConditionSubject } from '../messages';
import type { AlertSeverity } from '../types';
import { absoluteUrl, ownerAndTeam, pathScopeOf, selectsOwner, storesOf, type Condition } from './common';

// finding-opened: open findings (raised, not resolved, not suppressed) at or above the rule's
// minSeverity, through the findings' own paged query (FindingsDb.page: severity first, cut to the
// rule's stores and path globs in SQL). One subject per item: an alert's key is the rule, the
// event and the item, so an item's open findings are one alert named by its controls, at the
// severity of the worst of them. The owner and team come from the item's tags in the inventory.

const PAGE = 1000;
const BATCH = 500;

/** The findings' severities in the alerts' words (the findings say "informational"). */
const TO_ALERT: Record<Severity, AlertSeverity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', informational: 'info' };
const FROM_ALERT: Record<AlertSeverity, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'informational' };

interface ItemFindings {
  storeId: string;
  name: string;
  controls: string[];
  worst: Severity;
}

export const findingOpenedCondition: Condition = async (rule, { now }) => {
  const scope = pathScopeOf(rule);
  const stores = await storesOf(rule);
  if (stores.length === 0) return [];
  const min = rule.selector?.minSeverity;
  const severities = min ? SEVERITIES.slice(0, severityRank(FROM_ALERT[min]) + 1) : undefined;
  const scopes: FindingScope[] = stores.map((s) => ({ storeId: s.id, namePattern: scope.pattern, ranges: scope.ranges }));
  const db = await findingsDb();

  const byItem = new Map<string, ItemFindings>();
  let after: FindingPosition | null = null;
  for (;;) {
    const rows = await db.page({ scopes, ...(severities ? { severities } : {}), statuses: ['open'], now }, PAGE, after);
    for (const f of rows) {
      const key = `${f.storeId}\n${f.itemName}`;
      const seen = byItem.get(key);
      // Pages come worst first: the first finding of an item is its worst.
      if (seen) seen.controls.push(f.control);
      else byItem.set(key, { storeId: f.storeId, name: f.itemName, controls: [f.control], worst: f.severity });
    }
    const last = rows.at(-1);
    if (rows.length < PAGE || !last) break;
    after = { rank: severityRank(last.severity), storeId: last.storeId, itemName: last.itemName, control: last.control };
  }

  const subjects: ConditionSubject[] = [];
  for (const store of stores) {
    const items = [...byItem.values()].filter((i) => i.storeId === store.id);
    if (items.length === 0) continue;
    const tags = new Map<string, Record<string, string>>();
    const index = await inventoryIndexOf(store);
    const names = items.map((i) => i.name);
    for (let i = 0; i < names.length; i += BATCH) for await (const batch of index.itemsNamed(store.id, names.slice(i, i + BATCH), now)) for (const item of batch) tags.set(item.name, item.tags);
    for (const item of items) {
      // A secret scheduled for deletion is not in the inventory: no tags, so no owner.
      const who = ownerAndTeam(tags.get(item.name) ?? {});
      if (!selectsOwner(rule, who)) continue;
      subjects.push({
        storeId: item.storeId,
        name: item.name,
        url: absoluteUrl(itemHref(item.storeId, item.name)),
        status: [...new Set(item.controls)].sort().join(', '),
        severity: TO_ALERT[item.worst],
        ...who,
      });
    }
  }
  return subjects;
};
