import 'server-only';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Kysely, type Generated } from 'kysely';
import { sqliteDialect } from './sqlite-dialect';
import { openSqliteFile } from './sqlite-file';
import { registerRegexp } from './sqlite-regexp';
import { readEnv } from '@/lib/config/env';
import { migrateArea } from './migrate';
import { APP_MIGRATIONS } from './migrations/app';
import { checkPostgres, postgresDb } from './postgres';

// The app's own data (users and their identity-provider bindings, API tokens, the audit log,
// sign-in failures, revoked sessions, and what replicas coordinate through): DATA_DIR/app.db, or
// the "app" schema of DATABASE_URL. Plain SQL types only, the same on both dialects.

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

/** An identity-provider identity (provider + subject) bound to an account (lib/auth/external-identities.ts). */
export interface ExternalIdentitiesTable {
  /** The next-auth provider id: 'oidc' or 'github'. */
  provider: string;
  /** OIDC `sub`, or GitHub's numeric user id (as text). */
  subject: string;
  user_id: string;
  created_at: string;
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

/** Facts about the audit chain itself; one row today: 'keyed_from_seq' (lib/audit/verify-chain.ts). */
export interface AuditChainMetaTable {
  name: string;
  value: string;
  /** HMAC of the value under the audit chain key, hex: the row cannot be changed without the key. */
  mac: string;
}

/** The chain's head as written out (server log, S3): the /audit page shows the newest. */
export interface AuditAnchorsTable {
  seq: number;
  hash: string;
  /** The anchored entry's own time. */
  entry_at: string;
  anchored_at: string;
  deployment: string;
  /** 'every' (the append that reached a multiple of AUDIT_ANCHOR_EVERY) or 'interval' (the timer). */
  reason: string;
  /** s3://bucket/key once the S3 object is written. */
  s3_url: string | null;
  /** Object Lock retention (COMPLIANCE) end, when the bucket has Object Lock. */
  object_lock_until: string | null;
  /** Why the S3 write failed (the anchor is still in the server log). */
  s3_error: string | null;
}

export interface SignInFailuresTable {
  key: string;
  at: string;
}

export interface RevokedSessionsTable {
  sid: string;
  expires_at: string;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: string;
  acquired_at: string;
}

export interface WriteRequestsTable {
  request_key: string;
  /** 'running' until the write ends, then 'done' with its answer (JSON) in result. */
  state: string;
  result: string | null;
  holder: string;
  created_at: string;
  expires_at: string;
}

export interface BackgroundRequestsTable {
  /** The background work asked for (a lease name, e.g. 'inventory-sync'). */
  name: string;
  /** JSON: what to run (e.g. {"storeId":"prod"}). */
  payload: string;
  requested_at: string;
}

export interface AppDatabase {
  leases: LeasesTable;
  background_requests: BackgroundRequestsTable;
  write_requests: WriteRequestsTable;
  revoked_sessions: RevokedSessionsTable;
  users: UsersTable;
  external_identities: ExternalIdentitiesTable;
  api_tokens: ApiTokensTable;
  audit_log: AuditLogTable;
  audit_chain_meta: AuditChainMetaTable;
  audit_anchors: AuditAnchorsTable;
  sign_in_failures: SignInFailuresTable;
}

export const APP_DB_FILE = 'app.db';

export const APP_SCHEMA = 'app';

/** Opens DATA_DIR/app.db and applies pending migrations. */
export async function openAppDatabase(dataDir: string): Promise<Kysely<AppDatabase>> {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const conn = await openSqliteFile(path.join(dataDir, APP_DB_FILE), ['foreign_keys = ON']);
  // The audit timeline cuts the own log to a caller's grants with REGEXP (lib/audit/audit-log-queries.ts).
  registerRegexp(conn);
  const db = new Kysely<AppDatabase>({ dialect: sqliteDialect(conn) });
  try {
    await migrateArea(db, 'app', APP_MIGRATIONS);
  } catch (error) {
    await db.destroy();
    throw error;
  }
  return db;
}

/** The "app" schema of a PostgreSQL database, migrated (once across replicas: the Migrator locks). */
export async function openPostgresAppDatabase(url: string): Promise<Kysely<AppDatabase>> {
  await checkPostgres(url);
  const db = postgresDb<AppDatabase>(url, APP_SCHEMA);
  await migrateArea(db, 'app', APP_MIGRATIONS, APP_SCHEMA);
  return db;
}

const globalForAppDb = globalThis as unknown as { __appDb?: { key: string; db: Promise<Kysely<AppDatabase>> } };

/**
 * The process-wide app database: PostgreSQL when DATABASE_URL is set, else DATA_DIR/app.db
 * (reopened when either changes, as tests do). A failed open is not remembered, so the next call
 * tries again.
 */
export function appDb(): Promise<Kysely<AppDatabase>> {
  const env = readEnv();
  const key = env.DATABASE_URL ?? `sqlite:${path.resolve(env.DATA_DIR)}`;
  if (globalForAppDb.__appDb?.key !== key) {
    const db = env.DATABASE_URL ? openPostgresAppDatabase(env.DATABASE_URL) : openAppDatabase(path.resolve(env.DATA_DIR));
    db.catch(() => {
      if (globalForAppDb.__appDb?.db === db) globalForAppDb.__appDb = undefined;
    });
    globalForAppDb.__appDb = { key, db };
  }
  return globalForAppDb.__appDb.db;
}
