import { decode } from 'next-auth/jwt';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { renewSession } from '@/lib/auth/session-cookie';

// The proxy renews an idle session's cookie at most once a minute per cookie; requests that arrive
// together with the same old cookie share one renewal (one encryption, and one new value for the
// pages behind the proxy to decode), for a few seconds only, and never across sessions or secrets.

const SECRET_A = 'renewal-test-secret-a-0123456789abcdef';
const SECRET_B = 'renewal-test-secret-b-0123456789abcdef';
const token = (sid: string) => ({ sub: 'u1', uid: 'u1', email: 'u1@example.com', authTime: Math.floor(Date.now() / 1000) - 120, sid, iat: Math.floor(Date.now() / 1000) - 90 });

describe('renewSession', () => {
  beforeAll(() => {
    process.env.NEXTAUTH_SECRET = SECRET_A;
  });
  afterEach(() => {
    vi.restoreAllMocks();
    process.env.NEXTAUTH_SECRET = SECRET_A;
  });

  it('one old cookie renewed by requests that arrive together gets one new value, carrying the same session', async () => {
    const old = token('s1');
    const [a, b] = await Promise.all([renewSession(old), renewSession(old)]);
    const c = await renewSession({ ...old });
    expect(new Set([a, b, c]).size).toBeLessThanOrEqual(2); // the first two may race; the third finds one kept
    expect(c).toBe(await renewSession(old));
    expect(await decode({ token: c, secret: SECRET_A })).toMatchObject({ uid: 'u1', sid: 's1', authTime: old.authTime });
  });

  it('another session, another secret or a few seconds later: a renewal of its own', async () => {
    const old = token('s2');
    const first = await renewSession(old);
    expect(await renewSession(token('s3'))).not.toBe(first);
    process.env.NEXTAUTH_SECRET = SECRET_B;
    const underB = await renewSession(old);
    expect(underB).not.toBe(first);
    expect(await decode({ token: underB, secret: SECRET_B })).toMatchObject({ sid: 's2' });
    process.env.NEXTAUTH_SECRET = SECRET_A;
    const later = Date.now() + 11_000;
    vi.spyOn(Date, 'now').mockReturnValue(later);
    expect(await renewSession(old)).not.toBe(first);
  });
});
