import type { FindingRowActions, FindingRowData } from '@/components/finding-list';
import type { FindingDto } from '@/lib/findings/queries';

// What the server hands a findings list (components/finding-list.tsx) for each row: a small record
// of the finding (no control texts, no ARN, no last-seen date, no link: the list takes the control's title
// and remediation from the catalogue in its bundle), whether the caller may act on it, and the
// suppression picker's days once per list. So a page of findings carries each fact once, not a
// server-rendered tree of every row beside its HTML.

const DAY_MS = 86_400_000;
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The suppression picker's days, from the server's clock: tomorrow at the earliest, 30 days by default, a year at most. */
export function suppressionExpiryDays(now = new Date()): { minExpiry: string; defaultExpiry: string; maxExpiry: string } {
  const t = now.getTime();
  return { minExpiry: day(t + DAY_MS), defaultExpiry: day(t + 30 * DAY_MS), maxExpiry: day(t + 365 * DAY_MS) };
}

/** What a caller may do to a finding (null: nothing; the server asks again). */
export type FindingActions = FindingRowActions;

/** The fields a row draws, and whether this caller may suppress it or lift its suppression. */
export function findingRowData(f: FindingDto, mayAct: boolean): FindingRowData {
  return {
    storeId: f.storeId,
    itemName: f.itemName,
    control: f.control,
    severity: f.severity,
    status: f.status,
    kind: f.kind,
    account: f.account,
    firstSeenAt: f.firstSeenAt,
    evidence: f.evidence,
    mayAct,
    // Left out when empty, as most rows' are.
    ...(f.owner !== null ? { owner: f.owner } : {}),
    ...(f.resolvedAt !== null ? { resolvedAt: f.resolvedAt } : {}),
    ...(f.suppression ? { suppression: { id: f.suppression.id, createdBy: f.suppression.createdBy, expiresAt: f.suppression.expiresAt, reason: f.suppression.reason } } : {}),
  };
}
