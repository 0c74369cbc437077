import { listInventoryStatuses } from '@/lib/data/browse';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { inventoryQuerySchema } from '@/lib/validations/api';

export const dynamic = 'force-dynamic';

/** GET /api/v1/inventory?store=prod-params: each store's inventory age, walk progress and last failure. */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const query = inventoryQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return jsonError(400, query.error.issues.map((i) => i.message).join('; '));
    return json({ stores: await listInventoryStatuses(principal, query.data.store) });
  } catch (error) {
    return errorResponse(error);
  }
}
