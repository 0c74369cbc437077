import 'server-only';
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  copyFileSync,
  existsSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import path from 'node:path';
import type { AppEnv } from '@/lib/config/env';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { DB_FILE } from '@/lib/stores/embedded/open';
import { extractContainer, readContainerHeader, type BackupFileName, type BackupManifest } from './container';
import { checkRestoredFiles, type RestoredDecisions, type RestoredSummary } from './check-restored';
import { SILENCES, SUPPRESSIONS, type DecisionKind, type DecisionRow } from './decision-kinds';
import { writeDecisionsDb } from './decisions-file';
import { checkKeyOptions, resolveRestoreKey } from './restore-key';
import { SEALED_KEY_FILE } from './take-backup';
import { syncDirectory } from '@/lib/files/sync-directory';

// npm run restore: a backup into an empty (or absent) DATA_DIR, never over data. Everything is
// extracted and checked in a staging folder beside DATA_DIR (or, when DATA_DIR is a mount point
// whose parent is not writable, a hidden folder inside it) and moved into place only when every
// check has passed; a failure removes the staging folder, so DATA_DIR is as it was.

/** Nothing was done: the request cannot be carried out as given (exit code 2). */
export class RestoreRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreRefusedError';
  }
}

export interface RestoreOptions {
  file: string;
  dataDir: string;
  keyFile?: string;
  env: AppEnv;
  /** Progress lines for the operator (no values, no keys). */
  say?: (line: string) => void;
}

export interface RestoreResult extends RestoredSummary {
  dataDir: string;
  manifest: BackupManifest;
  /** Where the master key came from, in words. */
  keyFrom: string;
  /** The backup carried the KMS-sealed master key (restored as DATA_DIR/master.key.kms). */
  kmsSealed: boolean;
}

/** Left by a fresh ext4 file system at a mount point's root; not data. */
const IGNORED_ENTRIES = new Set(['lost+found']);
/** The order files are moved in: the store last, since the server treats a DATA_DIR with secrets.db as an existing deployment. */
const PLACE_ORDER: BackupFileName[] = [SEALED_KEY_FILE, APP_DB_FILE, SUPPRESSIONS.file, SILENCES.file, DB_FILE];
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS']);

function appeared(file: string): RestoreRefusedError {
  return new RestoreRefusedError(`${file} appeared while the restore ran (is a server using DATA_DIR?). Nothing was restored; stop it and restore into an empty folder.`);
}

/** Whether DATA_DIR exists (empty); refuses one that holds anything but `ownStaging` (our staging folder inside it). */
function checkTarget(dataDir: string, ownStaging?: string): boolean {
  if (!existsSync(dataDir)) return false;
  if (!statSync(dataDir).isDirectory()) throw new RestoreRefusedError(`DATA_DIR ${dataDir} exists and is not a directory. Nothing was changed.`);
  const entries = readdirSync(dataDir).filter((name) => !IGNORED_ENTRIES.has(name) && (!ownStaging || path.join(dataDir, name) !== ownStaging));
  if (entries.length > 0) {
    const shown = entries.sort().slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
    throw new RestoreRefusedError(
      `DATA_DIR ${dataDir} is not empty (it holds ${shown}). A restore never overwrites data: restore into an empty or absent folder (set DATA_DIR), ` +
        'and move the old one aside first if it is to be replaced. Nothing was changed.',
    );
  }
  return true;
}


/** Makes the staging folder: beside DATA_DIR, else inside it (a mount point's parent may be read-only). */
function makeStaging(dataDir: string, targetExists: boolean): { staging: string; inside: boolean; createdParent?: string } {
  const parent = path.dirname(dataDir);
  let createdParent: string | undefined;
  try {
    createdParent = mkdirSync(parent, { recursive: true, mode: 0o700 });
    return { staging: mkdtempSync(path.join(parent, `.${path.basename(dataDir)}.restore-`)), inside: false, createdParent };
  } catch (error) {
    if (createdParent) rmSync(createdParent, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (!targetExists || !['EACCES', 'EPERM', 'EROFS'].includes(code))
      throw new RestoreRefusedError(`Cannot make a staging folder beside DATA_DIR ${dataDir} (${code || (error as Error).message}). Nothing was changed.`);
    return { staging: mkdtempSync(path.join(dataDir, '.restore-')), inside: true };
  }
}

/** Puts one file in place without replacing anything: a hard link, or a copy under a temporary name across file systems. */
function placeFile(source: string, destination: string): void {
  try {
    linkSync(source, destination);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    if (code === 'EEXIST') throw appeared(destination);
    if (code !== 'EXDEV' && !NO_HARD_LINKS.has(code)) throw error;
  }
  const temporary = path.join(path.dirname(destination), `.${path.basename(destination)}.restoring-${randomBytes(4).toString('hex')}`);
  try {
    copyFileSync(source, temporary, constants.COPYFILE_EXCL);
    const fd = openSync(temporary, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    try {
      linkSync(temporary, destination);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (code === 'EEXIST') throw appeared(destination);
      if (!NO_HARD_LINKS.has(code)) throw error;
      if (existsSync(destination)) throw appeared(destination);
      renameSync(temporary, destination);
    }
  } finally {
    rmSync(temporary, { force: true });
  }
}

/** Moves the checked files into DATA_DIR: the whole folder at once when it can, else file by file (removed again on failure). */
function placeRestored(staging: string, inside: boolean, dataDir: string, targetExisted: boolean, names: BackupFileName[]): void {
  if (!inside) {
    try {
      renameSync(staging, dataDir); // onto an absent or empty folder: one atomic step
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!targetExisted) {
        if (code === 'EEXIST' || code === 'ENOTEMPTY') throw appeared(dataDir);
        throw error;
      }
      // A mount point (EBUSY, EXDEV) or a folder that is not ours to replace: file by file below.
    }
  }
  const placed: string[] = [];
  try {
    for (const name of PLACE_ORDER.filter((n) => names.includes(n))) {
      const destination = path.join(dataDir, name);
      placeFile(path.join(staging, name), destination);
      placed.push(destination);
    }
  } catch (error) {
    for (const file of placed) rmSync(file, { force: true });
    throw error;
  }
}

/** Replaces the extracted file of one kind of decision by one its store's migrations make, holding the checked rows alone; says what was left out. */
async function restoreDecisions<Row extends DecisionRow>(kind: DecisionKind<Row>, checked: RestoredDecisions<Row> | null, staging: string, say: (line: string) => void): Promise<void> {
  if (!checked) {
    say(kind.absent);
    return;
  }
  const { rows, unaudited, liftUnaudited, missing } = checked;
  rmSync(path.join(staging, kind.file));
  await writeDecisionsDb(kind, staging, rows);
  const Plural = kind.plural[0]!.toUpperCase() + kind.plural.slice(1);
  say(`${Plural}: ${rows.length} restored, each as the audit log records it (${kind.rebuilt}).`);
  for (const row of unaudited)
    say(`  ${kind.noun} #${row.id} (${kind.describe(row)}) is not in the backup's audit log (made while the backup ran, or added to the file since): not restored.`);
  for (const row of liftUnaudited) say(`  ${kind.noun} #${row.id} is restored lifted, though the backup's audit log does not record the lift (lifted while the backup ran).`);
  if (missing.length > 0)
    say(`  the audit log records ${missing.length} ${kind.noun}(s) in force that the backup's ${kind.store} does not hold (#${missing.slice(0, 10).join(', #')}): ${kind.redo}.`);
}

/**
 * Restores `file` into `dataDir` after checking it (see checkRestoredFiles). Throws
 * RestoreRefusedError (nothing done), NotABackupError / UnsupportedBackupError (nothing done),
 * DamagedBackupError or RestoreCheckError (checked and refused); in every case DATA_DIR is left as it was.
 */
export async function restoreBackup(options: RestoreOptions): Promise<RestoreResult> {
  const say = options.say ?? (() => {});
  const dataDir = path.resolve(options.dataDir);
  const file = path.resolve(options.file);
  const targetExisted = checkTarget(dataDir);
  if (!existsSync(file) || !statSync(file).isFile()) throw new RestoreRefusedError(`${file} does not exist or is not a file.`);
  checkKeyOptions({ keyFile: options.keyFile, env: options.env });
  const opened = readContainerHeader(file);
  const { manifest } = opened;
  const names = manifest.files.map((f) => f.name);
  say(
    `Backup of ${manifest.createdAt}: ${names.join(', ')}; ${manifest.counts.items} items, ${manifest.counts.versions} versions, ${manifest.counts.auditEntries} audit entries` +
      `${manifest.counts.suppressions === undefined ? '' : `, ${manifest.counts.suppressions} finding suppressions`}` +
      `${manifest.counts.silences === undefined ? '' : `, ${manifest.counts.silences} alert silences`}.`,
  );

  // No key given and none sealed in the backup: nothing could open it, so say so before extracting.
  if (!names.includes(SEALED_KEY_FILE) && !options.keyFile && !options.env.MASTER_KEY) await resolveRestoreKey({ env: options.env, sealedKey: null });

  const { staging, inside, createdParent } = makeStaging(dataDir, targetExisted);
  let done = false;
  try {
    extractContainer(file, opened, staging);
    say('Checksums match.');
    const kmsSealed = names.includes(SEALED_KEY_FILE);
    const key = await resolveRestoreKey({
      keyFile: options.keyFile,
      env: options.env,
      sealedKey: kmsSealed ? readFileSync(path.join(staging, SEALED_KEY_FILE)) : null,
    });
    let summary: RestoredSummary;
    try {
      summary = checkRestoredFiles(staging, manifest, key.key);
    } finally {
      key.key.fill(0);
    }
    say('Integrity check ok; counts match the manifest.');
    say(`The master key (${key.from}) opens the key check; every one of the ${summary.versions} versions decrypts.`);
    say(`Audit chain intact: ${summary.auditEntries} entries, head ${summary.auditHead.hash}.`);
    await restoreDecisions(SUPPRESSIONS, summary.suppressions, staging, say);
    await restoreDecisions(SILENCES, summary.silences, staging, say);
    // Re-checked just before: a server started meanwhile must not find its files replaced.
    checkTarget(dataDir, inside ? staging : undefined);
    placeRestored(staging, inside, dataDir, targetExisted, names);
    syncDirectory(dataDir);
    syncDirectory(path.dirname(dataDir));
    done = true;
    return { dataDir, manifest, keyFrom: key.from, kmsSealed, ...summary };
  } finally {
    // After a whole-folder rename the staging path no longer exists; otherwise it goes now.
    rmSync(staging, { recursive: true, force: true });
    if (!done && createdParent) rmSync(createdParent, { recursive: true, force: true });
  }
}
