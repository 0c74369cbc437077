import type { FreshnessStatus } from '@/lib/freshness/types';
import type { ControlId, FindingStatus, Severity } from '@/lib/findings/types';

// What /metrics reports, gathered from the inventory at scrape time and rendered by render-metrics.ts.

export interface StoreMetrics {
  storeId: string;
  /** No inventory yet (first sync): no counts are reported for it. */
  pending: boolean;
  counts: Record<FreshnessStatus, number>;
  /** Seconds since the last completed sync (0 for the built-in store); null before the first. */
  syncAgeSeconds: number | null;
  /** The last walk failed (the inventory served is older). */
  syncError: boolean;
  /** The last walk completed except under name prefixes AWS refused (their items keep what the inventory had). */
  syncRefused: boolean;
}

export interface ItemAgeMetric {
  storeId: string;
  name: string;
  status: FreshnessStatus;
  ageDays: number;
}

/** Findings of one control in one status, across every store. */
export interface FindingMetric {
  control: ControlId;
  severity: Severity;
  status: FindingStatus;
  count: number;
}

export interface MetricsData {
  stores: StoreMetrics[];
  /** Worst first, at most the configured cap. */
  items: ItemAgeMetric[];
  /** More items exist than the cap let through. */
  truncated: boolean;
  /** Per control and status; null (no series) before the first evaluation, when zeros would read as "nothing found". */
  findings?: FindingMetric[] | null;
}
