import 'server-only';
import type { Kysely } from 'kysely';
import { appDb, type AppDatabase } from '@/lib/db/app-db';

// Who an identity-provider sign-in is: the provider and its subject (OIDC `sub`, GitHub's numeric
// user id), bound to one account at the first sign-in. An email can be unverified, reassigned or
// asserted by a second provider; a subject is the provider's own, stable name for the person.

export interface ExternalIdentity {
  provider: string;
  subject: string;
}

/** The account an identity is bound to, or null when it is bound to none yet. */
export async function boundUserId(identity: ExternalIdentity): Promise<string | null> {
  const row = await (await appDb())
    .selectFrom('external_identities')
    .select('user_id')
    .where('provider', '=', identity.provider)
    .where('subject', '=', identity.subject)
    .executeTakeFirst();
  return row?.user_id ?? null;
}

/** Whether an account has any identity of this provider bound to it (legacy rows have none). */
export async function hasIdentityOf(userId: string, provider: string): Promise<boolean> {
  const row = await (await appDb())
    .selectFrom('external_identities')
    .select('subject')
    .where('user_id', '=', userId)
    .where('provider', '=', provider)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Binds an identity to an account; `db` may be a transaction (a new account and its binding are
 * written together). An identity already bound stays where it is (two first sign-ins at once):
 * the answer is the account it is bound to, which the caller compares with the one it asked for.
 */
export async function bindIdentity(identity: ExternalIdentity, userId: string, db?: Kysely<AppDatabase>): Promise<string> {
  const conn = db ?? (await appDb());
  await conn
    .insertInto('external_identities')
    .values({ provider: identity.provider, subject: identity.subject, user_id: userId, created_at: new Date().toISOString() })
    .onConflict((oc) => oc.columns(['provider', 'subject']).doNothing())
    .execute();
  const row = await conn
    .selectFrom('external_identities')
    .select('user_id')
    .where('provider', '=', identity.provider)
    .where('subject', '=', identity.subject)
    .executeTakeFirstOrThrow();
  return row.user_id;
}
