import 'server-only';
import type { AuthOptions } from 'next-auth';
import CredentialsProvider from 'next-auth/providers/credentials';
import GithubProvider from 'next-auth/providers/github';
import type { OAuthConfig } from 'next-auth/providers/oauth';
import { z } from 'zod';
import { appendAudit } from '@/lib/audit/audit-log';
import { readEnv } from '@/lib/config/env';
import { logger } from '@/lib/logger';
import { authSecret } from './auth-secret';
import { idleTimeoutSeconds, newSessionId, revokeSession } from './session-cookie';
import { clearSignInFailures, recordSignInFailure, signInBlockedFor } from './sign-in-limits';
import { externalAssertion } from './external-assertion';
import { boundUserId } from './external-identities';
import { admitExternalSignIn } from './external-sign-in';
import { findUserById, touchSignIn, verifyLocalPassword } from './users';

const credentialsSchema = z.object({
  email: z.email().max(320),
  password: z.string().min(1).max(1024),
});

/**
 * The client address for sign-in limits: the x-forwarded-for hop the Next.js server appended (the
 * peer it saw), or, behind TRUST_PROXY_HOPS reverse proxies, the hop the outermost one appended.
 * Hops further left are written by the client and are never trusted.
 */
export function clientAddress(headers: Record<string, string | string[] | undefined> | undefined, trustedHops: number): string {
  const forwarded = headers?.['x-forwarded-for'];
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : (forwarded ?? '')).split(',').map((h) => h.trim()).filter(Boolean);
  return hops.at(-1 - Math.min(trustedHops, hops.length - 1)) ?? 'unknown';
}

function groupsFrom(claim: unknown): string[] {
  if (Array.isArray(claim)) return claim.filter((g): g is string => typeof g === 'string').slice(0, 500);
  if (typeof claim === 'string') return claim.split(/[\s,]+/).filter(Boolean);
  return [];
}

/**
 * `https`: whether this request reached the dashboard over https (requestIsHttps). next-auth then
 * issues the __Secure- session cookie, and only then: exactly the cookie lib/session.ts accepts for
 * that scheme, so the two never disagree (left to itself next-auth would trust x-forwarded-proto).
 */
export function authOptions(request: { https: boolean } = { https: false }): AuthOptions {
  const env = readEnv();
  // Without NEXTAUTH_URL, build callback URLs from the request's host, so any PORT works.
  if (!process.env.NEXTAUTH_URL) process.env.AUTH_TRUST_HOST ??= 'true';

  const providers: AuthOptions['providers'] = [
    CredentialsProvider({
      id: 'credentials',
      name: 'Email and password',
      credentials: { email: { label: 'Email', type: 'email' }, password: { label: 'Password', type: 'password' } },
      async authorize(credentials, req) {
        const parsed = credentialsSchema.safeParse(credentials);
        if (!parsed.success) throw new Error('Enter your email address and password.');
        const { email, password } = parsed.data;
        const address = clientAddress(req?.headers as Record<string, string | undefined>, env.TRUST_PROXY_HOPS);
        const waitMinutes = await signInBlockedFor(email, address);
        if (waitMinutes > 0) {
          await appendAudit({ actor: email, action: 'sign-in', target: 'dashboard', outcome: 'denied', details: { reason: 'rate-limited', address } });
          throw new Error(`Too many failed sign-ins. Try again in ${waitMinutes} minute${waitMinutes === 1 ? '' : 's'}.`);
        }
        const user = await verifyLocalPassword(email, password);
        if (!user) {
          await recordSignInFailure(email, address);
          await appendAudit({ actor: email, action: 'sign-in', target: 'dashboard', outcome: 'failure', details: { address } });
          throw new Error('Wrong email or password.');
        }
        await clearSignInFailures(email);
        return { id: user.id, email: user.email, name: user.name ?? user.email };
      },
    }),
  ];

  if (env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET) {
    const oidc: OAuthConfig<Record<string, unknown>> = {
      id: 'oidc',
      name: env.OIDC_NAME,
      type: 'oauth',
      wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, '')}/.well-known/openid-configuration`,
      clientId: env.OIDC_CLIENT_ID,
      clientSecret: env.OIDC_CLIENT_SECRET,
      authorization: { params: { scope: env.OIDC_SCOPE } },
      idToken: true,
      checks: ['pkce', 'state'],
      profile(profile) {
        const email = typeof profile.email === 'string' ? profile.email : '';
        const name = [profile.name, profile.preferred_username, email].find((v) => typeof v === 'string' && v) as string;
        return { id: String(profile.sub), email, name, groups: groupsFrom(profile[env.OIDC_GROUPS_CLAIM]) };
      },
    };
    providers.push(oidc);
  }
  if (env.GITHUB_ID && env.GITHUB_SECRET) providers.push(GithubProvider({ clientId: env.GITHUB_ID, clientSecret: env.GITHUB_SECRET }));

  return {
    secret: authSecret(),
    useSecureCookies: request.https,
    session: { strategy: 'jwt', maxAge: idleTimeoutSeconds() },
    jwt: { maxAge: idleTimeoutSeconds() },
    pages: { signIn: '/sign-in', error: '/sign-in' },
    providers,
    logger: {
      error: (code) => logger.error({ code }, 'next-auth error'),
      warn: (code) => logger.warn({ code }, 'next-auth warning'),
      debug: () => undefined,
    },
    events: {
      async signOut({ token }) {
        if (typeof token?.sid === 'string' && typeof token.authTime === 'number') await revokeSession(token.sid, token.authTime);
        if (token?.email) await appendAudit({ actor: token.email, action: 'sign-out', target: 'dashboard', outcome: 'success' });
      },
    },
    callbacks: {
      async signIn({ user, account, profile }) {
        if (!account || account.provider === 'credentials') return true;
        // Bound to its provider and subject; an email reaches an existing account only when
        // verified and linking is on (lib/auth/external-sign-in.ts). Refusals go to a page that says why.
        const assertion = externalAssertion(user, account, profile);
        if ('error' in assertion) return `/sign-in?error=${assertion.error}`;
        const verdict = await admitExternalSignIn(assertion);
        return verdict.ok ? true : `/sign-in?error=${verdict.code}`;
      },
      async jwt({ token, user, account }) {
        if (account && user) {
          // The account signIn admitted: the password's account, or the one the identity is bound to.
          const userId = account.provider === 'credentials' ? user.id : await boundUserId({ provider: account.provider, subject: account.providerAccountId });
          const row = userId ? await findUserById(userId) : null;
          if (row) {
            await touchSignIn(row.id);
            await appendAudit({ actor: row.email, action: 'sign-in', target: 'dashboard', outcome: 'success', details: { provider: account.provider } });
            return { sub: row.id, uid: row.id, email: row.email, name: row.name ?? row.email, role: row.role, authTime: Math.floor(Date.now() / 1000), sid: newSessionId() };
          }
        }
        return token;
      },
      async session({ session, token }) {
        session.user = { id: token.uid ?? '', email: token.email ?? '', name: token.name ?? null, role: token.role ?? null };
        return session;
      },
    },
  };
}
