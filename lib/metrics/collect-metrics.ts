import 'server-only';
import { operatorAuditorPrincipal, operatorPrincipal } from '@/lib/auth/operator-principal';
import { getFindingSummary } from '@/lib/data/findings';
import { FINDING_STATUSES } from '@/lib/findings/types';
import { inventoryStatusOf } from '@/lib/inventory/store-status';
import { getFreshnessOverview, listFreshness } from '@/lib/data/freshness';
import { ROWS_PAGE_SIZE } from '@/lib/report/freshness-rows';
import { getStores } from '@/lib/stores/registry';
import type { FindingMetric, ItemAgeMetric, MetricsData, StoreMetrics } from './metrics-data';

// One scrape's figures, read from the inventory (never from AWS): counts per store and status, each
// store's sync age and failure, and the worst items' ages up to the cap. Every store, every path:
// /metrics is for the operator's monitoring, behind METRICS_TOKEN, which no dashboard principal can
// present (see app/metrics/route.ts); the store-wide status here is never a caller's.

const ACTOR = 'metrics';

export async function collectMetrics(maxItemSeries: number, now = new Date()): Promise<MetricsData> {
  const principal = operatorPrincipal(ACTOR);
  const [overview, stores, findingSummary] = await Promise.all([
    getFreshnessOverview(principal, { worstLimit: 0, now }),
    getStores(),
    // Findings are seen with view-audit, which the listing operator lacks: an auditor of everything, used for this read only.
    getFindingSummary(operatorAuditorPrincipal(ACTOR), undefined, now),
  ]);
  const summaries = new Map(overview.stores.map((s) => [s.storeId, s]));

  const storeMetrics: StoreMetrics[] = [];
  for (const store of stores) {
    const status = await inventoryStatusOf(store);
    const summary = summaries.get(store.id);
    storeMetrics.push({
      storeId: store.id,
      pending: !summary || summary.pending,
      counts: summary?.counts ?? { 'rotation-failing': 0, overdue: 0, 'never-rotated': 0, 'due-soon': 0, fresh: 0 },
      syncAgeSeconds: status.live ? 0 : status.syncedAt ? Math.max(0, (now.getTime() - Date.parse(status.syncedAt)) / 1000) : null,
      // A walk refused under some prefixes only completed: not a failure, but said on its own.
      syncError: status.error !== null && !status.error.partial,
      syncRefused: status.error?.partial === true,
    });
  }

  const items: ItemAgeMetric[] = [];
  let truncated = false;
  if (maxItemSeries > 0) {
    // Worst first, page by page, asking only for what is still missing; a next page beyond the cap
    // means items were left out.
    let cursor: string | undefined;
    for (;;) {
      const limit = Math.min(maxItemSeries - items.length, ROWS_PAGE_SIZE);
      const page = await listFreshness(principal, { limit, ...(cursor ? { cursor } : {}) }, now);
      items.push(...page.items.map((row) => ({ storeId: row.storeId, name: row.name, status: row.status, ageDays: row.ageDays })));
      if (!page.nextCursor || page.nextCursor === cursor || page.items.length === 0) break;
      if (items.length >= maxItemSeries) {
        truncated = true;
        break;
      }
      cursor = page.nextCursor;
    }
  } else {
    truncated = overview.stores.some((s) => s.total > 0);
  }
  const findings: FindingMetric[] | null =
    findingSummary.evaluatedAt === null
      ? null
      : findingSummary.byControl.flatMap((c) => FINDING_STATUSES.map((status) => ({ control: c.control, severity: c.severity, status, count: c[status] })));
  return { stores: storeMetrics, items, truncated, findings };
}
