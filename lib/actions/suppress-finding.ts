'use server';

import { createSuppression } from '@/lib/data/findings';
import { WORKLOAD_STORE_ID } from '@/lib/findings/types';
import { suppressionInputSchema } from '@/lib/validations/finding';
import { authedAction } from './authed-action';

// Reviewers and admins: suppress a raised finding with a reason until an expiry within a year (the
// schema is made per call: its bounds are the clock's). Audited by createSuppression.
const run = authedAction(
  // A workload finding names no item: createSuppression holds it to callers who may audit everything.
  { schema: () => suppressionInputSchema(), permission: 'suppress-finding', resource: ({ storeId, itemName }) => (storeId === WORKLOAD_STORE_ID ? undefined : { storeId, name: itemName }) },
  (input, principal) => createSuppression(principal, input),
);

export async function suppressFinding(input: unknown) {
  return run(input);
}
