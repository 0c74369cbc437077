'use server';

import { liftSuppressionById } from '@/lib/data/findings';
import { liftSuppressionSchema } from '@/lib/validations/finding';
import { authedAction } from './authed-action';

// Reviewers and admins: lift a suppression before its expiry. The suppression's own item is
// authorized inside liftSuppressionById (the id alone names no item); audited there.
const run = authedAction({ schema: liftSuppressionSchema, permission: 'suppress-finding' }, (input, principal) => liftSuppressionById(principal, input));

export async function liftSuppression(input: unknown) {
  return run(input);
}
