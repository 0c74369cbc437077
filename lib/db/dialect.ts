import { PostgresAdapter, sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';

// The few places where SQLite and PostgreSQL SQL differ, so queries are written once.

export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName { // eslint-disable-line @typescript-eslint/no-explicit-any
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/** `value` matches the regular expression (SQLite: the REGEXP function lib/db/sqlite-regexp.ts registers; PostgreSQL: `~`). */
export function regexpMatch(dialect: DialectName, value: Expression<string> | RawBuilder<string>, pattern: string): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? sql<SqlBool>`${value} ~ ${pattern}` : sql<SqlBool>`${value} REGEXP ${pattern}`;
}
