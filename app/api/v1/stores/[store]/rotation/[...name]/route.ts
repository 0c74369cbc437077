import { z } from 'zod';
import { rotationProgressOf } from '@/lib/data/rotation-state';
import { errorResponse, json, jsonError } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

const versionSchema = z
  .string({ message: 'version is required: the version id RotateSecret answered with.' })
  .regex(/^[A-Za-z0-9-]{1,64}$/, { message: 'version must be a version id (letters, digits and dashes, at most 64).' });

/**
 * GET /api/v1/stores/{store}/rotation/{name...}?version=ID: where a version stands in a Secrets
 * Manager rotation (AWSPENDING until the function promotes it to AWSCURRENT). Metadata only.
 */
export async function GET(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'view-item');
    if (caller.error) return caller.error;
    const version = versionSchema.safeParse(new URL(request.url).searchParams.get('version') ?? undefined);
    if (!version.success) return jsonError(400, version.error.issues[0]!.message);
    const progress = await rotationProgressOf(caller.storeId, caller.name, version.data);
    if (!progress) return jsonError(409, `Store "${caller.storeId}" has no rotation stages: only Secrets Manager secrets rotate in stages.`);
    return json(progress);
  } catch (error) {
    return errorResponse(error);
  }
}
