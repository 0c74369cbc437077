import { z } from 'zod';
import { authorize } from '@/lib/auth/authorize';
import { createSuppression, listSuppressions } from '@/lib/data/findings';
import { json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { findingsErrorResponse, readJsonBody } from '@/lib/http/findings-api';
import { principalFromRequest } from '@/lib/session';
import { suppressionInputSchema } from '@/lib/validations/finding';

export const dynamic = 'force-dynamic';

const listQuerySchema = z.strictObject(
  { active: z.enum(['true', 'false'], { message: 'active must be true or false' }).optional() },
  { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown parameter ${issue.keys.join(', ')}; expected active` : undefined) },
);

/**
 * GET /api/v1/findings/suppressions[?active=true]: the suppressions of findings on items the caller
 * may audit, active and past (lifted or expired), newest first.
 */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'view-audit');
    const query = listQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return jsonError(400, query.error.issues.map((i) => i.message).join('; '));
    return json({ items: await listSuppressions(principal, { activeOnly: query.data.active === 'true' }) });
  } catch (error) {
    return findingsErrorResponse(error);
  }
}

/**
 * POST /api/v1/findings/suppressions with `{storeId, itemName, control, reason, expiresAt}`: suppress
 * one raised finding until expiresAt (ahead, at most a year), with a reason; audited. Auditors and
 * admins (suppress-finding) on the item; an item outside their grant is a 404, nothing written.
 */
export async function POST(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'suppress-finding');
    const body = await readJsonBody(request);
    if (!body.ok) return body.error;
    const input = suppressionInputSchema(new Date()).safeParse(body.data);
    if (!input.success) return jsonError(400, input.error.issues.map((i) => i.message).join('; '), { fields: [...new Set(input.error.issues.map((i) => String(i.path[0] ?? '')).filter(Boolean))] });
    return json(await createSuppression(principal, body.data), 201);
  } catch (error) {
    return findingsErrorResponse(error);
  }
}
