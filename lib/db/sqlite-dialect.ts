import type Database from 'better-sqlite3';
import { SqliteDialect } from 'kysely';

// kysely's SQLite dialect over one better-sqlite3 connection, re-using prepared statements. kysely
// prepares every query afresh, and on hot paths (a folder page, a session check) parsing the SQL
// costs about as much as running it. kysely runs one query at a time per connection, so a cached
// statement is never in use twice at once.

const CACHED_STATEMENTS = 500;

export function sqliteDialect(conn: Database.Database): SqliteDialect {
  const statements = new Map<string, Database.Statement>();
  return new SqliteDialect({
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
