import { searchEverything } from '@/lib/data/search';
import { errorResponse, json, jsonError, UNAUTHENTICATED } from '@/lib/http/api-response';
import { principalFromRequest } from '@/lib/session';
import { searchQuerySchema } from '@/lib/validations/api';

export const dynamic = 'force-dynamic';

/** GET /api/v1/search?q=stripe&limit=20: items and folders across every store the caller may see. */
export async function GET(request: Request) {
  try {
    const principal = await principalFromRequest(request);
    if (!principal) return jsonError(401, UNAUTHENTICATED);
    const query = searchQuerySchema.safeParse(Object.fromEntries(new URL(request.url).searchParams));
    if (!query.success) return jsonError(400, query.error.issues.map((i) => i.message).join('; '));
    return json(await searchEverything(principal, query.data.q, query.data.limit));
  } catch (error) {
    return errorResponse(error);
  }
}
