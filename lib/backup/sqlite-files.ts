import 'server-only';
import Database from 'better-sqlite3';
import { GENESIS_HASH } from '@/lib/audit/entry-hash';

// What backup and restore read from a copy of secrets.db or app.db: integrity, the rows counted in
// the manifest, and the audit head. Connections here are always on copies, never on DATA_DIR's files.

/** Every page at once: one read transaction, so the copy is one snapshot even while others write. */
const ALL_PAGES = 0x7fffffff;

/**
 * Copies a live SQLite database with SQLite's online backup API. The copy is made in one step,
 * inside one read transaction: in WAL mode the server and other processes go on writing meanwhile,
 * and the copy is the database as of that transaction's start, whole. A write by another connection
 * before the step restarts the copy, so it is never a mix of two moments.
 */
export async function snapshotSqlite(source: string, destination: string): Promise<void> {
  const conn = new Database(source, { readonly: true, fileMustExist: true });
  try {
    conn.pragma('busy_timeout = 5000');
    await conn.backup(destination, { progress: () => ALL_PAGES });
  } finally {
    conn.close();
  }
}

/** PRAGMA integrity_check's verdict: null when intact, else its first findings. */
export function integrityProblem(conn: Database.Database): string | null {
  const rows = conn.pragma('integrity_check(5)') as { integrity_check: string }[];
  const findings = rows.map((r) => r.integrity_check);
  return findings.length === 1 && findings[0] === 'ok' ? null : findings.join('; ');
}

export function hasTable(conn: Database.Database, name: string): boolean {
  return conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== undefined;
}

export function countRows(conn: Database.Database, table: 'items' | 'versions' | 'audit_log'): number {
  return Number((conn.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
}

export function metaValue(conn: Database.Database, key: string): string | undefined {
  return (conn.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
}

/** The newest audit entry (seq 0 and the genesis hash when the log is empty). */
export function auditHead(conn: Database.Database): { seq: number; hash: string } {
  const row = conn.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string } | undefined;
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

/** Opens a copy (in a folder of our own) for checking. */
export function openCopy(file: string): Database.Database {
  const conn = new Database(file, { fileMustExist: true });
  conn.pragma('busy_timeout = 5000');
  return conn;
}
