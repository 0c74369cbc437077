import { authorize } from '@/lib/auth/authorize';
import { listAuditFor } from '@/lib/data/audit';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** GET /api/v1/audit: the app's own audit log, cut to the paths the caller may audit. */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'view-audit');
    return json({ entries: await listAuditFor(principal) });
  } catch (error) {
    return errorResponse(error);
  }
}
