import 'server-only';
import type { AlertEvent } from '../types';
import { accessDeniedCondition } from './access-denied';
import { auditChainCondition } from './audit-chain';
import type { Condition } from './common';
import { findingOpenedCondition } from './finding-opened';
import { dueSoonCondition, overdueCondition, rotationFailingCondition } from './freshness';
import { newReaderCondition } from './new-reader';
import { rotationFailedCondition } from './rotation-failed';
import { syncFailingCondition } from './sync-failing';

// Each alert event's condition: for one rule, the subjects for which the event holds now.

export const CONDITIONS: Record<AlertEvent, Condition> = {
  'due-soon': dueSoonCondition,
  overdue: overdueCondition,
  'rotation-failing': rotationFailingCondition,
  'rotation-failed': rotationFailedCondition,
  'new-reader': newReaderCondition,
  'access-denied': accessDeniedCondition,
  'finding-opened': findingOpenedCondition,
  'sync-failing': syncFailingCondition,
  'audit-chain': auditChainCondition,
};

export type { Condition, ConditionContext, ConditionRule } from './common';
