import { z } from 'zod';
import { parseAuditFilters, type AuditFilterParams, type FilterProblem } from './audit-filters';

// /api/v1/audit's query: the timeline's filters plus what only the API takes (page size, export format).

export const auditLimitSchema = z.coerce
  .number({ message: 'limit must be a number' })
  .int({ message: 'limit must be a whole number' })
  .min(1, { message: 'limit is at least 1' })
  .max(500, { message: 'limit is at most 500' })
  .default(50);
export const exportFormatSchema = z.enum(['csv', 'json'], { message: 'format must be csv or json' }).default('json');

export type AuditRequest<Extra> = { ok: true; filters: AuditFilterParams; extra: Extra } | { ok: false; message: string };

/** Splits the API's own parameters off, then parses the rest as timeline filters; every problem names its field. */
export function parseAuditRequest<Extra extends Record<string, unknown>>(
  params: URLSearchParams,
  own: { [K in keyof Extra]: z.ZodType<Extra[K]> },
): AuditRequest<Extra> {
  const rest = new URLSearchParams(params);
  const problems: FilterProblem[] = [];
  const extra = {} as Extra;
  for (const key of Object.keys(own) as (keyof Extra & string)[]) {
    const value = rest.get(key);
    rest.delete(key);
    const parsed = own[key].safeParse(value === null || value === '' ? undefined : value);
    if (parsed.success) extra[key] = parsed.data;
    else problems.push({ field: key, message: parsed.error.issues[0]!.message });
  }
  const filters = parseAuditFilters(rest);
  if (!filters.ok) problems.push(...filters.problems);
  if (problems.length > 0 || !filters.ok) return { ok: false, message: problems.map((p) => p.message).join('; ') };
  return { ok: true, filters: filters.value, extra };
}
