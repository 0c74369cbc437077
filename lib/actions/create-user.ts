'use server';

import { appendAudit } from '@/lib/audit/audit-log';
import { actorOf } from '@/lib/auth/principal';
import { createLocalUser, findUserByEmail } from '@/lib/auth/users';
import { createUserSchema } from '@/lib/validations/user';
import { ConflictError } from '@/lib/conflict-error';
import { authedAction } from './authed-action';

const run = authedAction({ schema: createUserSchema, permission: 'manage-users' }, async (input, principal) => {
  if (await findUserByEmail(input.email)) throw new ConflictError(`A user with the email ${input.email} already exists.`);
  const user = await createLocalUser(input);
  await appendAudit({ actor: actorOf(principal), action: 'create-user', target: user.email, outcome: 'success', details: { role: input.role } });
  return { id: user.id, email: user.email, role: user.role };
});

export async function createUserAction(input: unknown) {
  return run(input);
}
