'use server';

import { writeNewValue } from '@/lib/secrets/write-new-value';
import { generateValueSchema } from '@/lib/validations/generate';
import { authedAction } from './authed-action';

// Operators and admins: a new random value, chosen length and alphabet, as the item's next version.
const run = authedAction(
  { schema: generateValueSchema, permission: 'generate', resource: ({ storeId, name }) => ({ storeId, name }) },
  (input, principal) => writeNewValue(principal, { ...input, action: 'generate' }),
);

export async function generateValueAction(input: unknown) {
  return run(input);
}
