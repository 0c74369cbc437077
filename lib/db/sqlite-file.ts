import Database from 'better-sqlite3';
import { setTimeout as sleep } from 'node:timers/promises';

// Every SQLite file here (app.db, builtin.db, inventory.db, audit-events.db) is shared by processes:
// the server, its command-line tools, a second writer. Each opens it the same way: WAL, a busy
// timeout, and a few retries of the opening pragmas. Switching to (or confirming) WAL while another
// process opens or recovers the same file can answer SQLITE_BUSY at once, without waiting in the busy
// handler, so "database is locked" could fail a start that a moment later succeeds.

const OPEN_RETRIES = 20;
const BUSY_TIMEOUT_MS = 5000;

export function isSqliteBusy(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code ?? '';
  return code.startsWith('SQLITE_BUSY') || (error instanceof Error && /database is locked/.test(error.message));
}

/**
 * Opens `file` in WAL mode with a busy timeout, then sets `pragmas` (e.g. 'foreign_keys = ON').
 * A busy answer while opening is retried with a short backoff; any other failure closes the
 * connection and is thrown as it is.
 */
export async function openSqliteFile(file: string, pragmas: readonly string[] = []): Promise<Database.Database> {
  for (let attempt = 1; ; attempt++) {
    const conn = new Database(file, { timeout: BUSY_TIMEOUT_MS });
    try {
      conn.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
      conn.pragma('journal_mode = WAL');
      for (const pragma of pragmas) conn.pragma(pragma);
      return conn;
    } catch (error) {
      conn.close();
      if (!isSqliteBusy(error) || attempt >= OPEN_RETRIES) throw error;
      await sleep(10 * attempt + Math.random() * 40);
    }
  }
}

/**
 * A read-only connection to `file` (already opened in WAL mode by openSqliteFile), for lone reads
 * beside the writing connection: in WAL mode it reads the last committed state while the other
 * connection's transaction is open. The same busy timeout and `pragmas` as the writer.
 */
export function openSqliteReader(file: string, pragmas: readonly string[] = []): Database.Database {
  const conn = new Database(file, { readonly: true, fileMustExist: true, timeout: BUSY_TIMEOUT_MS });
  try {
    conn.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    for (const pragma of pragmas) conn.pragma(pragma);
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}
