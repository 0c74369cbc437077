// Findings: what a security review asks of every item (not rotated, not used, readable from
// elsewhere, on the default key, no owner…), computed from the inventory and the CloudTrail index
// and kept current as they change. Metadata only: evidence holds dates, principals, counts and
// policy statements, never a value.

export const SEVERITIES = ['critical', 'high', 'medium', 'low', 'informational'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const SEVERITY_LABELS: Record<Severity, string> = {
  critical: 'Critical',
  high: 'High',
  medium: 'Medium',
  low: 'Low',
  informational: 'Informational',
};

export const CONTROL_IDS = [
  'sm-rotation-enabled',
  'sm-rotation-succeeded',
  'sm-scheduled-rotation',
  'sm-rotated-periodically',
  'sm-unused',
  'sm-using-cmk',
  'sm-not-public',
  'sm-cross-account',
  'policy-unreadable',
  'ssm-secure-string-default-key',
  'ssm-secret-like-string',
  'not-rotated-within-policy',
  'not-read-recently',
  'unreferenced-and-unread',
  'referenced-after-deletion',
  'new-reader',
  'old-version-read-after-rotation',
  'no-owner',
  'vault-current-version-deleted',
  'plaintext-in-lambda',
  'plaintext-in-ecs',
] as const;
export type ControlId = (typeof CONTROL_IDS)[number];

/**
 * Controls about a workload (a Lambda function, an ECS task definition), not a store item: secrets
 * in plain sight in its environment. Their findings are kept under WORKLOAD_STORE_ID with the
 * workload's ARN as the name, and only callers who may audit every path of every store see them.
 */
export const WORKLOAD_CONTROL_IDS = ['plaintext-in-lambda', 'plaintext-in-ecs'] as const satisfies readonly ControlId[];
export type WorkloadControlId = (typeof WORKLOAD_CONTROL_IDS)[number];
export const WORKLOAD_STORE_ID = '';

export function isWorkloadControl(control: ControlId): control is WorkloadControlId {
  return (WORKLOAD_CONTROL_IDS as readonly string[]).includes(control);
}

/** open: raised and not suppressed; suppressed: raised, with a suppression in force; resolved: no longer raised. */
export const FINDING_STATUSES = ['open', 'suppressed', 'resolved'] as const;
export type FindingStatus = (typeof FINDING_STATUSES)[number];

/** What a finding rests on: dates, principals, counts; never a value. */
export interface FindingEvidence {
  /** One sentence a person reads ("Last rotated 212 days ago; the limit is 90 days."). */
  summary: string;
  /** Named dates the summary rests on (ISO 8601 or null). */
  dates?: Record<string, string | null>;
  /** Principals (CloudTrail) the finding names, with when each was first seen. */
  principals?: { principal: string; firstSeenAt?: string; lastSeenAt?: string }[];
  /** Small named facts (a key id, a day count, a tag name). */
  facts?: Record<string, string | number | boolean | null>;
}

/** A finding as the evaluator raises it for one item. */
export interface RaisedFinding {
  control: ControlId;
  evidence: FindingEvidence;
}

/** A suppression in force: who accepted the finding, why, until when. */
export interface FindingSuppression {
  id: number;
  reason: string;
  expiresAt: string;
  createdBy: string;
  createdAt: string;
}

/** A stored finding: the item, the control, its history and evidence. */
export interface FindingRecord {
  storeId: string;
  itemName: string;
  control: ControlId;
  severity: Severity;
  status: FindingStatus;
  kind: string;
  /** The item's AWS ARN, when it has one. */
  arn: string | null;
  /** The AWS account the item lives in, when known (from its ARN). */
  account: string | null;
  /** The item's owner or team tag, when it has one. */
  owner: string | null;
  firstSeenAt: string;
  /** The last evaluation that raised it (or when it was resolved). */
  lastSeenAt: string;
  /** When the finding stopped being raised; null while it is raised. */
  resolvedAt: string | null;
  evidence: FindingEvidence;
  suppression: FindingSuppression | null;
}
