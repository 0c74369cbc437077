import 'server-only';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { appDb } from '@/lib/db/app-db';

// API tokens for automation: "sd_<id>_<secret>". Only a SHA-256 of the secret is stored (the
// secret is 256 random bits, so a slow hash adds nothing); the whole token is shown once.

export const TOKEN_FORMAT = /^sd_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
export const MAX_TOKEN_DAYS = 365;

export const createTokenSchema = z.object({
  userId: z.string().uuid({ message: 'Choose the user the token acts as.' }),
  name: z.string().trim().min(1, { message: 'Give the token a name, e.g. ci-deploy.' }).max(100, { message: 'The name is at most 100 characters.' }),
  expiresInDays: z.coerce
    .number({ message: 'Expiry must be a number of days.' })
    .int({ message: 'Expiry must be a whole number of days.' })
    .min(1, { message: 'Tokens last at least 1 day.' })
    .max(MAX_TOKEN_DAYS, { message: `Tokens expire within ${MAX_TOKEN_DAYS} days.` }),
});

export interface TokenSummary {
  id: string;
  userEmail: string;
  name: string;
  createdBy: string;
  createdAt: string;
  expiresAt: string;
  lastUsedAt: string | null;
  revoked: boolean;
}

const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');

export async function createApiToken(input: z.infer<typeof createTokenSchema> & { createdBy: string }): Promise<{ id: string; token: string; expiresAt: string }> {
  const id = randomBytes(9).toString('base64url').toLowerCase().replace(/[^a-z0-9]/g, '0').slice(0, 12).padEnd(12, '0');
  const secret = randomBytes(32).toString('base64url');
  const now = new Date();
  const expiresAt = new Date(now.getTime() + input.expiresInDays * 86_400_000).toISOString();
  await (await appDb())
    .insertInto('api_tokens')
    .values({ id, user_id: input.userId, name: input.name, token_hash: digest(secret), created_by: input.createdBy, created_at: now.toISOString(), expires_at: expiresAt, last_used_at: null, revoked_at: null })
    .execute();
  return { id, token: `sd_${id}_${secret}`, expiresAt };
}

/** The token's id and user when it is well-formed, known, unrevoked and unexpired; else null. */
export async function verifyApiToken(raw: string): Promise<{ tokenId: string; userId: string } | null> {
  const match = TOKEN_FORMAT.exec(raw);
  if (!match) return null;
  const [, id, secret] = match as unknown as [string, string, string];
  const row = await (await appDb()).selectFrom('api_tokens').select(['id', 'user_id', 'token_hash', 'expires_at', 'revoked_at']).where('id', '=', id).executeTakeFirst();
  if (!row || row.revoked_at || Date.parse(row.expires_at) <= Date.now()) return null;
  const expected = Buffer.from(row.token_hash, 'hex');
  const actual = Buffer.from(digest(secret), 'hex');
  if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) return null;
  await (await appDb()).updateTable('api_tokens').set({ last_used_at: new Date().toISOString() }).where('id', '=', id).execute();
  return { tokenId: row.id, userId: row.user_id };
}

export async function listApiTokens(): Promise<TokenSummary[]> {
  const rows = await (await appDb())
    .selectFrom('api_tokens')
    .innerJoin('users', 'users.id', 'api_tokens.user_id')
    .select(['api_tokens.id', 'users.email', 'api_tokens.name', 'api_tokens.created_by', 'api_tokens.created_at', 'api_tokens.expires_at', 'api_tokens.last_used_at', 'api_tokens.revoked_at'])
    .orderBy('api_tokens.created_at', 'desc')
    .execute();
  return rows.map((r) => ({ id: r.id, userEmail: r.email, name: r.name, createdBy: r.created_by, createdAt: r.created_at, expiresAt: r.expires_at, lastUsedAt: r.last_used_at, revoked: r.revoked_at !== null }));
}

export async function revokeApiToken(id: string): Promise<boolean> {
  const result = await (await appDb()).updateTable('api_tokens').set({ revoked_at: new Date().toISOString() }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}
