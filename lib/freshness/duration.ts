// Durations as CONFIG_FILE's `freshness:` section writes them: "30d", "4w", "12h", or a bare
// whole number of days. Kept in days (hours become fractions of a day) because the policies and
// everything that shows them speak in days.

export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;
/** Ten years: a longer limit is a typo, not a policy. */
export const MAX_DURATION_DAYS = 3650;

const DURATION = /^(\d{1,6})\s*([hdw])$/;
const UNIT_DAYS = { h: 1 / 24, d: 1, w: 7 } as const;

/** Days, or a message saying what a duration looks like. */
export function parseDurationDays(value: unknown): { days: number } | { problem: string } {
  const shape = 'a duration such as 90d, 12w or 36h (or a whole number of days)';
  let days: number;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { problem: `must be ${shape}; ${value} is not a whole number of days` };
    days = value;
  } else if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    if (!match) return { problem: `must be ${shape}, not "${value.slice(0, 40)}"` };
    days = Number(match[1]) * UNIT_DAYS[match[2] as keyof typeof UNIT_DAYS];
  } else {
    return { problem: `must be ${shape}` };
  }
  if (days <= 0) return { problem: 'must be longer than zero' };
  if (days > MAX_DURATION_DAYS) return { problem: `must be at most ${MAX_DURATION_DAYS} days (ten years)` };
  return { days };
}

/** "90 days", "1 day", "36 hours" (a policy's length as a sentence names it). */
export function describeDays(days: number): string {
  if (Number.isInteger(days)) return `${days} day${days === 1 ? '' : 's'}`;
  const hours = Math.round(days * 24);
  return `${hours} hour${hours === 1 ? '' : 's'}`;
}
