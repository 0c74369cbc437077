import { sql, type Expression, type Kysely, type RawBuilder, type SqlBool } from 'kysely';

// The few places where SQLite and PostgreSQL SQL differ, so queries are written once.

export type DialectName = 'sqlite' | 'postgres';

export function dialectOf(db: Kysely<any>): DialectName { // eslint-disable-line @typescript-eslint/no-explicit-any
  // Not `adapter instanceof PostgresAdapter`: the production build bundles kysely into several
  // chunks (instrumentation, route handlers, pages), and a Kysely cached on globalThis by one of
  // them has another copy's classes. The query compiler's placeholder tells the dialects apart.
  return sql`${0}`.compile(db).sql === '$1' ? 'postgres' : 'sqlite';
}

/** `value` matches the regular expression (SQLite: the REGEXP function lib/db/sqlite-regexp.ts registers; PostgreSQL: `~`). */
export function regexpMatch(dialect: DialectName, value: Expression<string> | RawBuilder<string>, pattern: string): RawBuilder<SqlBool> {
  return dialect === 'postgres' ? sql<SqlBool>`${value} ~ ${pattern}` : sql<SqlBool>`${value} REGEXP ${pattern}`;
}
