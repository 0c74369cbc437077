import 'server-only';
import { createHmac, randomBytes } from 'node:crypto';
import { chmodSync, closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { decryptValue, encryptValue, KEY_BYTES, rewrapDataKey, type SealedValue } from './envelope';
import { generateSealedMasterKey, KmsSealError, sealedMasterKeySchema, unsealMasterKey, type KmsSealConfig, type SealedMasterKey } from './kms';
import { syncDirectory } from '@/lib/files/sync-directory';

// Where the master key lives (its "home") and how a start-up finds it:
//   env   MASTER_KEY (base64 of 32 bytes), the same on every replica;
//   file  DATA_DIR/master.key, generated on the first start (SQLite only);
//   kms   sealed by AWS KMS: DATA_DIR/master.key.kms (SQLite) or the meta row 'master_key_kms'
//         (PostgreSQL), decrypted once at start; nothing readable is kept on disk.
// A rotation (lib/crypto/rotate-master-key.ts) writes the new home as a pending file first, commits
// the re-wrap, then moves the pending file into place; a start-up finishes or discards a pending
// file a killed rotation left (settlePendingHomes), deciding by which key opens the key check.

export const KEY_FILE = 'master.key';
export const KMS_KEY_FILE = 'master.key.kms';
export const PENDING_SUFFIX = '.pending';
/** A rotation to MASTER_KEY writes no key anywhere; this marker (the new key's id, not the key) says it is under way. */
export const ENV_PENDING_FILE = 'master.key.env.pending';
/** meta row: masterKeyId() of the key the store is wrapped under; a write under another key is refused. */
export const MASTER_KEY_ID_META = 'master_key_id';
/** meta row (PostgreSQL): the KMS-sealed master key, JSON SealedMasterKey. */
export const MASTER_KEY_KMS_META = 'master_key_kms';
export const KEY_CHECK_CONTEXT = 'key-check';
const KEY_CHECK_PLAINTEXT = 'secrets-dashboard master key check';
const MASTER_KEY_ID_LABEL = 'secrets-dashboard/master-key-id/v1';

export type MasterKeyKind = 'env' | 'file' | 'kms';
export const MASTER_KEY_KINDS: readonly MasterKeyKind[] = ['file', 'kms', 'env'];

export interface MasterKeyHome {
  kind: MasterKeyKind;
  /** In words, for messages: "MASTER_KEY", a file path, or the database row. */
  where: string;
  /** kms: the key ARN that sealed it. */
  kmsKeyId?: string;
  /** kms: the sealed key as stored. */
  sealed?: SealedMasterKey;
}

export class StoreOpenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StoreOpenError';
  }
}

/**
 * A one-way id of a master key (HMAC under the key of a fixed label): stored in meta so a server
 * still holding a rotated-out key can tell, without knowing the new key, that its key is not current.
 */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update(MASTER_KEY_ID_LABEL).digest('hex').slice(0, 32);
}

export function decodeMasterKey(base64: string, source: string): Buffer {
  const key = Buffer.from(base64.trim(), 'base64');
  if (key.length !== KEY_BYTES)
    throw new StoreOpenError(`${source} must hold the base64 encoding of exactly ${KEY_BYTES} bytes; it holds ${key.length}.`);
  return key;
}

// ---- Values sealed under the master key in meta rows (the key check, the audit chain key) ----

/** Seals a value under the master key as JSON {ciphertext, wrappedKey} (base64), for meta rows. */
export function sealMeta(masterKey: Buffer, plaintext: string, context: string): string {
  const sealed: SealedValue = encryptValue(masterKey, plaintext, context);
  return JSON.stringify({ ciphertext: sealed.ciphertext.toString('base64'), wrappedKey: sealed.wrappedKey.toString('base64') });
}

function parseSealedMeta(value: string): { ciphertext: string; wrappedKey: string } {
  const parsed = JSON.parse(value) as { ciphertext?: unknown; wrappedKey?: unknown };
  if (typeof parsed.ciphertext !== 'string' || typeof parsed.wrappedKey !== 'string') throw new Error('not a sealed meta value');
  return { ciphertext: parsed.ciphertext, wrappedKey: parsed.wrappedKey };
}

/** Opens a meta row sealed by sealMeta; throws DecryptionError on a wrong key or an altered row. */
export function openMeta(masterKey: Buffer, value: string, context: string): string {
  const sealed = parseSealedMeta(value);
  return decryptValue(masterKey, { ciphertext: Buffer.from(sealed.ciphertext, 'base64'), wrappedKey: Buffer.from(sealed.wrappedKey, 'base64') }, context);
}

/** The same sealed meta value with its data key wrapped under another master key (its ciphertext unchanged). */
export function rewrapMeta(oldKey: Buffer, newKey: Buffer, value: string, context: string): string {
  const sealed = parseSealedMeta(value);
  const wrappedKey = rewrapDataKey(oldKey, newKey, Buffer.from(sealed.wrappedKey, 'base64'), context);
  return JSON.stringify({ ciphertext: sealed.ciphertext, wrappedKey: wrappedKey.toString('base64') });
}

export function sealKeyCheck(masterKey: Buffer): string {
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

// ---- Files in DATA_DIR ----

export interface HomePaths {
  keyFile: string;
  kmsFile: string;
  keyPending: string;
  kmsPending: string;
  envPending: string;
}

// The files' paths come from DATA_DIR at run time; the turbopackIgnore comments on the calls that
// read them keep Next's build from tracing (and shipping) the whole project because of them.
export function homePaths(dataDir: string): HomePaths {
  const dir = path.resolve(dataDir);
  return {
    keyFile: path.join(dir, KEY_FILE),
    kmsFile: path.join(dir, KMS_KEY_FILE),
    keyPending: path.join(dir, KEY_FILE + PENDING_SUFFIX),
    kmsPending: path.join(dir, KMS_KEY_FILE + PENDING_SUFFIX),
    envPending: path.join(dir, ENV_PENDING_FILE),
  };
}


/** Creates a file readable by its owner only, refusing to replace one, and flushes it to disk. */
export function writePrivateFile(file: string, content: string): void {
  const fd = openSync(file, 'wx', 0o600);
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  chmodSync(file, 0o600);
  syncDirectory(path.dirname(file));
}

export function serializeSealed(sealed: SealedMasterKey): string {
  return JSON.stringify(sealed, null, 2) + '\n';
}

/** A stored sealed master key, checked with kms.ts's schema; a malformed one stops start-up. */
export function parseSealed(text: string, where: string): SealedMasterKey {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StoreOpenError(`${where} is not a KMS-sealed master key (not JSON). Nothing was changed; restore it from a backup.`);
  }
  const parsed = sealedMasterKeySchema.safeParse(json);
  if (!parsed.success)
    throw new StoreOpenError(
      `${where} is not a valid KMS-sealed master key (${parsed.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ')}). Nothing was changed; restore it from a backup.`,
    );
  return parsed.data;
}

function readKeyFile(keyPath: string): Buffer {
  const mode = statSync(keyPath).mode & 0o777;
  if (mode & 0o077) console.warn(`warning: ${keyPath} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it.`);
  return decodeMasterKey(readFileSync(keyPath, 'utf8'), keyPath);
}

// ---- Resolving the master key at start-up ----

export interface MasterKeySettings {
  dataDir: string;
  /** MASTER_KEY (base64 of 32 bytes). */
  masterKeyBase64?: string;
  /** MASTER_KEY_KMS_KEY_ID and its settings (kmsSealConfigFromEnv): the master key is sealed by this KMS key. */
  kms?: KmsSealConfig | null;
  /**
   * For npm run rotate-master-key, which changes the home: take the home the store has, whatever
   * MASTER_KEY_KMS_KEY_ID says; a KMS-sealed key with no KMS key configured is opened with the key
   * that sealed it (its ARN and region are in the sealed key).
   */
  anyHome?: { deployment: string; kmsEndpoint?: string };
}

export interface ResolvedMasterKey {
  key: Buffer;
  home: MasterKeyHome;
  /** A new store (SQLite): writes its key file or sealed key, after the data directory exists. */
  writeHome?: () => void;
  /** A new store on PostgreSQL sealed by KMS: the caller inserts this as meta 'master_key_kms' with the key check. */
  newSealedRow?: string;
}

/** The KMS settings that open a sealed key: the configured ones, or (anyHome) the key that sealed it. */
function unsealConfig(settings: MasterKeySettings, sealed: SealedMasterKey): KmsSealConfig | null {
  if (settings.kms) return settings.kms;
  if (!settings.anyHome) return null;
  return {
    keyId: sealed.kmsKeyId,
    region: sealed.region,
    deployment: settings.anyHome.deployment,
    ...(settings.anyHome.kmsEndpoint ? { endpoint: settings.anyHome.kmsEndpoint } : {}),
  };
}

export async function unsealOrExplain(cfg: KmsSealConfig, sealed: SealedMasterKey, where: string): Promise<Buffer> {
  try {
    return await unsealMasterKey(cfg, sealed);
  } catch (error) {
    if (error instanceof KmsSealError) throw new StoreOpenError(`Cannot unseal the master key in ${where}: ${error.message} Nothing was changed.`);
    throw error;
  }
}

async function generateOrExplain(cfg: KmsSealConfig): Promise<{ plaintext: Buffer; sealed: SealedMasterKey }> {
  try {
    return await generateSealedMasterKey(cfg);
  } catch (error) {
    if (error instanceof KmsSealError) throw new StoreOpenError(`Cannot create the master key with KMS: ${error.message} Nothing was changed.`);
    throw error;
  }
}

const setKmsSettings = (sealed: SealedMasterKey) => `MASTER_KEY_KMS_KEY_ID=${sealed.kmsKeyId} (and MASTER_KEY_KMS_REGION=${sealed.region})`;

function kmsHome(where: string, sealed: SealedMasterKey): MasterKeyHome {
  return { kind: 'kms', where, kmsKeyId: sealed.kmsKeyId, sealed };
}

/** The master key of the store in DATA_DIR/secrets.db (after settlePendingHomes). */
export async function resolveSqliteMasterKey(settings: MasterKeySettings, dbPath: string, dbExists: boolean): Promise<ResolvedMasterKey> {
  const paths = homePaths(settings.dataDir);
  const sealed = existsSync(/*turbopackIgnore: true*/ paths.kmsFile) ? parseSealed(readFileSync(/*turbopackIgnore: true*/ paths.kmsFile, 'utf8'), paths.kmsFile) : null;
  if (sealed) {
    const cfg = settings.masterKeyBase64 && !settings.anyHome ? null : unsealConfig(settings, sealed);
    if (cfg) {
      if (existsSync(/*turbopackIgnore: true*/ paths.keyFile))
        console.warn(`warning: ${paths.keyFile} is present next to ${paths.kmsFile}; the store uses the KMS-sealed key. Remove ${KEY_FILE} once you no longer need it for old backups.`);
      return { key: await unsealOrExplain(cfg, sealed, paths.kmsFile), home: kmsHome(paths.kmsFile, sealed) };
    }
    const remedy = `set ${setKmsSettings(sealed)}; to keep the master key out of KMS run npm run rotate-master-key -- --to ${settings.masterKeyBase64 ? 'env' : 'file'} with those settings.`;
    throw new StoreOpenError(
      settings.masterKeyBase64
        ? `MASTER_KEY is set, but the master key of ${dbPath} is sealed by KMS in ${paths.kmsFile}. Nothing was changed; unset MASTER_KEY and ${remedy}`
        : `The master key of ${dbPath} is sealed by KMS in ${paths.kmsFile}, but MASTER_KEY_KMS_KEY_ID is unset. Nothing was changed; ${remedy}`,
    );
  }
  if (settings.masterKeyBase64) return { key: decodeMasterKey(settings.masterKeyBase64, 'MASTER_KEY'), home: { kind: 'env', where: 'MASTER_KEY' } };
  const keyFileExists = existsSync(/*turbopackIgnore: true*/ paths.keyFile);
  if (settings.kms && !settings.anyHome) {
    if (dbExists || keyFileExists)
      throw new StoreOpenError(
        `MASTER_KEY_KMS_KEY_ID is set, but ${dbExists ? dbPath : settings.dataDir} has its master key in ${keyFileExists ? paths.keyFile : 'MASTER_KEY'}, not sealed by KMS. ` +
          `Nothing was changed; to seal it with KMS run npm run rotate-master-key -- --to kms (it re-wraps the data keys and ${keyFileExists ? `replaces ${KEY_FILE} with ${KMS_KEY_FILE}` : `writes ${KMS_KEY_FILE}`}), or unset MASTER_KEY_KMS_KEY_ID.`,
      );
    const { plaintext, sealed: fresh } = await generateOrExplain(settings.kms);
    return {
      key: plaintext,
      home: kmsHome(paths.kmsFile, fresh),
      writeHome: () => writePrivateFile(paths.kmsFile, serializeSealed(fresh)),
    };
  }
  if (keyFileExists) return { key: readKeyFile(paths.keyFile), home: { kind: 'file', where: paths.keyFile } };
  if (dbExists)
    throw new StoreOpenError(
      `${dbPath} exists but there is no master key: MASTER_KEY is unset and ${paths.keyFile} is missing. ` +
        'Restore the key file or set MASTER_KEY to the key this data directory was created with.',
    );
  const key = randomBytes(KEY_BYTES);
  return { key, home: { kind: 'file', where: paths.keyFile }, writeHome: () => writePrivateFile(paths.keyFile, key.toString('base64') + '\n') };
}

/**
 * The master key of the store in PostgreSQL: MASTER_KEY, or the sealed row (read by the caller;
 * undefined when absent). Null when neither is set up: the caller explains what to set.
 */
export async function resolvePostgresMasterKey(
  settings: MasterKeySettings,
  sealedRow: string | undefined,
  storeExists: boolean,
  where: string,
): Promise<ResolvedMasterKey | null> {
  const rowWhere = `${where}, meta row ${MASTER_KEY_KMS_META}`;
  const sealed = sealedRow ? parseSealed(sealedRow, rowWhere) : null;
  if (sealed) {
    const cfg = settings.masterKeyBase64 && !settings.anyHome ? null : unsealConfig(settings, sealed);
    if (cfg) return { key: await unsealOrExplain(cfg, sealed, rowWhere), home: kmsHome(rowWhere, sealed) };
    const remedy = `set ${setKmsSettings(sealed)} on every replica; to keep the master key in MASTER_KEY instead run npm run rotate-master-key -- --to env with those settings.`;
    throw new StoreOpenError(
      settings.masterKeyBase64
        ? `MASTER_KEY is set, but the master key of ${where} is sealed by KMS. Nothing was changed; unset MASTER_KEY and ${remedy}`
        : `The master key of ${where} is sealed by KMS, but MASTER_KEY_KMS_KEY_ID is unset. Nothing was changed; ${remedy}`,
    );
  }
  if (settings.masterKeyBase64) return { key: decodeMasterKey(settings.masterKeyBase64, 'MASTER_KEY'), home: { kind: 'env', where: 'MASTER_KEY' } };
  if (!settings.kms) return null;
  if (storeExists)
    throw new StoreOpenError(
      `MASTER_KEY_KMS_KEY_ID is set, but ${where} was created with MASTER_KEY, not a KMS-sealed key. Nothing was changed; to seal it with KMS run ` +
        'npm run rotate-master-key -- --to kms with MASTER_KEY set (it re-wraps the data keys and stores the sealed key in the database), or unset MASTER_KEY_KMS_KEY_ID and set MASTER_KEY.',
    );
  const { plaintext, sealed: fresh } = await generateOrExplain(settings.kms);
  return { key: plaintext, home: kmsHome(rowWhere, fresh), newSealedRow: JSON.stringify(fresh) };
}

// ---- Pending homes left by a rotation ----

/** What a rotation to MASTER_KEY writes as its pending marker: the new key's id, never the key. */
export function envPendingMarker(newKey: Buffer): string {
  return JSON.stringify({ masterKeyId: masterKeyId(newKey) }) + '\n';
}

function renameIfThere(from: string, to: string): void {
  try {
    renameSync(from, to);
  } catch (error) {
    // Another process (the rotation itself, or a server starting) finished it first.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && existsSync(to)) return;
    throw error;
  }
}

/**
 * After a rotation committed: the new home takes its place and the other kinds' files go, so a
 * switch to KMS or MASTER_KEY leaves no plaintext key on disk. The old homes are removed before the
 * pending file is renamed: a kill in between leaves the pending file, which the next open finishes.
 * Idempotent, and safe when two processes finish the same rotation at once.
 */
export function finishPendingHome(dataDir: string, kind: MasterKeyKind): void {
  const paths = homePaths(dataDir);
  if (kind === 'file') {
    rmSync(paths.kmsFile, { force: true });
    renameIfThere(paths.keyPending, paths.keyFile);
  } else if (kind === 'kms') {
    rmSync(paths.keyFile, { force: true });
    renameIfThere(paths.kmsPending, paths.kmsFile);
  } else {
    rmSync(paths.keyFile, { force: true });
    rmSync(paths.kmsFile, { force: true });
    rmSync(paths.envPending, { force: true });
  }
  syncDirectory(path.dirname(paths.keyFile));
}

/** Writes the pending home of a rotation (the caller holds the database's write lock). */
export function writePendingHome(dataDir: string, kind: MasterKeyKind, content: string): string {
  const paths = homePaths(dataDir);
  const file = kind === 'file' ? paths.keyPending : kind === 'kms' ? paths.kmsPending : paths.envPending;
  writePrivateFile(file, content);
  return file;
}

/** Removes the pending home of a rotation that did not commit. */
export function discardPendingHome(dataDir: string, kind: MasterKeyKind): void {
  const paths = homePaths(dataDir);
  rmSync(kind === 'file' ? paths.keyPending : kind === 'kms' ? paths.kmsPending : paths.envPending, { force: true });
  syncDirectory(path.dirname(paths.keyFile));
}

/**
 * Settles what a killed rotation left in DATA_DIR, before the master key is resolved. It holds the
 * database's write lock meanwhile: a rotation holds it from writing its pending file until it
 * commits, so a pending file seen here is either from a rotation that died before committing (its
 * key does not open the key check: discarded) or from one that committed (its key opens it: moved
 * into place). A rotation still running makes this wait, then stop with a message.
 */
export async function settlePendingHomes(settings: MasterKeySettings, dbPath: string): Promise<void> {
  const paths = homePaths(settings.dataDir);
  const pending = ([['file', paths.keyPending], ['kms', paths.kmsPending], ['env', paths.envPending]] as const).filter(([, file]) => existsSync(/*turbopackIgnore: true*/ file));
  if (pending.length === 0) return;
  const names = pending.map(([, file]) => file).join(', ');
  if (!existsSync(dbPath))
    throw new StoreOpenError(
      `${names} is left from a master key rotation, but ${dbPath} is missing. Nothing was changed; restore ${path.basename(dbPath)} from a backup, or remove the pending file if this data directory starts afresh.`,
    );
  let conn: Database.Database | undefined;
  try {
    conn = new Database(dbPath, { fileMustExist: true });
    conn.pragma('busy_timeout = 5000');
    conn.prepare('BEGIN IMMEDIATE').run();
  } catch (error) {
    conn?.close();
    if (/^SQLITE_BUSY/.test((error as { code?: string }).code ?? ''))
      throw new StoreOpenError(
        `A master key rotation is running on ${path.dirname(dbPath)} (${names} exists and ${dbPath} is locked). Nothing was changed; wait for npm run rotate-master-key to finish, then start again.`,
      );
    // A damaged database: the open's checks name it.
    return;
  }
  try {
    let rows: { key: string; value: string }[];
    try {
      rows = conn.prepare("SELECT key, value FROM meta WHERE key IN ('key_check', ?)").all(MASTER_KEY_ID_META) as { key: string; value: string }[];
    } catch {
      return; // not a store's database: the open's checks name it
    }
    const keyCheck = rows.find((r) => r.key === 'key_check')?.value;
    const storedId = rows.find((r) => r.key === MASTER_KEY_ID_META)?.value;
    if (!keyCheck) return;
    const opens = (key: Buffer | null) => key !== null && keyCheckOpens(key, keyCheck);

    // A plaintext key of before (MASTER_KEY, master.key) that still opens the store: a rotation to a
    // key file or to KMS (whose new key is random) never committed.
    const current = settings.masterKeyBase64
      ? tryRead(() => decodeMasterKey(settings.masterKeyBase64!, 'MASTER_KEY'))
      : existsSync(/*turbopackIgnore: true*/ paths.keyFile)
        ? tryRead(() => readKeyFile(paths.keyFile))
        : null;
    const currentOpens = opens(current);

    // A kms→kms rotation: the current key is the sealed one; opened only when the pending one cannot tell.
    const currentKmsOpens = async () => {
      const sealed = existsSync(/*turbopackIgnore: true*/ paths.kmsFile) ? tryRead(() => parseSealed(readFileSync(/*turbopackIgnore: true*/ paths.kmsFile, 'utf8'), paths.kmsFile)) : null;
      const cfg = sealed ? ownUnsealConfig(settings, sealed) : null;
      if (!sealed || !cfg) return false;
      return opens(await unsealMasterKey(cfg, sealed).catch(() => null));
    };

    for (const [kind, file] of pending) {
      let committed = false;
      if (kind === 'env') {
        // The new key is MASTER_KEY itself once the operator has set it, so "the current key opens
        // the store" proves nothing here: the id the rotation commits with the re-wrap decides.
        committed = storedId !== undefined && tryRead(() => (JSON.parse(readFileSync(file, 'utf8')) as { masterKeyId?: string }).masterKeyId) === storedId;
      } else if (!currentOpens) {
        if (kind === 'file') committed = opens(tryRead(() => decodeMasterKey(readFileSync(file, 'utf8'), file)));
        else {
          // A pending file cut short by a kill while being written is not a sealed key: that rotation never began its re-wrap.
          const sealed = tryRead(() => parseSealed(readFileSync(file, 'utf8'), file));
          if (sealed) {
            // Opened with the key that sealed it (its ARN is in it): deciding needs no matching configuration.
            const cfg = ownUnsealConfig(settings, sealed);
            if (!cfg) {
              if (!(await currentKmsOpens()))
                throw new StoreOpenError(
                  `${file} is left from a master key rotation to KMS key ${sealed.kmsKeyId}. Nothing was changed; set ${setKmsSettings(sealed)} and start again, so it can be settled.`,
                );
            } else {
              try {
                committed = opens(await unsealOrExplain(cfg, sealed, file));
              } catch (error) {
                if (!(await currentKmsOpens())) throw error;
              }
            }
          }
        }
      }
      if (committed) finishPendingHome(settings.dataDir, kind);
      else discardPendingHome(settings.dataDir, kind);
    }
  } finally {
    try {
      conn.prepare('ROLLBACK').run();
    } catch {
      // nothing was written
    }
    conn.close();
  }
}

/** The KMS settings that open a sealed key with the key that sealed it (DEPLOYMENT_NAME and the endpoint from the settings). */
function ownUnsealConfig(settings: MasterKeySettings, sealed: SealedMasterKey): KmsSealConfig | null {
  const base = settings.kms ?? (settings.anyHome ? { deployment: settings.anyHome.deployment, endpoint: settings.anyHome.kmsEndpoint } : null);
  if (!base) return null;
  return { keyId: sealed.kmsKeyId, region: sealed.region, deployment: base.deployment, ...(base.endpoint ? { endpoint: base.endpoint } : {}) };
}

function tryRead<T>(read: () => T): T | null {
  try {
    return read() ?? null;
  } catch {
    return null;
  }
}
