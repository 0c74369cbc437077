import { Gauge, Registry } from 'prom-client';
import { FINDING_STATUSES } from '@/lib/findings/types';
import { FRESHNESS_STATUSES } from '@/lib/freshness/types';
import type { MetricsData } from './metrics-data';

// The Prometheus text format of one scrape. A new registry per scrape (never prom-client's global
// one): gauges hold exactly what the inventory says now, and items that vanished leave no series.

export const METRIC_NAMES = {
  items: 'secrets_dashboard_items',
  syncAge: 'secrets_dashboard_inventory_sync_age_seconds',
  syncError: 'secrets_dashboard_inventory_sync_error',
  syncRefused: 'secrets_dashboard_inventory_sync_refused_prefixes',
  itemAge: 'secrets_dashboard_item_age_days',
  truncated: 'secrets_dashboard_item_series_truncated',
  findings: 'secrets_dashboard_findings',
} as const;

export async function renderMetrics(data: MetricsData): Promise<{ contentType: string; body: string }> {
  const registry = new Registry();
  const items = new Gauge({
    name: METRIC_NAMES.items,
    help: 'Items by store and freshness status, from the inventory.',
    labelNames: ['store', 'status'] as const,
    registers: [registry],
  });
  const syncAge = new Gauge({
    name: METRIC_NAMES.syncAge,
    help: 'Seconds since the last completed inventory sync of the store (0 for the built-in store; +Inf before the first).',
    labelNames: ['store'] as const,
    registers: [registry],
  });
  const syncError = new Gauge({
    name: METRIC_NAMES.syncError,
    help: '1 when the last inventory walk of the store failed (the last good inventory is served).',
    labelNames: ['store'] as const,
    registers: [registry],
  });
  const syncRefused = new Gauge({
    name: METRIC_NAMES.syncRefused,
    help: '1 when the last inventory walk of the store completed except under name prefixes AWS refused (their items keep what the inventory had).',
    labelNames: ['store'] as const,
    registers: [registry],
  });
  const itemAge = new Gauge({
    name: METRIC_NAMES.itemAge,
    help: 'Days since the item last changed or rotated, worst items first, capped by METRICS_MAX_ITEM_SERIES.',
    labelNames: ['store', 'name', 'status'] as const,
    registers: [registry],
  });
  const truncated = new Gauge({
    name: METRIC_NAMES.truncated,
    help: `1 when more items exist than METRICS_MAX_ITEM_SERIES lets into ${METRIC_NAMES.itemAge}.`,
    registers: [registry],
  });

  const findings = new Gauge({
    name: METRIC_NAMES.findings,
    help: 'Findings by control, severity and status (open, suppressed, resolved), across every store.',
    labelNames: ['control', 'severity', 'status'] as const,
    registers: [registry],
  });

  for (const store of data.stores) {
    if (!store.pending) for (const status of FRESHNESS_STATUSES) items.set({ store: store.storeId, status }, store.counts[status] ?? 0);
    syncAge.set({ store: store.storeId }, store.syncAgeSeconds ?? Number.POSITIVE_INFINITY);
    syncError.set({ store: store.storeId }, store.syncError ? 1 : 0);
    syncRefused.set({ store: store.storeId }, store.syncRefused ? 1 : 0);
  }
  for (const item of data.items) itemAge.set({ store: item.storeId, name: item.name, status: item.status }, item.ageDays);
  truncated.set(data.truncated ? 1 : 0);
  for (const f of data.findings ?? []) if (FINDING_STATUSES.includes(f.status)) findings.set({ control: f.control, severity: f.severity, status: f.status }, f.count);

  return { contentType: registry.contentType, body: await registry.metrics() };
}
