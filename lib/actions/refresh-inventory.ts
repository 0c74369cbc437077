'use server';

import { z } from 'zod';
import { requestInventorySync } from '@/lib/data/refresh-inventory';
import { storeIdSchema } from '@/lib/validations/browse';
import { authedAction } from './authed-action';

// Operators and admins: the Refresh button queues a walk of an AWS store's inventory now.
const run = authedAction(
  { schema: z.object({ storeId: storeIdSchema }), permission: 'refresh-inventory', resource: ({ storeId }) => ({ storeId, folder: '/' }) },
  (input, principal) => requestInventorySync(principal, input.storeId),
);

export async function refreshInventoryAction(input: unknown) {
  return run(input);
}
