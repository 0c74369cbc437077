import 'server-only';
import type { Principal } from '@/lib/auth/principal';
import { listFreshness } from '@/lib/data/freshness';
import type { FreshnessRow, FreshnessStatus } from '@/lib/freshness/types';

// Every freshness row a caller may see, worst first, one keyset page at a time (the report and
// /metrics read whole stores without holding them in memory at once).

export const ROWS_PAGE_SIZE = 1000;

export async function* freshnessRows(
  principal: Principal,
  filter: { storeIds?: string[]; statuses?: FreshnessStatus[] },
  now: Date,
  pageSize = ROWS_PAGE_SIZE,
): AsyncGenerator<FreshnessRow> {
  let cursor: string | undefined;
  for (;;) {
    const page = await listFreshness(
      principal,
      {
        ...(filter.storeIds?.length ? { storeIds: filter.storeIds } : {}),
        ...(filter.statuses?.length ? { statuses: filter.statuses } : {}),
        ...(cursor ? { cursor } : {}),
        limit: pageSize,
      },
      now,
    );
    yield* page.items;
    // A cursor that does not move on would read the same page forever.
    if (!page.nextCursor || page.nextCursor === cursor || page.items.length === 0) return;
    cursor = page.nextCursor;
  }
}
