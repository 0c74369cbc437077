import 'server-only';
import type { Account, Profile, User } from 'next-auth';
import { z } from 'zod';
import type { ExternalAssertion } from './external-sign-in';
import { githubVerifiedPrimaryEmail } from './github-emails';

// What an identity provider asserted at a sign-in, read from next-auth's callback arguments and
// checked at the edge: the subject (OIDC `sub`, GitHub's numeric id), the email, and how to learn
// whether that email is verified (OIDC's `email_verified` claim; GitHub's emails API).

/** OIDC allows up to 255 ASCII characters for `sub`; GitHub ids are digits. */
const subjectSchema = z.string().min(1).max(255);
/** Lenient on purpose (identity providers differ), but one address, of a sane length. */
const emailSchema = z.string().trim().max(320).regex(/^[^\s@]+@[^\s@]+$/);
const nameSchema = z.string().trim().min(1).max(200);

export type AssertionError = 'InvalidIdentity';

const sameAddress = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();

/** The subject this provider names the person by, or null when the callback carries none usable. */
function subjectOf(account: Account, profile: Record<string, unknown>): string | null {
  const parsed = subjectSchema.safeParse(account.providerAccountId);
  if (!parsed.success) return null;
  // next-auth builds providerAccountId with String(): make sure it came from the real claim.
  if (account.provider === 'oidc' && profile.sub !== parsed.data) return null;
  if (account.provider === 'github' && !(Number.isSafeInteger(profile.id) && String(profile.id) === parsed.data)) return null;
  return parsed.data;
}

export function externalAssertion(
  user: User,
  account: Account,
  profile: Profile | undefined,
  options: { fetchImpl?: typeof fetch; githubApiBase?: string } = {},
): ExternalAssertion | { error: AssertionError } {
  const claims = (profile ?? {}) as Record<string, unknown>;
  const subject = subjectOf(account, claims);
  if (!subject) return { error: 'InvalidIdentity' };
  const email = emailSchema.safeParse(user.email ?? '');
  const asserted = email.success ? email.data : null;
  const name = nameSchema.safeParse(user.name ?? '');
  const groups = (user.groups ?? []).filter((g): g is string => typeof g === 'string' && g.length <= 200).slice(0, 500);

  const emailVerified = async (): Promise<boolean> => {
    if (!asserted) return false;
    // Some issuers (Cognito among them) send the claim as a string.
    if (account.provider === 'oidc') return claims.email_verified === true || claims.email_verified === 'true';
    if (account.provider === 'github') {
      if (typeof account.access_token !== 'string') return false;
      const primary = await githubVerifiedPrimaryEmail(account.access_token, { fetchImpl: options.fetchImpl, apiBase: options.githubApiBase });
      return primary !== null && sameAddress(primary, asserted);
    }
    return false;
  };

  return { identity: { provider: account.provider, subject }, email: asserted, name: name.success ? name.data : null, groups, emailVerified };
}
