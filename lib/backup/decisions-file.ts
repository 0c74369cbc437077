import 'server-only';
import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import { FINDINGS_DB_FILE, FindingsDb } from '@/lib/findings/findings-db';
import { openCopy } from './sqlite-files';

// What a backup carries of findings.db: the suppressions reviewers wrote, and nothing else. The
// findings, their runs, the resource-policy readings and the consumer scans are recomputed from the
// stores and AWS after a restore (as the inventory and CloudTrail's events are); carrying them would
// bring back rows nothing vouches for (a policy reading edited to "private" would hide a public
// secret until it is read again). A suppression is a reviewer's decision that cannot be recomputed,
// and each one is vouched for by its entry in the keyed audit chain (lib/backup/check-suppressions.ts).
// The carried file, and the one a restore puts in DATA_DIR, are made by the findings store's own
// migrations (FindingsDb.open) and hold only the suppression rows, ids kept (the audit log names them).

export const SUPPRESSIONS_TABLE = 'finding_suppressions';
export { FINDINGS_DB_FILE };

const text = z.string().min(1).max(4096);
const instant = z.iso.datetime({ offset: true });

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
  .refine((row) => (row.lifted_at === null) === (row.lifted_by === null), { message: 'lifted_at and lifted_by are set together' });

export type SuppressionRow = z.infer<typeof suppressionRowSchema>;

const COLUMNS = ['id', 'store_id', 'item_name', 'control', 'reason', 'expires_at', 'created_by', 'created_at', 'lifted_at', 'lifted_by'] as const;

export function countSuppressions(conn: Database.Database): number {
  return Number((conn.prepare(`SELECT count(*) AS n FROM ${SUPPRESSIONS_TABLE}`).get() as { n: number }).n);
}

/** Every suppression row, in id order; throws naming the first row that is not one (with `describe` for the message). */
export function readSuppressions(conn: Database.Database, describe: (problem: string) => Error): SuppressionRow[] {
  const rows = conn.prepare(`SELECT ${COLUMNS.join(', ')} FROM ${SUPPRESSIONS_TABLE} ORDER BY id`).all() as Record<string, unknown>[];
  return rows.map((raw) => {
    const parsed = suppressionRowSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw describe(`suppression #${String(raw.id)} is not a valid suppression (${issue.path.join('.') || 'row'}: ${issue.message})`);
    }
    return parsed.data;
  });
}

/**
 * Writes `dir`/findings.db (which must not exist) holding `rows` and nothing else, its tables made by
 * the findings store's migrations. Built in a folder of its own inside `dir`, then moved into place.
 */
export async function writeSuppressionsDb(dir: string, rows: readonly SuppressionRow[]): Promise<void> {
  if (existsSync(path.join(dir, FINDINGS_DB_FILE))) throw new Error(`${path.join(dir, FINDINGS_DB_FILE)} exists already`);
  const build = mkdtempSync(path.join(dir, '.findings-'));
  try {
    const store = await FindingsDb.open(build);
    await store.close();
    const conn = openCopy(path.join(build, FINDINGS_DB_FILE));
    try {
      const insert = conn.prepare(`INSERT INTO ${SUPPRESSIONS_TABLE} (${COLUMNS.join(', ')}) VALUES (${COLUMNS.map((c) => `@${c}`).join(', ')})`);
      conn.transaction(() => {
        for (const row of rows) insert.run(row);
      })();
      // Into the main file, so the one file moved below is the whole database.
      conn.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      conn.close();
    }
    chmodSync(path.join(build, FINDINGS_DB_FILE), 0o600); // as every other file a backup or a restore writes
    renameSync(path.join(build, FINDINGS_DB_FILE), path.join(dir, FINDINGS_DB_FILE));
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}
