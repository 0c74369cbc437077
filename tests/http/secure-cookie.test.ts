import { NextRequest } from 'next/server';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// Pages read cookies and headers through next/headers: this test hands them its own of both.
const pageRequest = vi.hoisted(() => ({ cookies: new Map<string, string>(), headers: new Headers() }));
vi.mock('next/headers', () => ({
  cookies: async () => ({
    get: (name: string) => (pageRequest.cookies.has(name) ? { name, value: pageRequest.cookies.get(name)! } : undefined),
    getAll: () => [...pageRequest.cookies].map(([name, value]) => ({ name, value })),
  }),
  headers: async () => pageRequest.headers,
}));

import { GET as listItemsRoute } from '@/app/api/v1/stores/[store]/items/route';
import { issueSession, requestIsHttps } from '@/lib/auth/session-cookie';
import { authOptions } from '@/lib/auth/options';
import { getCurrentUser, requireUser } from '@/lib/session';
import { proxy } from '@/proxy';
import { startHarness, type Harness } from '../auth/harness';

// A __Secure- (or __Host-) cookie only means something over https: a browser only sets and sends it
// there. Over plain http it is no session, in route handlers, pages and the proxy alike; over https
// the session is the __Secure- cookie (and a plain one, which could have been planted over http, is
// not). Whether a request is https is decided as HSTS is: NEXTAUTH_URL's scheme; without it,
// x-forwarded-proto counts only behind TRUST_PROXY_HOPS reverse proxies.

const SECURE = '__Secure-next-auth.session-token';
const PLAIN = 'next-auth.session-token';

let h: Harness;
beforeAll(async () => {
  h = await startHarness();
});
afterAll(() => h?.cleanup());
afterEach(() => {
  vi.unstubAllEnvs();
  pageRequest.cookies.clear();
  pageRequest.headers = new Headers();
});

type Scheme = { label: string; env: Record<string, string | undefined>; headers?: Record<string, string>; https: boolean };
const SCHEMES: Scheme[] = [
  { label: 'no NEXTAUTH_URL (plain http)', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: undefined }, https: false },
  { label: 'NEXTAUTH_URL http://', env: { NEXTAUTH_URL: 'http://secrets.example.com' }, https: false },
  { label: 'NEXTAUTH_URL https://', env: { NEXTAUTH_URL: 'https://secrets.example.com' }, https: true },
  // NEXTAUTH_URL decides over any header.
  { label: 'NEXTAUTH_URL http:// with x-forwarded-proto https behind a proxy', env: { NEXTAUTH_URL: 'http://secrets.example.com', TRUST_PROXY_HOPS: '1' }, headers: { 'x-forwarded-proto': 'https' }, https: false },
  // Without a trusted proxy, x-forwarded-proto is whatever the client sent.
  { label: 'x-forwarded-proto https, no trusted proxy', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: '0' }, headers: { 'x-forwarded-proto': 'https' }, https: false },
  { label: 'x-forwarded-proto https behind one trusted proxy', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: '1' }, headers: { 'x-forwarded-proto': 'https' }, https: true },
  { label: 'x-forwarded-proto http behind one trusted proxy', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: '1' }, headers: { 'x-forwarded-proto': 'http' }, https: false },
  // Two proxies that append: the outermost one (the one the browser spoke to) wrote the first of the two.
  { label: 'x-forwarded-proto "https, http" behind two trusted proxies', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: '2' }, headers: { 'x-forwarded-proto': 'https, http' }, https: true },
  { label: 'x-forwarded-proto "https, http" (client-written first) behind one', env: { NEXTAUTH_URL: undefined, TRUST_PROXY_HOPS: '1' }, headers: { 'x-forwarded-proto': 'https, http' }, https: false },
];

function useScheme(scheme: Scheme): void {
  for (const [key, value] of Object.entries(scheme.env)) vi.stubEnv(key, value);
}

describe.each(SCHEMES)('$label', (scheme) => {
  it(`is ${scheme.https ? 'https' : 'plain http'}`, () => {
    useScheme(scheme);
    expect(requestIsHttps(new Headers(scheme.headers))).toBe(scheme.https);
  });

  it(`has next-auth issue ${scheme.https ? '__Secure-' : 'plain'} session cookies, the ones read back here`, () => {
    useScheme(scheme);
    // app/api/auth/[...nextauth]/route.ts builds the options with the request's scheme.
    expect(authOptions({ https: requestIsHttps(new Headers(scheme.headers)) }).useSecureCookies).toBe(scheme.https);
  });

  /** Which cookie name is a session here: the __Secure- one over https, the plain one over http. */
  const cases = [
    { cookie: SECURE, session: scheme.https },
    { cookie: PLAIN, session: !scheme.https },
  ];

  it.each(cases)('route handler: a $cookie cookie is a session: $session', async ({ cookie, session }) => {
    useScheme(scheme);
    const request = new Request('http://dashboard.test/api/v1/stores/local/items?path=/prod/', {
      headers: { ...scheme.headers, cookie: `${cookie}=${h.cookies.admin}` },
    });
    const res = await listItemsRoute(request, { params: Promise.resolve({ store: 'local' }) });
    expect(res.status).toBe(session ? 200 : 401);
  });

  it.each(cases)('route handler: a chunked $cookie cookie is a session: $session', async ({ cookie, session }) => {
    useScheme(scheme);
    const value = h.cookies.admin;
    const half = Math.floor(value.length / 2);
    const request = new Request('http://dashboard.test/api/v1/stores/local/items?path=/prod/', {
      headers: { ...scheme.headers, cookie: `${cookie}.1=${value.slice(half)}; ${cookie}.0=${value.slice(0, half)}` },
    });
    const res = await listItemsRoute(request, { params: Promise.resolve({ store: 'local' }) });
    expect(res.status).toBe(session ? 200 : 401);
  });

  it.each(cases)('page: a $cookie cookie is a session: $session (else the sign-in redirect)', async ({ cookie, session }) => {
    useScheme(scheme);
    pageRequest.cookies.set(cookie, h.cookies.admin);
    pageRequest.headers = new Headers({ ...scheme.headers, 'x-request-path': '/browse/local' });
    const principal = await getCurrentUser();
    expect(principal?.email ?? null).toBe(session ? 'admin@example.com' : null);
    if (session) expect((await requireUser()).email).toBe('admin@example.com');
    else await expect(requireUser()).rejects.toMatchObject({ digest: expect.stringContaining('/sign-in?callbackUrl=%2Fbrowse%2Flocal') });
  });
});

describe('proxy: renewing the session on activity', () => {
  /** A session issued two minutes ago, so the proxy renews it (at most once a minute). */
  async function olderSession(): Promise<string> {
    vi.useFakeTimers({ now: Date.now() - 120_000, toFake: ['Date'] });
    try {
      return await issueSession({ uid: h.userIds.admin, email: 'admin@example.com' });
    } finally {
      vi.useRealTimers();
    }
  }

  it.each([
    ['a __Secure- cookie over https', 'https://secrets.example.com', SECURE, true],
    ['a __Secure- cookie over plain http', 'http://secrets.example.com', SECURE, false],
    ['a plain cookie over plain http', 'http://secrets.example.com', PLAIN, true],
    ['a plain cookie over https', 'https://secrets.example.com', PLAIN, false],
  ] as const)('%s: renewed %s', async (_label, publicUrl, name, renewed) => {
    vi.stubEnv('NEXTAUTH_URL', publicUrl);
    const cookie = await olderSession();
    const response = await proxy(new NextRequest('http://127.0.0.1:3000/browse', { headers: { cookie: `${name}=${cookie}` } }));
    expect(response.status).toBe(200);
    const setCookie = response.headers.getSetCookie().find((c) => c.startsWith(`${name}=`));
    expect(Boolean(setCookie)).toBe(renewed);
    if (setCookie && name === SECURE) expect(setCookie).toMatch(/; Secure/i);
  });
});
