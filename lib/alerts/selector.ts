import { globMatchesName } from '@/lib/auth/path-glob';
import type { AlertRule } from './alerts-config';
import type { ConditionSubject } from './messages';
import { ITEM_EVENTS } from '@/lib/validations/alerts';
import { ALERT_SEVERITIES, type AlertEvent } from './types';

// Which subjects a rule's selector keeps: every condition hands over the whole set for which its
// event holds, and each rule takes its share (stores, path globs as the grants write them, owner
// and team tags, a finding's minimum severity). Absent keys select everything.

const rank = (severity: string) => ALERT_SEVERITIES.indexOf(severity as (typeof ALERT_SEVERITIES)[number]);

export function selectorMatches(rule: AlertRule, event: AlertEvent, subject: ConditionSubject): boolean {
  const s = rule.selector;
  if (!s) return true;
  if (s.stores && !s.stores.includes(subject.storeId)) return false;
  // Paths, owners and teams choose items; a store's sync or the audit chain is not one.
  if (ITEM_EVENTS.includes(event)) {
    if (s.paths && !s.paths.some((glob) => globMatchesName(glob, subject.name))) return false;
    if (s.owners && !(subject.owner && s.owners.includes(subject.owner))) return false;
    if (s.teams && !(subject.team && s.teams.includes(subject.team))) return false;
  }
  // Lower rank is more severe (critical first); a finding without a severity passes no minimum.
  if (s.minSeverity && event === 'finding-opened' && !(subject.severity && rank(subject.severity) <= rank(s.minSeverity))) return false;
  return true;
}

/** The subjects the rule selects, when it listens to the event at all (none otherwise). */
export function selectSubjects(rule: AlertRule, event: AlertEvent, subjects: readonly ConditionSubject[]): ConditionSubject[] {
  if (!rule.events.includes(event)) return [];
  return subjects.filter((subject) => selectorMatches(rule, event, subject));
}
