import { authorize } from '@/lib/auth/authorize';
import { listItemsPage } from '@/lib/data/browse';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { listItemsQuerySchema } from '@/lib/validations/api';
import { storeIdSchema } from '@/lib/validations/browse';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string }> };

/**
 * GET /api/v1/stores/{store}/items?path=/prod/&recursive=true&sort=changed&dir=desc&q=key&cursor=…&limit=100:
 * metadata of the items the caller may list, from the inventory, keyset-paged.
 */
export async function GET(request: Request, { params }: Context) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const storeId = storeIdSchema.safeParse((await params).store);
    if (!storeId.success) return jsonError(400, storeId.error.issues[0]!.message);
    const query = listItemsQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return jsonError(400, query.error.issues.map((i) => i.message).join('; '));

    await authorize(principal, 'list', { storeId: storeId.data, folder: query.data.path });
    const page = await listItemsPage(principal, storeId.data, query.data);
    if (!page) return jsonError(404, `There is no store "${storeId.data}".`);
    if (!page.status.live && !page.status.syncedAt) {
      const walking = page.status.walking;
      const message = walking
        ? `Store "${storeId.data}" is still being synced for the first time${walking.items === null ? '' : ` (${walking.items} items so far)`}; try again shortly.`
        : `Store "${storeId.data}" has no inventory yet${page.status.error ? `: ${page.status.error.message}` : ''}.`;
      return jsonError(503, message, { store: storeId.data, code: 'not-synced' });
    }
    return json({
      store: storeId.data,
      path: query.data.path,
      syncedAt: page.status.syncedAt,
      items: page.items,
      nextCursor: page.nextCursor,
    });
  } catch (error) {
    return errorResponse(error);
  }
}
