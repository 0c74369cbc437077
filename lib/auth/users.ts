import 'server-only';
import { randomUUID } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { sql, type SqlBool } from 'kysely';
import { appDb } from '@/lib/db/app-db';
import { bindIdentity, type ExternalIdentity } from './external-identities';
import type { Role } from './roles';

// Accounts. Local accounts have argon2id password hashes; identity-provider accounts get a row at
// their first sign-in, bound to the provider's subject (lib/auth/external-identities.ts), so API
// tokens and the audit log can refer to them.

export interface UserSummary {
  id: string;
  email: string;
  name: string | null;
  role: Role | null;
  provider: string;
  groups: string[];
  createdAt: string;
  lastSignInAt: string | null;
}

/** Emails compare without case on both dialects (SQLite's NOCASE column, PostgreSQL's lower() index). */
const sameEmail = (email: string) => sql<SqlBool>`lower(email) = ${email.toLowerCase()}`;

const columns = ['id', 'email', 'name', 'role', 'provider', 'groups', 'created_at', 'last_sign_in_at'] as const;
type Row = { id: string; email: string; name: string | null; role: string | null; provider: string; groups: string; created_at: string; last_sign_in_at: string | null };
const toSummary = (r: Row): UserSummary => ({
  id: r.id,
  email: r.email,
  name: r.name,
  role: r.role as Role | null,
  provider: r.provider,
  groups: JSON.parse(r.groups) as string[],
  createdAt: r.created_at,
  lastSignInAt: r.last_sign_in_at,
});

export class UserError extends Error {}

export async function hashPassword(password: string): Promise<string> {
  // argon2id with the library's defaults (19 MiB, 2 passes), OWASP's recommended minimum.
  return hash(password);
}

export async function countUsers(): Promise<number> {
  const row = await (await appDb()).selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listUsers(): Promise<UserSummary[]> {
  return (await (await appDb()).selectFrom('users').select(columns).orderBy('email').execute()).map(toSummary);
}

export async function findUserById(id: string): Promise<UserSummary | null> {
  const row = await (await appDb()).selectFrom('users').select(columns).where('id', '=', id).executeTakeFirst();
  return row ? toSummary(row) : null;
}

export async function findUserByEmail(email: string): Promise<UserSummary | null> {
  const row = await (await appDb()).selectFrom('users').select(columns).where(sameEmail(email)).executeTakeFirst();
  return row ? toSummary(row) : null;
}

export async function createLocalUser(input: { email: string; role: Role; password: string; name?: string | null }): Promise<UserSummary> {
  if (await findUserByEmail(input.email)) throw new UserError(`A user with the email ${input.email} already exists.`);
  const row = {
    id: randomUUID(),
    email: input.email,
    name: input.name ?? null,
    role: input.role,
    password_hash: await hashPassword(input.password),
    provider: 'local',
    groups: '[]',
    created_at: new Date().toISOString(),
    last_sign_in_at: null,
  };
  await (await appDb()).insertInto('users').values(row).execute();
  return toSummary(row);
}

export async function removeUser(email: string): Promise<boolean> {
  const result = await (await appDb()).deleteFrom('users').where(sameEmail(email)).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

/** Checks a local account's password; null when the account or password is wrong. */
export async function verifyLocalPassword(email: string, password: string): Promise<UserSummary | null> {
  const row = await (await appDb())
    .selectFrom('users')
    .select([...columns, 'password_hash'])
    .where(sameEmail(email))
    .where('provider', '=', 'local')
    .executeTakeFirst();
  if (!row?.password_hash) return null;
  try {
    return (await verify(row.password_hash, password)) ? toSummary(row) : null;
  } catch {
    return null;
  }
}

/**
 * A new account for an identity-provider sign-in, bound to that identity in the same transaction
 * (no account without its binding). No role: access comes from grants naming the email or groups.
 */
export async function createExternalUser(input: { email: string; name: string | null; groups: string[]; identity: ExternalIdentity }): Promise<UserSummary> {
  const now = new Date().toISOString();
  const row = {
    id: randomUUID(),
    email: input.email,
    name: input.name,
    role: null,
    password_hash: null,
    provider: input.identity.provider,
    groups: JSON.stringify(input.groups),
    created_at: now,
    last_sign_in_at: now,
  };
  await (await appDb()).transaction().execute(async (trx) => {
    await trx.insertInto('users').values(row).execute();
    const boundTo = await bindIdentity(input.identity, row.id, trx);
    // Another sign-in of the same identity bound it first: roll this account back.
    if (boundTo !== row.id) throw new UserError(`This ${input.identity.provider} identity was bound to another account at the same moment; sign in again.`);
  });
  return toSummary(row);
}

/** What an identity provider says at each sign-in: the name and groups now. The email stays as it is. */
export async function refreshExternalUser(userId: string, input: { name: string | null; groups: string[] }): Promise<void> {
  const update = { groups: JSON.stringify(input.groups), last_sign_in_at: new Date().toISOString(), ...(input.name ? { name: input.name } : {}) };
  await (await appDb()).updateTable('users').set(update).where('id', '=', userId).execute();
}

export async function touchSignIn(userId: string): Promise<void> {
  await (await appDb()).updateTable('users').set({ last_sign_in_at: new Date().toISOString() }).where('id', '=', userId).execute();
}
