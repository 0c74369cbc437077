import 'server-only';
import { sql } from 'kysely';
import { globMatchesName } from '@/lib/auth/path-glob';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';
import { appDb } from '@/lib/db/app-db';
import { inventoryIndexOf } from '@/lib/inventory/store-status';
import { itemHref } from '@/lib/links';
import { getStore } from '@/lib/stores/registry';
import { parseAuditFilters } from '@/lib/validations/audit-filters';
import type { ConditionSubject } from '../messages';
import { absoluteUrl, DAY_MS, ownerAndTeam, selectsOwner, selectsStore, type Condition, type ConditionRule } from './common';

// rotation-failed: a rotation started from the dashboard that failed within the last day: the
// audit log's "rotate" entries (lib/secrets/write-new-value.ts writes one per attempt, outcome
// success or failure, target "store:name"). An item's latest rotation decides: a later success
// resolves it. A rotation handed to the secret's own function (via RotateSecret) that the function
// then failed is told by CloudTrail (RotationFailed, RotationAbandoned after the start), as the
// item page's rotation state reads it. The log's entries of the day are found by seq (appends are
// in time order), so the walk never reads further back than a day.

/** How far back a failed rotation counts. */
export const ROTATION_FAILED_WINDOW_MS = DAY_MS;
const FAILED_IN_AWS = 'RotationFailed,RotationAbandoned';

interface RotateEntry {
  seq: number;
  at: string;
  target: string;
  outcome: string;
  details: string;
}

type AppDb = Awaited<ReturnType<typeof appDb>>;

/** A seq from which on every entry was appended at or after `since` (a binary search over the primary key), or null when none was. */
async function firstSeqSince(db: AppDb, since: string): Promise<number | null> {
  const bounds = await db.selectFrom('audit_log').select([sql<number | null>`min(seq)`.as('lo'), sql<number | null>`max(seq)`.as('hi')]).executeTakeFirst();
  if (!bounds || bounds.lo === null || bounds.hi === null) return null;
  const atOrAfter = async (seq: number) => (await db.selectFrom('audit_log').select(['seq', 'at']).where('seq', '>=', seq).orderBy('seq').limit(1).executeTakeFirst())!;
  let lo = Number(bounds.lo);
  let hi = Number(bounds.hi);
  if ((await atOrAfter(hi)).at < since) return null;
  // Invariant: the entry at or after hi is recent enough; every entry before lo is not.
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    const row = await atOrAfter(mid);
    if (row.at >= since) hi = mid;
    else lo = Number(row.seq) + 1;
  }
  return lo;
}

function detailsOf(entry: RotateEntry): Record<string, unknown> {
  try {
    return JSON.parse(entry.details) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** A failure CloudTrail recorded for the item's rotation function after `after`, or null. */
async function failedInAws(storeId: string, name: string, after: string): Promise<{ event: string } | null> {
  const filters = parseAuditFilters({ store: storeId, item: name, event: FAILED_IN_AWS, from: after });
  if (!filters.ok) return null;
  const page = await (await auditEventIndex()).queries.timeline(filters.value, FULL_SCOPE, { limit: 1 });
  const entry = page.entries[0];
  return entry ? { event: entry.eventName ?? 'RotationFailed' } : null;
}

function selectsName(rule: ConditionRule, name: string): boolean {
  const paths = rule.selector?.paths;
  return !paths || paths.some((glob) => globMatchesName(glob, name));
}

export const rotationFailedCondition: Condition = async (rule, { now }) => {
  const since = new Date(now.getTime() - ROTATION_FAILED_WINDOW_MS).toISOString();
  const db = await appDb();
  const from = await firstSeqSince(db, since);
  if (from === null) return [];
  const entries = (await db
    .selectFrom('audit_log')
    .select(['seq', 'at', 'target', 'outcome', 'details'])
    .where('seq', '>=', from)
    .where('action', '=', 'rotate')
    .where('at', '<=', now.toISOString())
    .orderBy('seq')
    .execute()) as RotateEntry[];
  // The latest rotation of each item (later entries replace earlier ones).
  const latest = new Map<string, RotateEntry>();
  for (const entry of entries) latest.set(entry.target, entry);

  const subjects: ConditionSubject[] = [];
  for (const entry of latest.values()) {
    const split = entry.target.indexOf(':');
    if (split <= 0) continue;
    const storeId = entry.target.slice(0, split);
    const name = entry.target.slice(split + 1);
    if (!selectsStore(rule, storeId) || !selectsName(rule, name)) continue;
    const details = detailsOf(entry);
    let status: string | null = null;
    if (entry.outcome === 'failure') status = `rotation failed (${typeof details.error === 'string' ? details.error : 'error'})`;
    else if (entry.outcome === 'success' && details.via === 'RotateSecret') {
      const aws = await failedInAws(storeId, name, entry.at).catch(() => null);
      if (aws) status = `rotation function failed (${aws.event})`;
    }
    if (status === null) continue;
    const store = await getStore(storeId);
    const item = store ? await (await inventoryIndexOf(store)).getItem(storeId, name, now) : null;
    const who = item ? ownerAndTeam(item.tags) : { owner: null, team: null };
    if (!selectsOwner(rule, who)) continue;
    subjects.push({ storeId, name, url: absoluteUrl(itemHref(storeId, name)), status, ...who });
  }
  return subjects;
};
