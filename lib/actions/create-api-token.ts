'use server';

import { appendAudit } from '@/lib/audit/audit-log';
import { createApiToken, createTokenSchema } from '@/lib/auth/api-tokens';
import { actorOf } from '@/lib/auth/principal';
import { findUserById } from '@/lib/auth/users';
import { ConflictError } from '@/lib/conflict-error';
import { authedAction } from './authed-action';

// The token is returned once, to be shown once; only its hash is kept.
const run = authedAction({ schema: createTokenSchema, permission: 'create-token' }, async (input, principal) => {
  const user = await findUserById(input.userId);
  if (!user) throw new ConflictError('That user no longer exists.');
  const created = await createApiToken({ ...input, createdBy: principal.email });
  await appendAudit({ actor: actorOf(principal), action: 'create-token', target: user.email, outcome: 'success', details: { tokenId: created.id, name: input.name, expiresAt: created.expiresAt } });
  return created;
});

export async function createApiTokenAction(input: unknown) {
  return run(input);
}
