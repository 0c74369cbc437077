import 'server-only';
import type { NextResponse } from 'next/server';
import { itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';
import { jsonError } from './api-response';

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
