'use server';

import { sendChannelTest } from '@/lib/data/alerts';
import { sendTestSchema } from '@/lib/validations/alerts';
import { authedAction } from './authed-action';

// Admins (manage-alerts): queue a test message to one configured channel; the replica holding the
// alerts lease sends it like any other, and the delivery log shows how it went. Audited.
const run = authedAction({ schema: sendTestSchema, permission: 'manage-alerts' }, (input, principal) => sendChannelTest(principal, input));

export async function sendTestAlert(input: unknown) {
  return run(input);
}
