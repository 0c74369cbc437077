import { authorize, can } from '@/lib/auth/authorize';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { getStore } from '@/lib/stores/registry';
import { listItemsQuerySchema } from '@/lib/validations/api';
import { storeIdSchema } from '@/lib/validations/browse';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string }> };

/** GET /api/v1/stores/{store}/items?path=/prod/&recursive=true&cursor=…&limit=100: metadata of the items the caller may list. */
export async function GET(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const storeId = storeIdSchema.safeParse((await params).store);
    if (!storeId.success) return jsonError(400, storeId.error.issues[0]!.message);
    const query = listItemsQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return jsonError(400, query.error.issues.map((i) => i.message).join('; '));

    await authorize(principal, 'list', { storeId: storeId.data, folder: query.data.path });
    const store = await getStore(storeId.data);
    if (!store) return jsonError(404, `There is no store "${storeId.data}".`);
    const page = await store.list(query.data);
    const items = page.items
      .filter((item) => can(principal, 'list', { storeId: store.id, name: item.name }))
      .map((item) => ({
        name: item.name,
        kind: item.kind,
        description: item.description,
        version: item.currentVersion,
        labels: item.labels,
        lastChangedAt: item.lastChangedAt,
        lastChangedBy: item.lastChangedBy,
      }));
    return json({ store: store.id, path: query.data.path, items, nextCursor: page.nextCursor ?? null });
  } catch (error) {
    return errorResponse(error);
  }
}
