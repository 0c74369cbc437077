import { z } from 'zod';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';

// Freshness filters as URLs, the API and the report take them: `status=overdue,due-soon` (a comma
// list of the five statuses), `store=a&store=b` or `store=a,b`, a keyset cursor and a page size.
// Every problem names its field.

export const MAX_FRESHNESS_LIMIT = 1000;
export const DEFAULT_FRESHNESS_LIMIT = 100;

const STATUS_LIST = FRESHNESS_STATUSES.join(', ');
const STORE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const MAX_STORES = 100;

export function isFreshnessStatus(value: string): value is FreshnessStatus {
  return (FRESHNESS_STATUSES as readonly string[]).includes(value);
}

/** Statuses in the one order every list and filter uses (worst first), each once. */
export function orderStatuses(statuses: Iterable<FreshnessStatus>): FreshnessStatus[] {
  const chosen = new Set(statuses);
  return FRESHNESS_STATUSES.filter((s) => chosen.has(s));
}

/** "overdue,due-soon" -> ['overdue', 'due-soon']; an unknown status is named with the five allowed. */
export const statusListSchema = z
  .string()
  .max(200, { message: 'status may be at most 200 characters' })
  .transform((value, ctx) => {
    const parts = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (parts.length === 0) {
      ctx.addIssue({ code: 'custom', message: `status must name at least one of ${STATUS_LIST}` });
      return z.NEVER;
    }
    const unknown = parts.filter((s) => !isFreshnessStatus(s));
    if (unknown.length > 0) {
      const shown = unknown.slice(0, 3).map((s) => `"${s.slice(0, 40)}"`).join(', ');
      ctx.addIssue({ code: 'custom', message: `status: ${shown} ${unknown.length === 1 ? 'is not a status' : 'are not statuses'}; use ${STATUS_LIST} (comma-separated)` });
      return z.NEVER;
    }
    return orderStatuses(parts as FreshnessStatus[]);
  });

const storeListSchema = z
  .array(z.string())
  .transform((values, ctx) => {
    const ids = [...new Set(values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean))];
    const bad = ids.find((id) => !STORE_ID.test(id));
    if (bad !== undefined) {
      ctx.addIssue({ code: 'custom', message: `store: "${bad.slice(0, 70)}" is not a store id (lowercase letters, digits and dashes)` });
      return z.NEVER;
    }
    if (ids.length > MAX_STORES) {
      ctx.addIssue({ code: 'custom', message: `store may name at most ${MAX_STORES} stores` });
      return z.NEVER;
    }
    return ids;
  });

const cursorSchema = z
  .string()
  .max(4096, { message: 'cursor is too long' })
  .regex(/^[A-Za-z0-9_=-]+$/, { message: 'cursor is malformed; start again from the first page' });

const limitSchema = z.coerce
  .number({ message: 'limit must be a number' })
  .int({ message: 'limit must be a whole number' })
  .min(1, { message: 'limit is at least 1' })
  .max(MAX_FRESHNESS_LIMIT, { message: `limit is at most ${MAX_FRESHNESS_LIMIT}` });

export interface FreshnessFilters {
  /** Only these stores; empty for every store the caller may see. */
  stores: string[];
  /** Only these statuses (worst first); empty for all. */
  statuses: FreshnessStatus[];
  cursor?: string;
  limit: number;
}

export interface FreshnessFilterProblem {
  field: string;
  message: string;
}

export type FreshnessFiltersResult = { ok: true; value: FreshnessFilters } | { ok: false; problems: FreshnessFilterProblem[] };

type SearchParamsInput = URLSearchParams | Record<string, string | string[] | undefined>;

function entriesOf(input: SearchParamsInput): [string, string][] {
  if (input instanceof URLSearchParams) return [...input.entries()];
  return Object.entries(input).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])));
}

const KNOWN = ['store', 'status', 'cursor', 'limit'] as const;

/**
 * The filters of /api/v1/freshness and the /freshness page. `store` may repeat; the others may
 * not. Unknown parameters are named, so a typo (`stauts=`) is not silently a list of everything.
 */
export function parseFreshnessFilters(input: SearchParamsInput): FreshnessFiltersResult {
  const problems: FreshnessFilterProblem[] = [];
  const stores: string[] = [];
  const single: Record<string, string> = {};
  for (const [key, value] of entriesOf(input)) {
    if (value === '') continue; // forms submit every field
    if (!(KNOWN as readonly string[]).includes(key)) {
      problems.push({ field: key, message: `unknown parameter "${key.slice(0, 40)}"; expected ${KNOWN.join(', ')}` });
      continue;
    }
    if (key === 'store') stores.push(value);
    else if (key in single) problems.push({ field: key, message: `${key} is given more than once` });
    else single[key] = value;
  }
  const parsed = z
    .object({
      store: storeListSchema,
      status: statusListSchema.optional(),
      cursor: cursorSchema.optional(),
      limit: limitSchema.default(DEFAULT_FRESHNESS_LIMIT),
    })
    .safeParse({ ...single, store: stores });
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push({ field: String(issue.path[0] ?? ''), message: issue.message });
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const { store, status, cursor, limit } = parsed.data;
  return { ok: true, value: { stores: store, statuses: status ?? [], ...(cursor ? { cursor } : {}), limit } };
}

/** One line naming every problem (each message names its field), for a 400 response. */
export function describeFreshnessProblems(problems: FreshnessFilterProblem[]): string {
  return problems.map((p) => p.message).join('; ');
}
