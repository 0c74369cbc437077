import 'server-only';
import { globsPattern, nameRanges, type NameRanges } from '@/lib/auth/path-glob';
import { getStores } from '@/lib/stores/registry';
import type { SecretStore } from '@/lib/stores/types';
import type { AlertRule } from '../alerts-config';
import { dashboardUrl, type ConditionSubject } from '../messages';

// What every condition shares: the rule's stores, its path globs as the inventory's queries take
// them (the grants' one matcher, lib/auth/path-glob.ts), its owner and team tags, and absolute
// links. A condition answers the full set of subjects for which its event holds now for one rule;
// the core (recordConditions) opens what is new and resolves what is gone.

/** Where links point when NEXTAUTH_URL is not set. */
export const DEFAULT_BASE_URL = 'http://localhost:3000';

/** An absolute URL of a dashboard page (messages leave the dashboard, so a bare path is no link). */
export function absoluteUrl(pathAndQuery: string): string {
  return dashboardUrl(pathAndQuery, process.env.NEXTAUTH_URL || DEFAULT_BASE_URL);
}

/** What a condition reads of a rule (a configured AlertRule has all of it). */
export type ConditionRule = Pick<AlertRule, 'id' | 'events' | 'selector' | 'newReaderDays' | 'deniedCount' | 'deniedWindowMinutes' | 'syncFailingMinutes'>;

export interface ConditionContext {
  now: Date;
}

/** The subjects for which one event holds now, for one rule. */
export type Condition = (rule: ConditionRule, context: ConditionContext) => Promise<ConditionSubject[]>;

/**
 * What a condition throws when the data it needs is still coming in (CloudTrail's history while its
 * sources first walk it): nothing is recorded, so open alerts stay open and none flaps open and shut.
 */
export class NotKnownYet extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotKnownYet';
  }
}

/** The configured stores the rule selects (every store without selector.stores). */
export async function storesOf(rule: ConditionRule): Promise<SecretStore[]> {
  const wanted = rule.selector?.stores;
  return (await getStores()).filter((s) => !wanted || wanted.includes(s.id));
}

/** Whether the rule selects a store id (also ids no longer configured: CloudTrail keeps them). */
export function selectsStore(rule: ConditionRule, storeId: string): boolean {
  const wanted = rule.selector?.stores;
  return !wanted || wanted.includes(storeId);
}

export interface PathScope {
  /** The globs as one regular expression over names; null for every name. */
  pattern: string | null;
  /** Where those names lie, for index range scans; null: anywhere. */
  ranges: NameRanges | null;
}

/** The rule's path globs as the inventory's and findings' queries take them. */
export function pathScopeOf(rule: ConditionRule): PathScope {
  const paths = rule.selector?.paths;
  if (!paths?.length) return { pattern: null, ranges: null };
  return { pattern: globsPattern(paths), ranges: nameRanges(paths) };
}

/** The owner and team an item's tags name (either spelling AWS consoles write). */
export function ownerAndTeam(tags: Record<string, string>): { owner: string | null; team: string | null } {
  return { owner: tags.owner || tags.Owner || null, team: tags.team || tags.Team || null };
}

/** Whether an item's owner and team pass the rule's owners and teams (absent: any). */
export function selectsOwner(rule: ConditionRule, who: { owner: string | null; team: string | null }): boolean {
  const s = rule.selector;
  if (s?.owners && !(who.owner && s.owners.includes(who.owner))) return false;
  if (s?.teams && !(who.team && s.teams.includes(who.team))) return false;
  return true;
}

export const MINUTE_MS = 60_000;
export const DAY_MS = 86_400_000;
