import { itemAccessFor } from '@/lib/data/item-access';
import { errorResponse, json } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/** GET /api/v1/stores/{store}/access/{name...}: the item's Access panel (last read, readers, latest events), for its auditors. */
export async function GET(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'view-audit');
    if (caller.error) return caller.error;
    return json(await itemAccessFor(caller.principal, caller.storeId, caller.name));
  } catch (error) {
    return errorResponse(error);
  }
}
