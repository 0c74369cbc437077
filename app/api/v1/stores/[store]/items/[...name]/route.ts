import { notFoundMessage } from '@/lib/auth/authorize';
import { errorResponse, json, jsonError } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';
import { getStore } from '@/lib/stores/registry';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/** GET /api/v1/stores/{store}/items/{name...}: one item's metadata and version history, never its value. */
export async function GET(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'view-item');
    if (caller.error) return caller.error;
    const { storeId, name } = caller;
    const store = await getStore(storeId);
    const item = store ? await store.getItem(name) : null;
    if (!item) return jsonError(404, notFoundMessage({ storeId, name }));
    return json({
      store: storeId,
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
