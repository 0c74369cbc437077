import 'server-only';
import type { Principal } from '@/lib/auth/principal';
import type { FreshnessOverview, FreshnessPage, FreshnessQuery } from '@/lib/freshness/types';

// The data access layer for freshness: every figure cut to the caller's grants (list permission),
// read from the inventory so it answers at once at 100,000 items. CONTRACT STUB: implemented by the
// freshness engine work; callers (overview page, /api/v1/freshness, report, metrics) use only this.

/** Counts by status and an age histogram per store, and the worst items first. */
export async function getFreshnessOverview(principal: Principal, options: { worstLimit?: number; now?: Date } = {}): Promise<FreshnessOverview> {
  void principal;
  void options;
  throw new Error('getFreshnessOverview: not implemented yet');
}

/** Items by status (worst first, then by name), keyset-paged; for the API, the report and filters. */
export async function listFreshness(principal: Principal, query: FreshnessQuery, now?: Date): Promise<FreshnessPage> {
  void principal;
  void query;
  void now;
  throw new Error('listFreshness: not implemented yet');
}
