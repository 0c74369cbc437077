import { appendAudit } from '@/lib/audit/audit-log';
import { notFoundMessage } from '@/lib/auth/authorize';
import { actorOf } from '@/lib/auth/principal';
import { errorResponse, json, jsonError } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';
import { getStore } from '@/lib/stores/registry';
import { isWritable } from '@/lib/stores/types';

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
    const { principal, storeId, name } = caller;
    const store = await getStore(storeId);
    if (!store || !(await store.getItem(name))) return jsonError(404, notFoundMessage({ storeId, name }));
    if (!isWritable(store)) return jsonError(400, `Store "${store.id}" does not support revealing values from the dashboard yet.`);
    const value = await store.readValue(name);
    await appendAudit({ actor: actorOf(principal), action: 'reveal', target: `${store.id}:${name}`, outcome: 'success' });
    return json({ store: store.id, name, value });
  } catch (error) {
    return errorResponse(error);
  }
}
