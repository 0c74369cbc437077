import 'server-only';
import { createHash } from 'node:crypto';
import { open, readdir, stat, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { logger } from '@/lib/logger';
import type { VaultFileSourceConfig } from './sources-config';
import type { CloudTrailSource, SourceLocation, SourceRunContext, SourceRunResult } from './sync';
import type { CloudTrailRecord, SourceCursor } from './types';
import { parseVaultAuditLine, vaultAuditRecord, type VaultAuditTarget } from './vault-audit-record';

// Vault's file audit device as an audit source: the file Vault writes and the rotated files beside
// it (`path` a file: it and the files in its folder whose names begin with its stem, e.g.
// vault_audit.log, vault_audit-20261205T101500Z.log, vault_audit.log.1), or every file of a folder
// (`path` a folder). Compressed files (.gz, .bz2, .xz, .zst) are passed over.
//
// Read incrementally: the cursor keeps, per file identity (device and inode, which a rename keeps),
// the offset read to and a hash of the file's first bytes. A rotated file is read on to its end once
// and never again; a file smaller than its offset (truncated) or whose first bytes changed (replaced,
// or its inode reused) is read from its start; a new identity whose first bytes are a known file's
// (logrotate's copytruncate copy) goes on from that file's offset. A last line without its newline
// (Vault mid-write) is left for the next run. Each chunk of lines is one page: its events and the new
// offset are written in one transaction. A missing file or an unreadable folder or file is named on
// the source's status; the other files are read.

const CHUNK_BYTES = 1024 * 1024;
/** A line longer than this is not an audit entry the mapping can use: it is passed over. */
const MAX_LINE_BYTES = 16 * 1024 * 1024;
/** How many first bytes identify a file's content (a line holds a time stamp and a request id). */
const HEAD_BYTES = 1024;
const COMPRESSED = /\.(gz|bz2|xz|zst|zip)$/i;
const MAX_MESSAGE = 900;

const filePositionSchema = z.object({
  /** dev:ino */
  id: z.string(),
  /** The name it had when last read (for the status and the log only). */
  name: z.string(),
  offset: z.number().int().min(0),
  headLength: z.number().int().min(0),
  /** sha256 of the first headLength bytes (null until a line was read). */
  head: z.string().nullable(),
});
const cursorSchema = z.object({ version: z.literal(1), files: z.array(filePositionSchema) });
export type VaultFileCursor = z.infer<typeof cursorSchema>;
type FilePosition = z.infer<typeof filePositionSchema>;

export function parseVaultFileCursor(raw: SourceCursor | null | undefined): VaultFileCursor {
  const parsed = cursorSchema.safeParse(raw);
  return parsed.success ? parsed.data : { version: 1, files: [] };
}

interface Candidate {
  file: string;
  id: string;
  size: number;
  mtimeMs: number;
}

const hashOf = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex').slice(0, 32);
const reasonOf = (error: unknown): string => {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return "cannot be read: permission denied (the dashboard's user needs read access, and execute on its folder)";
  if (code === 'ENOTDIR') return 'cannot be reached: a part of its path is a file, not a folder';
  return `cannot be read (${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)})`;
};

export class VaultFileSource implements CloudTrailSource {
  readonly kind = 'vault-file' as const;
  readonly id: string;
  readonly where: SourceLocation;
  private readonly target: VaultAuditTarget;

  constructor(readonly config: VaultFileSourceConfig) {
    this.id = config.id;
    // The status shows the Vault store where a CloudTrail source shows its region.
    this.where = { account: null, region: config.storeId };
    this.target = { storeId: config.storeId, mount: config.mount, namespace: config.namespace };
  }

  async run(context: SourceRunContext): Promise<SourceRunResult> {
    const result: SourceRunResult = { pages: 0, inserted: 0, duplicates: 0, error: null, throttled: 0 };
    const state = await context.sink.sourceState(this.id);
    const standingError = state?.lastError != null;
    let cursor = parseVaultFileCursor(state?.cursor);
    let lastEventTime = state?.lastEventTime ?? null;
    const failures: string[] = [];
    const { candidates, problems } = await this.discover();
    failures.push(...problems);

    const known = new Map(cursor.files.map((f) => [f.id, f]));
    // Oldest first; on a tie (one millisecond) a file read before holds the older lines.
    candidates.sort((a, b) => a.mtimeMs - b.mtimeMs || Number(known.has(b.id)) - Number(known.has(a.id)) || (a.file < b.file ? -1 : 1));
    const positions: FilePosition[] = [];
    for (const candidate of candidates) {
      if (context.stopped()) break;
      let handle: FileHandle;
      try {
        handle = await open(candidate.file, 'r');
      } catch (error) {
        failures.push(`${candidate.file} ${reasonOf(error)}`);
        // Kept as it was: read on from there once it can be read.
        const before = known.get(candidate.id);
        if (before) positions.push(before);
        continue;
      }
      try {
        let position = await this.startOf(handle, candidate, known);
        for (;;) {
          if (context.stopped()) break;
          const page = await this.readPage(handle, position);
          if (page === null) break;
          const others = positions.concat(cursor.files.filter((f) => f.id !== candidate.id && !positions.some((p) => p.id === f.id)));
          const next: VaultFileCursor = { version: 1, files: [...others, page.position] };
          const newest = page.records.reduce<string | null>((a, r) => (typeof r.eventTime === 'string' && (a === null || r.eventTime > a) ? r.eventTime : a), null);
          if (newest !== null && (lastEventTime === null || newest > lastEventTime)) lastEventTime = newest;
          const healthy = !standingError && failures.length === 0;
          try {
            const ingested = await context.sink.ingest(
              this.id,
              this.kind,
              this.where,
              page.records,
              { cursor: next, lastEventTime, ...(healthy ? { lastSuccessAt: new Date(context.now()).toISOString() } : {}) },
              context.stores,
            );
            result.inserted += ingested.inserted;
            result.duplicates += ingested.duplicates;
          } catch (error) {
            await this.recordError(context, result, `Indexing ${candidate.file} failed: ${error instanceof Error ? error.message : String(error)}`);
            return result;
          }
          if (page.skippedLines > 0) logger.warn({ source: this.id, file: candidate.file, lines: page.skippedLines }, 'vault audit lines that are not JSON objects were passed over');
          cursor = next;
          position = page.position;
          result.pages++;
        }
        positions.push(position);
      } catch (error) {
        failures.push(`${candidate.file} ${reasonOf(error)}`);
        // The last position written for this file: a failure later in it never goes back before it.
        const written = cursor.files.find((f) => f.id === candidate.id);
        if (written) positions.push(written);
      } finally {
        await handle.close();
      }
    }
    if (context.stopped()) return result;
    // Files gone from the folder are forgotten.
    cursor = { version: 1, files: positions };
    if (failures.length > 0) {
      await this.recordError(context, result, describeFailures(failures));
      try {
        await context.sink.ingest(this.id, this.kind, this.where, [], { cursor, lastEventTime }, context.stores);
      } catch {
        // The error above is what shows.
      }
      return result;
    }
    try {
      await context.sink.ingest(this.id, this.kind, this.where, [], { cursor, lastEventTime, lastSuccessAt: new Date(context.now()).toISOString() }, context.stores);
    } catch (error) {
      await this.recordError(context, result, `Indexing the state of ${this.config.path} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    return result;
  }

  /** The files to read and what could not be looked at. */
  private async discover(): Promise<{ candidates: Candidate[]; problems: string[] }> {
    const problems: string[] = [];
    const configured = this.config.path;
    let folder: string;
    let accept: (name: string) => boolean;
    try {
      const info = await stat(configured);
      if (info.isDirectory()) {
        folder = configured;
        accept = () => true;
      } else {
        folder = path.dirname(configured);
        accept = siblingsOf(path.basename(configured));
      }
    } catch (error) {
      if ((error as { code?: unknown }).code !== 'ENOENT') return { candidates: [], problems: [`The Vault audit path ${configured} ${reasonOf(error)}`] };
      // The file is not there (yet, or Vault writes elsewhere): its rotated files may be.
      problems.push(`The Vault audit file ${configured} does not exist (is the file audit device enabled with this file_path, and is its folder mounted here?)`);
      folder = path.dirname(configured);
      accept = siblingsOf(path.basename(configured));
    }
    let names: string[];
    try {
      names = await readdir(folder);
    } catch (error) {
      return { candidates: [], problems: [...problems, `The Vault audit folder ${folder} ${reasonOf(error)}`] };
    }
    const candidates: Candidate[] = [];
    for (const name of names.sort()) {
      if (name.startsWith('.') || COMPRESSED.test(name) || !accept(name)) continue;
      const file = path.join(folder, name);
      try {
        const info = await stat(file);
        if (!info.isFile()) continue;
        candidates.push({ file, id: `${info.dev}:${info.ino}`, size: info.size, mtimeMs: info.mtimeMs });
      } catch (error) {
        // Gone between the listing and now (rotated away): the next run finds it under its new name.
        if ((error as { code?: unknown }).code !== 'ENOENT') problems.push(`${file} ${reasonOf(error)}`);
      }
    }
    return { candidates, problems };
  }

  /** Where to go on reading a file: its own offset, its start (truncated or replaced), or a copied file's offset. */
  private async startOf(handle: FileHandle, candidate: Candidate, known: Map<string, FilePosition>): Promise<FilePosition> {
    const name = path.basename(candidate.file);
    const fresh: FilePosition = { id: candidate.id, name, offset: 0, headLength: 0, head: null };
    const before = known.get(candidate.id);
    if (before) {
      if (candidate.size < before.offset) {
        logger.info({ source: this.id, file: candidate.file }, 'vault audit file was truncated: read again from its start');
        return fresh;
      }
      if (before.head !== null && (await this.headOf(handle, before.headLength)) !== before.head) {
        logger.info({ source: this.id, file: candidate.file }, 'vault audit file was replaced: read from its start');
        return fresh;
      }
      return { ...before, name };
    }
    // A copy of a file read before (copytruncate): on from where that one was.
    for (const other of known.values()) {
      if (other.head === null || other.headLength > candidate.size || other.offset > candidate.size) continue;
      if ((await this.headOf(handle, other.headLength)) === other.head) return { ...other, id: candidate.id, name };
    }
    return fresh;
  }

  private async headOf(handle: FileHandle, length: number): Promise<string> {
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, 0);
    return hashOf(buffer.subarray(0, bytesRead));
  }

  /** The complete lines after the position (one chunk's worth), or null when none is complete yet. */
  private async readPage(handle: FileHandle, position: FilePosition): Promise<{ records: CloudTrailRecord[]; position: FilePosition; skippedLines: number } | null> {
    let size = CHUNK_BYTES;
    let buffer: Buffer;
    let end: number;
    for (;;) {
      buffer = Buffer.alloc(size);
      const { bytesRead } = await handle.read(buffer, 0, size, position.offset);
      buffer = buffer.subarray(0, bytesRead);
      end = buffer.lastIndexOf(0x0a);
      if (end >= 0) break;
      // No whole line yet: Vault is writing it, or it is longer than the chunk.
      if (bytesRead < size) return null;
      if (size >= MAX_LINE_BYTES) {
        // Not an audit entry this source can use: passed over up to the next newline.
        const skipped = await this.skipLine(handle, position.offset + bytesRead);
        if (skipped === null) return null;
        return { records: [], position: { ...position, offset: skipped }, skippedLines: 1 };
      }
      size *= 2;
    }
    const whole = buffer.subarray(0, end + 1);
    const records: CloudTrailRecord[] = [];
    let skippedLines = 0;
    for (const line of whole.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      const parsed = parseVaultAuditLine(line);
      if (!parsed) {
        skippedLines++;
        continue;
      }
      const record = vaultAuditRecord(parsed, this.target);
      if (record) records.push(record);
    }
    const offset = position.offset + whole.length;
    let next: FilePosition = { ...position, offset };
    if (position.head === null) {
      // The file's first bytes, for telling a truncated, replaced or copied file later.
      const headLength = Math.min(offset, HEAD_BYTES);
      const head = position.offset === 0 ? hashOf(whole.subarray(0, headLength)) : await this.headOf(handle, headLength);
      next = { ...next, headLength, head };
    }
    return { records, position: next, skippedLines };
  }

  /** The offset after the next newline at or after `from`, or null when there is none yet. */
  private async skipLine(handle: FileHandle, from: number): Promise<number | null> {
    const buffer = Buffer.alloc(CHUNK_BYTES);
    for (let at = from; ; at += CHUNK_BYTES) {
      const { bytesRead } = await handle.read(buffer, 0, CHUNK_BYTES, at);
      const newline = buffer.subarray(0, bytesRead).indexOf(0x0a);
      if (newline >= 0) return at + newline + 1;
      if (bytesRead < CHUNK_BYTES) return null;
    }
  }

  private async recordError(context: SourceRunContext, result: SourceRunResult, message: string): Promise<void> {
    result.error ??= message;
    try {
      await context.sink.recordSourceError(this.id, message, { kind: this.kind, ...this.where });
    } catch {
      // The index is failing too; the sync's log line carries the message.
    }
  }
}

/** With `path` a file: it and its rotated files (names beginning with its stem, e.g. vault_audit-<stamp>.log, vault_audit.log.1). */
function siblingsOf(base: string): (name: string) => boolean {
  const stem = base.includes('.') ? base.slice(0, base.indexOf('.')) : base;
  return (name) => name === base || (stem !== '' && name.startsWith(stem));
}

function describeFailures(failures: readonly string[]): string {
  let text = failures[0]!;
  for (let i = 1; i < failures.length; i++) {
    const next = `; ${failures[i]}`;
    if (text.length + next.length > MAX_MESSAGE) return `${text}; and ${failures.length - i} more`;
    text += next;
  }
  return text;
}
