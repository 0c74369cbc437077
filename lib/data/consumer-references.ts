import 'server-only';
import { auditableNamePattern, can, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { ConsumerKind, ConsumerReference } from '@/lib/findings/consumers-db';
import { findingsDb } from '@/lib/findings/findings';

// The workload references the consumer scan could not match to an item (lib/consumers/consumer-scan.ts),
// and what the scan itself could not read, for the findings page: "the finding says what could not
// be read; the rest goes on". Cut like every other surface: a not-found reference names an item of
// a configured store, so it is shown to those who may audit that name there; an unresolved one (an
// account and region no store covers) names nothing the grants can place, so, like the plain-sight
// workload findings (lib/data/findings.ts), only to those who may audit every path of every store.
// Names, ARNs and variable names only: the scan never keeps an environment value.

/** At most this many references are listed; the total says how many there are. */
export const MAX_UNMATCHED_REFERENCES = 200;

export interface UnmatchedReference {
  workloadKind: ConsumerKind;
  /** The function's name, or the task definition's family:revision. */
  workload: string;
  workloadArn: string;
  /** ECS: the container holding the secret; Lambda: null. */
  container: string | null;
  /** The container secret's or environment variable's name. */
  variable: string;
  service: 'ssm' | 'secretsmanager';
  /** The name the reference gives (null for a reference scanned before names were kept). */
  name: string | null;
  account: string | null;
  region: string | null;
  resolution: 'not-found' | 'unresolved';
  /** not-found: the store that covers the account and region but holds no such item. */
  storeId: string | null;
  seenAt: string;
}

export interface ConsumerScanProblem {
  service: ConsumerKind;
  account: string | null;
  region: string;
  /** The scan's stores the caller may audit (others stay unnamed). */
  storeIds: string[];
  /** The last attempt did not read every workload of the service. */
  incomplete: boolean;
  /** What could not be read, as the scan words it (operations, account, region; never a value). */
  error: string;
  attemptedAt: string;
}

export interface UnmatchedReferences {
  references: UnmatchedReference[];
  /** How many the caller may see, beyond the MAX_UNMATCHED_REFERENCES listed. */
  total: number;
  problems: ConsumerScanProblem[];
}

/** Whether the caller may see this reference: its name in its store, or (no store covers it) every path of every store. */
function mayAudit(principal: Principal, r: ConsumerReference): boolean {
  if (r.resolution === 'not-found' && r.storeId !== null && r.itemName !== null) return can(principal, 'view-audit', { storeId: r.storeId, name: r.itemName });
  return canEverywhere(principal, 'view-audit');
}

function toUnmatched(r: ConsumerReference): UnmatchedReference {
  return {
    workloadKind: r.consumerKind,
    workload: r.consumerName,
    workloadArn: r.consumerArn,
    container: r.container,
    variable: r.variable,
    service: r.service,
    name: r.itemName,
    account: r.account,
    region: r.region,
    resolution: r.resolution === 'not-found' ? 'not-found' : 'unresolved',
    storeId: r.resolution === 'not-found' ? r.storeId : null,
    seenAt: r.seenAt,
  };
}

/** The references the caller may see that match no item, and the consumer scans' problems on stores they may audit. */
export async function listUnmatchedReferences(principal: Principal): Promise<UnmatchedReferences> {
  const db = (await findingsDb()).consumers;
  const [rows, scans] = await Promise.all([db.unresolvedReferences(), db.scans()]);
  const visible = rows.filter((r) => mayAudit(principal, r));
  const problems = scans.flatMap((s): ConsumerScanProblem[] => {
    const storeIds = s.storeIds.filter((id) => auditableNamePattern(principal, id) !== false);
    if (s.error === null || storeIds.length === 0) return [];
    return [{ service: s.service, account: s.account, region: s.region, storeIds, incomplete: !s.complete, error: s.error, attemptedAt: s.attemptedAt }];
  });
  return { references: visible.slice(0, MAX_UNMATCHED_REFERENCES).map(toUnmatched), total: visible.length, problems };
}
