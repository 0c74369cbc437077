import 'server-only';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, type Generated } from 'kysely';
import { sqliteDialect } from './sqlite-dialect';
import { readEnv } from '@/lib/config/env';

// The app's own data (users, API tokens, the audit log, sign-in failures), kept apart from the
// secrets store so it can move to PostgreSQL on its own. Plain SQL types only.

export interface UsersTable {
  id: string;
  email: string;
  name: string | null;
  /** Role on every store and path; null for users whose access comes from grants only. */
  role: string | null;
  password_hash: string | null;
  provider: string;
  /** JSON array of the groups the identity provider sent at the last sign-in. */
  groups: string;
  created_at: string;
  last_sign_in_at: string | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_by: string;
  created_at: string;
  expires_at: string;
  last_used_at: string | null;
  revoked_at: string | null;
}

export interface AuditLogTable {
  seq: Generated<number>;
  at: string;
  actor: string;
  action: string;
  target: string;
  outcome: string;
  details: string;
  prev_hash: string;
  hash: string;
}

export interface SignInFailuresTable {
  key: string;
  at: string;
}

export interface RevokedSessionsTable {
  sid: string;
  expires_at: string;
}

export interface AppDatabase {
  revoked_sessions: RevokedSessionsTable;
  users: UsersTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  sign_in_failures: SignInFailuresTable;
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS users (
  id TEXT PRIMARY KEY,
  email TEXT NOT NULL UNIQUE COLLATE NOCASE,
  name TEXT,
  role TEXT,
  password_hash TEXT,
  provider TEXT NOT NULL,
  groups TEXT NOT NULL DEFAULT '[]',
  created_at TEXT NOT NULL,
  last_sign_in_at TEXT
);
CREATE TABLE IF NOT EXISTS api_tokens (
  id TEXT PRIMARY KEY,
  user_id TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  token_hash TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  last_used_at TEXT,
  revoked_at TEXT
);
CREATE TABLE IF NOT EXISTS audit_log (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  action TEXT NOT NULL,
  target TEXT NOT NULL,
  outcome TEXT NOT NULL,
  details TEXT NOT NULL DEFAULT '{}',
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS revoked_sessions (sid TEXT PRIMARY KEY, expires_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sign_in_failures (key TEXT NOT NULL, at TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS sign_in_failures_key_at ON sign_in_failures (key, at);
`;

export const APP_DB_FILE = 'app.db';

export function openAppDatabase(dataDir: string): Kysely<AppDatabase> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const conn = new Database(path.join(dataDir, APP_DB_FILE));
  conn.pragma('journal_mode = WAL');
  conn.pragma('foreign_keys = ON');
  conn.pragma('busy_timeout = 5000');
  conn.exec(SCHEMA_SQL);
  return new Kysely<AppDatabase>({ dialect: sqliteDialect(conn) });
}

const globalForAppDb = globalThis as unknown as { __appDb?: { dir: string; db: Kysely<AppDatabase> } };

/** The process-wide app database under DATA_DIR (reopened if DATA_DIR changes, as tests do). */
export function appDb(): Kysely<AppDatabase> {
  const dir = path.resolve(readEnv().DATA_DIR);
  if (globalForAppDb.__appDb?.dir !== dir) globalForAppDb.__appDb = { dir, db: openAppDatabase(dir) };
  return globalForAppDb.__appDb.db;
}
