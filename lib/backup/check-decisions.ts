import 'server-only';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { DecisionKind, DecisionRow } from './decision-kinds';

// A backup's decisions (suppressions, silences: lib/backup/decision-kinds.ts) against its audit log,
// which restore has verified under the audit chain key by then: every decision was written to its
// store and then audited (made, with its id, scope, expiry and reason, by its author; lifted, by
// whoever lifted it). So a row that contradicts its entry was altered after the fact (an expiry
// pushed out, a reason or author rewritten, a lift undone) and the backup is refused. The backup
// copies app.db before the decision stores, so whatever the copied log records is in the copies;
// what a store has beyond the log was written while the backup ran (or added to the file since):
// a decision without its entry is not restored, a lift without its entry stays (it decides less).

const id = z.number().int().positive();
const scopeValue = z.string().optional();
const madeDetails = z.object({ expiresAt: z.string(), reason: z.string() });

interface AuditedEntry {
  seq: number;
  actor: string;
  target: string;
  scope: string | null;
}

interface AuditedMade extends AuditedEntry {
  expiresAt: string;
  reason: string;
}

export type DecisionVerdict<Row extends DecisionRow> =
  | {
      ok: true;
      /** Restored as they are. */
      kept: Row[];
      /** Not restored: no entry in the backup's audit log says they were made. */
      unaudited: Row[];
      /** Restored, lifted, though the backup's audit log does not record the lift. */
      liftUnaudited: Row[];
      /** Ids the audit log says were made and not lifted, unexpired, that the backup does not hold. */
      missing: number[];
    }
  | { ok: false; problem: string };

function auditedOf(kind: DecisionKind<DecisionRow>, app: Database.Database): { made: Map<number, AuditedMade>; lifts: Map<number, AuditedEntry[]> } {
  const made = new Map<number, AuditedMade>();
  const lifts = new Map<number, AuditedEntry[]>();
  const rows = app
    .prepare("SELECT seq, actor, action, target, details FROM audit_log WHERE action IN (?, ?) AND outcome = 'success' ORDER BY seq")
    .iterate(kind.audit.made, kind.audit.lift) as IterableIterator<{ seq: number; actor: string; action: string; target: string; details: string }>;
  for (const row of rows) {
    let details: Record<string, unknown>;
    try {
      details = JSON.parse(row.details) as Record<string, unknown>;
    } catch {
      continue;
    }
    const decision = id.safeParse(details?.[kind.audit.idKey]);
    const scope = scopeValue.safeParse(details?.[kind.audit.scopeKey]);
    if (!decision.success || !scope.success) continue;
    const entry: AuditedEntry = { seq: Number(row.seq), actor: row.actor, target: row.target, scope: scope.data ?? null };
    if (row.action === kind.audit.made) {
      const parsed = madeDetails.safeParse(details);
      // The newest entry for an id: a store made anew starts its ids over.
      if (parsed.success) made.set(decision.data, { ...entry, expiresAt: parsed.data.expiresAt, reason: parsed.data.reason });
    } else {
      lifts.set(decision.data, [...(lifts.get(decision.data) ?? []), entry]);
    }
  }
  return { made, lifts };
}

/** The first field of `row` that its creation entry says otherwise, or null. */
function differsFromMade(kind: DecisionKind<DecisionRow>, row: DecisionRow, entry: AuditedMade): string | null {
  if (entry.target !== kind.target(row)) return kind.targetLabel;
  if (entry.scope !== kind.scope(row)) return kind.audit.scopeKey;
  if (entry.expiresAt !== row.expires_at) return 'expiry';
  if (entry.actor !== row.created_by) return 'author';
  if (entry.reason !== row.reason.slice(0, kind.audit.reasonChars)) return 'reason';
  return null;
}

export function checkDecisionsAgainstAudit<Row extends DecisionRow>(kind: DecisionKind<Row>, rows: readonly Row[], app: Database.Database, now: Date): DecisionVerdict<Row> {
  const { made, lifts } = auditedOf(kind, app);
  const kept: Row[] = [];
  const unaudited: Row[] = [];
  const liftUnaudited: Row[] = [];
  const held = new Set<number>();
  for (const row of rows) {
    held.add(row.id);
    const entry = made.get(row.id);
    if (!entry) {
      unaudited.push(row);
      continue;
    }
    const field = differsFromMade(kind, row, entry);
    if (field) return { ok: false, problem: `${kind.noun} #${row.id}'s ${field} differs from what audit entry #${entry.seq} records` };
    const lift = lifts.get(row.id)?.find((l) => l.seq > entry.seq);
    if (lift && row.lifted_at === null) return { ok: false, problem: `${kind.noun} #${row.id} is in force, but audit entry #${lift.seq} records that ${lift.actor} lifted it` };
    if (lift && (lift.actor !== row.lifted_by || lift.target !== entry.target || lift.scope !== kind.scope(row)))
      return { ok: false, problem: `${kind.noun} #${row.id}'s lift differs from what audit entry #${lift.seq} records` };
    if (!lift && row.lifted_at !== null) liftUnaudited.push(row);
    kept.push(row);
  }
  const missing = [...made.entries()]
    .filter(([decision, entry]) => !held.has(decision) && !lifts.get(decision)?.some((l) => l.seq > entry.seq) && Date.parse(entry.expiresAt) > now.getTime())
    .map(([decision]) => decision);
  return { ok: true, kept, unaudited, liftUnaudited, missing };
}
