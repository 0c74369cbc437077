import 'server-only';
import { listableNamePattern, listableNameRanges } from '@/lib/auth/authorize';
import type { NameRanges } from '@/lib/auth/path-glob';
import type { Principal } from '@/lib/auth/principal';
import { ageDays } from '@/lib/freshness/status';
import { FRESHNESS_STATUSES, type AgeBucket, type FreshnessOverview, type FreshnessPage, type FreshnessQuery, type FreshnessRow, type FreshnessStatus, type StoreFreshnessSummary } from '@/lib/freshness/types';
import { AGE_BUCKETS, compareWorst, decodeWorstCursor, encodeWorstCursor } from '@/lib/freshness/worst-order';
import { CursorError, type WorstItem } from '@/lib/inventory/inventory-index';
import { itemHref } from '@/lib/links';
import { getStores } from '@/lib/stores/registry';
import type { SecretStore } from '@/lib/stores/types';
import { hasInventory, inventoryIndexOf, inventoryStatusOf } from './inventory-status';

// The data access layer for freshness: every figure cut to the caller's grants (list permission,
// the same regular expression folder pages use), read from the inventory so it answers at once at
// 100,000 items. Callers: the overview page, /api/v1/freshness, the report and /metrics (the last
// two with lib/auth/operator-principal.ts, a viewer on every path of every store).

const DEFAULT_WORST = 20;
const MAX_LIMIT = 1000;
/** The overview's worst list is what needs attention: everything but fresh. */
const NEEDS_ATTENTION: FreshnessStatus[] = FRESHNESS_STATUSES.filter((s) => s !== 'fresh');

interface StoreScope {
  store: SecretStore;
  /** The caller's listable names in this store; null for all. */
  pattern: string | null;
  /** Where those names lie, so queries walk only there. */
  ranges: NameRanges | null;
}

/** The stores the caller may list anything in (optionally only some), with what they may list. */
async function scopesOf(principal: Principal, storeIds?: string[]): Promise<StoreScope[]> {
  const stores = await getStores();
  return stores.flatMap((store) => {
    if (storeIds && !storeIds.includes(store.id)) return [];
    const pattern = listableNamePattern(principal, store.id);
    if (pattern === false) return [];
    return [{ store, pattern, ranges: pattern === null ? null : listableNameRanges(principal, store.id) }];
  });
}

const zeroCounts = () => Object.fromEntries(FRESHNESS_STATUSES.map((s) => [s, 0])) as Record<FreshnessStatus, number>;
const zeroAges = (): AgeBucket[] => AGE_BUCKETS.map((b) => ({ ...b, count: 0 }));

async function summaryOf({ store, pattern, ranges }: StoreScope, now: Date): Promise<StoreFreshnessSummary> {
  const base = { storeId: store.id, label: store.label, kind: store.kind };
  if (!hasInventory(await inventoryStatusOf(store))) return { ...base, pending: true, counts: zeroCounts(), total: 0, ages: zeroAges() };
  const summary = await (await inventoryIndexOf(store)).freshnessSummary(store.id, pattern, now, ranges);
  return { ...base, pending: false, ...summary };
}

/** Counts by status and an age histogram per store, and the worst items that are not fresh first. */
export async function getFreshnessOverview(principal: Principal, options: { worstLimit?: number; now?: Date } = {}): Promise<FreshnessOverview> {
  const now = options.now ?? new Date();
  const scopes = await scopesOf(principal);
  const [stores, worst] = await Promise.all([
    Promise.all(scopes.map((scope) => summaryOf(scope, now))),
    worstAcross(scopes, { statuses: NEEDS_ATTENTION, limit: clampLimit(options.worstLimit ?? DEFAULT_WORST) }, now),
  ]);
  return { at: now.toISOString(), stores, worst: worst.items };
}

/** Items by status (worst first, then by store and name), keyset-paged; for the API, the report and filters. */
export async function listFreshness(principal: Principal, query: FreshnessQuery, now: Date = new Date()): Promise<FreshnessPage> {
  const scopes = await scopesOf(principal, query.storeIds);
  return worstAcross(scopes, { statuses: query.statuses, cursor: query.cursor, limit: clampLimit(query.limit) }, now);
}

function clampLimit(limit: number): number {
  return Math.max(1, Math.min(MAX_LIMIT, Math.floor(limit) || 1));
}

/** Every store's own worst page from one shared position, merged; the position of the last one shown is the next cursor. */
async function worstAcross(
  scopes: StoreScope[],
  query: { statuses?: FreshnessStatus[]; cursor?: string; limit: number },
  now: Date,
): Promise<FreshnessPage> {
  const position = query.cursor ? decodeWorstCursor(query.cursor) : null;
  if (query.cursor && !position) throw new CursorError();
  const at = position ? new Date(position.now) : now;
  const ready = (await Promise.all(scopes.map(async (scope) => ((hasInventory(await inventoryStatusOf(scope.store)) ? scope : null))))).filter(
    (s): s is StoreScope => s !== null,
  );
  const pages = await Promise.all(
    ready.map(async (scope) =>
      (await inventoryIndexOf(scope.store)).worstPage({
        storeId: scope.store.id,
        namePattern: scope.pattern,
        nameRanges: scope.ranges,
        statuses: query.statuses,
        cursor: query.cursor,
        limit: query.limit,
        now: at,
      }),
    ),
  );
  const merged = pages.flatMap((p) => p.items).sort((a, b) => compareWorst(a.worstKey, b.worstKey));
  const items = merged.slice(0, query.limit);
  const more = merged.length > query.limit || pages.some((p) => p.hasMore);
  const last = items.at(-1);
  return {
    items: items.map((item) => toFreshnessRow(item, at)),
    nextCursor: more && last ? encodeWorstCursor({ now: at.toISOString(), after: last.worstKey }) : null,
  };
}

function ownerOf(tags: Record<string, string>): string | null {
  return tags.owner || tags.team || null;
}

export function toFreshnessRow(item: WorstItem, now: Date): FreshnessRow {
  return {
    storeId: item.storeId,
    name: item.name,
    kind: item.kind,
    status: item.freshness.status,
    reason: item.freshness.reason,
    dueAt: item.freshness.dueAt,
    lastChangedAt: item.lastChangedAt,
    ageDays: ageDays(item.freshness.ageFrom, now),
    owner: ownerOf(item.tags),
    href: itemHref(item.storeId, item.name),
  };
}
