import 'server-only';
import { z } from 'zod';
import { ALERTS_DB_FILE, AlertsDb } from '@/lib/alerts/alerts-db';
import { AUDITED_REASON_CHARS as SILENCE_REASON_CHARS, LIFT_SILENCE_ACTION, SILENCE_ACTION } from '@/lib/alerts/admin';
import { FINDINGS_DB_FILE, FindingsDb } from '@/lib/findings/findings-db';
import { AUDITED_REASON_CHARS as SUPPRESSION_REASON_CHARS, LIFT_ACTION, SUPPRESS_ACTION } from '@/lib/findings/suppression-audit';
import type { BackupFileName, DecisionCountKey } from './container';

// What a backup carries of the stores beside the app database: the admins' and reviewers' decisions
// that nothing can recompute, and nothing else. Two kinds, described here by data and handled alike
// by lib/backup/decisions-file.ts (read, write) and lib/backup/check-decisions.ts (against the audit log):
//
// - findings.db: the suppressions reviewers wrote. The findings, their runs, the resource-policy
//   readings and the consumer scans are recomputed from the stores and AWS after a restore (as the
//   inventory and CloudTrail's events are); carrying them would bring back rows nothing vouches for
//   (a policy reading edited to "private" would hide a public secret until it is read again).
// - alerts.db: the silences admins set. The alerts (open or resolved), the delivery queue and log and
//   the digests sent are state the next evaluation rebuilds: every condition that still holds opens
//   its alert again and queues its message, so an alert that was open, or whose trigger was still
//   waiting in the queue, is simply raised again (one already sent is sent once more). What is lost
//   is a resolve still queued (its condition cleared just before the backup): nothing reopens to
//   resolve it, so a receiver may keep that one open until someone closes it. Carrying the queue
//   instead would send whatever a row edited in the backup says, to a real channel.
//
// Each decision is vouched for by its entry in the keyed audit chain (made, and lifted); the carried
// file, and the one a restore puts in DATA_DIR, are made by the store's own migrations and hold only
// those rows, ids kept (the audit log names them).

const text = z.string().min(1).max(4096);
const instant = z.iso.datetime({ offset: true });
const liftedTogether = (row: { lifted_at: string | null; lifted_by: string | null }) => (row.lifted_at === null) === (row.lifted_by === null);
const LIFTED_TOGETHER = { message: 'lifted_at and lifted_by are set together' };

/** What every kind of decision row holds. */
export interface DecisionRow {
  id: number;
  reason: string;
  expires_at: string;
  created_by: string;
  created_at: string;
  lifted_at: string | null;
  lifted_by: string | null;
}

export interface DecisionKind<Row extends DecisionRow = DecisionRow> {
  /** One row in words ("suppression"), and many ("suppressions"). */
  noun: string;
  plural: string;
  file: BackupFileName;
  /** The store the file belongs to, in words ("findings store"). */
  store: string;
  table: string;
  /** Its count in the manifest (lib/backup/container.ts DECISION_FILES). */
  countKey: DecisionCountKey;
  /** Every column of the table, in its order (each kind checks its list against its row type). */
  columns: readonly string[];
  rowSchema: z.ZodType<Row>;
  /** Makes `dir`/`file` by the store's own migrations, its tables empty. */
  createEmpty(dir: string): Promise<void>;
  audit: {
    made: string;
    lift: string;
    /** The details key holding the row's id ("suppression"). */
    idKey: string;
    /** The details key naming what the row applies besides its target ("control"); absent reads as null. */
    scopeKey: string;
    /** The entry keeps this many characters of the reason. */
    reasonChars: number;
  };
  /** The entry's target for a row. */
  target(row: Row): string;
  targetLabel: string;
  /** The row's value of audit.scopeKey. */
  scope(row: Row): string | null;
  /** The row in words, for the line naming one left out. */
  describe(row: Row): string;
  /** What a restore says of the rest of the store, and what to do about decisions it lacks. */
  rebuilt: string;
  redo: string;
  /** What a restore says when the backup holds no such file. */
  absent: string;
}

/** One row of finding_suppressions as it is stored (lib/findings/findings-db.ts SuppressionsTable). */
export const suppressionRowSchema = z
  .object({
    id: z.number().int().positive(),
    store_id: text,
    item_name: text,
    control: text,
    reason: z.string().min(1).max(4096),
    expires_at: instant,
    created_by: text,
    created_at: instant,
    lifted_at: instant.nullable(),
    lifted_by: text.nullable(),
  })
  .strict()
  .refine(liftedTogether, LIFTED_TOGETHER);
export type SuppressionRow = z.infer<typeof suppressionRowSchema>;

/** One row of alert_silences as it is stored (lib/alerts/alerts-db.ts SilencesTable): a rule, an item, or a rule on one item. */
export const silenceRowSchema = z
  .object({
    id: z.number().int().positive(),
    rule_id: text.nullable(),
    store_id: text.nullable(),
    item_name: text.nullable(),
    reason: z.string().min(1).max(4096),
    expires_at: instant,
    created_by: text,
    created_at: instant,
    lifted_at: instant.nullable(),
    lifted_by: text.nullable(),
  })
  .strict()
  .refine((row) => (row.store_id === null) === (row.item_name === null), { message: 'store_id and item_name are set together' })
  .refine((row) => row.rule_id !== null || row.store_id !== null, { message: 'a silence names a rule, an item, or both' })
  .refine(liftedTogether, LIFTED_TOGETHER);
export type SilenceRow = z.infer<typeof silenceRowSchema>;

export const SUPPRESSIONS: DecisionKind<SuppressionRow> = {
  noun: 'suppression',
  plural: 'suppressions',
  file: FINDINGS_DB_FILE as BackupFileName,
  store: 'findings store',
  table: 'finding_suppressions',
  countKey: 'suppressions',
  columns: ['id', 'store_id', 'item_name', 'control', 'reason', 'expires_at', 'created_by', 'created_at', 'lifted_at', 'lifted_by'] satisfies (keyof SuppressionRow)[],
  rowSchema: suppressionRowSchema,
  async createEmpty(dir) {
    await (await FindingsDb.open(dir)).close();
  },
  // As lib/data/findings.ts audits them.
  audit: { made: SUPPRESS_ACTION, lift: LIFT_ACTION, idKey: 'suppression', scopeKey: 'control', reasonChars: SUPPRESSION_REASON_CHARS },
  target: (row) => `${row.store_id}:${row.item_name}`,
  targetLabel: 'store or item',
  scope: (row) => row.control,
  describe: (row) => `${row.control} on ${row.store_id}:${row.item_name}`,
  rebuilt: 'the findings themselves are recomputed after the first sync',
  redo: 'suppress those findings again if they still apply',
  absent:
    'This backup holds no findings store (it was taken by an older version, or before findings were first evaluated): findings are recomputed after the first sync, and no suppressions are restored.',
};

export const SILENCES: DecisionKind<SilenceRow> = {
  noun: 'silence',
  plural: 'silences',
  file: ALERTS_DB_FILE as BackupFileName,
  store: 'alerts store',
  table: 'alert_silences',
  countKey: 'silences',
  columns: ['id', 'rule_id', 'store_id', 'item_name', 'reason', 'expires_at', 'created_by', 'created_at', 'lifted_at', 'lifted_by'] satisfies (keyof SilenceRow)[],
  rowSchema: silenceRowSchema,
  async createEmpty(dir) {
    await (await AlertsDb.open(dir)).close();
  },
  // As lib/alerts/admin.ts audits them: the item when there is one, else the rule; the rule in the details when there is one.
  audit: { made: SILENCE_ACTION, lift: LIFT_SILENCE_ACTION, idKey: 'silence', scopeKey: 'rule', reasonChars: SILENCE_REASON_CHARS },
  target: (row) => (row.store_id !== null ? `${row.store_id}:${row.item_name}` : `rule:${row.rule_id}`),
  targetLabel: 'rule or item',
  scope: (row) => row.rule_id,
  describe: (row) => [row.rule_id !== null ? `rule ${row.rule_id}` : null, row.store_id !== null ? `${row.store_id}:${row.item_name}` : null].filter(Boolean).join(' on '),
  rebuilt: 'open alerts, deliveries and digests are rebuilt by the next evaluation',
  redo: 'silence those alerts again if they still apply',
  absent:
    'This backup holds no alerts store (it was taken by an older version, or before alerts were first used): open alerts are raised again by the next evaluation, and no silences are restored.',
};

/** In the order a backup copies them, after app.db (whatever the copied log records is in the copies). */
export const DECISION_KINDS: readonly DecisionKind[] = [SUPPRESSIONS, SILENCES];
