import 'server-only';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { SuppressionRow } from './suppressions-file';
import { AUDITED_REASON_CHARS, LIFT_ACTION, SUPPRESS_ACTION } from '@/lib/findings/suppression-audit';

// A backup's suppressions against its audit log, which restore has verified under the audit chain key
// by then: every suppression was written to findings.db and then audited (lib/data/findings.ts,
// 'finding.suppress' with its id, control, expiry and reason, by its author; 'finding.lift-suppression'
// by whoever lifted it). So a row that contradicts its entry was altered after the fact (an expiry
// pushed out, a reason or author rewritten, a lift undone) and the backup is refused. The backup copies
// app.db before findings.db, so whatever the copied log records is in the copied findings.db; what
// findings.db has beyond the log was written while the backup ran (or added to the file since):
// a suppression without its entry is not restored, a lift without its entry stays (it suppresses less).


const suppressDetails = z.object({ suppression: z.number().int().positive(), control: z.string(), expiresAt: z.string(), reason: z.string() });
const liftDetails = z.object({ suppression: z.number().int().positive(), control: z.string() });

interface AuditedSuppress {
  seq: number;
  actor: string;
  target: string;
  control: string;
  expiresAt: string;
  reason: string;
}

interface AuditedLift {
  seq: number;
  actor: string;
  target: string;
  control: string;
}

export type SuppressionVerdict =
  | {
      ok: true;
      /** Restored as they are. */
      kept: SuppressionRow[];
      /** Not restored: no entry in the backup's audit log says they were made. */
      unaudited: SuppressionRow[];
      /** Restored, lifted, though the backup's audit log does not record the lift. */
      liftUnaudited: SuppressionRow[];
      /** Ids the audit log says were made and not lifted, unexpired, that the backup does not hold. */
      missing: number[];
    }
  | { ok: false; problem: string };

function auditedOf(app: Database.Database): { made: Map<number, AuditedSuppress>; lifts: Map<number, AuditedLift[]> } {
  const made = new Map<number, AuditedSuppress>();
  const lifts = new Map<number, AuditedLift[]>();
  const rows = app
    .prepare("SELECT seq, actor, action, target, details FROM audit_log WHERE action IN (?, ?) AND outcome = 'success' ORDER BY seq")
    .iterate(SUPPRESS_ACTION, LIFT_ACTION) as IterableIterator<{ seq: number; actor: string; action: string; target: string; details: string }>;
  for (const row of rows) {
    let details: unknown;
    try {
      details = JSON.parse(row.details);
    } catch {
      continue;
    }
    const base = { seq: Number(row.seq), actor: row.actor, target: row.target };
    if (row.action === SUPPRESS_ACTION) {
      const parsed = suppressDetails.safeParse(details);
      // The newest entry for an id: a findings.db made anew starts its ids over.
      if (parsed.success) made.set(parsed.data.suppression, { ...base, control: parsed.data.control, expiresAt: parsed.data.expiresAt, reason: parsed.data.reason });
    } else {
      const parsed = liftDetails.safeParse(details);
      if (parsed.success) lifts.set(parsed.data.suppression, [...(lifts.get(parsed.data.suppression) ?? []), { ...base, control: parsed.data.control }]);
    }
  }
  return { made, lifts };
}

/** The first field of `row` that its creation entry says otherwise, or null. */
function differsFromMade(row: SuppressionRow, entry: AuditedSuppress): string | null {
  if (entry.target !== `${row.store_id}:${row.item_name}`) return 'store or item';
  if (entry.control !== row.control) return 'control';
  if (entry.expiresAt !== row.expires_at) return 'expiry';
  if (entry.actor !== row.created_by) return 'author';
  if (entry.reason !== row.reason.slice(0, AUDITED_REASON_CHARS)) return 'reason';
  return null;
}

export function checkSuppressionsAgainstAudit(rows: readonly SuppressionRow[], app: Database.Database, now: Date): SuppressionVerdict {
  const { made, lifts } = auditedOf(app);
  const kept: SuppressionRow[] = [];
  const unaudited: SuppressionRow[] = [];
  const liftUnaudited: SuppressionRow[] = [];
  const held = new Set<number>();
  for (const row of rows) {
    held.add(row.id);
    const entry = made.get(row.id);
    if (!entry) {
      unaudited.push(row);
      continue;
    }
    const field = differsFromMade(row, entry);
    if (field) return { ok: false, problem: `suppression #${row.id}'s ${field} differs from what audit entry #${entry.seq} records` };
    const lift = lifts.get(row.id)?.find((l) => l.seq > entry.seq);
    if (lift && row.lifted_at === null) return { ok: false, problem: `suppression #${row.id} is in force, but audit entry #${lift.seq} records that ${lift.actor} lifted it` };
    if (lift && (lift.actor !== row.lifted_by || lift.target !== entry.target || lift.control !== row.control))
      return { ok: false, problem: `suppression #${row.id}'s lift differs from what audit entry #${lift.seq} records` };
    if (!lift && row.lifted_at !== null) liftUnaudited.push(row);
    kept.push(row);
  }
  const missing = [...made.entries()]
    .filter(([id, entry]) => !held.has(id) && !lifts.get(id)?.some((l) => l.seq > entry.seq) && Date.parse(entry.expiresAt) > now.getTime())
    .map(([id]) => id);
  return { ok: true, kept, unaudited, liftUnaudited, missing };
}
