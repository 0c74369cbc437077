import 'server-only';
import { can } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import type { ConsumerKind } from '@/lib/findings/consumers-db';
import { findingsDb } from '@/lib/findings/findings';

// An item's Used by panel: the ECS task definitions and Lambda functions that name it (from the
// background consumer scan), and who read it in CloudTrail in the last 90 days, by role and source.
// Only for those who may audit the item, like its Access panel; names and ARNs only.

export const USED_BY_READER_DAYS = 90;
const MAX_SOURCES_PER_READER = 10;

export const CONSUMER_KIND_LABELS: Record<ConsumerKind, string> = { 'lambda-function': 'Lambda function', 'ecs-task-definition': 'ECS task definition' };
const SERVICE_LABELS: Record<ConsumerKind, string> = { 'lambda-function': 'Lambda functions', 'ecs-task-definition': 'ECS task definitions' };

export interface UsedByConsumer {
  kind: ConsumerKind;
  name: string;
  arn: string;
  /** How it names the item: "container api, secret DB_PASSWORD" or "environment variable DB_SECRET_ARN". */
  via: string;
  account: string | null;
  region: string | null;
  /** When the scan last saw the reference. */
  seenAt: string;
}

export interface UsedByReader {
  /** The role behind the sessions (or the identity); null when CloudTrail names none. */
  principal: string | null;
  reads: number;
  lastReadAt: string;
  /** Where the reads came from: an address, or the AWS service that read on the role's behalf. */
  sources: { source: string | null; reads: number; lastReadAt: string }[];
}

export interface UsedByScanProblem {
  service: ConsumerKind;
  /** "Lambda functions could not be read", or "ECS task definitions" when they were but something else was not. */
  headline: string;
  detail: string;
}

export interface ItemUsedBy {
  consumers: UsedByConsumer[];
  readers: UsedByReader[];
  readerDays: number;
  /** When the workloads of the item's own connection were last read (the older service); null: not yet. */
  scannedAt: string | null;
  problems: UsedByScanProblem[];
}

/** The panel, or null when the caller may not audit this item. */
export async function usedByFor(principal: Principal, storeId: string, name: string, now: Date = new Date()): Promise<ItemUsedBy | null> {
  if (!can(principal, 'view-audit', { storeId, name })) return null;
  const db = (await findingsDb()).consumers;
  const [references, scans, sources] = await Promise.all([
    db.referencesOfItem(storeId, name),
    db.scans(),
    (await auditEventIndex()).queries.readersBySource(storeId, name, { now, days: USED_BY_READER_DAYS }),
  ]);
  const consumers = references.map((r) => ({
    kind: r.consumerKind,
    name: r.consumerName,
    arn: r.consumerArn,
    via: r.container ? `container ${r.container}, secret ${r.variable}` : `environment variable ${r.variable}`,
    account: r.account,
    region: r.region,
    seenAt: r.seenAt,
  }));

  const byPrincipal = new Map<string | null, UsedByReader>();
  for (const s of sources) {
    let reader = byPrincipal.get(s.principal);
    if (!reader) byPrincipal.set(s.principal, (reader = { principal: s.principal, reads: 0, lastReadAt: s.lastReadAt, sources: [] }));
    reader.reads += s.reads;
    if (s.lastReadAt > reader.lastReadAt) reader.lastReadAt = s.lastReadAt;
    if (reader.sources.length < MAX_SOURCES_PER_READER) reader.sources.push({ source: s.source, reads: s.reads, lastReadAt: s.lastReadAt });
  }
  const readers = [...byPrincipal.values()].sort((a, b) => b.reads - a.reads || b.lastReadAt.localeCompare(a.lastReadAt));

  const own = scans.filter((s) => s.storeIds.includes(storeId));
  const problems = own
    .filter((s) => s.error !== null)
    .map((s) => ({ service: s.service, headline: s.complete ? SERVICE_LABELS[s.service] : `${SERVICE_LABELS[s.service]} could not be read`, detail: s.error! }));
  const scannedAt = own.length === 2 && own.every((s) => s.scannedAt) ? own.map((s) => s.scannedAt!).reduce((a, b) => (a < b ? a : b)) : null;
  return { consumers, readers, readerDays: USED_BY_READER_DAYS, scannedAt, problems };
}
