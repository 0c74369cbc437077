import 'server-only';
import { randomUUID } from 'node:crypto';
import { decode, encode, type JWT } from 'next-auth/jwt';
import { appDb } from '@/lib/db/app-db';
import { readEnv } from '@/lib/config/env';
import { servedOverHttps } from '@/lib/http/content-security-policy';
import { authSecret } from './auth-secret';

// next-auth's session cookie, read directly so pages, route handlers, server actions and the
// proxy all decide the same way (and so tests can exercise it without a running server).

/** The session cookie next-auth issues over https (its __Secure- prefix) and over plain http. */
export const SECURE_SESSION_COOKIE = '__Secure-next-auth.session-token';
export const PLAIN_SESSION_COOKIE = 'next-auth.session-token';
/** However active, a session ends this long after sign-in. */
export const ABSOLUTE_SESSION_HOURS = 12;
const MAX_COOKIE_CHARS = 16_384;

export interface SessionClaims {
  uid: string;
  authTime: number;
  /** Session id, kept across renewals, so signing out can end this session on the server. */
  sid: string;
}

export function idleTimeoutSeconds(): number {
  return readEnv().IDLE_TIMEOUT_MINUTES * 60;
}

type CookieReader = { get(name: string): { name: string; value: string } | undefined; getAll(): { name: string; value: string }[] };
type HeaderReader = { get(name: string): string | null };

/**
 * Whether the dashboard is reached over https, decided as HSTS is (lib/http/content-security-policy.ts):
 * by NEXTAUTH_URL's scheme when it is set. Without it, only behind TRUST_PROXY_HOPS reverse proxies
 * does x-forwarded-proto count (the entry the outermost trusted one wrote); a client talking to the
 * server directly could send any x-forwarded-proto, so there the answer is plain http.
 */
export function requestIsHttps(headers: HeaderReader): boolean {
  const publicUrl = process.env.NEXTAUTH_URL;
  if (publicUrl) return servedOverHttps(publicUrl);
  const hops = readEnv().TRUST_PROXY_HOPS;
  if (hops === 0) return false;
  const protos = (headers.get('x-forwarded-proto') ?? '').split(',').map((p) => p.trim().toLowerCase()).filter(Boolean);
  return protos.length > 0 && protos.at(-Math.min(hops, protos.length)) === 'https';
}

/**
 * The session cookie's name for a scheme. A __Secure- (or __Host-) cookie only means something over
 * https, where a browser sets and sends it; over plain http it is ignored. Over https next-auth
 * issues only the __Secure- one, so a plain one there (planted over http) is ignored too.
 */
export function sessionCookieName(https: boolean): string {
  return https ? SECURE_SESSION_COOKIE : PLAIN_SESSION_COOKIE;
}

/** The (possibly chunked) session cookie's value and name for the request's scheme, or null. */
export function readSessionCookie(cookies: CookieReader, https: boolean): { name: string; value: string } | null {
  const name = sessionCookieName(https);
  const single = cookies.get(name);
  if (single) return { name, value: single.value };
  const chunks = cookies
    .getAll()
    .filter((c) => c.name.startsWith(`${name}.`))
    .sort((a, b) => Number(a.name.slice(name.length + 1)) - Number(b.name.slice(name.length + 1)));
  if (chunks.length) return { name, value: chunks.map((c) => c.value).join('') };
  return null;
}

/**
 * Recently decoded cookie values. Decrypting a session (key derivation and AES-GCM) costs more than
 * the rest of an API request, and a browser sends the same value many times a minute. Only the
 * decryption is remembered: expiry, the absolute limit and revocation are checked on every use.
 */
const decoded = new Map<string, JWT>();
const DECODED_CACHE_SIZE = 2_000;

async function decryptSession(value: string): Promise<JWT | null> {
  const known = decoded.get(value);
  if (known) return known;
  const token = await decode({ token: value, secret: authSecret() });
  if (!token) return null;
  if (decoded.size >= DECODED_CACHE_SIZE) decoded.delete(decoded.keys().next().value!);
  decoded.set(value, token);
  return token;
}

/** Valid, unexpired claims of a session cookie value; null for anything tampered, expired or malformed. */
export async function decodeSession(value: string | undefined | null): Promise<(JWT & SessionClaims) | null> {
  if (!value || value.length > MAX_COOKIE_CHARS) return null;
  try {
    const token = await decryptSession(value);
    if (!token || typeof token.uid !== 'string' || typeof token.authTime !== 'number' || typeof token.sid !== 'string') return null;
    if (typeof token.exp === 'number' && token.exp * 1000 <= Date.now()) return null;
    if (Date.now() - token.authTime * 1000 > ABSOLUTE_SESSION_HOURS * 3_600_000) return null;
    if (await isRevoked(token.sid)) return null;
    return token as JWT & SessionClaims;
  } catch {
    return null;
  }
}

async function isRevoked(sid: string): Promise<boolean> {
  return Boolean(await (await appDb()).selectFrom('revoked_sessions').select('sid').where('sid', '=', sid).executeTakeFirst());
}

/** Ends a session on the server: its cookie, or any renewal of it still in flight, stops working. */
export async function revokeSession(sid: string, authTime: number): Promise<void> {
  const expiresAt = new Date((authTime + ABSOLUTE_SESSION_HOURS * 3600) * 1000).toISOString();
  await (await appDb()).insertInto('revoked_sessions').values({ sid, expires_at: expiresAt }).onConflict((oc) => oc.doNothing()).execute();
  await (await appDb()).deleteFrom('revoked_sessions').where('expires_at', '<', new Date().toISOString()).execute();
}

export const newSessionId = () => randomUUID();

/** The proxy renews a cookie at most this often, not on every request (each renewal is an encryption). */
export const RENEW_AFTER_SECONDS = 60;

/** Whether a session cookie was issued long enough ago to be renewed. */
export function dueForRenewal(token: JWT, now = Date.now()): boolean {
  return typeof token.iat !== 'number' || now / 1000 - token.iat >= RENEW_AFTER_SECONDS;
}

/**
 * Renewals handed out lately, by the token they renewed. Requests that arrive together with one old
 * cookie (a page, its fetches, a second tab) share one renewal instead of one encryption each, and
 * the pages behind the proxy then decode one new value (decryptSession remembers it) instead of a
 * new one per request.
 */
const renewals = new Map<string, { value: string; at: number }>();
const RENEWAL_SHARED_MS = 10_000;

/** A fresh cookie value for the same session, extending the idle timeout (used by the proxy). */
export async function renewSession(token: JWT): Promise<string> {
  const { exp: _exp, iat: _iat, jti: _jti, ...claims } = token;
  const secret = authSecret();
  const key = `${secret}\u0000${JSON.stringify(token)}`;
  const shared = renewals.get(key);
  if (shared && Date.now() - shared.at < RENEWAL_SHARED_MS) return shared.value;
  const value = await encode({ token: claims, secret, maxAge: idleTimeoutSeconds() });
  if (renewals.size >= DECODED_CACHE_SIZE) renewals.delete(renewals.keys().next().value!);
  renewals.set(key, { value, at: Date.now() });
  return value;
}

/** A session cookie value for a user, as next-auth would issue it (sign-in and tests). */
export async function issueSession(claims: { uid: string; email: string; name?: string | null }, authTime = Math.floor(Date.now() / 1000)): Promise<string> {
  return encode({
    token: { sub: claims.uid, uid: claims.uid, email: claims.email, name: claims.name ?? null, authTime, sid: newSessionId() },
    secret: authSecret(),
    maxAge: idleTimeoutSeconds(),
  });
}
