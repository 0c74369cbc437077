import { listFreshness } from '@/lib/data/freshness';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { freshnessRowFields } from '@/lib/report/report-format';
import { principalFromRequest } from '@/lib/session';
import { describeFreshnessProblems, parseFreshnessFilters } from '@/lib/validations/freshness';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/freshness?store=prod-secrets&status=overdue,rotation-failing&cursor=…&limit=100: items
 * by freshness status, worst first, keyset-paged, from the inventory and cut to the caller's grants.
 * `store` may repeat or be a comma list (every store the caller may see when absent).
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const filters = parseFreshnessFilters(new URL(request.url).searchParams);
    if (!filters.ok) return jsonError(400, describeFreshnessProblems(filters.problems), { fields: [...new Set(filters.problems.map((p) => p.field))] });
    const { stores, statuses, cursor, limit } = filters.value;
    const now = new Date();
    const page = await listFreshness(
      principal,
      { ...(stores.length ? { storeIds: stores } : {}), ...(statuses.length ? { statuses } : {}), ...(cursor ? { cursor } : {}), limit },
      now,
    );
    return json({ at: now.toISOString(), items: page.items.map(freshnessRowFields), nextCursor: page.nextCursor });
  } catch (error) {
    return errorResponse(error);
  }
}
