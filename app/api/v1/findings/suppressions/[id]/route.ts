import { authorize } from '@/lib/auth/authorize';
import { liftSuppressionById } from '@/lib/data/findings';
import { json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { findingsErrorResponse } from '@/lib/http/findings-api';
import { principalFromRequest } from '@/lib/session';
import { liftSuppressionSchema } from '@/lib/validations/finding';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ id: string }> };

/**
 * DELETE /api/v1/findings/suppressions/{id}: lift a suppression now (the finding is open again);
 * audited. Auditors and admins on its item; one outside their grant is a 404.
 */
export async function DELETE(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    await authorize(principal, 'suppress-finding');
    const raw = (await params).id;
    const id = liftSuppressionSchema.safeParse({ id: /^\d{1,15}$/.test(raw) ? raw : Number.NaN });
    if (!id.success) return jsonError(400, `id: "${raw.slice(0, 40)}" is not a suppression id (a positive whole number)`);
    return json(await liftSuppressionById(principal, id.data));
  } catch (error) {
    return findingsErrorResponse(error);
  }
}
