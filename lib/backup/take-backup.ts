import 'server-only';
import { closeSync, existsSync, fsyncSync, linkSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { GENESIS_HASH } from '@/lib/audit/entry-hash';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { sealedMasterKeySchema } from '@/lib/crypto/kms';
import { homePaths, KMS_KEY_FILE } from '@/lib/crypto/master-key';
import { DB_FILE } from '@/lib/stores/embedded/open';
import { BACKUP_FORMAT, hashFile, manifestVersionFor, writeContainer, type BackupFileName, type BackupManifest } from './container';
import { auditHead, countRows, hasTable, integrityProblem, metaValue, openCopy, snapshotSqlite } from './sqlite-files';
import { DECISION_KINDS, type DecisionKind, type DecisionRow } from './decision-kinds';
import { readDecisions, writeDecisionsDb } from './decisions-file';
import { syncDirectory } from '@/lib/files/sync-directory';

// npm run backup: a consistent online copy of DATA_DIR's built-in store (secrets.db, which also
// holds the sealed data keys, the key check and the sealed audit chain key) and app database
// (users, tokens, the audit log), plus the KMS-sealed master key when there is one, the findings
// store's suppressions (findings.db holding those alone) and the alerts store's silences (alerts.db
// holding those alone: lib/backup/decision-kinds.ts says why). Never the plaintext master key
// (DATA_DIR/master.key): a backup holds ciphertext only.

/** DATA_DIR's KMS-sealed master key (lib/crypto/master-key.ts): ciphertext, safe to keep with the data. */
export const SEALED_KEY_FILE = KMS_KEY_FILE;

/** Nothing was written: the request cannot be carried out as given (exit code 2). */
export class BackupRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupRefusedError';
  }
}

/** The backup was attempted and failed; nothing was left behind (exit code 1). */
export class BackupFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BackupFailedError';
  }
}

export interface BackupResult {
  file: string;
  bytes: number;
  manifest: BackupManifest;
}

function readSealedKey(dataDir: string): Buffer | null {
  const file = path.join(dataDir, SEALED_KEY_FILE);
  if (!existsSync(file)) return null;
  const bytes = readFileSync(file);
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    json = undefined;
  }
  if (!sealedMasterKeySchema.safeParse(json).success)
    throw new BackupRefusedError(`${file} is not a KMS-sealed master key (unreadable or malformed); nothing was written. Check the data directory before backing it up.`);
  return bytes;
}

/**
 * One kind of decision in DATA_DIR (suppressions, silences) as of now, read from an online copy
 * (`scratch`, removed after); null when there is no such store yet. Taken after app.db: every
 * decision and lift the copied audit log records is in this copy too (the server writes its store,
 * then audits).
 */
async function snapshotDecisions<Row extends DecisionRow>(kind: DecisionKind<Row>, dataDir: string, scratch: string): Promise<Row[] | null> {
  const live = path.join(dataDir, kind.file);
  if (!existsSync(live)) return null;
  await snapshotSqlite(live, scratch);
  const conn = openCopy(scratch);
  try {
    const problem = integrityProblem(conn);
    if (problem) throw new BackupFailedError(`The copy of ${live} failed SQLite's integrity check (${problem}); so does the live file, most likely. Nothing was written.`);
    // A file the store has not set up yet holds no decision.
    if (!hasTable(conn, kind.table)) return null;
    return readDecisions(kind, conn, (problem) => new BackupFailedError(`In ${live}, ${problem}. Nothing was written; check the ${kind.store}.`));
  } finally {
    conn.close();
    rmSync(scratch, { force: true });
  }
}

/** Copies each kind of decision into `staging` (when its store exists), returning the files written and their counts. */
async function carryDecisions(dataDir: string, staging: string): Promise<{ names: BackupFileName[]; counts: Partial<BackupManifest['counts']> }> {
  const names: BackupFileName[] = [];
  const counts: Partial<BackupManifest['counts']> = {};
  for (const kind of DECISION_KINDS) {
    const rows = await snapshotDecisions(kind, dataDir, path.join(staging, `.${kind.countKey}-copy.db`));
    if (!rows) continue;
    await writeDecisionsDb(kind, staging, rows);
    names.push(kind.file);
    counts[kind.countKey] = rows.length;
  }
  return { names, counts };
}

/** A rotation's pending home (lib/crypto/master-key.ts): until it settles the data keys may be wrapped under either key. */
function refuseDuringRotation(dataDir: string): void {
  const { keyPending, kmsPending, envPending } = homePaths(dataDir);
  const pending = [keyPending, kmsPending, envPending].find((file) => existsSync(file));
  if (pending)
    throw new BackupRefusedError(
      `${pending} exists: a master-key rotation is under way or was interrupted, so the data keys may be wrapped under either key. ` +
        'Nothing was written; let the rotation finish (or start the server once, which settles it), then back up.',
    );
}

/** Puts the finished container at `file` without ever replacing an existing file. */
function placeWithoutOverwrite(built: string, file: string): void {
  try {
    linkSync(built, file); // fails with EEXIST instead of replacing
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new BackupRefusedError(`${file} appeared while the backup was being written; a backup never overwrites a file. Nothing was written.`);
    // File systems without hard links: rename, after checking (a narrow race, but no link to use).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  }
  if (existsSync(file)) throw new BackupRefusedError(`${file} appeared while the backup was being written; a backup never overwrites a file. Nothing was written.`);
  renameSync(built, file);
}


/**
 * Writes a backup of `dataDir` to `file`. Safe while the server runs. Refuses (BackupRefusedError,
 * nothing written) when `file` exists or `dataDir` holds no built-in store; a failure on the way
 * (BackupFailedError, or an I/O error) leaves nothing behind either.
 */
export async function takeBackup(options: { dataDir: string; file: string; now?: Date }): Promise<BackupResult> {
  const dataDir = path.resolve(options.dataDir);
  const file = path.resolve(options.file);
  if (existsSync(file)) throw new BackupRefusedError(`${file} already exists; a backup never overwrites a file. Choose a new name, or remove the old file first.`);
  const outDir = path.dirname(file);
  if (!existsSync(outDir) || !statSync(outDir).isDirectory()) throw new BackupRefusedError(`${outDir} is not a directory; create it first, or choose another place for the backup.`);
  if (!existsSync(dataDir) || !statSync(dataDir).isDirectory()) throw new BackupRefusedError(`DATA_DIR ${dataDir} is not a directory: is DATA_DIR right?`);
  const secretsDb = path.join(dataDir, DB_FILE);
  if (!existsSync(secretsDb))
    throw new BackupRefusedError(`There is no ${DB_FILE} in ${dataDir}: is DATA_DIR right? (The dashboard creates it at its first start.)`);
  refuseDuringRotation(dataDir);
  const sealedKeyBefore = readSealedKey(dataDir);

  // Built beside the destination, so the finished file is linked into place on the same file system.
  const staging = mkdtempSync(path.join(outDir, `.${path.basename(file)}.backup-`));
  try {
    const names: BackupFileName[] = [];
    // secrets.db first, then app.db: the server writes a value before it logs it, so every change
    // in the copied store whose log entry was written by then is in the copied log too.
    await snapshotSqlite(secretsDb, path.join(staging, DB_FILE));
    names.push(DB_FILE);
    const appDbPath = path.join(dataDir, APP_DB_FILE);
    const withAppDb = existsSync(appDbPath);
    if (withAppDb) {
      await snapshotSqlite(appDbPath, path.join(staging, APP_DB_FILE));
      names.push(APP_DB_FILE);
    }
    // Decisions are vouched for by the audit log: none without app.db (none can be made without it).
    const decisions = withAppDb ? await carryDecisions(dataDir, staging) : { names: [], counts: {} };
    names.push(...decisions.names);
    // A rotation that ran meanwhile would pair the copied store with another key.
    refuseDuringRotation(dataDir);
    const sealedKeyAfter = readSealedKey(dataDir);
    if ((sealedKeyBefore === null) !== (sealedKeyAfter === null) || (sealedKeyBefore && sealedKeyAfter && !sealedKeyBefore.equals(sealedKeyAfter)))
      throw new BackupFailedError(`${path.join(dataDir, SEALED_KEY_FILE)} changed while the backup ran (the master key was rotated). Nothing was written; run the backup again.`);
    if (sealedKeyAfter) {
      writeFileSync(path.join(staging, SEALED_KEY_FILE), sealedKeyAfter, { mode: 0o600, flag: 'wx' });
      names.push(SEALED_KEY_FILE);
    }

    const counts: BackupManifest['counts'] = { items: 0, versions: 0, auditEntries: 0, ...decisions.counts };
    let head = { seq: 0, hash: GENESIS_HASH };
    const store = openCopy(path.join(staging, DB_FILE));
    try {
      const problem = integrityProblem(store);
      if (problem) throw new BackupFailedError(`The copy of ${secretsDb} failed SQLite's integrity check (${problem}); so does the live file, most likely. Nothing was written.`);
      if (!hasTable(store, 'meta') || !hasTable(store, 'items') || !hasTable(store, 'versions'))
        throw new BackupRefusedError(`${secretsDb} is not the dashboard's built-in store (its tables are missing). Nothing was written.`);
      if (!metaValue(store, 'key_check') || !metaValue(store, 'audit_chain_key'))
        throw new BackupRefusedError(
          `${secretsDb} has no master key check or audit chain key yet: start this version of the dashboard once (it adds them), then back up. Nothing was written.`,
        );
      counts.items = countRows(store, 'items');
      counts.versions = countRows(store, 'versions');
    } finally {
      store.close();
    }
    if (withAppDb) {
      const app = openCopy(path.join(staging, APP_DB_FILE));
      try {
        const problem = integrityProblem(app);
        if (problem) throw new BackupFailedError(`The copy of ${appDbPath} failed SQLite's integrity check (${problem}); so does the live file, most likely. Nothing was written.`);
        if (!hasTable(app, 'audit_log')) throw new BackupRefusedError(`${appDbPath} is not the dashboard's app database (no audit_log table). Nothing was written.`);
        counts.auditEntries = countRows(app, 'audit_log');
        head = auditHead(app);
      } finally {
        app.close();
      }
    }

    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      version: manifestVersionFor(names),
      createdAt: (options.now ?? new Date()).toISOString(),
      files: names.map((name) => ({ name, ...hashFile(path.join(staging, name)) })),
      counts,
      auditHead: head,
    };
    const built = path.join(staging, 'backup');
    writeContainer(built, manifest, staging);
    placeWithoutOverwrite(built, file);
    syncDirectory(outDir);
    return { file, bytes: statSync(file).size, manifest };
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}
