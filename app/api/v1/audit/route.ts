import { authorize, can, canEverywhere } from '@/lib/auth/authorize';
import { listAudit } from '@/lib/audit/audit-log';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';

export const dynamic = 'force-dynamic';

/** "local:/prod/x" -> { storeId, name } when the target is an item or folder of a store. */
function parseTarget(target: string): { storeId: string; name: string } | null {
  const match = /^([a-z0-9][a-z0-9-]{0,62}):(\/.*)$/.exec(target);
  return match ? { storeId: match[1]!, name: match[2]! } : null;
}

/** GET /api/v1/audit: the app's own audit log, cut to the paths the caller may audit. */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'view-audit');
    const entries = (await listAudit(500)).filter((entry) => {
      const target = parseTarget(entry.target);
      // Dashboard-wide entries (sign-ins, users, tokens) are for auditors of everything.
      if (!target) return canEverywhere(principal, 'view-audit');
      return target.name.endsWith('/')
        ? can(principal, 'view-audit', { storeId: target.storeId, folder: target.name })
        : can(principal, 'view-audit', { storeId: target.storeId, name: target.name });
    });
    return json({ entries });
  } catch (error) {
    return errorResponse(error);
  }
}
