import 'server-only';
import { NextResponse } from 'next/server';
import { AuthorizationError } from '@/lib/auth/authorize';
import { ConflictError } from '@/lib/conflict-error';
import { isCursorError } from '@/lib/inventory/inventory-index';
import { logger } from '@/lib/logger';
import { isStoreError } from '@/lib/stores/errors';

// JSON answers of /api/v1: errors say what failed and what to do, never a stack or a value.

const STORE_ERROR_STATUS: Record<string, number> = {
  'invalid-name': 400,
  'not-found': 404,
  'access-denied': 502,
  throttled: 503,
  'credentials-expired': 502,
  timeout: 504,
  unavailable: 503,
  integrity: 500,
};

export function jsonError(status: number, message: string, extra: Record<string, unknown> = {}): NextResponse {
  const headers: Record<string, string> = { 'cache-control': 'no-store' };
  if (status === 401) headers['www-authenticate'] = 'Bearer realm="secrets-dashboard"';
  return NextResponse.json({ error: message, ...extra }, { status, headers });
}

export function json(data: unknown, status = 200): NextResponse {
  return NextResponse.json(data, { status, headers: { 'cache-control': 'no-store' } });
}

export function errorResponse(error: unknown): NextResponse {
  if (error instanceof AuthorizationError) return jsonError(error.status, error.message);
  if (error instanceof ConflictError) return jsonError(409, error.message);
  if (isCursorError(error)) return jsonError(400, error.message);
  if (isStoreError(error)) return jsonError(STORE_ERROR_STATUS[error.code] ?? 500, error.message, { store: error.storeId, code: error.code });
  logger.error({ err: error instanceof Error ? error.name : 'unknown' }, 'unexpected API failure');
  return jsonError(500, 'The request failed unexpectedly; try again, and check the server log if it persists.');
}

export const UNAUTHENTICATED = 'Authentication required: send a session cookie or "Authorization: Bearer <token>".';
