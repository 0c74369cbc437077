import 'server-only';
import { appendAudit } from '@/lib/audit/audit-log';
import { readEnv } from '@/lib/config/env';
import { bindIdentity, boundUserId, hasIdentityOf, type ExternalIdentity } from './external-identities';
import { createExternalUser, findUserByEmail, findUserById, refreshExternalUser, type UserSummary } from './users';

// Which account an identity-provider sign-in is, decided on its provider and subject, never on its
// email alone: an email may be unverified, or asserted by a second provider, and the first admin's
// address is well known. An email reaches an existing account only when the provider says it is
// verified AND the admin turned linking on for that provider.

/** What a provider asserted at a sign-in (lib/auth/external-assertion.ts reads it from next-auth). */
export interface ExternalAssertion {
  identity: ExternalIdentity;
  /** The email as asserted, or null when none (or none usable) came. */
  email: string | null;
  name: string | null;
  groups: string[];
  /** Whether the provider says this email is verified; asked only when linking by email is considered. */
  emailVerified: () => Promise<boolean>;
}

/** Codes the sign-in page explains (app/(auth)/sign-in/page.tsx). */
export type ExternalSignInRefusal = 'NoEmail' | 'IdentityNotLinked' | 'EmailNotVerified';

export type ExternalSignInVerdict =
  | { ok: true; user: UserSummary; how: 'bound' | 'created' | 'legacy-bound' | 'linked' }
  | { ok: false; code: ExternalSignInRefusal; reason: string };

/** Whether the admin allows this provider's verified emails to reach existing accounts (off by default). */
export function linksVerifiedEmail(provider: string): boolean {
  const env = readEnv();
  if (provider === 'oidc') return env.OIDC_LINK_VERIFIED_EMAIL;
  if (provider === 'github') return env.GITHUB_LINK_VERIFIED_EMAIL;
  return false;
}

/** Decides (and records) which account a sign-in is; a refusal is audited and changes nothing. */
export async function admitExternalSignIn(assertion: ExternalAssertion): Promise<ExternalSignInVerdict> {
  const { identity, email } = assertion;
  const refresh = { name: assertion.name, groups: assertion.groups };

  // Bound before: this is that account, whatever email the provider asserts today. Its email stays
  // the one it has (grants name emails; an asserted one must not carry them to someone else).
  const boundId = await boundUserId(identity);
  const bound = boundId ? await findUserById(boundId) : null;
  if (bound) {
    await refreshExternalUser(bound.id, refresh);
    return { ok: true, user: bound, how: 'bound' };
  }

  if (!email) return { ok: false, code: 'NoEmail', reason: 'no-email' };
  const existing = await findUserByEmail(email);
  if (!existing) return { ok: true, user: await createExternalUser({ email, ...refresh, identity }), how: 'created' };

  // The migration path: accounts this provider created before identities were bound (by email, as
  // sign-ins then worked) have no binding of this provider. The next sign-in through the same
  // provider with the same email binds them; from then on only that subject is this account.
  if (existing.provider === identity.provider && !(await hasIdentityOf(existing.id, identity.provider)))
    return link(existing, assertion, 'legacy-bound');

  if (!linksVerifiedEmail(identity.provider)) return refuse(assertion, email, { code: 'IdentityNotLinked', reason: 'linking-off' });
  if (!(await assertion.emailVerified())) return refuse(assertion, email, { code: 'EmailNotVerified', reason: 'email-not-verified' });
  return link(existing, assertion, 'linked');
}

async function link(user: UserSummary, assertion: ExternalAssertion, how: 'legacy-bound' | 'linked'): Promise<ExternalSignInVerdict> {
  const boundTo = await bindIdentity(assertion.identity, user.id);
  // Bound to another account by a sign-in at the same moment: sign in again and follow that binding.
  if (boundTo !== user.id) return { ok: false, code: 'IdentityNotLinked', reason: 'bound-meanwhile' };
  await refreshExternalUser(user.id, { name: assertion.name, groups: assertion.groups });
  await appendAudit({
    actor: user.email,
    action: 'link-identity',
    target: user.email,
    outcome: 'success',
    details: { provider: assertion.identity.provider, subject: assertion.identity.subject, via: how === 'linked' ? 'verified-email' : 'existing-row-of-provider' },
  });
  return { ok: true, user, how };
}

async function refuse(assertion: ExternalAssertion, email: string, refusal: { code: ExternalSignInRefusal; reason: string }): Promise<ExternalSignInVerdict> {
  await appendAudit({
    actor: email,
    action: 'sign-in',
    target: 'dashboard',
    outcome: 'denied',
    details: { provider: assertion.identity.provider, subject: assertion.identity.subject, reason: refusal.reason },
  });
  return { ok: false, ...refusal };
}
