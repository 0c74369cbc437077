'use server';

import { appendAudit } from '@/lib/audit/audit-log';
import { revokeApiToken } from '@/lib/auth/api-tokens';
import { actorOf } from '@/lib/auth/principal';
import { revokeTokenSchema } from '@/lib/validations/user';
import { ConflictError } from '@/lib/conflict-error';
import { authedAction } from './authed-action';

const run = authedAction({ schema: revokeTokenSchema, permission: 'create-token' }, async (input, principal) => {
  if (!(await revokeApiToken(input.id))) throw new ConflictError('That token does not exist or is already revoked.');
  await appendAudit({ actor: actorOf(principal), action: 'revoke-token', target: input.id, outcome: 'success' });
  return { id: input.id };
});

export async function revokeApiTokenAction(input: unknown) {
  return run(input);
}
