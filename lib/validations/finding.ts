import { z } from 'zod';
import { CONTROL_IDS, FINDING_STATUSES, SEVERITIES, WORKLOAD_STORE_ID, type ControlId, type FindingStatus, type Severity } from '@/lib/findings/types';
import type { FindingQuery } from '@/lib/findings/queries';
import { MAX_REASON_LENGTH } from '@/lib/secrets/reason-limit';
import { checkItemName } from './item-name';

// Findings filters as the /findings page, GET /api/v1/findings and its exports take them: each of
// control, severity, store, account, owner and status may repeat or be a comma list; a keyset
// cursor, a page size and (API) a format. Suppressions: an item, a control, a reason and an expiry
// within a year. Every problem names its field.

export const MAX_FINDINGS_LIMIT = 1000;
/** A page of findings: each row carries its evidence, so fewer than the other lists' 100. */
export const DEFAULT_FINDINGS_LIMIT = 50;
export const FINDING_FORMATS = ['json', 'csv', 'asff'] as const;
export type FindingFormat = (typeof FINDING_FORMATS)[number];
export const MAX_SUPPRESSION_DAYS = 366;

const STORE_ID = /^[a-z0-9][a-z0-9-]{0,62}$/;
const ACCOUNT = /^\d{12}$/;
const MAX_VALUES = 100;

type SearchParamsInput = URLSearchParams | Record<string, string | string[] | undefined>;

function entriesOf(input: SearchParamsInput): [string, string][] {
  if (input instanceof URLSearchParams) return [...input.entries()];
  return Object.entries(input).flatMap(([k, v]) => (v === undefined ? [] : (Array.isArray(v) ? v : [v]).map((x): [string, string] => [k, x])));
}

export interface FindingFilterProblem {
  field: string;
  message: string;
}

export type ParsedFindingFilters = FindingQuery & { format: FindingFormat };
export type FindingFiltersResult = { ok: true; value: ParsedFindingFilters } | { ok: false; problems: FindingFilterProblem[] };

const LISTS = {
  control: { allowed: CONTROL_IDS as readonly string[], what: 'a control' },
  severity: { allowed: SEVERITIES as readonly string[], what: 'a severity' },
  status: { allowed: FINDING_STATUSES as readonly string[], what: 'a status' },
} as const;

const MULTI = ['control', 'severity', 'store', 'account', 'owner', 'status'] as const;
const SINGLE = ['cursor', 'limit', 'format'] as const;
const KNOWN: readonly string[] = [...MULTI, ...SINGLE];

/** The filters of /findings and /api/v1/findings; unknown parameters are named (a typo is not "everything"). */
export function parseFindingFilters(input: SearchParamsInput): FindingFiltersResult {
  const problems: FindingFilterProblem[] = [];
  const multi: Record<(typeof MULTI)[number], string[]> = { control: [], severity: [], store: [], account: [], owner: [], status: [] };
  const single: Partial<Record<(typeof SINGLE)[number], string>> = {};
  for (const [key, raw] of entriesOf(input)) {
    if (raw === '') continue; // forms submit every field
    if (!KNOWN.includes(key)) {
      problems.push({ field: key.slice(0, 40), message: `unknown parameter "${key.slice(0, 40)}"; expected ${KNOWN.join(', ')}` });
    } else if ((MULTI as readonly string[]).includes(key)) {
      const values = key === 'owner' ? [raw.trim()] : raw.split(',').map((s) => s.trim());
      multi[key as (typeof MULTI)[number]].push(...values.filter(Boolean));
    } else if (key in single) {
      problems.push({ field: key, message: `${key} is given more than once` });
    } else {
      single[key as (typeof SINGLE)[number]] = raw;
    }
  }
  for (const [field, { allowed, what }] of Object.entries(LISTS)) {
    const bad = multi[field as keyof typeof LISTS].filter((v) => !allowed.includes(v));
    if (bad.length) problems.push({ field, message: `${field}: "${bad[0]!.slice(0, 60)}" is not ${what}; use ${allowed.join(', ')}` });
  }
  const badStore = multi.store.find((s) => !STORE_ID.test(s));
  if (badStore !== undefined) problems.push({ field: 'store', message: `store: "${badStore.slice(0, 70)}" is not a store id (lowercase letters, digits and dashes)` });
  const badAccount = multi.account.find((a) => !ACCOUNT.test(a));
  if (badAccount !== undefined) problems.push({ field: 'account', message: `account: "${badAccount.slice(0, 40)}" is not an AWS account id (12 digits)` });
  const longOwner = multi.owner.find((o) => o.length > 256);
  if (longOwner !== undefined) problems.push({ field: 'owner', message: 'owner is at most 256 characters' });
  for (const field of MULTI) if (multi[field].length > MAX_VALUES) problems.push({ field, message: `${field} may name at most ${MAX_VALUES} values` });

  const parsed = z
    .object({
      cursor: z
        .string()
        .max(4096, { message: 'cursor is too long' })
        .regex(/^[A-Za-z0-9_=-]+$/, { message: 'cursor is malformed; start again from the first page' })
        .optional(),
      limit: z.coerce
        .number({ message: 'limit must be a number' })
        .int({ message: 'limit must be a whole number' })
        .min(1, { message: 'limit is at least 1' })
        .max(MAX_FINDINGS_LIMIT, { message: `limit is at most ${MAX_FINDINGS_LIMIT}` })
        .default(DEFAULT_FINDINGS_LIMIT),
      format: z.enum(FINDING_FORMATS, { message: `format must be one of ${FINDING_FORMATS.join(', ')}` }).default('json'),
    })
    .safeParse(single);
  if (!parsed.success) for (const issue of parsed.error.issues) problems.push({ field: String(issue.path[0] ?? ''), message: issue.message });
  if (problems.length > 0 || !parsed.success) return { ok: false, problems };
  const unique = <T extends string>(values: string[]) => [...new Set(values)] as T[];
  return {
    ok: true,
    value: {
      ...(multi.control.length ? { controls: unique<ControlId>(multi.control) } : {}),
      ...(multi.severity.length ? { severities: unique<Severity>(multi.severity) } : {}),
      ...(multi.store.length ? { storeIds: unique(multi.store) } : {}),
      ...(multi.account.length ? { accounts: unique(multi.account) } : {}),
      ...(multi.owner.length ? { owners: unique(multi.owner) } : {}),
      ...(multi.status.length ? { statuses: unique<FindingStatus>(multi.status) } : {}),
      ...(parsed.data.cursor ? { cursor: parsed.data.cursor } : {}),
      limit: parsed.data.limit,
      format: parsed.data.format,
    },
  };
}

/** One line naming every problem, for a 400. */
export function describeFindingProblems(problems: FindingFilterProblem[]): string {
  return problems.map((p) => p.message).join('; ');
}

/** parseFindingFilters as a zod schema over search parameters (issues carry the same messages). */
export const findingFiltersSchema = z.custom<SearchParamsInput>((v) => typeof v === 'object' && v !== null).transform((input, ctx) => {
  const result = parseFindingFilters(input);
  if (result.ok) return result.value;
  for (const p of result.problems) ctx.addIssue({ code: 'custom', message: p.message, path: [p.field] });
  return z.NEVER;
});

const DAY_MS = 86_400_000;
/** A workload finding's name: a Lambda function's or an ECS task definition revision's ARN. */
export const WORKLOAD_ARN = /^arn:aws[a-z-]*:(lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}|ecs:[a-z0-9-]+:\d{12}:task-definition\/[A-Za-z0-9_-]{1,255}:\d{1,9})$/;

/** A suppression as a reviewer gives it. `now` is the server's clock (the expiry must lie ahead, within a year). */
export function suppressionInputSchema(now: Date = new Date()) {
  return z.strictObject(
    {
      // A workload finding (a secret in plain sight) has no store: WORKLOAD_STORE_ID ('') and the workload's ARN.
      storeId: z.string({ message: 'storeId is required' }).refine((v) => v === WORKLOAD_STORE_ID || STORE_ID.test(v), { message: 'storeId must be a store id' }),
      itemName: z
        .string({ message: 'itemName is required' })
        .min(1, { message: 'itemName is required' })
        .superRefine((name, ctx) => {
          if (WORKLOAD_ARN.test(name)) return;
          const problem = checkItemName(name);
          if (problem) ctx.addIssue({ code: 'custom', message: `itemName: ${problem.message}` });
        }),
      control: z.enum(CONTROL_IDS, { message: `control must be one of ${CONTROL_IDS.join(', ')}` }),
      reason: z
        .string({ message: 'a reason is required' })
        .trim()
        .min(3, { message: 'give a reason (at least 3 characters): why this finding is accepted' })
        .max(MAX_REASON_LENGTH, { message: `the reason is at most ${MAX_REASON_LENGTH} characters` }),
      expiresAt: z
        .string({ message: 'expiresAt is required (a date within a year)' })
        .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'expiresAt must be a date, e.g. 2027-01-31' })
        .transform((v) => new Date(Date.parse(v)).toISOString())
        .refine((v) => Date.parse(v) > now.getTime(), { message: 'expiresAt must lie in the future' })
        .refine((v) => Date.parse(v) <= now.getTime() + MAX_SUPPRESSION_DAYS * DAY_MS, { message: 'expiresAt may be at most a year ahead' }),
    },
    { error: (issue) => (issue.code === 'unrecognized_keys' ? `unknown field ${issue.keys.join(', ')}; expected storeId, itemName, control, reason, expiresAt` : undefined) },
  ).refine((v) => (v.storeId === WORKLOAD_STORE_ID) === WORKLOAD_ARN.test(v.itemName), {
    message: 'itemName: a finding about a Lambda function or an ECS task definition has no store (storeId "") and is named by its ARN; an item has a store',
    path: ['itemName'],
  });
}

export type SuppressionInput = z.infer<ReturnType<typeof suppressionInputSchema>>;

export const liftSuppressionSchema = z.strictObject({ id: z.coerce.number({ message: 'id must be a number' }).int({ message: 'id must be a whole number' }).positive({ message: 'id must be positive' }) });
