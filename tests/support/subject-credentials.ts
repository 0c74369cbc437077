// Test accounts as the authorization tests need them: one local user per subject (email
// `<subject>@example.com`), with an API token and a session cookie as next-auth would issue it.
import { createApiToken } from '@/lib/auth/api-tokens';
import type { Role } from '@/lib/auth/roles';
import { issueSession } from '@/lib/auth/session-cookie';
import { createLocalUser } from '@/lib/auth/users';

export interface SubjectCredentials<S extends string> {
  tokens: Record<S, string>;
  userIds: Record<S, string>;
  cookies: Record<S, string>;
}

export async function credentialsFor<S extends string>(subjects: readonly S[], roleOf: (subject: S) => Role): Promise<SubjectCredentials<S>> {
  const tokens = {} as Record<S, string>;
  const userIds = {} as Record<S, string>;
  const cookies = {} as Record<S, string>;
  for (const subject of subjects) {
    const email = `${subject}@example.com`;
    const user = await createLocalUser({ email, role: roleOf(subject), password: 'long-enough-password' });
    userIds[subject] = user.id;
    tokens[subject] = (await createApiToken({ userId: user.id, name: `${subject}-token`, expiresInDays: 1, createdBy: 'test' })).token;
    cookies[subject] = await issueSession({ uid: user.id, email });
  }
  return { tokens, userIds, cookies };
}

/** Request options that authenticate with an API token. */
export function bearer(token: string, init: RequestInit = {}): RequestInit {
  return { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${token}` } };
}
