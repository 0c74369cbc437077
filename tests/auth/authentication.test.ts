import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { encode } from 'next-auth/jwt';
import { GET as auditRoute } from '@/app/api/v1/audit/route';
import { GET as getItemRoute } from '@/app/api/v1/stores/[store]/items/[...name]/route';
import { GET as listItemsRoute } from '@/app/api/v1/stores/[store]/items/route';
import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { createApiTokenAction } from '@/lib/actions/create-api-token';
import { createUserAction } from '@/lib/actions/create-user';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { removeUserAction } from '@/lib/actions/remove-user';
import { revokeApiTokenAction } from '@/lib/actions/revoke-api-token';
import { revokeApiToken } from '@/lib/auth/api-tokens';
import { authSecret } from '@/lib/auth/auth-secret';
import { authOptions, clientAddress } from '@/lib/auth/options';
import { ABSOLUTE_SESSION_HOURS, decodeSession, issueSession, renewSession, revokeSession } from '@/lib/auth/session-cookie';
import { MAX_FAILURES_PER_ACCOUNT } from '@/lib/auth/sign-in-limits';
import { appDb } from '@/lib/db/app-db';
import { DATABASES } from '../support/databases';
import { sessionJar } from '../support/next-headers-mock';
import { startHarness, type Harness } from './harness';

describe.each(DATABASES)('authentication (%s)', (database) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ database });
  });
  afterAll(() => h?.cleanup());

  const url = (path: string) => `http://dashboard.test${path}`;
  const endpoints: [string, (init: RequestInit) => Promise<Response>][] = [
    ['GET /api/v1/stores/local/items', (init) => listItemsRoute(new Request(url('/api/v1/stores/local/items'), init), { params: Promise.resolve({ store: 'local' }) })],
    [
      'GET /api/v1/stores/local/items/{name}',
      (init) => getItemRoute(new Request(url('/api/v1/stores/local/items/prod/payments/stripe-key'), init), { params: Promise.resolve({ store: 'local', name: ['prod', 'payments', 'stripe-key'] }) }),
    ],
    [
      'POST /api/v1/stores/local/reveal/{name}',
      (init) =>
        revealRoute(new Request(url('/api/v1/stores/local/reveal/prod/payments/stripe-key'), { ...init, method: 'POST', body: JSON.stringify({ reason: 'authentication test' }) }), {
          params: Promise.resolve({ store: 'local', name: ['prod', 'payments', 'stripe-key'] }),
        }),
    ],
    ['GET /api/v1/audit', (init) => auditRoute(new Request(url('/api/v1/audit'), init))],
  ];

  describe.each(endpoints)('%s', (_label, call) => {
    const asks: [string, () => Promise<Record<string, string>>][] = [
      ['no credentials', async () => ({})],
      ['a malformed bearer token', async () => ({ authorization: 'Bearer not a token' })],
      ['a forged token of the right shape', async () => ({ authorization: `Bearer sd_${'a'.repeat(12)}_${'b'.repeat(43)}` })],
      ['a real token id with a wrong secret', async () => ({ authorization: h.tokens.admin.slice(0, -4) + 'AAAA' })],
      ['an oversized authorization header', async () => ({ authorization: `Bearer ${'x'.repeat(20_000)}` })],
      ['a basic auth header', async () => ({ authorization: 'Basic YWRtaW46YWRtaW4=' })],
      ['a tampered session cookie', async () => ({ cookie: `next-auth.session-token=${h.cookies.admin.slice(0, -6)}abcdef` })],
      ['a session cookie signed with another secret', async () => ({ cookie: `next-auth.session-token=${await encode({ token: { uid: h.userIds.admin, authTime: Math.floor(Date.now() / 1000) }, secret: 'not-the-secret' })}` })],
      ['a malformed cookie header', async () => ({ cookie: 'next-auth.session-token=%E0%A4%A; other=1' })],
    ];
    it.each(asks)('answers 401 to %s, never a 500', async (_what, headers) => {
      const res = await call({ headers: await headers() });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('Bearer');
      expect(await res.text()).not.toContain('SENTINEL');
    });

    it('answers 200 to a valid token and to a valid session cookie', async () => {
      expect((await call({ headers: { authorization: `Bearer ${h.tokens.admin}` } })).status).toBe(200);
      expect((await call({ headers: { cookie: `next-auth.session-token=${h.cookies.admin}` } })).status).toBe(200);
    });
  });

  describe('tokens and sessions that have ended', () => {
    const list = (headers: Record<string, string>) => listItemsRoute(new Request(url('/api/v1/stores/local/items'), { headers }), { params: Promise.resolve({ store: 'local' }) });

    it('an expired token gets 401', async () => {
      const id = h.tokens.operator.split('_')[1]!;
      expect((await list({ authorization: `Bearer ${h.tokens.operator}` })).status).toBe(200);
      await (await appDb()).updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', id).execute();
      expect((await list({ authorization: `Bearer ${h.tokens.operator}` })).status).toBe(401);
    });

    it('a revoked token gets 401', async () => {
      expect((await list({ authorization: `Bearer ${h.tokens.auditor}` })).status).toBe(200);
      await revokeApiToken(h.tokens.auditor.split('_')[1]!);
      expect((await list({ authorization: `Bearer ${h.tokens.auditor}` })).status).toBe(401);
    });

    it('a session past its idle timeout or its absolute lifetime is not accepted', async () => {
      const idle = await encode({ token: { uid: h.userIds.admin, authTime: Math.floor(Date.now() / 1000) }, secret: authSecret(), maxAge: -60 });
      expect(await decodeSession(idle)).toBeNull();
      const old = await issueSession({ uid: h.userIds.admin, email: 'admin@example.com' }, Math.floor(Date.now() / 1000) - (ABSOLUTE_SESSION_HOURS * 3600 + 60));
      expect(await decodeSession(old)).toBeNull();
      expect((await list({ cookie: `next-auth.session-token=${old}` })).status).toBe(401);
      expect(await decodeSession(h.cookies.admin)).toMatchObject({ uid: h.userIds.admin });
    });

    it('a signed-out session stops working, and so does any renewal of it', async () => {
      const cookie = await issueSession({ uid: h.userIds.viewer, email: 'viewer@example.com' });
      const claims = (await decodeSession(cookie))!;
      const renewed = await renewSession(claims);
      expect((await list({ cookie: `next-auth.session-token=${renewed}` })).status).toBe(200);
      await revokeSession(claims.sid, claims.authTime);
      expect((await list({ cookie: `next-auth.session-token=${cookie}` })).status).toBe(401);
      expect((await list({ cookie: `next-auth.session-token=${renewed}` })).status).toBe(401);
      expect(await decodeSession(h.cookies.viewer)).not.toBeNull();
    });
  });

  describe('server actions without a session', () => {
    it.each([
      ['createUserAction', () => createUserAction({ email: 'x@example.com', role: 'admin', password: 'long-enough-password' })],
      ['removeUserAction', () => removeUserAction({ email: 'viewer@example.com' })],
      ['createApiTokenAction', () => createApiTokenAction({ userId: h.userIds.admin, name: 'x', expiresInDays: 1 })],
      ['revokeApiTokenAction', () => revokeApiTokenAction({ id: h.tokens.admin.split('_')[1]! })],
      ['generateValueAction', () => generateValueAction({ storeId: 'local', name: '/prod/payments/stripe-key' })],
      ['rotateSecretAction', () => rotateSecretAction({ storeId: 'local', name: '/prod/payments/stripe-key' })],
    ])('%s answers 401 and changes nothing', async (_name, run) => {
      sessionJar.cookie = null;
      expect(await run()).toMatchObject({ ok: false, status: 401 });
      sessionJar.cookie = `${h.cookies.admin.slice(0, -3)}xyz`;
      expect(await run()).toMatchObject({ ok: false, status: 401 });
      sessionJar.cookie = null;
    });

    it('rejects bad input with a 400 that names the problem', async () => {
      sessionJar.cookie = h.cookies.admin;
      expect(await createUserAction({ email: 'not-an-email', role: 'admin', password: 'long-enough-password' })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/valid email/) });
      expect(await createUserAction({ email: 'y@example.com', role: 'root', password: 'long-enough-password' })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/Role must be one of/) });
      expect(await createApiTokenAction({ userId: h.userIds.admin, name: 'x', expiresInDays: 9999 })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/365 days/) });
      expect(await removeUserAction({ email: 'admin@example.com' })).toMatchObject({ ok: false, status: 409 });
      sessionJar.cookie = null;
    });
  });

  describe('the address failed sign-ins are counted by', () => {
    it.each([
      ['1.1.1.1', 0, '1.1.1.1'],
      ['6.6.6.6, 10.0.0.5', 0, '10.0.0.5'],
      ['6.6.6.6, 203.0.113.9, 10.0.0.5', 1, '203.0.113.9'],
      ['203.0.113.9, 10.0.0.5', 5, '203.0.113.9'],
      [undefined, 0, 'unknown'],
    ])('x-forwarded-for %j behind %i proxies is %s', (header, hops, expected) => {
      expect(clientAddress(header === undefined ? {} : { 'x-forwarded-for': header }, hops)).toBe(expected);
    });
  });

  describe('local sign-in', () => {
    const credentials = () => {
      const provider = authOptions().providers.find((p) => p.id === 'credentials') as unknown as {
        options: { authorize: (c: Record<string, string>, req: { headers: Record<string, string> }) => Promise<unknown> };
      };
      return provider.options.authorize;
    };
    const req = (address: string) => ({ headers: { 'x-forwarded-for': address } });

    it('accepts the right password and refuses a wrong one with a clear message', async () => {
      await expect(credentials()({ email: 'viewer@example.com', password: 'long-enough-password' }, req('10.0.0.1'))).resolves.toMatchObject({ email: 'viewer@example.com' });
      await expect(credentials()({ email: 'viewer@example.com', password: 'wrong' }, req('10.0.0.1'))).rejects.toThrow('Wrong email or password.');
      await expect(credentials()({ email: 'nobody@example.com', password: 'whatever' }, req('10.0.0.1'))).rejects.toThrow('Wrong email or password.');
      await expect(credentials()({ email: 'bad', password: '' }, req('10.0.0.1'))).rejects.toThrow('Enter your email address and password.');
    });

    it(`locks an account after ${MAX_FAILURES_PER_ACCOUNT} failures, even with the right password, from any address`, async () => {
      for (let i = 0; i < MAX_FAILURES_PER_ACCOUNT; i++)
        await expect(credentials()({ email: 'operator@example.com', password: 'wrong' }, req(`10.1.0.${i}`))).rejects.toThrow('Wrong email or password.');
      await expect(credentials()({ email: 'operator@example.com', password: 'long-enough-password' }, req('10.2.0.1'))).rejects.toThrow(/Too many failed sign-ins. Try again in \d+ minutes?/);
      // Other accounts are unaffected.
      await expect(credentials()({ email: 'auditor@example.com', password: 'long-enough-password' }, req('10.2.0.1'))).resolves.toBeTruthy();
    });

    it('limits an address that tries many accounts', async () => {
      for (let i = 0; i < 20; i++) await expect(credentials()({ email: `guess${i}@example.com`, password: 'x' }, req('10.9.9.9'))).rejects.toThrow('Wrong email or password.');
      await expect(credentials()({ email: 'admin@example.com', password: 'long-enough-password' }, req('10.9.9.9'))).rejects.toThrow(/Too many failed sign-ins/);
      await expect(credentials()({ email: 'admin@example.com', password: 'long-enough-password' }, req('10.9.9.10'))).resolves.toBeTruthy();
    });
  });
});
