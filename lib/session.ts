import 'server-only';
import { cookies, headers } from 'next/headers';
import { notFound, redirect } from 'next/navigation';
import { cache } from 'react';
import { AuthorizationError, authorize, type Resource } from '@/lib/auth/authorize';
import { verifyApiToken } from '@/lib/auth/api-tokens';
import { effectiveGrants, grantRules } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import type { Action } from '@/lib/auth/roles';
import { decodeSession, readSessionCookie, requestIsHttps } from '@/lib/auth/session-cookie';
import { findUserById } from '@/lib/auth/users';

// Who is asking, for pages, route handlers and server actions. Nothing else reads sessions.

const MAX_AUTHORIZATION_HEADER = 512;

export async function principalForUser(userId: string, via: Principal['via'], tokenId?: string): Promise<Principal | null> {
  const user = await findUserById(userId);
  if (!user) return null;
  return {
    via,
    userId: user.id,
    email: user.email,
    name: user.name,
    role: user.role,
    grants: effectiveGrants(await grantRules(), user),
    ...(tokenId ? { tokenId } : {}),
  };
}

/** The principal of the session cookie in `reader`; `https` says whether a __Secure- cookie counts (requestIsHttps). */
async function principalFromCookies(reader: Parameters<typeof readSessionCookie>[0], https: boolean): Promise<Principal | null> {
  const claims = await decodeSession(readSessionCookie(reader, https)?.value);
  return claims ? principalForUser(claims.uid, 'session') : null;
}

/**
 * The signed-in user of the current page or server action, or null. Memoized for one render, so the
 * layout, the page and its components ask the database once (React's cache is per request).
 */
export const getCurrentUser = cache(async (): Promise<Principal | null> => principalFromCookies(await cookies(), requestIsHttps(await headers())));

/**
 * The caller of a route handler: a bearer token when an Authorization header is sent (and then
 * only that), else the session cookie. Anything malformed, oversized, forged or expired is null.
 */
export async function principalFromRequest(request: Request): Promise<Principal | null> {
  const header = request.headers.get('authorization');
  if (header !== null) {
    if (header.length > MAX_AUTHORIZATION_HEADER) return null;
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    if (!match) return null;
    const token = await verifyApiToken(match[1]!);
    return token ? principalForUser(token.userId, 'token', token.tokenId) : null;
  }
  const jar = new Map<string, string>();
  for (const part of (request.headers.get('cookie') ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    try {
      jar.set(part.slice(0, eq).trim(), decodeURIComponent(part.slice(eq + 1).trim()));
    } catch {
      // A malformed cookie is ignored, like a missing one.
    }
  }
  return principalFromCookies(
    {
      get: (name) => (jar.has(name) ? { name, value: jar.get(name)! } : undefined),
      getAll: () => [...jar].map(([name, value]) => ({ name, value })),
    },
    requestIsHttps(request.headers),
  );
}

/** The signed-in user, or a redirect to the sign-in page that comes back here afterwards. */
export async function requireUser(): Promise<Principal> {
  const principal = await getCurrentUser();
  if (principal) return principal;
  const path = (await headers()).get('x-request-path') ?? '/browse';
  redirect(`/sign-in?callbackUrl=${encodeURIComponent(path)}`);
}

/** For pages: the signed-in user allowed to do `action`; anything else is a 404 page. */
export async function requirePermission(action: Action, resource?: Resource): Promise<Principal> {
  const principal = await requireUser();
  try {
    await authorize(principal, action, resource);
  } catch (error) {
    if (error instanceof AuthorizationError) notFound();
    throw error;
  }
  return principal;
}
