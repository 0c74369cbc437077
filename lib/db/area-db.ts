import { mkdirSync } from 'node:fs';
import type Database from 'better-sqlite3';
import path from 'node:path';
import { Kysely } from 'kysely';
import { checkPostgres, postgresDb } from './postgres';
import { sqliteDialect } from './sqlite-dialect';
import { openSqliteFile, openSqliteReader } from './sqlite-file';
import { registerRegexp } from './sqlite-regexp';

// How each area's store (the inventory, the CloudTrail index, the findings, the alerts) opens its
// database: a SQLite file under DATA_DIR, or its schema of DATABASE_URL through the process's pool,
// made ready by the area's own `prepare` (its migrations). One way, so every area gets the same
// directory mode, REGEXP for the grants' cut, and a file closed again when its migrations fail.

export interface SqliteAreaOptions {
  /** Opening pragmas, on the reader too. */
  pragmas?: string[];
  /**
   * A second, read-only connection for lone SELECTs (see sqliteDialect), so page reads are answered
   * while a long write transaction (the inventory's chunked swap) holds the main connection.
   */
  reader?: boolean;
}

/** DATA_DIR/<file>, created or brought up to date by `prepare`. */
export async function openSqliteArea<DB>(
  dataDir: string,
  file: string,
  prepare: (db: Kysely<DB>) => Promise<void>,
  options: SqliteAreaOptions = {},
): Promise<Kysely<DB>> {
  const pragmas = options.pragmas ?? ['synchronous = NORMAL'];
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const filePath = path.join(dataDir, file);
  const conn = await openSqliteFile(filePath, pragmas);
  let reader: Database.Database | undefined;
  try {
    reader = options.reader ? openSqliteReader(filePath, pragmas) : undefined;
  } catch (error) {
    conn.close();
    throw error;
  }
  // Page queries cut names by the grants' regular expressions (lib/auth/path-glob.ts, lib/db/name-scope.ts).
  registerRegexp(conn);
  if (reader) registerRegexp(reader);
  const db = new Kysely<DB>({ dialect: sqliteDialect(conn, reader) });
  try {
    await prepare(db);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** The area's schema of a PostgreSQL database, brought up to date by `prepare` (the pool is the process's: closePostgres ends it). */
export async function openPostgresArea<DB>(url: string, schema: string, prepare: (db: Kysely<DB>) => Promise<void>): Promise<Kysely<DB>> {
  await checkPostgres(url);
  const db = postgresDb<DB>(url, schema);
  await prepare(db);
  return db;
}
