import { appendAudit } from '@/lib/audit/audit-log';
import { authorize, notFoundMessage } from '@/lib/auth/authorize';
import { actorOf } from '@/lib/auth/principal';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { getStore } from '@/lib/stores/registry';
import { isWritable } from '@/lib/stores/types';
import { itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/**
 * POST /api/v1/stores/{store}/reveal/{name...}: the current plaintext value, for admins, only
 * where ALLOW_REVEAL is on. POST so that no prefetch, crawler or link ever reads a value.
 */
export async function POST(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const { store: storeParam, name: segments } = await params;
    const storeId = storeIdSchema.safeParse(storeParam);
    if (!storeId.success) return jsonError(400, storeId.error.issues[0]!.message);
    const name = itemNameFromSegments(segments);
    if (!name.ok) return jsonError(400, `${name.problem.message} (rule: ${name.problem.rule})`);

    await authorize(principal, 'reveal', { storeId: storeId.data, name: name.value });
    const store = await getStore(storeId.data);
    if (!store || !(await store.getItem(name.value))) return jsonError(404, notFoundMessage({ storeId: storeId.data, name: name.value }));
    if (!isWritable(store)) return jsonError(400, `Store "${store.id}" does not support revealing values from the dashboard yet.`);
    const value = await store.readValue(name.value);
    await appendAudit({ actor: actorOf(principal), action: 'reveal', target: `${store.id}:${name.value}`, outcome: 'success' });
    return json({ store: store.id, name: name.value, value });
  } catch (error) {
    return errorResponse(error);
  }
}
