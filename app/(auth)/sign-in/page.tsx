import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { LockIcon } from '@/components/icons';
import { SignInForm } from '@/components/sign-in-form';
import { ThemeSelect } from '@/components/theme-select';
import { readEnv } from '@/lib/config/env';
import { getCurrentUser } from '@/lib/session';
import { requestThemeChoice } from '@/lib/theme';
import { safeCallbackUrl } from '@/lib/validations/callback-url';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Sign in' };

// next-auth's error codes, said the way a person can act on.
const ERRORS: Record<string, string> = {
  OAuthSignin: 'The identity provider could not be reached. Try again, or ask an admin to check the OIDC settings.',
  OAuthCallback: 'The identity provider answered with an error. Try again.',
  OAuthAccountNotLinked: 'This email is already used by another sign-in method.',
  Callback: 'Signing in did not complete. Try again.',
  AccessDenied: 'Access was denied.',
  NoEmail: 'The identity provider sent no usable email address; ask an admin to add the email scope.',
  // Refusals of lib/auth/external-sign-in.ts: the email belongs to an account this sign-in is not bound to.
  IdentityNotLinked:
    'An account with this email address already exists here, and this sign-in is not linked to it, so it was refused and nothing was changed. An admin can turn on linking by verified email for this provider (OIDC_LINK_VERIFIED_EMAIL or GITHUB_LINK_VERIFIED_EMAIL), or remove the existing account so that your next sign-in creates a new one.',
  EmailNotVerified:
    'An account with this email address already exists here, and your identity provider does not say the address is verified, so the sign-in was refused and nothing was changed. Verify the address with your identity provider (on GitHub: make it your verified primary address) and try again, or ask an admin to remove the existing account so that your next sign-in creates a new one.',
  InvalidIdentity: "The identity provider sent no usable account id (the OIDC sub claim, or GitHub's user id), so the sign-in was refused. Ask an admin to check the identity provider's settings.",
  SessionRequired: 'Sign in to continue.',
  Default: 'Signing in failed. Try again.',
};

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

export default async function SignInPage({ searchParams }: Props) {
  const params = await searchParams;
  const callbackUrl = safeCallbackUrl(params.callbackUrl);
  if (await getCurrentUser()) redirect(callbackUrl);

  const env = readEnv();
  const theme = await requestThemeChoice();
  const providers = [
    ...(env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET ? [{ id: 'oidc', name: env.OIDC_NAME }] : []),
    ...(env.GITHUB_ID && env.GITHUB_SECRET ? [{ id: 'github', name: 'GitHub' }] : []),
  ];
  const errorCode = typeof params.error === 'string' ? params.error : null;
  const initialError = errorCode ? (ERRORS[errorCode] ?? (errorCode.length < 200 && /^[\w .,'-]+$/.test(errorCode) ? errorCode : ERRORS.Default!)) : null;

  return (
    <main className="flex min-h-screen items-center justify-center px-4">
      <div className="w-full max-w-sm space-y-6 rounded-xl border border-slate-200 bg-white p-8 shadow-sm">
        <div className="flex items-center gap-2">
          <LockIcon className="h-6 w-6 text-emerald-600" />
          <h1 className="text-xl font-semibold">Sign in to Secrets Dashboard</h1>
        </div>
        <SignInForm callbackUrl={callbackUrl} providers={providers} initialError={initialError} />
        <div className="flex justify-end">
          <ThemeSelect initial={theme} />
        </div>
      </div>
    </main>
  );
}
