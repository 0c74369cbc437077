'use server';

import { silenceAlerts } from '@/lib/data/alerts';
import { silenceFormSchema } from '@/lib/validations/alerts';
import { authedAction } from './authed-action';

// Admins (manage-alerts): silence a rule, an item, or a rule on one item, with a reason, until an
// expiry within 90 days (the schema is made per call: its bounds are the clock's). Audited by
// lib/alerts/admin.ts, which also refuses a rule or store that is not configured.
const run = authedAction({ schema: () => silenceFormSchema(), permission: 'manage-alerts' }, (input, principal) => silenceAlerts(principal, input));

export async function silenceAlert(input: unknown) {
  return run(input);
}
