import 'server-only';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { hkdfSync, randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { openSqliteFile } from '@/lib/db/sqlite-file';
import { Kysely, sql } from 'kysely';
import { DATA_AREAS } from '@/lib/db/areas';
import { migrateArea, MigrationError } from '@/lib/db/migrate';
import { checkPostgres, postgresDb } from '@/lib/db/postgres';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import { registerRegexp } from '@/lib/db/sqlite-regexp';
import { KEY_BYTES } from '@/lib/crypto/envelope';
import type { KmsSealConfig } from '@/lib/crypto/kms';
import {
  KEY_CHECK_CONTEXT,
  KEY_FILE,
  keyCheckOpens,
  MASTER_KEY_ID_META,
  MASTER_KEY_KMS_META,
  masterKeyId,
  openMeta,
  resolvePostgresMasterKey,
  resolveSqliteMasterKey,
  sealKeyCheck,
  sealMeta,
  settlePendingHomes,
  StoreOpenError,
  type MasterKeyHome,
  type MasterKeySettings,
} from '@/lib/crypto/master-key';
import { SCHEMA_VERSION, type EmbeddedDatabase } from './schema';

// Opening the embedded store: DATA_DIR/secrets.db, or the "builtin" schema of DATABASE_URL. Every
// check that can fail runs before anything is written (on SQLite on a read-only copy, on
// PostgreSQL with reads only), so a wrong master key or a damaged database stops start-up and
// leaves the data exactly as it was.

export const DB_FILE = 'secrets.db';
// The master key's homes and the sealed meta helpers live in lib/crypto/master-key.ts; re-exported for the store's callers.
export { KEY_CHECK_CONTEXT, KEY_FILE, keyCheckOpens, openMeta, sealMeta, StoreOpenError };
/** The audit chain's HMAC key, sealed under the master key like a data key (rotation re-wraps it). */
export const AUDIT_CHAIN_KEY_CONTEXT = 'audit-chain-key';
/** HKDF's purpose label for the audit chain key: no other use of the master key derives the same bytes. */
export const AUDIT_CHAIN_KEY_INFO = 'secrets-dashboard/audit-chain/v1';

const AREA = DATA_AREAS.find((a) => a.name === 'builtin')!;
/** The PostgreSQL schema of the built-in store: its tables and its inventory's. */
export const BUILTIN_SCHEMA = AREA.schema;

export interface OpenOptions {
  dataDir: string;
  /** base64 of 32 bytes; when absent the key file in dataDir is used or created (SQLite only). */
  masterKeyBase64?: string;
  /** DATABASE_URL: the store lives in its "builtin" schema instead of DATA_DIR/secrets.db. */
  databaseUrl?: string;
  /** MASTER_KEY_KMS_KEY_ID and its settings (kmsSealConfigFromEnv): the master key is sealed by KMS. */
  kms?: KmsSealConfig | null;
  /** npm run rotate-master-key only: open with whichever home the store has (see MasterKeySettings.anyHome). */
  anyMasterKeyHome?: MasterKeySettings['anyHome'];
}

export interface OpenedDatabase {
  db: Kysely<EmbeddedDatabase>;
  masterKey: Buffer;
  /** Where the master key came from. */
  masterKeyHome: MasterKeyHome;
  /** The audit chain's HMAC key (derived from the master key with HKDF when first made; kept sealed under it). */
  auditChainKey: Buffer;
  /** True when this call created the store (on PostgreSQL: this replica wrote its key check). */
  created: boolean;
  close(): Promise<void>;
}

function keySettings(options: OpenOptions): MasterKeySettings {
  return {
    dataDir: options.dataDir,
    ...(options.masterKeyBase64 ? { masterKeyBase64: options.masterKeyBase64 } : {}),
    kms: options.kms ?? null,
    ...(options.anyMasterKeyHome ? { anyHome: options.anyMasterKeyHome } : {}),
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

/** What to do about a key that does not open the store, by where the key came from. */
function wrongKeyRemedy(home: MasterKeyHome, postgres: boolean): string {
  if (home.kind === 'kms')
    return `the sealed master key in ${home.where} belongs to another store: restore the one this store was created with from a backup.`;
  return postgres ? 'set MASTER_KEY to the original key (the same on every replica).' : `set MASTER_KEY (or restore ${KEY_FILE}) to the original key.`;
}

/**
 * Checks of an existing database: readable, intact, ours, and sealed with this key. SQLite creates
 * -wal and -shm files even for a read-only connection to a WAL database, so the checks run on a
 * copy in a temporary folder and the data directory is not touched until they pass.
 */
function preflightSqlite(dbPath: string, masterKey: Buffer, remedy: string): void {
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
    if (!keyCheckOpens(masterKey, row.value)) throw wrongKey(dbPath, remedy);
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw describeSqliteFailure(dbPath, error);
  } finally {
    conn?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

const POSTGRES_WHERE = `the built-in store in DATABASE_URL (schema "${BUILTIN_SCHEMA}")`;

/** What an existing PostgreSQL store says about its master key, with reads only (nothing when the schema is new). */
async function readPostgresKeyRows(db: Kysely<EmbeddedDatabase>): Promise<{ metaExists: boolean; itemsExists: boolean; keyCheck?: string; sealedRow?: string }> {
  const { rows } = await sql<{ meta: string | null; items: string | null }>`
    SELECT to_regclass(${`${BUILTIN_SCHEMA}.meta`})::text AS meta, to_regclass(${`${BUILTIN_SCHEMA}.items`})::text AS items`.execute(db);
  if (!rows[0]?.meta) return { metaExists: false, itemsExists: false };
  const meta = await db.selectFrom('meta').select(['key', 'value']).where('key', 'in', ['key_check', MASTER_KEY_KMS_META]).execute();
  return {
    metaExists: true,
    itemsExists: Boolean(rows[0].items),
    keyCheck: meta.find((r) => r.key === 'key_check')?.value,
    sealedRow: meta.find((r) => r.key === MASTER_KEY_KMS_META)?.value,
  };
}

/**
 * The PostgreSQL twin of the preflight, with reads only: an existing store must open with this key.
 * A schema with a meta table but no key check yet may be another replica starting at this moment;
 * the key check written (or found) after the migrations settles it.
 */
async function preflightPostgres(
  db: Kysely<EmbeddedDatabase>,
  state: Awaited<ReturnType<typeof readPostgresKeyRows>>,
  masterKey: Buffer,
  remedy: string,
): Promise<void> {
  if (!state.metaExists) return;
  if (state.keyCheck) {
    if (!keyCheckOpens(masterKey, state.keyCheck)) throw wrongKey(POSTGRES_WHERE, remedy);
    return;
  }
  const holdsItems = state.itemsExists ? await db.selectFrom('items').select('id').limit(1).executeTakeFirst() : undefined;
  if (holdsItems)
    throw new StoreOpenError(`${POSTGRES_WHERE} holds items but no master key check; it is incomplete or damaged. Nothing was changed.`);
}

async function migrateBuiltin(db: Kysely<EmbeddedDatabase>): Promise<void> {
  // The store's tables, then the inventory's (the same migrations as the AWS stores' inventory).
  for (const set of AREA.migrationSets) await migrateArea(db, set.name, set.migrations, AREA.schema);
}

/** Another replica sealed a new store's master key with KMS first: open again with its sealed key. */
class SealedKeyRaceLost extends Error {}

/**
 * Writes the key check unless one is there (replicas starting together: the first one wins) and
 * checks the stored one opens with this key; in one transaction, so a refusal writes nothing.
 * Also keeps meta 'master_key_id' (the key's one-way id, which writers compare against) and, for a
 * new store on PostgreSQL sealed by KMS, the sealed key's row. Returns whether this call wrote the
 * key check, i.e. created the store.
 */
async function settleKeyCheck(
  db: Kysely<EmbeddedDatabase>,
  masterKey: Buffer,
  where: string,
  remedy: string,
  newSealedRow?: string,
): Promise<{ created: boolean; auditChainKey: Buffer }> {
  return db.transaction().execute(async (trx) => {
    if (newSealedRow) {
      const sealedInserted = await trx
        .insertInto('meta')
        .values({ key: MASTER_KEY_KMS_META, value: newSealedRow })
        .onConflict((oc) => oc.column('key').doNothing())
        .returning('key')
        .executeTakeFirst();
      if (!sealedInserted) throw new SealedKeyRaceLost();
    }
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
    // Stores made before rotation existed get the key's id here; the key check just proved the key is the store's.
    const id = masterKeyId(masterKey);
    const storedId = await trx.selectFrom('meta').select('value').where('key', '=', MASTER_KEY_ID_META).executeTakeFirst();
    if (!storedId) await trx.insertInto('meta').values({ key: MASTER_KEY_ID_META, value: id }).onConflict((oc) => oc.column('key').doNothing()).execute();
    else if (storedId.value !== id) await trx.updateTable('meta').set({ value: id }).where('key', '=', MASTER_KEY_ID_META).execute();
    return { created: inserted !== undefined, auditChainKey };
  });
}

async function openSqlite(options: OpenOptions): Promise<OpenedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const dbPath = path.join(dataDir, DB_FILE);
  const settings = keySettings({ ...options, dataDir });
  // What a killed npm run rotate-master-key left: finished or discarded before the key is chosen.
  await settlePendingHomes(settings, dbPath);
  const dbExists = existsSync(dbPath);
  const { key: masterKey, home, writeHome } = await resolveSqliteMasterKey(settings, dbPath, dbExists);
  const remedy = wrongKeyRemedy(home, false);

  if (dbExists) preflightSqlite(dbPath, masterKey, remedy);
  else {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeHome?.();
  }

  let conn: Database.Database;
  try {
    conn = await openSqliteFile(dbPath, ['foreign_keys = ON']);
    // The inventory's queries cut to a caller's grants with REGEXP.
    registerRegexp(conn);
  } catch (error) {
    throw describeSqliteFailure(dbPath, error);
  }
  const db = new Kysely<EmbeddedDatabase>({ dialect: sqliteDialect(conn) });
  try {
    await migrateBuiltin(db);
    const { created, auditChainKey } = await settleKeyCheck(db, masterKey, dbPath, remedy);
    return { db, masterKey, masterKeyHome: home, auditChainKey, created, close: () => db.destroy() };
  } catch (error) {
    await db.destroy();
    if (error instanceof StoreOpenError || error instanceof MigrationError) throw error;
    throw describeSqliteFailure(dbPath, error);
  }
}

async function openPostgres(url: string, options: OpenOptions, attempt = 1): Promise<OpenedDatabase> {
  await checkPostgres(url);
  const db = postgresDb<EmbeddedDatabase>(url, BUILTIN_SCHEMA);
  const state = await readPostgresKeyRows(db);
  const resolved = await resolvePostgresMasterKey(keySettings(options), state.sealedRow, state.keyCheck !== undefined, POSTGRES_WHERE);
  // Replicas share only the database: a key file on one replica's disk would not reach the others.
  if (!resolved)
    throw new StoreOpenError(
      'DATABASE_URL is set, so the built-in store keeps its data in PostgreSQL, and every replica needs the same master key: set MASTER_KEY ' +
        `(base64 of ${KEY_BYTES} bytes), or MASTER_KEY_KMS_KEY_ID to keep it sealed by KMS in the database. For a store that began under DATA_DIR use the key in ${path.join(options.dataDir, KEY_FILE)}; ` +
        'for a new one: openssl rand -base64 32. Nothing was changed.',
    );
  const { key: masterKey, home, newSealedRow } = resolved;
  const remedy = wrongKeyRemedy(home, true);
  await preflightPostgres(db, state, masterKey, remedy);
  await migrateBuiltin(db);
  let settled: { created: boolean; auditChainKey: Buffer };
  try {
    settled = await settleKeyCheck(db, masterKey, POSTGRES_WHERE, remedy, newSealedRow);
  } catch (error) {
    if (error instanceof SealedKeyRaceLost && attempt === 1) return openPostgres(url, options, 2);
    throw error;
  }
  // The pool is the process's for this schema (lib/db/postgres.ts); closePostgres() ends it.
  return { db, masterKey, masterKeyHome: home, auditChainKey: settled.auditChainKey, created: settled.created, close: async () => {} };
}

/** Opens (creating when new, migrating when behind) the built-in store's database. */
export function openEmbeddedDatabase(options: OpenOptions): Promise<OpenedDatabase> {
  return options.databaseUrl ? openPostgres(options.databaseUrl, options) : openSqlite(options);
}
