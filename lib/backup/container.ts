import 'server-only';
import { createHash, type Hash } from 'node:crypto';
import { closeSync, fstatSync, fsyncSync, openSync, readSync, writeSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

// The backup file: one container holding the databases as SQLite wrote them, so a backup is a
// single thing to move around and check. Layout (every number big-endian):
//
//   MAGIC                 28 bytes  "SECRETS-DASHBOARD-BACKUP\r\n\x1a\n" (the \r\n and \x1a catch a
//                                   text-mode transfer that rewrote line ends, as PNG's signature does)
//   manifest length        4 bytes  unsigned
//   manifest               JSON, UTF-8 (BackupManifest below)
//   file bodies            each manifest.files entry in order, exactly `bytes` long
//   checksum              32 bytes  SHA-256 of every byte before it
//
// The checksums catch damage (a truncated copy, flipped bits). They are not a signature: someone
// who can write the file can recompute them, which is why restore also checks what only the master
// key can vouch for (the key check, every sealed value, the keyed audit chain).

export const BACKUP_MAGIC = Buffer.from('SECRETS-DASHBOARD-BACKUP\r\n\x1a\n', 'latin1');
export const BACKUP_FORMAT = 'secrets-dashboard/backup' as const;
/**
 * 2: may carry findings.db (the suppressions) and count them. 3: may carry alerts.db (the alert
 * silences) and count them. A backup is written as the lowest version that can say what it carries
 * (version 1 without either), so an older dashboard reads what it can; this one reads all three.
 */
export const BACKUP_VERSION = 3;
const LENGTH_BYTES = 4;
const CHECKSUM_BYTES = 32;
/** A manifest is a few hundred bytes; anything much larger is damage, not a manifest. */
const MAX_MANIFEST_BYTES = 1 << 20;
const CHUNK_BYTES = 1 << 20;
const NOTHING_RESTORED = 'Nothing was restored; use another backup.';

/** The files a backup may hold: names only (no folders), so a restore can never write outside its target. */
export const BACKUP_FILE_NAMES = ['secrets.db', 'app.db', 'master.key.kms', 'findings.db', 'alerts.db'] as const;
export type BackupFileName = (typeof BACKUP_FILE_NAMES)[number];

/**
 * The files that carry audited decisions (lib/backup/decision-kinds.ts): each is counted in the
 * manifest exactly when it is carried, from the format version that introduced it, and only with
 * app.db, whose audit log vouches for every row.
 */
export const DECISION_FILES = [
  { file: 'findings.db', count: 'suppressions', since: 2 },
  { file: 'alerts.db', count: 'silences', since: 3 },
] as const satisfies readonly { file: BackupFileName; count: string; since: number }[];
export type DecisionCountKey = (typeof DECISION_FILES)[number]['count'];

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, { message: 'must be 64 hex digits (SHA-256)' });
const count = z.number().int().min(0);

const manifestSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    version: z.number().int().min(1).max(BACKUP_VERSION),
    createdAt: z.iso.datetime(),
    files: z
      .array(z.object({ name: z.enum(BACKUP_FILE_NAMES), bytes: count, sha256: sha256Hex }).strict())
      .min(1)
      .refine((files) => new Set(files.map((f) => f.name)).size === files.length, { message: 'a file is listed twice' })
      .refine((files) => files.some((f) => f.name === 'secrets.db'), { message: 'secrets.db is missing' }),
    /**
     * suppressions: the rows of findings.db's finding_suppressions, silences: those of alerts.db's
     * alert_silences (lifted ones too), each present exactly when its file is.
     */
    counts: z.object({ items: count, versions: count, auditEntries: count, suppressions: count.optional(), silences: count.optional() }).strict(),
    /** The newest audit entry in the backup (seq 0 and the genesis hash for an empty log). */
    auditHead: z.object({ seq: count, hash: sha256Hex }).strict(),
  })
  .strict()
  .superRefine((manifest, ctx) => {
    const names = manifest.files.map((f) => f.name);
    for (const { file, count: key, since } of DECISION_FILES) {
      const carried = names.includes(file);
      if (carried !== (manifest.counts[key] !== undefined))
        ctx.addIssue({ code: 'custom', path: ['counts', key], message: `must be counted exactly when ${file} is in the backup` });
      if (carried && manifest.version < since) ctx.addIssue({ code: 'custom', path: ['files'], message: `${file} is carried from backup format version ${since} on` });
      // Decisions are vouched for by their entries in the audit log (app.db): never one without the other.
      if (carried && !names.includes('app.db')) ctx.addIssue({ code: 'custom', path: ['files'], message: `${file} needs app.db (its audit log)` });
    }
  });

/** The manifest's format version: the first one that can say what it carries. */
export function manifestVersionFor(files: readonly BackupFileName[]): number {
  return Math.max(1, ...DECISION_FILES.filter((d) => files.includes(d.file)).map((d) => d.since));
}

export type BackupManifest = z.infer<typeof manifestSchema>;
export type BackupFileEntry = BackupManifest['files'][number];

/** The file is not a backup at all (no magic): someone gave the wrong file. */
export class NotABackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotABackupError';
  }
}

/** A backup, but one that cannot be trusted as it is: truncated, altered, or damaged. */
export class DamagedBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DamagedBackupError';
  }
}

/** A backup written by a newer version of the dashboard. */
export class UnsupportedBackupError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsupportedBackupError';
  }
}

function readExactly(fd: number, length: number, position: number): Buffer {
  const buffer = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, buffer, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return buffer.subarray(0, done);
}

function writeAll(fd: number, data: Buffer, hash?: Hash): void {
  hash?.update(data);
  let done = 0;
  while (done < data.length) done += writeSync(fd, data, done, data.length - done);
}

/** SHA-256 (hex) and size of a file, read in chunks (constant memory). */
export function hashFile(file: string): { bytes: number; sha256: string } {
  const fd = openSync(file, 'r');
  try {
    const hash = createHash('sha256');
    const chunk = Buffer.alloc(CHUNK_BYTES);
    let bytes = 0;
    for (;;) {
      const n = readSync(fd, chunk, 0, CHUNK_BYTES, bytes);
      if (n === 0) break;
      hash.update(chunk.subarray(0, n));
      bytes += n;
    }
    return { bytes, sha256: hash.digest('hex') };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes a container to `out` (which must not exist: opened with O_EXCL) from the manifest and the
 * files it lists, found in `sourceDir` under their names. The manifest's sizes and checksums must
 * be those of the files (hashFile); a file that changed meanwhile is refused.
 */
export function writeContainer(out: string, manifest: BackupManifest, sourceDir: string): void {
  const parsed = manifestSchema.parse(manifest);
  const manifestBytes = Buffer.from(JSON.stringify(parsed), 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(manifestBytes.length);
  const fd = openSync(out, 'wx', 0o600);
  try {
    const whole = createHash('sha256');
    writeAll(fd, BACKUP_MAGIC, whole);
    writeAll(fd, length, whole);
    writeAll(fd, manifestBytes, whole);
    const chunk = Buffer.alloc(CHUNK_BYTES);
    for (const entry of parsed.files) {
      const source = openSync(path.join(sourceDir, entry.name), 'r');
      try {
        const fileHash = createHash('sha256');
        let copied = 0;
        for (;;) {
          const n = readSync(source, chunk, 0, CHUNK_BYTES, copied);
          if (n === 0) break;
          fileHash.update(chunk.subarray(0, n));
          writeAll(fd, chunk.subarray(0, n), whole);
          copied += n;
        }
        if (copied !== entry.bytes || fileHash.digest('hex') !== entry.sha256)
          throw new Error(`${entry.name} changed while the backup was being written; run the backup again.`);
      } finally {
        closeSync(source);
      }
    }
    writeAll(fd, whole.digest());
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export interface OpenedContainer {
  manifest: BackupManifest;
  /** Where the first file body starts. */
  bodyOffset: number;
  size: number;
}

const describeIssues = (error: z.ZodError) => error.issues.map((i) => `${i.path.join('.') || 'manifest'}: ${i.message}`).join('; ');

/**
 * Reads and checks the header and manifest of a backup (not the bodies: extractContainer does).
 * Throws NotABackupError, DamagedBackupError (truncated, manifest unreadable) or UnsupportedBackupError.
 */
export function readContainerHeader(file: string): OpenedContainer {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    const head = readExactly(fd, BACKUP_MAGIC.length + LENGTH_BYTES, 0);
    if (head.length < BACKUP_MAGIC.length || !head.subarray(0, BACKUP_MAGIC.length).equals(BACKUP_MAGIC))
      throw new NotABackupError(`${file} is not a secrets-dashboard backup (it does not start with the backup signature). Nothing was changed.`);
    if (head.length < BACKUP_MAGIC.length + LENGTH_BYTES) throw new DamagedBackupError(`${file} is truncated: it ends inside its header. ${NOTHING_RESTORED}`);
    const manifestLength = head.readUInt32BE(BACKUP_MAGIC.length);
    if (manifestLength === 0 || manifestLength > MAX_MANIFEST_BYTES)
      throw new DamagedBackupError(`${file} is damaged: its manifest length (${manifestLength} bytes) is not plausible. ${NOTHING_RESTORED}`);
    const bodyOffset = BACKUP_MAGIC.length + LENGTH_BYTES + manifestLength;
    if (size < bodyOffset) throw new DamagedBackupError(`${file} is truncated: it ends inside its manifest (${size} of at least ${bodyOffset + CHECKSUM_BYTES} bytes). ${NOTHING_RESTORED}`);
    let json: unknown;
    try {
      json = JSON.parse(readExactly(fd, manifestLength, BACKUP_MAGIC.length + LENGTH_BYTES).toString('utf8'));
    } catch {
      throw new DamagedBackupError(`${file} is damaged: its manifest is not readable JSON. ${NOTHING_RESTORED}`);
    }
    const version = (json as { version?: unknown } | null)?.version;
    if (typeof version === 'number' && version > BACKUP_VERSION)
      throw new UnsupportedBackupError(
        `${file} was written by a newer version of the dashboard (backup format version ${version}; this one reads version ${BACKUP_VERSION}). Restore it with that version. Nothing was changed.`,
      );
    const parsed = manifestSchema.safeParse(json);
    if (!parsed.success) throw new DamagedBackupError(`${file} is damaged: its manifest is not valid (${describeIssues(parsed.error)}). ${NOTHING_RESTORED}`);
    const expected = bodyOffset + parsed.data.files.reduce((n, f) => n + f.bytes, 0) + CHECKSUM_BYTES;
    if (size < expected) throw new DamagedBackupError(`${file} is truncated: it holds ${size} bytes, its manifest says ${expected}. ${NOTHING_RESTORED}`);
    if (size > expected) throw new DamagedBackupError(`${file} is damaged: it holds ${size} bytes, ${size - expected} more than its manifest says (${expected}). ${NOTHING_RESTORED}`);
    return { manifest: parsed.data, bodyOffset, size };
  } finally {
    closeSync(fd);
  }
}

/**
 * Copies every file body of a backup into `targetDir` (files created with O_EXCL, mode 0600),
 * checking each one's SHA-256 against the manifest and the whole file's against its checksum.
 * Throws DamagedBackupError naming what does not match; the caller removes targetDir then.
 */
export function extractContainer(file: string, opened: OpenedContainer, targetDir: string): void {
  const fd = openSync(file, 'r');
  try {
    const whole = createHash('sha256');
    whole.update(readExactly(fd, opened.bodyOffset, 0));
    let position = opened.bodyOffset;
    const chunk = Buffer.alloc(CHUNK_BYTES);
    const mismatched: string[] = [];
    for (const entry of opened.manifest.files) {
      const out = openSync(path.join(targetDir, entry.name), 'wx', 0o600);
      try {
        const fileHash = createHash('sha256');
        let left = entry.bytes;
        while (left > 0) {
          const n = readSync(fd, chunk, 0, Math.min(CHUNK_BYTES, left), position);
          if (n === 0) throw new DamagedBackupError(`${file} is truncated: it ends inside ${entry.name}. ${NOTHING_RESTORED}`);
          const data = chunk.subarray(0, n);
          whole.update(data);
          fileHash.update(data);
          writeAll(out, data);
          position += n;
          left -= n;
        }
        fsyncSync(out);
        if (fileHash.digest('hex') !== entry.sha256) mismatched.push(entry.name);
      } finally {
        closeSync(out);
      }
    }
    const checksum = readExactly(fd, CHECKSUM_BYTES, position);
    if (mismatched.length > 0)
      throw new DamagedBackupError(
        `${file} is damaged or was altered: the checksum of ${mismatched.join(' and ')} does not match its manifest. Nothing was restored; use another backup.`,
      );
    if (checksum.length !== CHECKSUM_BYTES || !checksum.equals(whole.digest()))
      throw new DamagedBackupError(
        `${file} is damaged or was altered: its checksum does not match its contents (the manifest or the checksum itself changed). Nothing was restored; use another backup.`,
      );
  } finally {
    closeSync(fd);
  }
}
