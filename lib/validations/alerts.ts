import { z } from 'zod';
import type { DeliveryStatus } from '@/lib/alerts/alerts-db';
import { ALERT_EVENTS, ALERT_SEVERITIES, type AlertEvent } from '@/lib/alerts/types';
import { globProblem } from '@/lib/auth/path-glob';
import { MAX_REASON_LENGTH } from '@/lib/secrets/reason-limit';
import { checkItemName } from './item-name';

// Alert rules as CONFIG_FILE's `alerts.rules:` writes them, and the admin's inputs on alerts
// (silences, "Send test"). Every problem names its field and says what to write instead.

/** Rule and channel ids: the store id pattern (they appear in URLs and dedup keys). */
export const ALERT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;
export const DEFAULT_DIGEST_AT = '09:00';
export const ALERT_MODES = ['immediate', 'digest'] as const;
export type AlertMode = (typeof ALERT_MODES)[number];
/** Silences are short-lived by design: a longer one is a rule that should change. */
export const MAX_SILENCE_DAYS = 90;
const DAY_MS = 86_400_000;

/** Events about an item (a store and a name); the others are about a store or the dashboard. */
export const ITEM_EVENTS: readonly AlertEvent[] = ['due-soon', 'overdue', 'rotation-failing', 'rotation-failed', 'new-reader', 'access-denied', 'finding-opened'];

const RULE_KEYS = ['id', 'description', 'events', 'channel', 'mode', 'digestAt', 'severity', 'selector', 'newReaderDays', 'deniedCount', 'deniedWindowMinutes', 'syncFailingMinutes'];
const SELECTOR_KEYS = ['stores', 'paths', 'owners', 'teams', 'minSeverity'];

const unknownKeys = (known: readonly string[]) => (issue: { code?: string; keys?: string[] }) =>
  issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys?.map((k) => `"${k}"`).join(', ')}; expected ${known.join(', ')}` : undefined;

const id = (field: string, example: string) =>
  z.string({ error: `${field} is required, e.g. ${example}` }).regex(ALERT_ID_PATTERN, { message: `${field} must be 1-63 lowercase letters, digits or "-", starting with a letter or digit` });

const whole = (field: string, min: number, max: number, unit: string) =>
  z
    .number({ error: `${field} must be a whole number of ${unit}` })
    .int({ message: `${field} must be a whole number of ${unit}` })
    .min(min, { message: `${field} must be at least ${min} ${unit}` })
    .max(max, { message: `${field} must be at most ${max} ${unit}` });

const tagValues = (field: string) =>
  z
    .array(z.string().trim().min(1, { message: `${field} must not hold empty names` }).max(256, { message: `${field} names are at most 256 characters` }), {
      error: `${field} must be a list of names`,
    })
    .min(1, { message: `${field} must list at least one (or be left out for any)` });

const pathGlob = z.string({ error: 'paths must be path globs such as /prod/payments/**' }).superRefine((glob, ctx) => {
  const problem = globProblem(glob);
  if (problem) ctx.addIssue({ code: 'custom', message: `"${glob.slice(0, 100)}": ${problem}` });
});

export const alertSelectorSchema = z.strictObject(
  {
    stores: z.array(id('stores', 'prod-secrets'), { error: 'stores must be a list of store ids' }).min(1, { message: 'stores must list at least one store (or be left out for every store)' }).optional(),
    paths: z.array(pathGlob, { error: 'paths must be a list of path globs such as /prod/payments/**' }).min(1, { message: 'paths must list at least one glob (or be left out for every path)' }).optional(),
    owners: tagValues('owners').optional(),
    teams: tagValues('teams').optional(),
    minSeverity: z.enum(ALERT_SEVERITIES, { error: `minSeverity must be one of ${ALERT_SEVERITIES.join(', ')}` }).optional(),
  },
  { error: unknownKeys(SELECTOR_KEYS) },
);
export type AlertSelector = z.infer<typeof alertSelectorSchema>;

/** One entry of `alerts.rules:`. Whether its channel and stores exist is checked against the rest of the file (lib/alerts/alerts-config.ts). */
export const alertRuleSchema = z
  .strictObject(
    {
      id: id('id', 'prod-overdue'),
      description: z.string({ error: 'description must be text' }).trim().min(1, { message: 'description must not be empty' }).max(200, { message: 'description is at most 200 characters' }).optional(),
      events: z
        .array(z.enum(ALERT_EVENTS, { error: `events must be among ${ALERT_EVENTS.join(', ')}` }), { error: `events is required: a list among ${ALERT_EVENTS.join(', ')}` })
        .min(1, { message: 'events must list at least one event' }),
      channel: id('channel', 'oncall-slack'),
      mode: z.enum(ALERT_MODES, { error: 'mode must be immediate or digest' }).default('immediate'),
      digestAt: z.string({ error: 'digestAt must be a time of day "HH:MM" (UTC)' }).regex(HH_MM, { message: 'digestAt must be a time of day "HH:MM" (UTC, 00:00 to 23:59), e.g. "09:00"' }).optional(),
      severity: z.enum(ALERT_SEVERITIES, { error: `severity must be one of ${ALERT_SEVERITIES.join(', ')}` }).optional(),
      selector: alertSelectorSchema.optional(),
      newReaderDays: whole('newReaderDays', 1, 365, 'days').optional(),
      deniedCount: whole('deniedCount', 1, 10_000, 'refusals').optional(),
      deniedWindowMinutes: whole('deniedWindowMinutes', 1, 7 * 24 * 60, 'minutes').optional(),
      syncFailingMinutes: whole('syncFailingMinutes', 1, 7 * 24 * 60, 'minutes').optional(),
    },
    { error: unknownKeys(RULE_KEYS) },
  )
  .superRefine((rule, ctx) => {
    const has = (event: AlertEvent) => rule.events.includes(event);
    const onlyWith = (field: keyof typeof rule, event: AlertEvent) => {
      if (rule[field] !== undefined && !has(event)) ctx.addIssue({ code: 'custom', path: [field], message: `${field} applies to the ${event} event, which this rule does not list` });
    };
    onlyWith('newReaderDays', 'new-reader');
    onlyWith('deniedCount', 'access-denied');
    onlyWith('deniedWindowMinutes', 'access-denied');
    onlyWith('syncFailingMinutes', 'sync-failing');
    if (rule.selector?.minSeverity !== undefined && !has('finding-opened'))
      ctx.addIssue({ code: 'custom', path: ['selector', 'minSeverity'], message: 'selector.minSeverity applies to the finding-opened event, which this rule does not list' });
    if (rule.digestAt !== undefined && rule.mode !== 'digest') ctx.addIssue({ code: 'custom', path: ['digestAt'], message: 'digestAt is for mode: digest; remove it or set mode: digest' });
    const seen = new Set<string>();
    rule.events.forEach((event, index) => {
      if (seen.has(event)) ctx.addIssue({ code: 'custom', path: ['events', index], message: `events lists ${event} twice` });
      seen.add(event);
    });
    const itemSelector = rule.selector && (rule.selector.paths || rule.selector.owners || rule.selector.teams);
    if (itemSelector && !rule.events.some((e) => ITEM_EVENTS.includes(e)))
      ctx.addIssue({ code: 'custom', path: ['selector'], message: 'selector paths, owners and teams choose items, and none of this rule\'s events is about an item (sync-failing, audit-chain): select by stores instead' });
  })
  .transform((rule) => ({ ...rule, digestAt: rule.mode === 'digest' ? (rule.digestAt ?? DEFAULT_DIGEST_AT) : undefined }));

export type AlertRuleEntry = z.infer<typeof alertRuleSchema>;

/** The `alerts:` section's shape; each channel entry is validated by lib/alerts/channel-config.ts. */
export const alertsSectionSchema = z.strictObject(
  {
    channels: z.array(z.unknown(), { error: 'alerts.channels must be a list of channels: - { id, kind: slack | pagerduty | email | webhook, ... }' }).optional(),
    rules: z.array(z.unknown(), { error: 'alerts.rules must be a list of rules: - { id, events: [...], channel, mode }' }).optional(),
  },
  { error: unknownKeys(['channels', 'rules']) },
);

/** A silence an admin sets: a rule, an item (store and name), or a rule on one item; a reason; an expiry within 90 days. */
export function silenceInputSchema(now: Date = new Date()) {
  return z
    .strictObject(
      {
        ruleId: id('ruleId', 'prod-overdue').optional(),
        storeId: id('storeId', 'prod-secrets').optional(),
        itemName: z
          .string({ error: 'itemName must be an item name' })
          .superRefine((name, ctx) => {
            const problem = checkItemName(name);
            if (problem) ctx.addIssue({ code: 'custom', message: `itemName: ${problem.message}` });
          })
          .optional(),
        reason: z
          .string({ error: 'a reason is required' })
          .trim()
          .min(3, { message: 'give a reason (at least 3 characters): why these alerts may wait' })
          .max(MAX_REASON_LENGTH, { message: `the reason is at most ${MAX_REASON_LENGTH} characters` }),
        expiresAt: z
          .string({ error: `expiresAt is required (a date within ${MAX_SILENCE_DAYS} days)` })
          .refine((v) => !Number.isNaN(Date.parse(v)), { message: 'expiresAt must be a date, e.g. 2027-01-31T12:00:00Z' })
          .transform((v) => new Date(Date.parse(v)).toISOString())
          .refine((v) => Date.parse(v) > now.getTime(), { message: 'expiresAt must lie in the future' })
          .refine((v) => Date.parse(v) <= now.getTime() + MAX_SILENCE_DAYS * DAY_MS, { message: `expiresAt may be at most ${MAX_SILENCE_DAYS} days ahead` }),
      },
      { error: unknownKeys(['ruleId', 'storeId', 'itemName', 'reason', 'expiresAt']) },
    )
    .refine((v) => (v.storeId === undefined) === (v.itemName === undefined), { message: 'an item is named by storeId and itemName together', path: ['itemName'] })
    .refine((v) => v.ruleId !== undefined || v.storeId !== undefined, { message: 'silence a rule (ruleId), an item (storeId and itemName), or both' });
}
export type SilenceInput = z.infer<ReturnType<typeof silenceInputSchema>>;

export const liftSilenceSchema = z.strictObject({
  id: z.coerce.number({ error: 'id must be a number' }).int({ message: 'id must be a whole number' }).positive({ message: 'id must be positive' }),
});

export const sendTestSchema = z.strictObject({ channelId: id('channelId', 'oncall-slack') });

// ---------------------------------------------------------------------------------------------
// The /alerts page's inputs: its URL filters and its forms (a form submits every field, empty ones
// as "", and a date picker gives "YYYY-MM-DD"); each is turned into what the schemas above take.

/** Delivery log statuses a filter may name (the alerts store's, lib/alerts/alerts-db.ts). */
export const DELIVERY_FILTER_STATUSES = ['pending', 'sending', 'delivered', 'failed', 'dead'] as const satisfies readonly DeliveryStatus[];
const PAGE_PARAMS = ['rule', 'channel', 'delivery'] as const;

type SearchParamsInput = URLSearchParams | Record<string, string | string[] | undefined>;

export interface AlertsPageFilters {
  ruleId?: string;
  channelId?: string;
  deliveryStatus?: (typeof DELIVERY_FILTER_STATUSES)[number];
}

export type AlertsPageFiltersResult = { ok: true; value: AlertsPageFilters } | { ok: false; problems: { field: string; message: string }[] };

const pageFiltersSchema = z.object({
  rule: z.string().regex(ALERT_ID_PATTERN, { message: 'rule must be a rule id (lowercase letters, digits and "-")' }).optional(),
  channel: z.string().regex(ALERT_ID_PATTERN, { message: 'channel must be a channel id (lowercase letters, digits and "-")' }).optional(),
  delivery: z.enum(DELIVERY_FILTER_STATUSES, { error: `delivery must be one of ${DELIVERY_FILTER_STATUSES.join(', ')}` }).optional(),
});

/** /alerts?rule=…&channel=…&delivery=…: each parameter once; every problem named, none thrown. */
export function parseAlertsPageFilters(input: SearchParamsInput): AlertsPageFiltersResult {
  const entries: [string, string | string[] | undefined][] = input instanceof URLSearchParams ? [...new Set(input.keys())].map((k) => [k, input.getAll(k)]) : Object.entries(input);
  const problems: { field: string; message: string }[] = [];
  const single: Record<string, string> = {};
  for (const [key, raw] of entries) {
    const values = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).filter((v) => v !== '');
    if (!(PAGE_PARAMS as readonly string[]).includes(key))
      problems.push({ field: key.slice(0, 40), message: `unknown parameter "${key.slice(0, 40)}"; expected ${PAGE_PARAMS.join(', ')}` });
    else if (values.length > 1) problems.push({ field: key.slice(0, 40), message: `${key.slice(0, 40)} is given more than once` });
    else if (values.length === 1) single[key] = values[0]!;
  }
  const parsed = pageFiltersSchema.safeParse(single);
  if (!parsed.success) problems.push(...parsed.error.issues.map((i) => ({ field: String(i.path[0] ?? 'query'), message: i.message })));
  if (problems.length) return { ok: false, problems };
  const { rule, channel, delivery } = parsed.data!;
  return { ok: true, value: { ...(rule ? { ruleId: rule } : {}), ...(channel ? { channelId: channel } : {}), ...(delivery ? { deliveryStatus: delivery } : {}) } };
}

const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);

/**
 * The silence form as the page submits it: empty fields are left out (a day from the picker is the
 * start of that day, UTC, as suppressions take it); then silenceInputSchema's checks (reason,
 * expiry ahead and within 90 days, a rule and/or an item).
 */
export function silenceFormSchema(now: Date = new Date()) {
  return z.preprocess((raw) => {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return raw;
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
      const v = blankToUndefined(value);
      if (v !== undefined) out[key] = v;
    }
    return out;
  }, silenceInputSchema(now));
}
