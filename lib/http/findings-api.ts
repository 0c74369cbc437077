import 'server-only';
import type { NextResponse } from 'next/server';
import { isRequestError } from '@/lib/request-error';
import { errorResponse, jsonError } from './api-response';

// What the /api/v1/findings routes share beyond api-response.ts: the findings data layer's refusals
// of a suppression (bad input, a finding not raised within the grants) carry their HTTP status and
// answer with it and their message, like every other 4xx; and a bounded JSON body.

const MAX_BODY_CHARACTERS = 8192;

/** errorResponse, plus the data layer's RequestError (400 bad input, 404 nothing of that name within the grants). */
export function findingsErrorResponse(error: unknown): NextResponse {
  if (isRequestError(error)) return jsonError(error.status, error.message);
  return errorResponse(error);
}

/** A JSON request body of at most 8 KiB, or the 4xx that says what is wrong with it. */
export async function readJsonBody(request: Request): Promise<{ ok: true; data: unknown } | { ok: false; error: NextResponse }> {
  const type = request.headers.get('content-type') ?? '';
  // Only JSON: a cross-site HTML form cannot send it, so a form post never creates a suppression.
  if (!/^application\/json\b/i.test(type)) return { ok: false, error: jsonError(415, 'Send the body as JSON (Content-Type: application/json).') };
  const text = await request.text();
  if (text.length > MAX_BODY_CHARACTERS) return { ok: false, error: jsonError(400, `The request body is over ${MAX_BODY_CHARACTERS} characters.`) };
  try {
    return { ok: true, data: JSON.parse(text) };
  } catch {
    return { ok: false, error: jsonError(400, 'The request body is not JSON.') };
  }
}
