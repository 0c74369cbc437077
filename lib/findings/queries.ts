import type { ControlId, FindingRecord, FindingStatus, FindingSuppression, Severity } from './types';

// What the findings data layer (lib/data/findings.ts) is asked and answers: small DTOs for pages,
// the API, exports and metrics. Every answer is already cut to the caller's grants.

export interface FindingFilters {
  controls?: ControlId[];
  severities?: Severity[];
  storeIds?: string[];
  /** AWS account ids (12 digits). */
  accounts?: string[];
  /** Owner or team tag values, exactly. */
  owners?: string[];
  /** Default: open only. */
  statuses?: FindingStatus[];
  /** One item's findings. */
  item?: { storeId: string; name: string };
}

export interface FindingQuery extends FindingFilters {
  /** From the previous page's nextCursor. */
  cursor?: string;
  limit: number;
}

export type SuppressionDto = FindingSuppression;

export interface FindingDto extends FindingRecord {
  controlTitle: string;
  remediation: string;
  /** The item's page; null for a workload finding (storeId WORKLOAD_STORE_ID, itemName the workload's ARN, kind lambda-function or ecs-task-definition). */
  href: string | null;
}

export interface FindingPage {
  items: FindingDto[];
  nextCursor: string | null;
}

export interface ControlCount {
  control: ControlId;
  title: string;
  severity: Severity;
  open: number;
  suppressed: number;
  resolved: number;
}

export interface FindingSummary {
  /** Per control, in catalogue order (controls with nothing raised included, at zero). */
  byControl: ControlCount[];
  /** Open findings per severity. */
  bySeverity: Record<Severity, number>;
  open: number;
  suppressed: number;
  resolved: number;
  /** What unused items cost a month, by AWS's list prices (Secrets Manager $0.40 a secret, advanced parameters $0.05). */
  unusedCost: { secrets: number; advancedParameters: number; monthlyUsd: number };
  /** The oldest of the stores' last evaluations (null before the first). */
  evaluatedAt: string | null;
  /** Stores not evaluated yet (no inventory yet). */
  pendingStores: string[];
}

export interface SuppressionListItem extends SuppressionDto {
  storeId: string;
  itemName: string;
  control: ControlId;
  active: boolean;
  liftedAt: string | null;
  liftedBy: string | null;
}
