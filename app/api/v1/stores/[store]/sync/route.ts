import { requestInventorySync } from '@/lib/data/refresh-inventory';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { storeIdSchema } from '@/lib/validations/browse';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string }> };

/** POST /api/v1/stores/{store}/sync: queue an inventory walk of an AWS store now (operators and admins). */
export async function POST(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const storeId = storeIdSchema.safeParse((await params).store);
    if (!storeId.success) return jsonError(400, storeId.error.issues[0]!.message);
    return json(await requestInventorySync(principal, storeId.data), 202);
  } catch (error) {
    return errorResponse(error);
  }
}
