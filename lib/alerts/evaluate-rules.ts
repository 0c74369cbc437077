import 'server-only';
import { logger } from '@/lib/logger';
import type { AlertRule } from './alerts-config';
import { recordConditions } from './alerts';
import type { RecordCounts } from './alerts-db';
import { CONDITIONS } from './conditions';
import type { ConditionSubject } from './messages';
import type { AlertEvent } from './types';

// One evaluation of the configured rules: each rule's events' conditions computed for `now`
// (lib/alerts/conditions), each full set of subjects then recorded (lib/alerts/alerts.ts
// recordConditions opens new alerts, resolves gone ones and queues deliveries). A condition that
// fails records nothing for its rule and event: its open alerts stay open rather than being
// resolved by a set that only looks empty; the others go on.

export interface RuleEventOutcome {
  ruleId: string;
  event: AlertEvent;
  /** The subjects for which the event holds (null when the condition failed). */
  subjects: ConditionSubject[] | null;
  /** What recording did (absent when not recorded: the condition failed, or `record: false`). */
  counts?: RecordCounts;
  /** Why the condition (or its recording) failed: a message for the log, never a value. */
  error?: string;
  durationMs: number;
}

export interface EvaluateOptions {
  /** false: compute only (tests, a dry run); default true. */
  record?: boolean;
}

export async function evaluateAlertRules(rules: readonly AlertRule[], now: Date = new Date(), options: EvaluateOptions = {}): Promise<RuleEventOutcome[]> {
  const record = options.record ?? true;
  const out: RuleEventOutcome[] = [];
  for (const rule of rules) {
    for (const event of rule.events) {
      const started = performance.now();
      let subjects: ConditionSubject[] | null = null;
      try {
        subjects = await CONDITIONS[event](rule, { now });
        const counts = record ? await recordConditions({ rule, event, subjects, now }) : undefined;
        out.push({ ruleId: rule.id, event, subjects, ...(counts ? { counts } : {}), durationMs: performance.now() - started });
      } catch (error) {
        const message = error instanceof Error ? error.message : 'unknown error';
        if (error instanceof Error && error.name === 'NotKnownYet') logger.debug({ rule: rule.id, event, why: message }, 'alert condition not known yet');
        else logger.error({ rule: rule.id, event, err: message }, 'alert condition failed');
        out.push({ ruleId: rule.id, event, subjects, error: message, durationMs: performance.now() - started });
      }
    }
  }
  return out;
}
