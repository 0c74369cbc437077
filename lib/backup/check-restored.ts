import 'server-only';
import path from 'node:path';
import type Database from 'better-sqlite3';
import { verifyChainIn } from '@/lib/audit/verify-chain';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { decryptValue, DecryptionError, KEY_BYTES } from '@/lib/crypto/envelope';
import { MASTER_KEY_ID_META, masterKeyId } from '@/lib/crypto/master-key';
import { AUDIT_CHAIN_KEY_CONTEXT, DB_FILE, keyCheckOpens, openMeta } from '@/lib/stores/embedded/open';
import type { BackupManifest } from './container';
import { checkDecisionsAgainstAudit } from './check-decisions';
import { SILENCES, SUPPRESSIONS, type DecisionKind, type DecisionRow, type SilenceRow, type SuppressionRow } from './decision-kinds';
import { countDecisions, readDecisions } from './decisions-file';
import { auditHead, countRows, hasTable, integrityProblem, metaValue, openCopy } from './sqlite-files';

// The checks a restore runs on the extracted copies before they go anywhere near DATA_DIR: each
// database is intact, holds the rows its manifest counted, opens with the master key given, every
// value decrypts and the audit chain verifies under the audit chain key. Messages name items and
// versions, never a value or a key. The suppressions (findings.db) and the silences (alerts.db) are
// checked against that verified audit log (lib/backup/check-decisions.ts).

/** A check failed: the backup is damaged or altered, or the key given is not its key (exit code 1). */
export class RestoreCheckError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RestoreCheckError';
  }
}

export interface RestoredDecisions<Row extends DecisionRow> {
  /** To restore: each matches its entry in the audit log. */
  rows: Row[];
  /** Left out: made while the backup ran (or added since), no audit entry says they were made. */
  unaudited: Row[];
  /** Restored lifted, though the audit log does not record the lift. */
  liftUnaudited: Row[];
  /** In force by the audit log, not in the backup's store. */
  missing: number[];
}
export type RestoredSuppressions = RestoredDecisions<SuppressionRow>;
export type RestoredSilences = RestoredDecisions<SilenceRow>;

export interface RestoredSummary {
  items: number;
  versions: number;
  auditEntries: number;
  auditHead: { seq: number; hash: string };
  /** null: the backup holds no findings.db (taken before it carried one, or before findings were first evaluated). */
  suppressions: RestoredSuppressions | null;
  /** null: the backup holds no alerts.db (taken before it carried one, or before alerts were first used). */
  silences: RestoredSilences | null;
}

function open(dir: string, name: string): Database.Database {
  try {
    return openCopy(path.join(dir, name));
  } catch (error) {
    throw new RestoreCheckError(`${name} in the backup cannot be opened (${(error as Error).message}); the backup is damaged. Nothing was restored.`);
  }
}

/** Runs `check` on a connection, turning SQLite's own failures on a damaged file into a RestoreCheckError. */
function withDatabase<T>(dir: string, name: string, check: (conn: Database.Database) => T): T {
  const conn = open(dir, name);
  try {
    const problem = integrityProblem(conn);
    if (problem) throw new RestoreCheckError(`${name} in the backup failed SQLite's integrity check (${problem}). Nothing was restored; use another backup.`);
    return check(conn);
  } catch (error) {
    if (error instanceof RestoreCheckError) throw error;
    const code = (error as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_'))
      throw new RestoreCheckError(`${name} in the backup is damaged or is not a database (${code}). Nothing was restored; use another backup.`);
    throw error;
  } finally {
    conn.close();
  }
}

function sameCount(what: string, found: number, expected: number): void {
  if (found !== expected)
    throw new RestoreCheckError(`The backup's ${what} do not match its manifest: ${found} found, ${expected} listed. Nothing was restored; the backup was altered.`);
}

/** Checks the store: key check, chain key, counts, and every version's data key and value. Returns the audit chain key. */
function checkStore(conn: Database.Database, manifest: BackupManifest, masterKey: Buffer): Buffer {
  if (!hasTable(conn, 'meta') || !hasTable(conn, 'items') || !hasTable(conn, 'versions'))
    throw new RestoreCheckError(`${DB_FILE} in the backup is not the dashboard's built-in store (its tables are missing). Nothing was restored.`);
  const keyCheck = metaValue(conn, 'key_check');
  if (!keyCheck) throw new RestoreCheckError(`${DB_FILE} in the backup has no master key check; the backup is damaged. Nothing was restored.`);
  if (!keyCheckOpens(masterKey, keyCheck))
    throw new RestoreCheckError(
      'The master key given does not open this backup: it is not the key its data was written with (or the key check was altered). ' +
        'Nothing was restored; give the right key (--key-file, MASTER_KEY, or the KMS settings of the deployment the backup came from).',
    );
  // The store refuses writes under a key whose id is not the one recorded (a rotated-out key).
  const recordedKeyId = metaValue(conn, MASTER_KEY_ID_META);
  if (recordedKeyId !== undefined && recordedKeyId !== masterKeyId(masterKey))
    throw new RestoreCheckError(
      `${DB_FILE} in the backup records another master key id than the key given (meta ${MASTER_KEY_ID_META}), though the key opens its key check: it was altered. Nothing was restored; use another backup.`,
    );
  const sealedChainKey = metaValue(conn, 'audit_chain_key');
  if (!sealedChainKey) throw new RestoreCheckError(`${DB_FILE} in the backup has no audit chain key; the backup is damaged. Nothing was restored.`);
  let chainKey: Buffer;
  try {
    chainKey = Buffer.from(openMeta(masterKey, sealedChainKey, AUDIT_CHAIN_KEY_CONTEXT), 'base64');
  } catch {
    chainKey = Buffer.alloc(0);
  }
  if (chainKey.length !== KEY_BYTES)
    throw new RestoreCheckError("The backup's audit chain key does not open with the master key: it was altered. Nothing was restored; use another backup.");

  sameCount('items', countRows(conn, 'items'), manifest.counts.items);
  sameCount('versions', countRows(conn, 'versions'), manifest.counts.versions);

  // Every version: its data key unwraps under the master key and its value decrypts (both are
  // authenticated, with the item's name and version as AAD, so an altered or moved row fails).
  const rows = conn
    .prepare(
      'SELECT i.name AS name, v.item_id AS itemId, v.version AS version, v.ciphertext AS ciphertext, v.wrapped_key AS wrappedKey ' +
        'FROM versions v LEFT JOIN items i ON i.id = v.item_id ORDER BY v.item_id, v.version',
    )
    .iterate() as IterableIterator<{ name: string | null; itemId: number; version: number; ciphertext: Buffer; wrappedKey: Buffer }>;
  let failed = 0;
  let first = '';
  for (const row of rows) {
    if (row.name === null) {
      failed += 1;
      first ||= `version ${row.version} of item #${row.itemId} belongs to no item`;
      continue;
    }
    try {
      decryptValue(masterKey, { ciphertext: row.ciphertext, wrappedKey: row.wrappedKey }, `${row.name}#${row.version}`);
    } catch (error) {
      if (!(error instanceof DecryptionError)) throw error;
      failed += 1;
      first ||= error.message;
    }
  }
  if (failed > 0)
    throw new RestoreCheckError(
      `${failed} of ${manifest.counts.versions} versions in the backup do not decrypt with the master key; the first: ${first} Nothing was restored; the backup was altered.`,
    );
  return chainKey;
}

function checkAuditLog(conn: Database.Database, manifest: BackupManifest, chainKey: Buffer): void {
  if (!hasTable(conn, 'audit_log')) throw new RestoreCheckError(`${APP_DB_FILE} in the backup has no audit log; it is not the dashboard's app database. Nothing was restored.`);
  sameCount('audit entries', countRows(conn, 'audit_log'), manifest.counts.auditEntries);
  const verdict = verifyChainIn(conn, chainKey);
  if (!verdict.intact) {
    const { seq, at, action, message } = verdict.broken;
    const which = at === null ? `entry #${seq}` : `entry #${seq} (${at}, ${action})`;
    throw new RestoreCheckError(`The backup's audit chain is BROKEN at ${which}: ${message}. Nothing was restored; the backup was altered.`);
  }
  const head = auditHead(conn);
  if (verdict.entries !== manifest.counts.auditEntries || head.seq !== manifest.auditHead.seq || head.hash !== manifest.auditHead.hash)
    throw new RestoreCheckError(
      `The backup's audit log ends at entry #${head.seq}, its manifest says #${manifest.auditHead.seq} with another hash. Nothing was restored; the backup was altered.`,
    );
}

/** After the audit log verified: one kind of decision, counted, well-formed, and each as the audit log records it. */
function checkDecisions<Row extends DecisionRow>(kind: DecisionKind<Row>, dir: string, manifest: BackupManifest, now: Date): RestoredDecisions<Row> | null {
  if (!manifest.files.some((f) => f.name === kind.file)) return null;
  const rows = withDatabase(dir, kind.file, (conn) => {
    if (!hasTable(conn, kind.table))
      throw new RestoreCheckError(`${kind.file} in the backup has no ${kind.table} table; it is not the dashboard's ${kind.store}. Nothing was restored.`);
    sameCount(kind.plural, countDecisions(kind, conn), manifest.counts[kind.countKey] ?? 0);
    return readDecisions(kind, conn, (problem) => new RestoreCheckError(`In ${kind.file} in the backup, ${problem}. Nothing was restored; the backup was altered.`));
  });
  const verdict = withDatabase(dir, APP_DB_FILE, (app) => checkDecisionsAgainstAudit(kind, rows, app, now));
  if (!verdict.ok) throw new RestoreCheckError(`The backup's ${verdict.problem}: it was altered. Nothing was restored; use another backup.`);
  return { rows: verdict.kept, unaudited: verdict.unaudited, liftUnaudited: verdict.liftUnaudited, missing: verdict.missing };
}

/** Checks the files extracted into `dir`; throws RestoreCheckError naming the first problem. */
export function checkRestoredFiles(dir: string, manifest: BackupManifest, masterKey: Buffer, now: Date = new Date()): RestoredSummary {
  const chainKey = withDatabase(dir, DB_FILE, (conn) => checkStore(conn, manifest, masterKey));
  try {
    if (manifest.files.some((f) => f.name === APP_DB_FILE)) withDatabase(dir, APP_DB_FILE, (conn) => checkAuditLog(conn, manifest, chainKey));
    else if (manifest.counts.auditEntries !== 0 || manifest.auditHead.seq !== 0)
      throw new RestoreCheckError(`The backup's manifest counts ${manifest.counts.auditEntries} audit entries but it holds no ${APP_DB_FILE}. Nothing was restored; the backup was altered.`);
  } finally {
    chainKey.fill(0);
  }
  const suppressions = checkDecisions(SUPPRESSIONS, dir, manifest, now);
  const silences = checkDecisions(SILENCES, dir, manifest, now);
  const { items, versions, auditEntries } = manifest.counts;
  return { items, versions, auditEntries, auditHead: manifest.auditHead, suppressions, silences };
}
