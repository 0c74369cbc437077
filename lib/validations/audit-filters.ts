import { z } from 'zod';

// The audit timeline's filters as a URL carries them (every view is a URL). Each problem names
// its field: unknown fields, a field given twice, impossible dates, from after to, values over
// 512 characters.
//
//   ?actor=deploy&actorMatch=contains&event=GetSecretValue,Decrypt&access=read
//   &item=/prod/db/password | &path=/prod/&store=prod-secrets&ip=203.0.113.7
//   &from=2026-01-01&to=2026-01-31T12:00:00Z&outcome=error&error=AccessDenied
//   &bucket=day&cursor=...

export const MAX_FILTER_LENGTH = 512;
export const MAX_EVENT_NAMES = 20;

const bounded = (field: string) =>
  z
    .string()
    .trim()
    .min(1, { message: `${field} must not be empty` })
    .max(MAX_FILTER_LENGTH, { message: `${field} may be at most ${MAX_FILTER_LENGTH} characters` });

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})$/;

function realDay(year: number, month: number, day: number): boolean {
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/**
 * A date (YYYY-MM-DD, UTC) or date-time with a zone, as an ISO instant. A date alone means the
 * start of the day for `from` and its last millisecond for `to`, so to=2026-01-31 includes that day.
 */
const instant = (field: 'from' | 'to') =>
  bounded(field).transform((value, ctx) => {
    const parts = DATE.exec(value) ?? DATE_TIME.exec(value);
    const problem = `${field} must be a date (2026-01-31) or a date-time with a zone (2026-01-31T12:00:00Z)`;
    if (!parts) {
      ctx.addIssue({ code: 'custom', message: problem });
      return z.NEVER;
    }
    const [year, month, day] = [Number(parts[1]), Number(parts[2]), Number(parts[3])];
    const [hour, minute, second] = [Number(parts[4] ?? 0), Number(parts[5] ?? 0), Number(parts[6] ?? 0)];
    if (!realDay(year, month, day) || hour > 23 || minute > 59 || second > 59) {
      ctx.addIssue({ code: 'custom', message: `${field}: ${value} is not a real date or time` });
      return z.NEVER;
    }
    if (parts.length === 4) return new Date(Date.UTC(year, month - 1, day, ...(field === 'to' ? [23, 59, 59, 999] : [0, 0, 0, 0]))).toISOString();
    const ms = Date.parse(value);
    if (Number.isNaN(ms)) {
      ctx.addIssue({ code: 'custom', message: `${field}: ${value} has an impossible time zone offset` });
      return z.NEVER;
    }
    return new Date(ms).toISOString();
  });

const itemName = (field: string) => bounded(field).regex(/^\//, { message: `${field} must start with "/"` });

export const auditFiltersSchema = z
  .strictObject(
    {
      /** Part of the actor's ARN or of the role behind its session (any case), or the whole of either. */
      actor: bounded('actor').optional(),
      actorMatch: z.enum(['contains', 'exact'], { message: 'actorMatch must be contains or exact' }).optional(),
      /** One event name or several, comma-separated. */
      event: bounded('event')
        .transform((v) => [...new Set(v.split(',').map((s) => s.trim()).filter(Boolean))])
        .pipe(
          z
            .array(z.string().regex(/^[A-Za-z0-9]{1,128}$/, { message: 'event must be event names such as GetSecretValue, comma-separated' }))
            .min(1, { message: 'event must name at least one event' })
            .max(MAX_EVENT_NAMES, { message: `event may name at most ${MAX_EVENT_NAMES} events` }),
        )
        .optional(),
      access: z.enum(['read', 'write'], { message: 'access must be read or write' }).optional(),
      /** One item: its events and reads of the folders above it (GetParametersByPath). */
      item: itemName('item').optional(),
      /** Items and folders whose name starts with this. */
      path: itemName('path').optional(),
      store: z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, { message: 'store must be a store id' }).optional(),
      ip: bounded('ip').optional(),
      from: instant('from').optional(),
      to: instant('to').optional(),
      outcome: z.enum(['success', 'error'], { message: 'outcome must be success or error' }).optional(),
      /** A specific error code (implies outcome=error). */
      error: bounded('error').optional(),
      bucket: z.enum(['hour', 'day'], { message: 'bucket must be hour or day' }).optional(),
      cursor: bounded('cursor')
        .regex(/^[A-Za-z0-9_-]+$/, { message: 'cursor is malformed; start again from the first page' })
        .optional(),
    },
    {
      error: (issue) =>
        issue.code === 'unrecognized_keys'
          ? `unknown filter ${issue.keys.map((k) => `"${k}"`).join(', ')}; expected actor, actorMatch, event, access, item, path, store, ip, from, to, outcome, error, bucket, cursor`
          : undefined,
    },
  )
  .superRefine((f, ctx) => {
    if (f.from && f.to && f.from > f.to) ctx.addIssue({ code: 'custom', path: ['to'], message: 'to must not be before from' });
    if (f.outcome === 'success' && f.error) ctx.addIssue({ code: 'custom', path: ['error'], message: 'error names an error code, which contradicts outcome=success' });
    if (f.actorMatch && !f.actor) ctx.addIssue({ code: 'custom', path: ['actorMatch'], message: 'actorMatch needs an actor' });
  });

export type AuditFilterParams = z.infer<typeof auditFiltersSchema>;
/** What the queries filter on (paging and chart settings apart). */
export type AuditFilters = Omit<AuditFilterParams, 'bucket' | 'cursor'>;

export interface FilterProblem {
  /** The URL parameter at fault ('' for the query as a whole). */
  field: string;
  message: string;
}

export type AuditFiltersResult = { ok: true; value: AuditFilterParams } | { ok: false; problems: FilterProblem[] };

type SearchParamsInput = URLSearchParams | Record<string, string | string[] | undefined>;

/** Parses a URL's search parameters (URLSearchParams, or Next.js's searchParams object). */
export function parseAuditFilters(input: SearchParamsInput): AuditFiltersResult {
  const entries: [string, string][] =
    input instanceof URLSearchParams
      ? [...input.entries()]
      : Object.entries(input).flatMap(([k, v]) => (v === undefined ? [] : Array.isArray(v) ? v.map((x): [string, string] => [k, x]) : [[k, v] as [string, string]]));
  const values: Record<string, string> = {};
  const problems: FilterProblem[] = [];
  for (const [key, value] of entries) {
    // An empty parameter is an unset one (forms submit every field).
    if (value === '') continue;
    if (key in values) problems.push({ field: key, message: `${key} is given more than once` });
    values[key] = value;
  }
  const parsed = auditFiltersSchema.safeParse(values);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const field = issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : String(issue.path[0] ?? '');
      problems.push({ field, message: issue.message });
    }
  }
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  return { ok: true, value: parsed.data };
}

/** One line naming every problem (each message names its field), for a 400 response. */
export function describeFilterProblems(problems: FilterProblem[]): string {
  return problems.map((p) => p.message).join('; ');
}
