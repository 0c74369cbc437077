import 'server-only';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely } from 'kysely';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import { decryptValue, encryptValue, KEY_BYTES, type SealedValue } from '@/lib/crypto/envelope';
import { prepareInventoryConnection } from '@/lib/inventory/schema';
import { SCHEMA_SQL, SCHEMA_VERSION, type EmbeddedDatabase } from './schema';

// Opening the embedded store. Every check that can fail runs on a read-only connection before
// anything is written, so a wrong master key or a damaged database stops start-up and leaves
// the data directory exactly as it was.

export const DB_FILE = 'secrets.db';
export const KEY_FILE = 'master.key';
const KEY_CHECK_CONTEXT = 'key-check';
const KEY_CHECK_PLAINTEXT = 'secrets-dashboard master key check';

export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

export interface OpenOptions {
  dataDir: string;
  /** base64 of 32 bytes; when absent the key file in dataDir is used or created. */
  masterKeyBase64?: string;
}

export interface OpenedDatabase {
  db: Kysely<EmbeddedDatabase>;
  /** The same connection, for synchronous bulk work (rebuilding the inventory). */
  conn: Database.Database;
  masterKey: Buffer;
  /** True when this call created the database. */
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

/**
 * Checks of an existing database: readable, intact, ours, and sealed with this key. SQLite creates
 * -wal and -shm files even for a read-only connection to a WAL database, so the checks run on a
 * copy in a temporary folder and the data directory is not touched until they pass.
 */
function preflight(dbPath: string, masterKey: Buffer): void {
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
    const sealed = JSON.parse(row.value) as { ciphertext: string; wrappedKey: string };
    try {
      decryptValue(
        masterKey,
        { ciphertext: Buffer.from(sealed.ciphertext, 'base64'), wrappedKey: Buffer.from(sealed.wrappedKey, 'base64') },
        KEY_CHECK_CONTEXT,
      );
    } catch {
      throw new StoreOpenError(
        `The master key does not match the one ${dbPath} was created with. Nothing was changed; set MASTER_KEY (or restore ${KEY_FILE}) to the original key.`,
      );
    }
  } catch (error) {
    if (error instanceof StoreOpenError) throw error;
    throw describeSqliteFailure(dbPath, error);
  } finally {
    conn?.close();
    rmSync(scratch, { recursive: true, force: true });
  }
}

function sealKeyCheck(masterKey: Buffer): string {
  const sealed: SealedValue = encryptValue(masterKey, KEY_CHECK_PLAINTEXT, KEY_CHECK_CONTEXT);
  return JSON.stringify({ ciphertext: sealed.ciphertext.toString('base64'), wrappedKey: sealed.wrappedKey.toString('base64') });
}

export function openEmbeddedDatabase(options: OpenOptions): OpenedDatabase {
  const dataDir = path.resolve(options.dataDir);
  const dbPath = path.join(dataDir, DB_FILE);
  const dbExists = existsSync(dbPath);
  const { key: masterKey, write: writeKeyFile } = resolveMasterKey({ ...options, dataDir }, dbExists);

  if (dbExists) preflight(dbPath, masterKey);
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
    conn.exec(SCHEMA_SQL);
    // The built-in store is its own inventory: the same tables the AWS sync fills, kept current by its writes.
    prepareInventoryConnection(conn);
    if (!dbExists) {
      const insert = conn.prepare('INSERT INTO meta (key, value) VALUES (?, ?)');
      conn.transaction(() => {
        insert.run('schema_version', SCHEMA_VERSION);
        insert.run('key_check', sealKeyCheck(masterKey));
      })();
    }
  } catch (error) {
    throw describeSqliteFailure(dbPath, error);
  }

  const db = new Kysely<EmbeddedDatabase>({ dialect: sqliteDialect(conn) });
  return { db, conn, masterKey, created: !dbExists, close: () => db.destroy() };
}
