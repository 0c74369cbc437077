import 'server-only';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { DATA_AREAS } from '@/lib/db/areas';
import { migrateArea, MigrationError } from '@/lib/db/migrate';
import { checkPostgres, postgresDb } from '@/lib/db/postgres';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import { registerRegexp } from '@/lib/db/sqlite-regexp';
import { decryptValue, encryptValue, KEY_BYTES, type SealedValue } from '@/lib/crypto/envelope';
import { SCHEMA_VERSION, type EmbeddedDatabase } from './schema';

// Opening the embedded store: DATA_DIR/secrets.db, or the "builtin" schema of DATABASE_URL. Every
// check that can fail runs before anything is written (on SQLite on a read-only copy, on
// PostgreSQL with reads only), so a wrong master key or a damaged database stops start-up and
// leaves the data exactly as it was.

export const DB_FILE = 'secrets.db';
export const KEY_FILE = 'master.key';
export const KEY_CHECK_CONTEXT = 'key-check';
const KEY_CHECK_PLAINTEXT = 'secrets-dashboard master key check';
/** The audit chain's HMAC key, sealed under the master key like a data key (rotation re-wraps it). */
export const AUDIT_CHAIN_KEY_CONTEXT = 'audit-chain-key';
/** HKDF's purpose label for the audit chain key: no other use of the master key derives the same bytes. */
export const AUDIT_CHAIN_KEY_INFO = 'secrets-dashboard/audit-chain/v1';

const AREA = DATA_AREAS.find((a) => a.name === 'builtin')!;
/** The PostgreSQL schema of the built-in store: its tables and its inventory's. */
export const BUILTIN_SCHEMA = AREA.schema;

export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

export interface OpenOptions {
  dataDir: string;
  /** base64 of 32 bytes; when absent the key file in dataDir is used or created (SQLite only). */
  masterKeyBase64?: string;
  /** DATABASE_URL: the store lives in its "builtin" schema instead of DATA_DIR/secrets.db. */
  databaseUrl?: string;
}

export interface OpenedDatabase {
  db: Kysely<EmbeddedDatabase>;
  masterKey: Buffer;
  /** The audit chain's HMAC key (derived from the master key with HKDF when first made; kept sealed under it). */
  auditChainKey: Buffer;
  /** True when this call created the store (on PostgreSQL: this replica wrote its key check). */
  created: boolean;
  close(): Promise<void>;
}

function decodeMasterKey(base64: string, source: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES)
    throw new StoreOpenError(`${source} must hold the base64 encoding of exactly ${KEY_BYTES} bytes; it holds ${key.length}.`);
  return key;
}

function resolveMasterKey(options: OpenOptions, dbExists: boolean): { key: Buffer; write?: () => void } {
  if (options.masterKeyBase64) return { key: decodeMasterKey(options.masterKeyBase64, 'MASTER_KEY') };
  const keyPath = path.join(options.dataDir, KEY_FILE);
  if (existsSync(keyPath)) {
    const mode = statSync(keyPath).mode & 0o777;
    if (mode & 0o077) console.warn(`warning: ${keyPath} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it.`);
    return { key: decodeMasterKey(readFileSync(keyPath, 'utf8'), keyPath) };
  }
  if (dbExists)
    throw new StoreOpenError(
      `${path.join(options.dataDir, DB_FILE)} exists but there is no master key: MASTER_KEY is unset and ${keyPath} is missing. ` +
        'Restore the key file or set MASTER_KEY to the key this data directory was created with.',
    );
  const key = randomBytes(KEY_BYTES);
  return {
    key,
    write: () => {
      writeFileSync(keyPath, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      chmodSync(keyPath, 0o600);
    },
  };
}

function describeSqliteFailure(dbPath: string, error: unknown): StoreOpenError {
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT')
    return new StoreOpenError(
      `${dbPath} is damaged or is not a database (${code}). Nothing was changed; restore it from a backup or point DATA_DIR elsewhere.`,
    );
  return new StoreOpenError(`Cannot open ${dbPath}: ${(error as Error).message}. Nothing was changed.`);
}

function sealKeyCheck(masterKey: Buffer): string {
  return sealMeta(masterKey, KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT);
}

/** Whether the sealed key check (meta 'key_check') opens with this key. */
export function keyCheckOpens(masterKey: Buffer, value: string): boolean {
  try {
    openMeta(masterKey, value, KEY_CHECK_CONTEXT);
    return true;
  } catch {
    return false;
  }
}

/** Seals a value under the master key as JSON {ciphertext, wrappedKey} (base64), for meta rows. */
export function sealMeta(masterKey: Buffer, plaintext: string, context: string): string {
  const sealed: SealedValue = encryptValue(masterKey, plaintext, context);
  return JSON.stringify({ ciphertext: sealed.ciphertext.toString('base64'), wrappedKey: sealed.wrappedKey.toString('base64') });
}

/** Opens a meta row sealed by sealMeta; throws DecryptionError on a wrong key or an altered row. */
export function openMeta(masterKey: Buffer, value: string, context: string): string {
  const sealed = JSON.parse(value) as { ciphertext: string; wrappedKey: string };
  return decryptValue(masterKey, { ciphertext: Buffer.from(sealed.ciphertext, 'base64'), wrappedKey: Buffer.from(sealed.wrappedKey, 'base64') }, context);
}

function newAuditChainKey(masterKey: Buffer): string {
  const key = Buffer.from(hkdfSync('sha256', masterKey, randomBytes(16), AUDIT_CHAIN_KEY_INFO, KEY_BYTES));
  try {
    return sealMeta(masterKey, key.toString('base64'), AUDIT_CHAIN_KEY_CONTEXT);
  } finally {
    key.fill(0);
  }
}

const wrongKey = (where: string, remedy: string) =>
  new StoreOpenError(`The master key does not match the one ${where} was created with. Nothing was changed; ${remedy}`);

/**
 * Checks of an existing database: readable, intact, ours, and sealed with this key. SQLite creates
 * -wal and -shm files even for a read-only connection to a WAL database, so the checks run on a
 * copy in a temporary folder and the data directory is not touched until they pass.
 */
function preflightSqlite(dbPath: string, masterKey: Buffer): void {
  const scratch = mkdtempSync(path.join(tmpdir(), 'secrets-preflight-'));
  let conn: Database.Database | undefined;
  try {
    const copy = path.join(scratch, DB_FILE);
    copyFileSync(dbPath, copy);
    if (existsSync(`${dbPath}-wal`)) copyFileSync(`${dbPath}-wal`, `${copy}-wal`);
    conn = new Database(copy, { fileMustExist: true });
    const check = conn.pragma('quick_check', { simple: true });
    if (check !== 'ok')
      throw new StoreOpenError(`${dbPath} failed its integrity check (${String(check)}). Nothing was changed; restore it from a backup.`);
    const hasMeta = conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
    if (!hasMeta) throw new StoreOpenError(`${dbPath} is not a secrets dashboard database (no meta table). Nothing was changed.`);
    const row = conn.prepare("SELECT value FROM meta WHERE key = 'key_check'").get() as { value: string } | undefined;
    if (!row) throw new StoreOpenError(`${dbPath} has no master key check; it is incomplete or damaged. Nothing was changed.`);
    if (!keyCheckOpens(masterKey, row.value))
      throw wrongKey(dbPath, `set MASTER_KEY (or restore ${KEY_FILE}) to the original key.`);
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw describeSqliteFailure(dbPath, error);
  } finally {
    conn?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const POSTGRES_WHERE = `the built-in store in DATABASE_URL (schema "${BUILTIN_SCHEMA}")`;

/**
 * The PostgreSQL twin of the preflight, with reads only: an existing store must open with this key.
 * A schema with a meta table but no key check yet may be another replica starting at this moment;
 * the key check written (or found) after the migrations settles it.
 */
async function preflightPostgres(db: Kysely<EmbeddedDatabase>, masterKey: Buffer): Promise<void> {
  const { rows } = await sql<{ meta: string | null; items: string | null }>`
    SELECT to_regclass(${`${BUILTIN_SCHEMA}.meta`})::text AS meta, to_regclass(${`${BUILTIN_SCHEMA}.items`})::text AS items`.execute(db);
  if (!rows[0]?.meta) return;
  const check = await db.selectFrom('meta').select('value').where('key', '=', 'key_check').executeTakeFirst();
  if (check) {
    if (!keyCheckOpens(masterKey, check.value)) throw wrongKey(POSTGRES_WHERE, 'set MASTER_KEY to the original key (the same on every replica).');
    return;
  }
  const holdsItems = rows[0].items ? await db.selectFrom('items').select('id').limit(1).executeTakeFirst() : undefined;
  if (holdsItems)
    throw new StoreOpenError(`${POSTGRES_WHERE} holds items but no master key check; it is incomplete or damaged. Nothing was changed.`);
}

async function migrateBuiltin(db: Kysely<EmbeddedDatabase>): Promise<void> {
  // The store's tables, then the inventory's (the same migrations as the AWS stores' inventory).
  for (const set of AREA.migrationSets) await migrateArea(db, set.name, set.migrations, AREA.schema);
}

/**
 * Writes the key check unless one is there (replicas starting together: the first one wins) and
 * checks the stored one opens with this key; in one transaction, so a refusal writes nothing.
 * Returns whether this call wrote it, i.e. created the store.
 */
async function settleKeyCheck(
  db: Kysely<EmbeddedDatabase>,
  masterKey: Buffer,
  where: string,
  remedy: string,
): Promise<{ created: boolean; auditChainKey: Buffer }> {
  return db.transaction().execute(async (trx) => {
    const inserted = await trx
      .insertInto('meta')
      .values({ key: 'key_check', value: sealKeyCheck(masterKey) })
      .onConflict((oc) => oc.column('key').doNothing())
      .returning('key')
      .executeTakeFirst();
    await trx
      .insertInto('meta')
      .values({ key: 'schema_version', value: SCHEMA_VERSION })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const stored = await trx.selectFrom('meta').select('value').where('key', '=', 'key_check').executeTakeFirstOrThrow();
    if (!keyCheckOpens(masterKey, stored.value)) throw wrongKey(where, remedy);
    // Stores made before the keyed audit chain get their chain key here, once (the first replica wins).
    await trx
      .insertInto('meta')
      .values({ key: 'audit_chain_key', value: newAuditChainKey(masterKey) })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    const chainKey = await trx.selectFrom('meta').select('value').where('key', '=', 'audit_chain_key').executeTakeFirstOrThrow();
    let auditChainKey: Buffer;
    try {
      auditChainKey = Buffer.from(openMeta(masterKey, chainKey.value, AUDIT_CHAIN_KEY_CONTEXT), 'base64');
    } catch {
      throw new StoreOpenError(`The audit chain key in ${where} does not open with the master key: it was altered. Nothing was changed; restore it from a backup.`);
    }
    return { created: inserted !== undefined, auditChainKey };
  });
}

async function openSqlite(options: OpenOptions): Promise<OpenedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const dbPath = path.join(dataDir, DB_FILE);
  const dbExists = existsSync(dbPath);
  const { key: masterKey, write: writeKeyFile } = resolveMasterKey({ ...options, dataDir }, dbExists);

  if (dbExists) preflightSqlite(dbPath, masterKey);
  else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeKeyFile?.();
  }

  let conn: Database.Database;
  try {
    conn = new Database(dbPath);
    conn.pragma('journal_mode = WAL');
    conn.pragma('foreign_keys = ON');
    conn.pragma('busy_timeout = 5000');
    // The inventory's queries cut to a caller's grants with REGEXP.
    registerRegexp(conn);
  } catch (error) {
    throw describeSqliteFailure(dbPath, error);
  }
  const db = new Kysely<EmbeddedDatabase>({ dialect: sqliteDialect(conn) });
  try {
    await migrateBuiltin(db);
    const { created, auditChainKey } = await settleKeyCheck(db, masterKey, dbPath, `set MASTER_KEY (or restore ${KEY_FILE}) to the original key.`);
    return { db, masterKey, auditChainKey, created, close: () => db.destroy() };
  } catch (error) {
    await db.destroy();
    if (error instanceof StoreOpenError || error instanceof MigrationError) throw error;
    throw describeSqliteFailure(dbPath, error);
  }
}

async function openPostgres(url: string, options: OpenOptions): Promise<OpenedDatabase> {
  // Replicas share only the database: a key file on one replica's disk would not reach the others.
  if (!options.masterKeyBase64)
    throw new StoreOpenError(
      'DATABASE_URL is set, so the built-in store keeps its data in PostgreSQL, and every replica needs the same master key: set MASTER_KEY ' +
        `(base64 of ${KEY_BYTES} bytes). For a store that began under DATA_DIR use the key in ${path.join(options.dataDir, KEY_FILE)}; ` +
        'for a new one: openssl rand -base64 32. Nothing was changed.',
    );
  const masterKey = decodeMasterKey(options.masterKeyBase64, 'MASTER_KEY');
  await checkPostgres(url);
  const db = postgresDb<EmbeddedDatabase>(url, BUILTIN_SCHEMA);
  await preflightPostgres(db, masterKey);
  await migrateBuiltin(db);
  const { created, auditChainKey } = await settleKeyCheck(db, masterKey, POSTGRES_WHERE, 'set MASTER_KEY to the original key (the same on every replica).');
  // The pool is the process's for this schema (lib/db/postgres.ts); closePostgres() ends it.
  return { db, masterKey, auditChainKey, created, close: async () => {} };
}

/** Opens (creating when new, migrating when behind) the built-in store's database. */
export function openEmbeddedDatabase(options: OpenOptions): Promise<OpenedDatabase> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options);
}
