import { randomBytes } from 'node:crypto';
import { AwsFault } from './aws-fault';

// Secrets Manager's rotation as the simulator plays it: the schedule RotateSecret validates
// (AutomaticallyAfterDays 1–1000, or ScheduleExpression rate(N days) 1–1000, rate(N hours) 4–23,
// cron with 6 fields; an optional window Duration "Nh", 1–24 hours and shorter than an hourly
// rate), when the next rotation falls, and the new value the simulated rotation function writes.

const DAY = 86_400;
const HOUR = 3_600;

export interface RotationRules {
  AutomaticallyAfterDays?: number;
  Duration?: string;
  ScheduleExpression?: string;
}

/** A Lambda function ARN as RotateSecret accepts it. */
export const LAMBDA_ARN = /^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]+(:[A-Za-z0-9_$-]+)?$/;

function invalid(message: string): AwsFault {
  return new AwsFault('InvalidParameterException', message);
}

/** The rules as stored and shown by DescribeSecret; throws InvalidParameterException as AWS does. */
export function validateRotationRules(input: unknown): RotationRules {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw invalid('RotationRules must be an object.');
  const { AutomaticallyAfterDays: days, ScheduleExpression: expression, Duration: duration } = input as Record<string, unknown>;
  if (days === undefined && expression === undefined) throw invalid('You must specify either AutomaticallyAfterDays or ScheduleExpression in RotationRules.');
  if (days !== undefined && expression !== undefined) throw invalid('You can specify either AutomaticallyAfterDays or ScheduleExpression, not both.');
  const rules: RotationRules = {};
  let intervalSeconds: number | null = null;
  if (days !== undefined) {
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 1 || days > 1000)
      throw invalid('The rotation interval AutomaticallyAfterDays must be between 1 and 1000 days.');
    rules.AutomaticallyAfterDays = days;
    intervalSeconds = days * DAY;
  } else {
    if (typeof expression !== 'string') throw invalid('ScheduleExpression must be a string.');
    const rate = /^rate\((\d+) (day|days|hour|hours)\)$/.exec(expression);
    if (rate) {
      const n = Number(rate[1]);
      if (rate[2]!.startsWith('day')) {
        if (n < 1 || n > 1000) throw invalid('The schedule expression rate(N days) must have N between 1 and 1000.');
        // DescribeSecret shows a days rate both ways.
        rules.AutomaticallyAfterDays = n;
        intervalSeconds = n * DAY;
      } else {
        if (n < 4 || n > 23) throw invalid('The schedule expression rate(N hours) must have N between 4 and 23.');
        intervalSeconds = n * HOUR;
      }
    } else if (!validCron(expression)) {
      throw invalid(`The schedule expression ${expression} is invalid. Use rate(N days), rate(N hours) or cron(minutes hours day-of-month month day-of-week year).`);
    }
    rules.ScheduleExpression = expression;
  }
  if (duration !== undefined) {
    const match = typeof duration === 'string' ? /^(\d{1,2})h$/.exec(duration) : null;
    const hours = match ? Number(match[1]) : NaN;
    if (!(hours >= 1 && hours <= 24)) throw invalid('The rotation window Duration must be between 1h and 24h.');
    if (intervalSeconds !== null && hours * HOUR >= intervalSeconds) throw invalid('The rotation window Duration must be shorter than the rotation interval.');
    rules.Duration = duration as string;
  }
  return rules;
}

const CRON_FIELD = /^[0-9A-Za-z*?/,\-#L]+$/;

function validCron(expression: string): boolean {
  const match = /^cron\((.+)\)$/.exec(expression);
  if (!match) return false;
  const fields = match[1]!.trim().split(/\s+/);
  if (fields.length !== 6 || !fields.every((f) => CRON_FIELD.test(f))) return false;
  const [minutes, hours, dayOfMonth, , dayOfWeek] = fields;
  // Exactly one of day-of-month and day-of-week is "?", as in every AWS cron.
  if ((dayOfMonth === '?') === (dayOfWeek === '?')) return false;
  return inRange(minutes!, 0, 59) && inRange(hours!, 0, 23);
}

function inRange(field: string, low: number, high: number): boolean {
  return field.split(/[,\-/]/).every((part) => part === '*' || (/^\d+$/.test(part) && Number(part) >= low && Number(part) <= high));
}

/** When the next rotation is due (epoch seconds): a rate counts from the last rotation; a cron's next day at its hour. */
export function nextRotation(rules: RotationRules, lastRotated: number | undefined, now: number): number {
  const expression = rules.ScheduleExpression;
  const hourly = expression ? /^rate\((\d+) hours?\)$/.exec(expression) : null;
  const intervalSeconds = hourly ? Number(hourly[1]) * HOUR : rules.AutomaticallyAfterDays !== undefined ? rules.AutomaticallyAfterDays * DAY : null;
  if (intervalSeconds !== null) {
    const due = (lastRotated ?? now) + intervalSeconds;
    return due > now ? due : now + intervalSeconds;
  }
  // A cron: the start of tomorrow (UTC) plus the expression's first hour, a plausible next window.
  const hour = Number(/^cron\(\S+ (\d+)/.exec(expression ?? '')?.[1] ?? 0);
  return Math.floor(now / DAY) * DAY + DAY + hour * HOUR;
}

/** The rotation function's new value: a JSON secret keeps its shape with a new password; anything else is a new random string. */
export function rotatedValue(current: string | undefined): string {
  const fresh = randomBytes(24).toString('base64url');
  try {
    const parsed: unknown = JSON.parse(current ?? '');
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && 'password' in parsed) return JSON.stringify({ ...parsed, password: fresh });
  } catch {
    // Not JSON: a plain random value.
  }
  return fresh;
}
