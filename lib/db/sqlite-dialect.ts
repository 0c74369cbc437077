import type Database from 'better-sqlite3';
import { SqliteAdapter, SqliteDialect, type DialectAdapter } from 'kysely';

// kysely's SQLite dialect over one better-sqlite3 connection, re-using prepared statements. kysely
// prepares every query afresh, and on hot paths (a folder page, a session check) parsing the SQL
// costs about as much as running it. kysely runs one query at a time per connection, so a cached
// statement is never in use twice at once.

const CACHED_STATEMENTS = 500;

/** SQLite rolls DDL back like anything else; kysely's adapter says otherwise, which would leave a
 * failed migration half-applied. Saying so makes the Migrator run each batch in a transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class CachingSqliteDialect extends SqliteDialect {
  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

export function sqliteDialect(conn: Database.Database): SqliteDialect {
  const statements = new Map<string, Database.Statement>();
  return new CachingSqliteDialect({
    database: {
      close: () => conn.close(),
      prepare: (sql: string) => {
        const known = statements.get(sql);
        if (known) {
          // Least recently used last out.
          statements.delete(sql);
          statements.set(sql, known);
          return known;
        }
        const statement = conn.prepare(sql);
        if (statements.size >= CACHED_STATEMENTS) statements.delete(statements.keys().next().value!);
        statements.set(sql, statement);
        return statement;
      },
    },
  });
}
