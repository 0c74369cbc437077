// Freshness: how current each secret is, by the CONFIG_FILE `freshness:` policies (longest matching
// path prefix wins; default maxAge 90 days, warnBefore 14 days) together with what AWS says
// (Secrets Manager: NextRotationDate passed, a rotation left AWSPENDING behind; Parameter Store
// policies: Expiration, ExpirationNotification, NoChangeNotification). Metadata only.

/** Worst first: the order of every list, chart and filter. */
export const FRESHNESS_STATUSES = ['rotation-failing', 'overdue', 'never-rotated', 'due-soon', 'fresh'] as const;
export type FreshnessStatus = (typeof FRESHNESS_STATUSES)[number];

export const FRESHNESS_LABELS: Record<FreshnessStatus, string> = {
  'rotation-failing': 'Rotation failing',
  overdue: 'Overdue',
  'never-rotated': 'Never rotated',
  'due-soon': 'Due soon',
  fresh: 'Fresh',
};

export interface FreshnessPolicy {
  /** Path prefix the policy covers ("/" for everything); the longest matching prefix wins. */
  path: string;
  /** Only these stores (all when absent). */
  stores?: string[];
  maxAgeDays: number;
  warnBeforeDays: number;
}

/** One item's freshness as pages, the API, the report and metrics show it. */
export interface ItemFreshness {
  status: FreshnessStatus;
  /** One sentence a person reads: why this status ("Last changed 120 days ago; /prod/ allows 90 days."). */
  reason: string;
  /** When the item is (or was) due: the earliest of age limit, NextRotationDate, SSM Expiration / NoChangeNotification (ISO); null when nothing makes it due. */
  dueAt: string | null;
  /** From when it counts as due soon (ISO). */
  warnAt: string | null;
  /** The policy that applied. */
  policy: FreshnessPolicy;
}

/** One row of the overview's worst list, /api/v1/freshness, the report and metrics. */
export interface FreshnessRow {
  storeId: string;
  name: string;
  kind: string;
  status: FreshnessStatus;
  reason: string;
  dueAt: string | null;
  lastChangedAt: string;
  /** Whole days since the last change (or rotation). */
  ageDays: number;
  /** The item's `owner` tag, else its `team` tag; null when it has neither. */
  owner: string | null;
  /** Link to the item page. */
  href: string;
}

export interface AgeBucket {
  /** e.g. "< 30 d", "30–90 d", "90–180 d", "180–365 d", "> 1 y" */
  label: string;
  minDays: number;
  /** Exclusive; null for the last bucket. */
  maxDays: number | null;
  count: number;
}

export interface StoreFreshnessSummary {
  storeId: string;
  label: string;
  kind: string;
  /** The store has no inventory yet (first sync under way): no counts. */
  pending: boolean;
  counts: Record<FreshnessStatus, number>;
  total: number;
  ages: AgeBucket[];
}

export interface FreshnessOverview {
  /** ISO time the figures were computed for. */
  at: string;
  stores: StoreFreshnessSummary[];
  /** Worst items first across the caller's stores (rotation failing, then most overdue, …). */
  worst: FreshnessRow[];
}

export interface FreshnessQuery {
  /** Only these stores (all the caller may see when absent). */
  storeIds?: string[];
  /** Only these statuses (all when absent). */
  statuses?: FreshnessStatus[];
  /** Opaque keyset cursor from the previous page. */
  cursor?: string;
  /** 1 to 1000. */
  limit: number;
}

export interface FreshnessPage {
  items: FreshnessRow[];
  nextCursor: string | null;
}
