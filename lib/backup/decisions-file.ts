import 'server-only';
import { chmodSync, existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import type Database from 'better-sqlite3';
import type { DecisionKind, DecisionRow } from './decision-kinds';
import { openCopy } from './sqlite-files';

// The file a backup carries for one kind of audited decision (lib/backup/decision-kinds.ts says which
// and why): read from a copy of the live store, and written anew holding those rows alone.

export function countDecisions<Row extends DecisionRow>(kind: DecisionKind<Row>, conn: Database.Database): number {
  return Number((conn.prepare(`SELECT count(*) AS n FROM ${kind.table}`).get() as { n: number }).n);
}

/** Every row of the kind's table, in id order; throws naming the first row that is not one (with `describe` for the message). */
export function readDecisions<Row extends DecisionRow>(kind: DecisionKind<Row>, conn: Database.Database, describe: (problem: string) => Error): Row[] {
  const rows = conn.prepare(`SELECT ${kind.columns.join(', ')} FROM ${kind.table} ORDER BY id`).all() as Record<string, unknown>[];
  return rows.map((raw) => {
    const parsed = kind.rowSchema.safeParse(raw);
    if (!parsed.success) {
      const issue = parsed.error.issues[0]!;
      throw describe(`${kind.noun} #${String(raw.id)} is not a valid ${kind.noun} (${issue.path.join('.') || 'row'}: ${issue.message})`);
    }
    return parsed.data;
  });
}

/**
 * Writes `dir`/kind.file (which must not exist) holding `rows` and nothing else, its tables made by
 * the store's own migrations. Built in a folder of its own inside `dir`, then moved into place.
 */
export async function writeDecisionsDb<Row extends DecisionRow>(kind: DecisionKind<Row>, dir: string, rows: readonly Row[]): Promise<void> {
  const target = path.join(dir, kind.file);
  if (existsSync(target)) throw new Error(`${target} exists already`);
  const build = mkdtempSync(path.join(dir, `.${path.parse(kind.file).name}-`));
  try {
    await kind.createEmpty(build);
    const conn = openCopy(path.join(build, kind.file));
    try {
      const insert = conn.prepare(`INSERT INTO ${kind.table} (${kind.columns.join(', ')}) VALUES (${kind.columns.map((c) => `@${c}`).join(', ')})`);
      conn.transaction(() => {
        for (const row of rows) insert.run(row);
      })();
      // Into the main file, so the one file moved below is the whole database.
      conn.pragma('wal_checkpoint(TRUNCATE)');
    } finally {
      conn.close();
    }
    chmodSync(path.join(build, kind.file), 0o600); // as every other file a backup or a restore writes
    renameSync(path.join(build, kind.file), target);
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
}
