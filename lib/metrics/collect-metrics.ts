import 'server-only';
import { operatorPrincipal } from '@/lib/auth/operator-principal';
import { getFreshnessOverview } from '@/lib/data/freshness';
import { inventoryStatusOf } from '@/lib/data/inventory-status';
import { freshnessRows, ROWS_PAGE_SIZE } from '@/lib/report/freshness-rows';
import { getStores } from '@/lib/stores/registry';
import type { ItemAgeMetric, MetricsData, StoreMetrics } from './metrics-data';

// One scrape's figures, read from the inventory (never from AWS): counts per store and status, each
// store's sync age and failure, and the worst items' ages up to the cap. Every store, every path:
// /metrics is for the operator's monitoring, behind METRICS_TOKEN.

const ACTOR = 'metrics';

export async function collectMetrics(maxItemSeries: number, now = new Date()): Promise<MetricsData> {
  const principal = operatorPrincipal(ACTOR);
  const [overview, stores] = await Promise.all([getFreshnessOverview(principal, { worstLimit: 0, now }), getStores()]);
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
      syncError: status.error !== null,
    });
  }

  const items: ItemAgeMetric[] = [];
  let truncated = false;
  if (maxItemSeries > 0) {
    // One more than the cap tells whether anything was left out.
    for await (const row of freshnessRows(principal, {}, now, Math.min(maxItemSeries + 1, ROWS_PAGE_SIZE))) {
      if (items.length === maxItemSeries) {
        truncated = true;
        break;
      }
      items.push({ storeId: row.storeId, name: row.name, status: row.status, ageDays: row.ageDays });
    }
  } else {
    truncated = overview.stores.some((s) => s.total > 0);
  }
  return { stores: storeMetrics, items, truncated };
}
