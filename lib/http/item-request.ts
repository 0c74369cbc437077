import 'server-only';
import type { NextResponse } from 'next/server';
import { authorize } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { Action } from '@/lib/auth/roles';
import { principalFromRequest } from '@/lib/session';
import { itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';
import { jsonError, UNAUTHENTICATED } from './api-response';

/** The store id and item name of an /api/v1 item address, or the 400 that names what is wrong. */
export async function parseItemRouteParams(
  params: Promise<{ store: string; name: string[] }>,
): Promise<{ storeId: string; name: string; error?: never } | { error: NextResponse }> {
  const { store, name: segments } = await params;
  const storeId = storeIdSchema.safeParse(store);
  if (!storeId.success) return { error: jsonError(400, storeId.error.issues[0]!.message) };
  const name = itemNameFromSegments(segments);
  if (!name.ok) return { error: jsonError(400, `${name.problem.message} (rule: ${name.problem.rule})`) };
  return { storeId: storeId.data, name: name.value };
}

/**
 * The common start of an /api/v1 item handler: who is asking (401 if no one), which item (400 if
 * malformed), and whether they may do `action` on it (throws AuthorizationError: 403 or 404).
 */
export async function authorizeItemRequest(
  request: Request,
  params: Promise<{ store: string; name: string[] }>,
  action: Action,
): Promise<{ principal: Principal; storeId: string; name: string; error?: never } | { error: NextResponse }> {
  const principal = await principalFromRequest(request);
  if (!principal) return { error: jsonError(401, UNAUTHENTICATED) };
  const address = await parseItemRouteParams(params);
  if (address.error) return address;
  await authorize(principal, action, { storeId: address.storeId, name: address.name });
  return { principal, storeId: address.storeId, name: address.name };
}
