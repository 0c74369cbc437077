'use server';

import { appendAudit } from '@/lib/audit/audit-log';
import { actorOf } from '@/lib/auth/principal';
import { removeUser } from '@/lib/auth/users';
import { removeUserSchema } from '@/lib/validations/user';
import { ConflictError } from '@/lib/conflict-error';
import { authedAction } from './authed-action';

const run = authedAction({ schema: removeUserSchema, permission: 'manage-users' }, async (input, principal) => {
  if (input.email.toLowerCase() === principal.email.toLowerCase()) throw new ConflictError('You cannot remove your own account.');
  if (!(await removeUser(input.email))) throw new ConflictError(`There is no user ${input.email}.`);
  await appendAudit({ actor: actorOf(principal), action: 'remove-user', target: input.email, outcome: 'success' });
  return { email: input.email };
});

export async function removeUserAction(input: unknown) {
  return run(input);
}
