import { authorize, notFoundMessage } from '@/lib/auth/authorize';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { getStore } from '@/lib/stores/registry';
import { itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/** GET /api/v1/stores/{store}/items/{name...}: one item's metadata and version history, never its value. */
export async function GET(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const { store: storeParam, name: segments } = await params;
    const storeId = storeIdSchema.safeParse(storeParam);
    if (!storeId.success) return jsonError(400, storeId.error.issues[0]!.message);
    const name = itemNameFromSegments(segments);
    if (!name.ok) return jsonError(400, `${name.problem.message} (rule: ${name.problem.rule})`);

    await authorize(principal, 'view-item', { storeId: storeId.data, name: name.value });
    const store = await getStore(storeId.data);
    const item = store ? await store.getItem(name.value) : null;
    if (!item) return jsonError(404, notFoundMessage({ storeId: storeId.data, name: name.value }));
    return json({
      store: storeId.data,
      name: item.name,
      kind: item.kind,
      description: item.description,
      tags: item.tags,
      kmsKeyId: item.kmsKeyId,
      version: item.currentVersion,
      labels: item.labels,
      lastChangedAt: item.lastChangedAt,
      lastChangedBy: item.lastChangedBy,
      versions: item.versions.map((v) => ({ id: v.id, createdAt: v.createdAt, createdBy: v.createdBy, labels: v.labels })),
      details: item.details,
    });
  } catch (error) {
    return errorResponse(error);
  }
}
