import { revealValue } from '@/lib/data/reveal';
import { errorResponse, json } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/**
 * POST /api/v1/stores/{store}/reveal/{name...}: the current plaintext value, for admins, only
 * where ALLOW_REVEAL is on. POST so that no prefetch, crawler or link ever reads a value.
 */
export async function POST(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'reveal');
    if (caller.error) return caller.error;
    return json(await revealValue(caller.principal, caller.storeId, caller.name));
  } catch (error) {
    return errorResponse(error);
  }
}
