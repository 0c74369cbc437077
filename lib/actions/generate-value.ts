'use server';

import { writeNewValue } from '@/lib/secrets/write-new-value';
import { generateInputSchema } from '@/lib/validations/generate';
import { authedAction } from './authed-action';

// Operators and admins: a new value from a preset (password, hex, base64url, UUID, 256-bit key) as
// the item's next version, or as one key of a JSON secret. A reason is required.
const run = authedAction(
  { schema: generateInputSchema, permission: 'generate', resource: ({ storeId, name }) => ({ storeId, name }) },
  (input, principal) => writeNewValue(principal, { ...input, action: 'generate' }),
);

export async function generateValueAction(input: unknown) {
  return run(input);
}
