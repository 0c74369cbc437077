import { NextResponse, type NextRequest } from 'next/server';
import { decodeSession, dueForRenewal, idleTimeoutSeconds, readSessionCookie, renewSession, requestIsHttps } from '@/lib/auth/session-cookie';
import { badRequestPage } from '@/lib/http/bad-request-page';
import { createNonce, securityHeaders } from '@/lib/http/content-security-policy';
import { malformedUrlProblem } from '@/lib/http/malformed-url';
import { browseQuerySchema, decodePathSegments, folderFromSegments, itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';
import { parseFreshnessFilters } from '@/lib/validations/freshness';
import { parseVersionCompare } from '@/lib/validations/version-diff';

// Validates addresses before any page or handler runs. Malformed percent-encoding ("%ZZ", a lone
// "%", escapes that are not UTF-8) anywhere in the path or query gets a 400 that names it: JSON
// under /api, the HTML 400 page elsewhere (Next.js's router would otherwise fail on it with a 500).
// A malformed browse or item name, a bad filter of the freshness list, or a bad pair of versions to
// compare on an item, gets the 400 page too (pages cannot set a 400 status themselves).
// It also passes the request path on, so the 404 page can name what was not found, and renews the
// session cookie on activity (the idle timeout; at most once a minute). Authorization itself is decided by each page and
// handler, not here.
// Every answer it lets through or makes gets the Content-Security-Policy with a fresh nonce (and HSTS
// when NEXTAUTH_URL is https): the policy also goes on the request, where Next.js reads the nonce and
// puts it on the page's own scripts and stylesheets (lib/http/content-security-policy.ts).

function problemWith(request: NextRequest): string | null {
  // Keep empty segments ("//" is a malformed name), but allow one trailing slash.
  const segments = request.nextUrl.pathname.replace(/(.)\/$/, '$1').split('/').slice(1);
  const [area, store, ...encoded] = segments;
  if (area === 'freshness' && store === undefined) {
    // Next.js adds _rsc (a cache key) to its own requests for the page's payload (client navigation,
    // prefetch); it is not a filter, and refusing it made every link to the list fail in the browser.
    const params = new URLSearchParams(request.nextUrl.searchParams);
    params.delete('_rsc');
    const filters = parseFreshnessFilters(params);
    return filters.ok ? null : filters.problems.map((p) => p.message).join(' ');
  }
  if (area !== 'browse' && area !== 'items') return null;
  if (store === undefined) return null;
  const storeId = storeIdSchema.safeParse(store);
  if (!storeId.success) return storeId.error.issues[0]!.message;
  // The path here is still encoded; decoded once, as Next.js will decode the page's parameters.
  const decoded = decodePathSegments(encoded);
  if (!decoded.ok) return decoded.problem.message;
  const rest = decoded.value;
  if (area === 'browse') {
    const folder = folderFromSegments(rest);
    if (!folder.ok) return folder.problem.message;
    const query = browseQuerySchema.safeParse(Object.fromEntries(request.nextUrl.searchParams));
    if (!query.success) return query.error.issues.map((i) => i.message).join(' ');
  } else {
    const name = itemNameFromSegments(rest);
    if (!name.ok) return rest.length === 0 ? 'Give the item name after the store, e.g. /items/local/prod/app/key.' : name.problem.message;
    // Two versions to compare (?from=3&to=5): malformed, only one, or the same one twice.
    const compare = parseVersionCompare(request.nextUrl.searchParams);
    if (!compare.ok) return compare.message;
  }
  return null;
}

function badRequest(request: NextRequest, problem: string, nonce: string): NextResponse {
  const { pathname, search } = request.nextUrl;
  if (pathname === '/api' || pathname.startsWith('/api/')) {
    // The shape of jsonError in lib/http/api-response.ts, which the proxy cannot import (server-only).
    return NextResponse.json({ error: problem }, { status: 400, headers: { 'cache-control': 'no-store' } });
  }
  return new NextResponse(badRequestPage(pathname + search, problem, nonce, request.cookies), {
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
  });
}

export async function proxy(request: NextRequest) {
  const nonce = createNonce();
  // `next dev` only: React's dev tools need eval and hot reloading injects style tags.
  const security = securityHeaders({ nonce, development: process.env.NODE_ENV === 'development', publicUrl: process.env.NEXTAUTH_URL });
  // The raw, still-encoded path and query: URLSearchParams would silently keep or replace bad escapes.
  const problem = malformedUrlProblem(request.nextUrl.pathname, request.nextUrl.search) ?? problemWith(request);
  if (problem) return withHeaders(badRequest(request, problem, nonce), security);
  const headers = new Headers(request.headers);
  headers.set('x-request-path', request.nextUrl.pathname);
  // The 404 page names the versions an item's comparison asked for (?from=…&to=…).
  headers.set('x-request-query', request.nextUrl.search);
  // Next.js takes the nonce for its scripts from the request's policy (any policy the client sent is replaced).
  headers.set('content-security-policy', security['Content-Security-Policy']!);
  const response = withHeaders(NextResponse.next({ request: { headers } }), security);
  await renewIdleSession(request, response);
  return response;
}

function withHeaders(response: NextResponse, headers: Record<string, string>): NextResponse {
  for (const [name, value] of Object.entries(headers)) response.headers.set(name, value);
  return response;
}

async function renewIdleSession(request: NextRequest, response: NextResponse): Promise<void> {
  if (request.nextUrl.pathname.startsWith('/api/auth')) return;
  // Over plain http a __Secure- cookie is no session, so it is not renewed either.
  const cookie = readSessionCookie(request.cookies, requestIsHttps(request.headers));
  if (!cookie) return;
  const claims = await decodeSession(cookie.value);
  if (!claims || !dueForRenewal(claims)) return;
  // Chunked cookies (very large sessions) are left to next-auth.
  if (!request.cookies.get(cookie.name)) return;
  response.cookies.set(cookie.name, await renewSession(claims), {
    httpOnly: true,
    sameSite: 'lax',
    path: '/',
    secure: cookie.name.startsWith('__Secure-'),
    maxAge: idleTimeoutSeconds(),
  });
}

// Static files and the public/ icons and manifest need neither address checks nor a session.
export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico|icon.svg|icon-192.png|icon-512.png|icon-maskable-512.png|apple-touch-icon.png|site.webmanifest).*)'],
};
