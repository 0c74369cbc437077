'use server';

import { setRotationSchedule } from '@/lib/secrets/rotation-schedule';
import { rotationScheduleSchema } from '@/lib/validations/rotation-schedule';
import { authedAction } from './authed-action';

// Admins: set, change or turn off a Secrets Manager secret's rotation schedule in AWS.
const run = authedAction(
  { schema: rotationScheduleSchema, permission: 'schedule-rotation', resource: ({ storeId, name }) => ({ storeId, name }) },
  (input, principal) => setRotationSchedule(principal, input),
);

export async function setRotationScheduleAction(input: unknown) {
  return run(input);
}
