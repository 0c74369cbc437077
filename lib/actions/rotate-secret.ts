'use server';

import { writeNewValue } from '@/lib/secrets/write-new-value';
import { itemAddressSchema } from '@/lib/validations/generate';
import { authedAction } from './authed-action';

// Operators and admins: rotate now. In the built-in store a rotation is a new 32-character random
// version labelled "rotated"; AWS stores rotate through AWS until write support arrives.
const run = authedAction(
  { schema: itemAddressSchema, permission: 'rotate', resource: ({ storeId, name }) => ({ storeId, name }) },
  (input, principal) => writeNewValue(principal, { ...input, length: 32, alphabet: 'alphanumeric', action: 'rotate' }),
);

export async function rotateSecretAction(input: unknown) {
  return run(input);
}
