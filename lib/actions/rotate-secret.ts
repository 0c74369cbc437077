'use server';

import { writeNewValue } from '@/lib/secrets/write-new-value';
import { rotateInputSchema } from '@/lib/validations/generate';
import { authedAction } from './authed-action';

// Operators and admins: rotate now. A Secrets Manager secret with a rotation function rotates
// through it (RotateSecret); anything else gets a new random value (by default a 32-character
// password) as its next version. A reason is required; the request id makes a repeat a no-op.
const run = authedAction(
  { schema: rotateInputSchema, permission: 'rotate', resource: ({ storeId, name }) => ({ storeId, name }) },
  (input, principal) => writeNewValue(principal, { ...input, action: 'rotate' }),
);

export async function rotateSecretAction(input: unknown) {
  return run(input);
}
