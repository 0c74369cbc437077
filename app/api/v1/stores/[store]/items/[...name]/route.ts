import { notFoundMessage } from '@/lib/auth/authorize';
import { getItemView } from '@/lib/data/browse';
import { errorResponse, json, jsonError } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/** GET /api/v1/stores/{store}/items/{name...}: one item's metadata and version history, never its value. */
export async function GET(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'view-item');
    if (caller.error) return caller.error;
    const { principal, storeId, name } = caller;
    const view = await getItemView(principal, storeId, name);
    if (!view) return jsonError(404, notFoundMessage({ storeId, name }));
    const { item } = view;
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
      versions: item.versions,
      details: item.details,
    });
  } catch (error) {
    return errorResponse(error);
  }
}
