import type Database from 'better-sqlite3';
import {
  SqliteAdapter,
  SqliteDialect,
  type CompiledQuery,
  type DatabaseConnection,
  type DialectAdapter,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type SqliteDatabase,
  type TransactionSettings,
} from 'kysely';
import { isLoneRead } from './lone-read';

// kysely's SQLite dialect over one better-sqlite3 connection, re-using prepared statements. kysely
// prepares every query afresh, and on hot paths (a folder page, a session check) parsing the SQL
// costs about as much as running it. kysely runs one query at a time per connection, so a cached
// statement is never in use twice at once.
//
// With a second, read-only connection to the same file, a lone SELECT (outside a transaction) runs
// there instead of waiting for the main connection: kysely lends SQLite's one connection to a
// transaction until it commits, so a page read would wait for a whole inventory swap (which yields
// between its chunks). In WAL mode the reader sees the last committed state, never half a swap.

const CACHED_STATEMENTS = 500;

/** SQLite rolls DDL back like anything else; kysely's adapter says otherwise, which would leave a
 * failed migration half-applied. Saying so makes the Migrator run each batch in a transaction. */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class CachingSqliteDialect extends SqliteDialect {
  constructor(
    database: SqliteDatabase,
    private readonly reader: SqliteDatabase | undefined,
  ) {
    super({ database });
  }

  override createAdapter(): DialectAdapter {
    return new TransactionalDdlSqliteAdapter();
  }

  override createDriver(): Driver {
    const main = super.createDriver();
    return this.reader ? new ReaderFirstSqliteDriver(main, this.reader) : main;
  }
}

/**
 * Hands out a connection at once that picks with its first statement: a lone SELECT runs on the
 * reader (synchronously, so it never overlaps another statement there); anything else takes the
 * main connection (kysely's mutex), and every later statement of that connection stays on it.
 */
class ReaderFirstSqliteDriver implements Driver {
  constructor(
    private readonly main: Driver,
    private readonly reader: SqliteDatabase,
  ) {}

  init(): Promise<void> {
    return this.main.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return new ReaderFirstConnection(this.main, this.reader);
  }

  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    return this.main.beginTransaction(connection, settings);
  }

  commitTransaction(connection: DatabaseConnection): Promise<void> {
    return this.main.commitTransaction(connection);
  }

  rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    return this.main.rollbackTransaction(connection);
  }

  async savepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.main.savepoint!(connection, name, compile);
  }

  async rollbackToSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.main.rollbackToSavepoint!(connection, name, compile);
  }

  async releaseSavepoint(connection: DatabaseConnection, name: string, compile: QueryCompiler['compileQuery']): Promise<void> {
    await this.main.releaseSavepoint!(connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await (connection as ReaderFirstConnection).release();
  }

  async destroy(): Promise<void> {
    try {
      await this.main.destroy();
    } finally {
      this.reader.close();
    }
  }
}

class ReaderFirstConnection implements DatabaseConnection {
  private held: Promise<DatabaseConnection> | null = null;

  constructor(
    private readonly main: Driver,
    private readonly reader: SqliteDatabase,
  ) {}

  private mainConnection(): Promise<DatabaseConnection> {
    this.held ??= this.main.acquireConnection();
    return this.held;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    if (this.held === null && isLoneRead(query.sql)) {
      const statement = this.reader.prepare(query.sql);
      if (statement.reader) return { rows: statement.all(query.parameters) as R[] };
    }
    return (await this.mainConnection()).executeQuery<R>(query);
  }

  async *streamQuery<R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> {
    // An open iterator keeps its statement busy: streams stay on the main connection, one at a time.
    yield* (await this.mainConnection()).streamQuery<R>(query, chunkSize);
  }

  async release(): Promise<void> {
    const held = this.held;
    this.held = null;
    if (held) await this.main.releaseConnection(await held);
  }
}

/** better-sqlite3 as kysely's SqliteDatabase, with a least-recently-used cache of prepared statements. */
function cachingDatabase(conn: Database.Database): SqliteDatabase {
  const statements = new Map<string, Database.Statement>();
  return {
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
  };
}

/** `conn` as kysely's dialect; with `reader` (a read-only connection to the same file), lone SELECTs run there. */
export function sqliteDialect(conn: Database.Database, reader?: Database.Database): SqliteDialect {
  return new CachingSqliteDialect(cachingDatabase(conn), reader && cachingDatabase(reader));
}
