import { z } from 'zod';
import { itemAddressSchema } from './generate';

// A Secrets Manager rotation schedule as AWS accepts it (RotationRules): rate(N days) for 1 to 1000
// days, rate(N hours) for 4 to 23 hours, or a six-field cron(...) expression; an optional window
// (Duration) of 1 to 24 hours, written like "3h". Turning rotation off is `enabled: false`.

const RATE = /^rate\((\d{1,4}) (day|days|hour|hours)\)$/;
const CRON = /^cron\((\S+ ){5}\S+\)$/;

export function scheduleProblem(expression: string): string | null {
  const rate = RATE.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    const days = rate[2]!.startsWith('day');
    if (days && (n < 1 || n > 1000)) return `A rate in days must be from 1 to 1000 (got ${n}).`;
    if (!days && (n < 4 || n > 23)) return `A rate in hours must be from 4 to 23 (got ${n}); use days for longer.`;
    if ((n === 1) !== /^(day|hour)$/.test(rate[2]!)) return `Write "rate(${n} ${days ? (n === 1 ? 'day' : 'days') : n === 1 ? 'hour' : 'hours'})".`;
    return null;
  }
  if (CRON.test(expression)) return null;
  return 'The schedule must be rate(N days), rate(N hours) or a six-field cron(...) expression, e.g. rate(30 days) or cron(0 4 ? * SUN *).';
}

const flag = z.preprocess((v) => (v === 'on' || v === 'true' || v === true ? true : v === 'false' || v === 'off' || v === false || v === undefined || v === '' ? false : v), z.boolean({ message: 'enabled must be true or false.' }));

export const rotationScheduleSchema = itemAddressSchema
  .extend({
    enabled: flag,
    expression: z.string().trim().max(256, { message: 'The schedule is at most 256 characters.' }).optional(),
    window: z
      .string()
      .trim()
      .regex(/^$|^([1-9]|1\d|2[0-4])h$/, { message: 'The window must be 1h to 24h, or empty for AWS\'s default.' })
      .optional(),
    reason: z
      .string({ message: 'Give a reason (at most 500 characters).' })
      .trim()
      .min(1, { message: 'Give a reason (at most 500 characters).' })
      .max(500, { message: 'The reason is at most 500 characters.' }),
  })
  .superRefine((input, ctx) => {
    if (!input.enabled) return;
    if (!input.expression) return ctx.addIssue({ code: 'custom', path: ['expression'], message: 'Give a schedule, e.g. rate(30 days).' });
    const problem = scheduleProblem(input.expression);
    if (problem) ctx.addIssue({ code: 'custom', path: ['expression'], message: problem });
  });
export type RotationScheduleInput = z.infer<typeof rotationScheduleSchema>;
