import type { InventoryExtra } from '@/lib/inventory/records';
import { DAY_MS, describeDays, HOUR_MS } from './duration';
import { resolvePolicy, type FreshnessPolicySet } from './policies';
import type { FreshnessPolicy, FreshnessStatus, ItemFreshness } from './types';

// One item's freshness, as a pure function of its inventory metadata, its policy and the time.
// `freshnessSchedule` turns metadata into dates (stored per row in the inventory so counts and
// filters are index range scans); `statusAt` is the one rule, the same as the SQL in columns.ts:
// rotation failing, else overdue (never rotated when it still holds its first value), else due
// soon, else fresh.

/** A rotation Lambda runs at most 15 minutes; an AWSPENDING older than that is stuck. */
export const ROTATION_GRACE_MS = 15 * 60_000;

/** What the status is computed from: the inventory's record of the item. */
export interface FreshnessSubject {
  storeId: string;
  name: string;
  lastChangedAt: string;
  version: string;
  extra: InventoryExtra;
}

export type DueCause =
  | { kind: 'age' }
  | { kind: 'next-rotation' }
  | { kind: 'expiration' }
  | { kind: 'no-change'; afterDays: number };

export type RotationFailure = { kind: 'pending'; version: string; since: string } | { kind: 'recorded'; at: string; message: string };

export interface FreshnessSchedule {
  policy: FreshnessPolicy;
  /** Age is measured from here: the last change, or (Secrets Manager) the last rotation when later. */
  ageFrom: string;
  ageFromRotation: boolean;
  dueAt: string;
  due: DueCause;
  warnAt: string;
  /** The warn date comes from an SSM ExpirationNotification policy rather than warnBefore. */
  warnByNotification: boolean;
  /** From when the item counts as rotation failing; null when nothing says it fails. */
  failingAt: string | null;
  failure: RotationFailure | null;
  /** The item still holds its first value (version 1; Secrets Manager: never rotated, one version). */
  firstVersion: boolean;
}

function toMs(value: string | null | undefined): number | null {
  if (!value) return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

const iso = (ms: number) => new Date(ms).toISOString();

interface SsmPolicyDates {
  expiration: number | null;
  notifyBeforeMs: number | null;
  noChangeAfterMs: number | null;
}

function unitMs(unit: unknown): number | null {
  const u = String(unit ?? 'Days').toLowerCase();
  return u === 'days' ? DAY_MS : u === 'hours' ? HOUR_MS : null;
}

function amount(value: unknown, unit: unknown): number | null {
  const n = Number(value);
  const ms = unitMs(unit);
  return Number.isFinite(n) && n > 0 && ms !== null ? n * ms : null;
}

/** Parameter Store policies as AWS writes them: {"Type":"Expiration","Version":"1.0","Attributes":{...}}. */
function ssmPolicyDates(extra: InventoryExtra): SsmPolicyDates {
  const dates: SsmPolicyDates = { expiration: null, notifyBeforeMs: null, noChangeAfterMs: null };
  for (const policy of extra.policies ?? []) {
    let parsed: { Type?: unknown; Attributes?: Record<string, unknown> };
    try {
      parsed = JSON.parse(policy.text) as typeof parsed;
    } catch {
      continue;
    }
    const type = typeof parsed?.Type === 'string' ? parsed.Type : policy.type;
    const attributes = parsed?.Attributes ?? {};
    if (type === 'Expiration') {
      const at = toMs(typeof attributes.Timestamp === 'string' ? attributes.Timestamp : null);
      if (at !== null) dates.expiration = dates.expiration === null ? at : Math.min(dates.expiration, at);
    } else if (type === 'ExpirationNotification') {
      const before = amount(attributes.Before, attributes.Unit);
      if (before !== null) dates.notifyBeforeMs = Math.max(dates.notifyBeforeMs ?? 0, before);
    } else if (type === 'NoChangeNotification') {
      const after = amount(attributes.After, attributes.Unit);
      if (after !== null) dates.noChangeAfterMs = Math.min(dates.noChangeAfterMs ?? Infinity, after);
    }
  }
  return dates;
}

/** The item's dates under its policy; what the inventory stores per row. */
export function freshnessSchedule(subject: FreshnessSubject, policy: FreshnessPolicy): FreshnessSchedule {
  const extra = subject.extra;
  const changed = toMs(subject.lastChangedAt) ?? 0;
  const rotated = toMs(extra.rotation?.lastRotatedAt);
  const ageFromRotation = rotated !== null && rotated > changed;
  const ageFrom = ageFromRotation ? rotated : changed;

  let dueMs = ageFrom + policy.maxAgeDays * DAY_MS;
  let due: DueCause = { kind: 'age' };
  const earlier = (ms: number | null, cause: DueCause) => {
    if (ms !== null && ms < dueMs) {
      dueMs = ms;
      due = cause;
    }
  };
  if (extra.rotation?.enabled) earlier(toMs(extra.rotation.nextRotationAt), { kind: 'next-rotation' });
  const ssm = ssmPolicyDates(extra);
  earlier(ssm.expiration, { kind: 'expiration' });
  if (ssm.noChangeAfterMs !== null) earlier(changed + ssm.noChangeAfterMs, { kind: 'no-change', afterDays: ssm.noChangeAfterMs / DAY_MS });

  let warnMs = dueMs - policy.warnBeforeDays * DAY_MS;
  let warnByNotification = false;
  if (ssm.expiration !== null && ssm.notifyBeforeMs !== null && ssm.expiration - ssm.notifyBeforeMs < warnMs) {
    warnMs = ssm.expiration - ssm.notifyBeforeMs;
    warnByNotification = true;
  }

  let failure: RotationFailure | null = null;
  let failingAt: number | null = null;
  if (extra.rotationFailure && toMs(extra.rotationFailure.at) !== null) {
    failure = { kind: 'recorded', at: extra.rotationFailure.at, message: extra.rotationFailure.message };
    failingAt = toMs(extra.rotationFailure.at);
  } else if (extra.pendingVersion) {
    failure = { kind: 'pending', version: extra.pendingVersion, since: iso(changed) };
    failingAt = changed + ROTATION_GRACE_MS;
  }

  const firstVersion = extra.rotation ? extra.rotation.lastRotatedAt === null && extra.stagedVersions === 1 : subject.version === '1';

  return {
    policy,
    ageFrom: iso(ageFrom),
    ageFromRotation,
    dueAt: iso(dueMs),
    due,
    warnAt: iso(Math.min(warnMs, dueMs)),
    warnByNotification,
    failingAt: failingAt === null ? null : iso(failingAt),
    failure,
    firstVersion,
  };
}

/** The status at `now`; the same rule as statusSql in columns.ts. */
export function statusAt(schedule: Pick<FreshnessSchedule, 'failingAt' | 'dueAt' | 'warnAt' | 'firstVersion'>, now: Date): FreshnessStatus {
  const t = now.getTime();
  if (schedule.failingAt !== null && Date.parse(schedule.failingAt) <= t) return 'rotation-failing';
  if (Date.parse(schedule.dueAt) <= t) return schedule.firstVersion ? 'never-rotated' : 'overdue';
  if (Date.parse(schedule.warnAt) <= t) return 'due-soon';
  return 'fresh';
}

/** "12 minutes", "5 hours", "120 days": whole units, days from two days on. */
export function span(ms: number): string {
  const abs = Math.max(0, ms);
  if (abs < HOUR_MS) {
    const minutes = Math.max(1, Math.floor(abs / 60_000));
    return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  }
  if (abs < 2 * DAY_MS) {
    const hours = Math.floor(abs / HOUR_MS);
    return `${hours} hour${hours === 1 ? '' : 's'}`;
  }
  return `${Math.floor(abs / DAY_MS)} days`;
}

export function policyName(policy: FreshnessPolicy): string {
  return `${policy.path}${policy.stores ? ` (${policy.stores.join(', ')})` : ''}`;
}

function shortVersion(version: string): string {
  return version.length > 8 ? `${version.slice(0, 8)}…` : version;
}

function sentence(text: string): string {
  const trimmed = text.trim().replace(/\s+/g, ' ').slice(0, 300);
  return /[.!?…]$/.test(trimmed) ? trimmed : `${trimmed}.`;
}

function ageSentence(s: FreshnessSchedule, now: number): string {
  const verb = s.ageFromRotation ? 'Last rotated' : 'Last changed';
  return `${verb} ${span(now - Date.parse(s.ageFrom))} ago; policy ${policyName(s.policy)} allows ${describeDays(s.policy.maxAgeDays)}.`;
}

function passedSentence(s: FreshnessSchedule, now: number, subject: FreshnessSubject): string {
  const ago = span(now - Date.parse(s.dueAt));
  switch (s.due.kind) {
    case 'age':
      return ageSentence(s, now);
    case 'next-rotation':
      return `NextRotationDate passed ${ago} ago.`;
    case 'expiration':
      return `Its Expiration policy passed ${ago} ago.`;
    case 'no-change':
      return `Not changed for ${span(now - Date.parse(subject.lastChangedAt))}; its NoChangeNotification policy expects a change within ${describeDays(s.due.afterDays)}.`;
  }
}

function comingSentence(s: FreshnessSchedule, now: number): string {
  const inTime = span(Date.parse(s.dueAt) - now);
  switch (s.due.kind) {
    case 'age':
      return `Due in ${inTime}: ${ageSentence(s, now).replace(/^L/, 'l')}`;
    case 'next-rotation':
      return `NextRotationDate is in ${inTime}.`;
    case 'expiration':
      return `Its Expiration policy removes it in ${inTime}${s.warnByNotification ? ' (inside its ExpirationNotification window)' : ''}.`;
    case 'no-change':
      return `Its NoChangeNotification policy (a change within ${describeDays(s.due.afterDays)}) fires in ${inTime}.`;
  }
}

/** The one sentence a person reads for the status. */
export function freshnessReason(subject: FreshnessSubject, s: FreshnessSchedule, status: FreshnessStatus, now: Date): string {
  const t = now.getTime();
  switch (status) {
    case 'rotation-failing':
      return s.failure?.kind === 'recorded'
        ? sentence(`The last rotation failed ${span(t - Date.parse(s.failure.at))} ago: ${s.failure.message}`)
        : `A rotation left AWSPENDING on version ${shortVersion(s.failure?.kind === 'pending' ? s.failure.version : '?')} ${span(t - Date.parse(subject.lastChangedAt))} ago.`;
    case 'never-rotated':
      return `Still holds its first value. ${passedSentence(s, t, subject)}`;
    case 'overdue':
      return passedSentence(s, t, subject);
    case 'due-soon':
    case 'fresh':
      return comingSentence(s, t);
  }
}

/** ItemFreshness plus where its age is measured from (for the age in days and the chart). */
export interface ItemFreshnessDetail extends ItemFreshness {
  ageFrom: string;
}

/** Everything pages and the API show about one item's freshness. */
export function itemFreshness(subject: FreshnessSubject, policies: FreshnessPolicySet, now: Date): ItemFreshnessDetail {
  const schedule = freshnessSchedule(subject, resolvePolicy(policies, subject.storeId, subject.name));
  const status = statusAt(schedule, now);
  return {
    status,
    reason: freshnessReason(subject, schedule, status, now),
    dueAt: schedule.dueAt,
    warnAt: schedule.warnAt,
    policy: schedule.policy,
    ageFrom: schedule.ageFrom,
  };
}

/** Whole days since the age is measured from (the last change or rotation). */
export function ageDays(ageFrom: string, now: Date): number {
  return Math.max(0, Math.floor((now.getTime() - Date.parse(ageFrom)) / DAY_MS));
}
