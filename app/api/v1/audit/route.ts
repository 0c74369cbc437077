import { authorize } from '@/lib/auth/authorize';
import { timelinePage, TimelineCursorError } from '@/lib/data/audit-timeline';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { isAuditCursorError } from '@/lib/cloudtrail/event-queries';
import { principalFromRequest } from '@/lib/session';
import { auditLimitSchema, parseAuditRequest } from '@/lib/validations/audit-request';

export const dynamic = 'force-dynamic';

/**
 * GET /api/v1/audit?actor=…&event=GetSecretValue&access=read&item=/prod/db/password&from=2026-01-01&cursor=…&limit=50:
 * one page of the audit timeline (CloudTrail and the dashboard's own log, newest first), cut to the
 * paths the caller may audit. `nextCursor` fetches the next page.
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'view-audit');
    const query = parseAuditRequest(new URL(request.url).searchParams, { limit: auditLimitSchema });
    if (!query.ok) return jsonError(400, query.message);
    const { cursor, bucket: _bucket, ...filters } = query.filters;
    const page = await timelinePage(principal, filters, { cursor, limit: query.extra.limit, withRaw: true });
    return json(page);
  } catch (error) {
    if (error instanceof TimelineCursorError || isAuditCursorError(error)) return jsonError(400, error.message);
    return errorResponse(error);
  }
}
