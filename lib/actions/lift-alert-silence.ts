'use server';

import { liftAlertSilence as lift } from '@/lib/data/alerts';
import { liftSilenceSchema } from '@/lib/validations/alerts';
import { authedAction } from './authed-action';

// Admins (manage-alerts): end a silence before its expiry; alerts it held back are sent at the next
// evaluation. 404 for an unknown silence, 409 when lifted already; audited.
const run = authedAction({ schema: liftSilenceSchema, permission: 'manage-alerts' }, (input, principal) => lift(principal, input));

export async function liftAlertSilence(input: unknown) {
  return run(input);
}
