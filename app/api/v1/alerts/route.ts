import { getAlertsView } from '@/lib/data/alerts';
import { json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { findingsErrorResponse } from '@/lib/http/findings-api';
import { principalFromRequest } from '@/lib/session';
import { parseAlertsPageFilters } from '@/lib/validations/alerts';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/alerts[?rule=…&channel=…&delivery=…]: what /alerts shows, as JSON and cut the same
 * way (lib/data/alerts.ts): rules and channels (ids and kinds) for auditors of everything, open and
 * recently resolved alerts, silences and the delivery log on what the caller may audit.
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const filters = parseAlertsPageFilters(new URL(request.url).searchParams);
    if (!filters.ok) return jsonError(400, filters.problems.map((p) => p.message).join('; '), { fields: [...new Set(filters.problems.map((p) => p.field))] });
    return json(await getAlertsView(principal, filters.value));
  } catch (error) {
    return findingsErrorResponse(error);
  }
}
