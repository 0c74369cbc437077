import { NextResponse, type NextRequest } from 'next/server';
import { decodeSession, idleTimeoutSeconds, readSessionCookie, renewSession } from '@/lib/auth/session-cookie';
import { badRequestPage } from '@/lib/http/bad-request-page';
import { browseQuerySchema, folderFromSegments, itemNameFromSegments, storeIdSchema } from '@/lib/validations/browse';

// Validates browse and item addresses before any page runs: a malformed name gets a 400 page that
// names the problem (pages cannot set a 400 status themselves). It also passes the request path on,
// so the 404 page can name what was not found, and renews the session cookie on activity (the
// idle timeout). Authorization itself is decided by each page and handler, not here.

function problemWith(request: NextRequest): string | null {
  // Keep empty segments ("//" is a malformed name), but allow one trailing slash.
  const segments = request.nextUrl.pathname.replace(/(.)\/$/, '$1').split('/').slice(1);
  const [area, store, ...rest] = segments;
  if (area !== 'browse' && area !== 'items') return null;
  if (store === undefined) return null;
  const storeId = storeIdSchema.safeParse(store);
  if (!storeId.success) return storeId.error.issues[0]!.message;
  if (area === 'browse') {
    const folder = folderFromSegments(rest);
    if (!folder.ok) return folder.problem.message;
    const query = browseQuerySchema.safeParse(Object.fromEntries(request.nextUrl.searchParams));
    if (!query.success) return query.error.issues.map((i) => i.message).join(' ');
  } else {
    const name = itemNameFromSegments(rest);
    if (!name.ok) return rest.length === 0 ? 'Give the item name after the store, e.g. /items/local/prod/app/key.' : name.problem.message;
  }
  return null;
}

export async function proxy(request: NextRequest) {
  const problem = problemWith(request);
  if (problem) {
    return new NextResponse(badRequestPage(request.nextUrl.pathname + request.nextUrl.search, problem), {
      status: 400,
      headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
    });
  }
  const headers = new Headers(request.headers);
  headers.set('x-request-path', request.nextUrl.pathname);
  const response = NextResponse.next({ request: { headers } });
  await renewIdleSession(request, response);
  return response;
}

async function renewIdleSession(request: NextRequest, response: NextResponse): Promise<void> {
  if (request.nextUrl.pathname.startsWith('/api/auth')) return;
  const cookie = readSessionCookie(request.cookies);
  if (!cookie) return;
  const claims = await decodeSession(cookie.value);
  if (!claims) return;
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

export const config = {
  matcher: ['/((?!_next/static|_next/image|favicon.ico).*)'],
};
