import { NextResponse } from 'next/server';
import { revealValue } from '@/lib/data/reveal';
import { errorResponse, jsonError } from '@/lib/http/api-response';
import { authorizeItemRequest } from '@/lib/http/item-request';
import { revealInputSchema } from '@/lib/validations/generate';

export const dynamic = 'force-dynamic';

type Context = { params: Promise<{ store: string; name: string[] }> };

/** A reason is at most 500 characters; anything much larger is not a reveal request. */
const MAX_BODY_CHARACTERS = 8192;

/**
 * POST /api/v1/stores/{store}/reveal/{name...} with `{"reason": "…"}`: the current plaintext value,
 * for admins, only where ALLOW_REVEAL is on. POST so that no prefetch, crawler or link ever reads a
 * value; never cached anywhere (no-store, and Pragma for old proxies).
 */
export async function POST(request: Request, { params }: Context) {
  try {
    const caller = await authorizeItemRequest(request, params, 'reveal');
    if (caller.error) return caller.error;
    const body = await readReason(request);
    if (!body.ok) return body.error;
    const revealed = await revealValue(caller.principal, caller.storeId, caller.name, body.reason);
    return NextResponse.json(revealed, { headers: { 'cache-control': 'no-store', pragma: 'no-cache' } });
  } catch (error) {
    return errorResponse(error);
  }
}

async function readReason(request: Request): Promise<{ ok: true; reason: string } | { ok: false; error: NextResponse }> {
  const text = await request.text();
  if (text.length > MAX_BODY_CHARACTERS) return { ok: false, error: jsonError(400, `The request body is over ${MAX_BODY_CHARACTERS} characters; send only {"reason": "…"}.`) };
  let data: unknown;
  try {
    data = text.trim() === '' ? {} : JSON.parse(text);
  } catch {
    return { ok: false, error: jsonError(400, 'The request body is not JSON; send {"reason": "…"}.') };
  }
  const parsed = revealInputSchema.safeParse(data);
  if (!parsed.success) return { ok: false, error: jsonError(400, parsed.error.issues.map((i) => i.message).join(' ')) };
  return { ok: true, reason: parsed.data.reason };
}
