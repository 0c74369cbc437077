import 'server-only';
import { sql, type SqlBool } from 'kysely';
import { globMatchesName } from '@/lib/auth/path-glob';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { inventoryIndexOf } from '@/lib/inventory/store-status';
import { browseHref, itemHref } from '@/lib/links';
import { getStore } from '@/lib/stores/registry';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, MINUTE_MS, ownerAndTeam, selectsOwner, type Condition } from './common';

// access-denied: one principal refused on one item (or folder) at least deniedCount times within
// the last deniedWindowMinutes: one grouped query over ct_entries, walking the partial index of
// failed calls (error_code, event_time) for the window only. Clears as the window slides past.

export const DEFAULT_DENIED_COUNT = 5;
export const DEFAULT_DENIED_WINDOW_MINUTES = 60;
/** The error codes AWS answers a refused call with (IAM, resource policies, KMS inside the service). */
export const ACCESS_DENIED_CODES = ['AccessDenied', 'AccessDeniedException'] as const;

interface DeniedRow {
  store_id: string;
  item_name: string;
  principal: string | null;
  n: number;
}

export const accessDeniedCondition: Condition = async (rule, { now }) => {
  const threshold = rule.deniedCount ?? DEFAULT_DENIED_COUNT;
  const windowMinutes = rule.deniedWindowMinutes ?? DEFAULT_DENIED_WINDOW_MINUTES;
  const since = new Date(now.getTime() - windowMinutes * MINUTE_MS).toISOString();
  const stores = rule.selector?.stores;
  const index = await auditEventIndex();
  // "error_code IS NOT NULL" lets SQLite use the partial index the IN list alone may not imply.
  const { rows } = await sql<DeniedRow>`
    SELECT store_id, item_name, principal, count(*) AS n FROM ct_entries
    WHERE error_code IS NOT NULL AND error_code IN (${sql.join([...ACCESS_DENIED_CODES])}) AND event_time >= ${since} AND event_time <= ${now.toISOString()}
      AND store_id IS NOT NULL AND item_name IS NOT NULL
      ${stores ? sql<SqlBool>`AND store_id IN (${sql.join(stores)})` : sql``}
    GROUP BY store_id, item_name, principal
    HAVING count(*) >= ${threshold}
    ORDER BY store_id, item_name, principal`.execute(index.db);

  const paths = rule.selector?.paths;
  const found = rows.filter((r) => !paths || paths.some((glob) => globMatchesName(glob, r.item_name)));
  const needTags = Boolean(rule.selector?.owners || rule.selector?.teams);
  const subjects: ConditionSubject[] = [];
  for (const row of found) {
    const folder = row.item_name.endsWith('/');
    let who: { owner: string | null; team: string | null } = { owner: null, team: null };
    if (needTags && !folder) {
      // Tags only when the rule selects by them: refusals are few, one lookup each.
      const store = await getStore(row.store_id);
      const item = store ? await (await inventoryIndexOf(store)).getItem(row.store_id, row.item_name, now) : null;
      if (item) who = ownerAndTeam(item.tags);
    }
    if (!selectsOwner(rule, who)) continue;
    const n = Number(row.n);
    subjects.push({
      storeId: row.store_id,
      name: row.item_name,
      url: absoluteUrl(folder ? browseHref(row.store_id, row.item_name) : itemHref(row.store_id, row.item_name)),
      status: `${n.toLocaleString('en-US')} refusals in ${windowMinutes} minutes`,
      ...(row.principal !== null ? { principal: row.principal } : {}),
      ...who,
    });
  }
  return subjects;
};
