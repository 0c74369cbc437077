import 'server-only';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { createS3Client } from '@/lib/stores/aws-clients';
import { AUDITED_EVENT_SOURCES } from './lookup-events-source';
import { DEFAULT_LOOKBACK_HOURS, type S3SourceConfig } from './sources-config';
import { describeAwsError, isTransient, type CloudTrailSource, type SourceLocation, type SourceRunContext, type SourceRunResult } from './sync';
import type { CloudTrailRecord, SourceCursor } from './types';

// A trail's log bucket: the gzipped JSON files CloudTrail writes under
//   <prefix>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
// and, for an organization trail, <prefix>/AWSLogs/<org-id>/<account>/CloudTrail/<region>/...
// Keys under one account/region folder sort by date, so each folder is read incrementally:
// ListObjectsV2 with StartAfter = the last key indexed there. Each file is one page: its records
// of the three audited services are written with the file's key as the folder's new position.
// History past LookupEvents' 90 days comes from here (the index's retention still applies).
//
// A file can land after files whose keys sort after it (CloudTrail delivers late, and not in
// order). So the day prefixes within the lookback window (config lookbackHours: today's, and
// yesterday's too shortly after midnight UTC) are listed again on every run, and the keys there
// that are not among the files already read are read. Which files were read is remembered in the
// index (ct_s3_read_files), written with each file's page, for the files of those day prefixes
// only: a file is read once, never twice, across restarts too. Older day prefixes are not listed
// again; a file delivered into one of them is not seen.
//
// A folder that fails (AccessDenied on one account's prefix, a file that cannot be fetched) is
// passed over for this run and the others are read; the source's error names every failing
// folder (account, region, bucket and prefix) until a run reads them all.

const AUDITED = new Set<string>(AUDITED_EVENT_SOURCES);
const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const HOUR_MS = 3_600_000;
/** <account>/CloudTrail/<region>/ at the end of a folder (an organization trail has <org-id>/ before it). */
const FOLDER_WHERE = /(?:^|\/)(\d{12})\/CloudTrail\/([^/]+)\/$/;
/** The source's error names this many characters of failures at most (the index keeps 1,000). */
const MAX_MESSAGE = 900;

const cursorSchema = z.object({
  version: z.literal(1),
  /** Per account/region folder (its full key prefix): the last key indexed. */
  folders: z.record(z.string(), z.string()),
  /** The files read are kept in the index (ct_s3_read_files); a cursor from before that lacks it. */
  readFilesKept: z.literal(true).optional(),
  /** Per folder: keys up to this one were read before the files read were kept (never listed again). */
  keptAfter: z.record(z.string(), z.string()).optional(),
});
export type S3Cursor = z.infer<typeof cursorSchema>;

/** The saved position, or a fresh one. A position saved before read files were kept counts every key up to each folder's last as read. */
export function parseS3Cursor(raw: SourceCursor | null | undefined): S3Cursor {
  const parsed = cursorSchema.safeParse(raw);
  if (!parsed.success) return { version: 1, folders: {}, readFilesKept: true };
  if (parsed.data.readFilesKept) return parsed.data;
  return { ...parsed.data, readFilesKept: true, keptAfter: { ...parsed.data.folders } };
}

/** The records of one log file that the audit keeps; a file that is not a CloudTrail log throws. */
export function auditedRecordsOfLogFile(bytes: Uint8Array): { records: CloudTrailRecord[]; total: number } {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // Served with Content-Encoding: gzip, some clients have already unpacked it.
  const text = (buffer[0] === 0x1f && buffer[1] === 0x8b ? gunzipSync(buffer, { maxOutputLength: MAX_FILE_BYTES }) : buffer).toString('utf8');
  const parsed = JSON.parse(text) as { Records?: unknown };
  if (!parsed || typeof parsed !== 'object' || !Array.isArray(parsed.Records)) throw new Error('not a CloudTrail log file (no "Records" list)');
  const all = parsed.Records.filter((r): r is CloudTrailRecord => !!r && typeof r === 'object' && !Array.isArray(r));
  return { records: all.filter((r) => typeof r.eventSource === 'string' && AUDITED.has(r.eventSource)), total: all.length };
}

/** The day prefix CloudTrail files an instant under: YYYY/MM/DD/ (UTC). */
export function dayPrefixOf(epochMs: number): string {
  const d = new Date(epochMs);
  return `${d.getUTCFullYear()}/${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCDate()).padStart(2, '0')}/`;
}

/** One part of the bucket this run could not read, said with where it is. */
export interface S3ReadFailure {
  /** The key prefix that failed (a folder, or AWSLogs/ for the whole bucket). */
  prefix: string;
  account: string | null;
  region: string | null;
  message: string;
}

export interface S3SourceOptions {
  client?: S3Client;
  /** MaxKeys of each ListObjectsV2 page (S3's and the default: 1,000); tests use small pages. */
  listPageSize?: number;
}

/** What one run keeps while it goes over the folders. */
interface RunState {
  cursor: S3Cursor;
  failures: S3ReadFailure[];
  skipped: string[];
  /** The source showed an error when the run began: only a run that reads every folder clears it. */
  standingError: boolean;
  /** The first day prefix (YYYY/MM/DD/) listed again for late files. */
  windowDay: string;
}

export class S3CloudTrailSource implements CloudTrailSource {
  readonly kind = 'cloudtrail-s3' as const;
  readonly id: string;
  readonly where: SourceLocation;
  private readonly client: S3Client;
  private readonly root: string;
  private readonly lookbackMs: number;
  private readonly pageSize: number | undefined;

  constructor(
    readonly config: S3SourceConfig,
    options: S3SourceOptions = {},
  ) {
    this.id = config.id;
    this.where = { account: config.account, region: config.connection.region };
    this.client = options.client ?? createS3Client(config.connection);
    this.root = `${config.prefix ? `${config.prefix}/` : ''}AWSLogs/`;
    this.lookbackMs = (config.lookbackHours ?? DEFAULT_LOOKBACK_HOURS) * HOUR_MS;
    this.pageSize = options.listPageSize;
  }

  async run(context: SourceRunContext): Promise<SourceRunResult> {
    const result: SourceRunResult = { pages: 0, inserted: 0, duplicates: 0, error: null, throttled: 0 };
    const state = await context.sink.sourceState(this.id);
    const run: RunState = {
      cursor: parseS3Cursor(state?.cursor),
      failures: [],
      skipped: [],
      standingError: state?.lastError != null,
      windowDay: dayPrefixOf(context.now() - this.lookbackMs),
    };
    let folders: string[];
    try {
      const found = await this.discover();
      folders = found.folders;
      run.failures.push(...found.failures);
    } catch (error) {
      run.failures.push(this.failure(this.root, 'Listing', error));
      return this.finish(context, result, run);
    }
    for (const folder of folders) {
      if (context.stopped()) break;
      const outcome = await this.readFolder(folder, context, result, run);
      if (outcome === 'index-failed') return result;
    }
    return this.finish(context, result, run);
  }

  /**
   * One account/region folder: the files after the last one read, and the files of the day
   * prefixes in the window not read yet. 'index-failed' when the index could not write a page (the
   * run stops: the database is failing); a failure of S3 is noted and the folder left for next run.
   */
  private async readFolder(folder: string, context: SourceRunContext, result: SourceRunResult, run: RunState): Promise<'done' | 'failed' | 'index-failed'> {
    const last = run.cursor.folders[folder];
    const windowStart = `${folder}${run.windowDay}`;
    const keptAfter = run.cursor.keptAfter?.[folder];
    if (keptAfter !== undefined && keptAfter <= windowStart) {
      // The window has passed the files read before read files were kept.
      const { [folder]: _passed, ...rest } = run.cursor.keptAfter!;
      run.cursor = { ...run.cursor, keptAfter: rest };
    }
    // Keys at or before `last` are listed again from the window's first day prefix on, never before it.
    const relistAfter = keptAfter !== undefined && keptAfter > windowStart ? keptAfter : windowStart;
    const relist = last !== undefined && last > relistAfter;
    const startAfter = relist ? relistAfter : last;
    let read: Set<string>;
    try {
      read = new Set(relist ? await context.sink.readFileKeys(this.id, relistAfter, last) : []);
    } catch (error) {
      await this.recordError(context, result, `Reading which files of s3://${this.config.bucket}/${folder} were read failed: ${error instanceof Error ? error.message : String(error)}`);
      return 'index-failed';
    }
    let token: string | undefined;
    do {
      if (context.stopped()) return 'done';
      let keys: string[];
      try {
        const page = await this.withRetry(() =>
          this.client.send(
            new ListObjectsV2Command({
              Bucket: this.config.bucket,
              Prefix: folder,
              ...(this.pageSize ? { MaxKeys: this.pageSize } : {}),
              ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}),
            }),
          ),
        );
        keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } catch (error) {
        run.failures.push(this.failure(folder, 'Listing', error));
        return 'failed';
      }
      for (const key of keys) {
        if (context.stopped()) return 'done';
        const late = last !== undefined && key <= last;
        const logFile = key.endsWith('.json.gz') || key.endsWith('.json');
        // Read before, or not a log file: nothing to do for a key the position has passed.
        if (late && (read.has(key) || !logFile)) continue;
        let records: CloudTrailRecord[] = [];
        let skipped: string | null = null;
        if (logFile) {
          try {
            const out = await this.withRetry(() => this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key })));
            const bytes = await out.Body!.transformToByteArray();
            try {
              records = auditedRecordsOfLogFile(bytes).records;
            } catch (error) {
              // A damaged file is passed, not retried forever, and said so on the source.
              skipped = `s3://${this.config.bucket}/${key} is not a readable CloudTrail log file and was skipped: ${error instanceof Error ? error.message : String(error)}`;
            }
          } catch (error) {
            // Not fetched: the position stays before this file (and a late one stays unread), it comes again next run.
            run.failures.push(this.failure(key, 'Reading', error, folder));
            return 'failed';
          }
        }
        // A late file leaves the position where it is; a new one moves it.
        const next: S3Cursor = late ? run.cursor : { ...run.cursor, folders: { ...run.cursor.folders, [folder]: key } };
        const newest = records.reduce<string | null>((a, r) => (typeof r.eventTime === 'string' && (a === null || r.eventTime > a) ? r.eventTime : a), null);
        const previous = (await context.sink.sourceState(this.id))?.lastEventTime ?? null;
        const healthy = !skipped && !run.standingError && run.failures.length === 0 && run.skipped.length === 0;
        try {
          const ingested = await context.sink.ingest(
            this.id,
            this.kind,
            this.where,
            records,
            {
              cursor: next,
              lastEventTime: previous !== null && (newest === null || previous > newest) ? previous : newest,
              ...(healthy ? { lastSuccessAt: new Date(context.now()).toISOString() } : {}),
              // Remembered only while a re-listing can meet it again.
              ...(key > windowStart ? { readFile: key } : {}),
            },
            context.stores,
          );
          result.inserted += ingested.inserted;
          result.duplicates += ingested.duplicates;
        } catch (error) {
          await this.recordError(context, result, `Indexing s3://${this.config.bucket}/${key} failed: ${error instanceof Error ? error.message : String(error)}`);
          return 'index-failed';
        }
        if (skipped) run.skipped.push(skipped);
        read.add(key);
        run.cursor = next;
        result.pages++;
      }
    } while (token);
    try {
      // The day prefixes the window has left are never listed again: their keys can go.
      await context.sink.forgetReadFiles(this.id, folder, windowStart);
    } catch {
      // Kept a while longer; the next run tries again.
    }
    return 'done';
  }

  /** Ends a run: the source's error names every failure of this run, or, when every folder was read, it is cleared. */
  private async finish(context: SourceRunContext, result: SourceRunResult, run: RunState): Promise<SourceRunResult> {
    if (run.failures.length > 0 || run.skipped.length > 0) {
      await this.recordError(context, result, describeS3Failures(run.failures, run.skipped));
    } else if (!context.stopped()) {
      try {
        // Nothing failed: the source is healthy now, even when no new file came.
        await context.sink.ingest(this.id, this.kind, this.where, [], { cursor: run.cursor, lastSuccessAt: new Date(context.now()).toISOString() }, context.stores);
      } catch (error) {
        await this.recordError(context, result, `Indexing the state of s3://${this.config.bucket}/${this.root} failed: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    return result;
  }

  /** A failure of S3 at a key or prefix, with the account and region of its folder. */
  private failure(at: string, action: 'Listing' | 'Reading', error: unknown, folder = at): S3ReadFailure {
    const where = FOLDER_WHERE.exec(folder);
    const account = where?.[1] ?? null;
    const region = where?.[2] ?? null;
    const denied = (error as { name?: string } | null)?.name === 'AccessDenied';
    const hint = denied
      ? at === this.root
        ? ' (these credentials may not list the bucket: a trail bucket in another account needs a bucket policy that grants them s3:ListBucket and s3:GetObject)'
        : ' (the bucket denies this prefix to these credentials)'
      : '';
    const place = account ? ` [account ${account}, region ${region}]` : '';
    return { prefix: folder, account, region, message: `${action} s3://${this.config.bucket}/${at}: ${describeAwsError(error)}${hint}${place}` };
  }

  /** Every account/region folder under AWSLogs/ (organization trails one level deeper), cut to the configured accounts and regions. */
  async folders(): Promise<string[]> {
    return (await this.discover()).folders;
  }

  /**
   * The folders, and the account (or organization) folders that could not be listed. Throws only
   * when AWSLogs/ itself cannot be listed (the bucket is not readable at all).
   */
  async discover(): Promise<{ folders: string[]; failures: S3ReadFailure[] }> {
    const failures: S3ReadFailure[] = [];
    const accountFolders: string[] = [];
    for (const child of await this.children(this.root)) {
      const name = child.slice(this.root.length, -1);
      if (ACCOUNT.test(name)) accountFolders.push(child);
      else if (ORG.test(name)) {
        try {
          for (const inner of await this.children(child)) if (ACCOUNT.test(inner.slice(child.length, -1))) accountFolders.push(inner);
        } catch (error) {
          failures.push(this.failure(child, 'Listing', error));
        }
      }
    }
    const folders: string[] = [];
    for (const accountFolder of accountFolders) {
      const account = accountFolder.slice(0, -1).split('/').pop()!;
      if (this.config.accounts && !this.config.accounts.includes(account)) continue;
      const trailFolder = `${accountFolder}CloudTrail/`;
      let regionFolders: string[];
      try {
        regionFolders = await this.children(trailFolder);
      } catch (error) {
        const failure = this.failure(trailFolder, 'Listing', error);
        failures.push({ ...failure, account, message: `${failure.message} [account ${account}]` });
        continue;
      }
      for (const regionFolder of regionFolders) {
        const region = regionFolder.slice(trailFolder.length, -1);
        if (this.config.regions && !this.config.regions.includes(region)) continue;
        folders.push(regionFolder);
      }
    }
    return { folders: folders.sort(), failures };
  }

  /** The "subfolders" (common prefixes) right under a prefix. */
  private async children(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.withRetry(() =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: prefix, Delimiter: '/', ...(token ? { ContinuationToken: token } : {}) })),
      );
      for (const p of page.CommonPrefixes ?? []) if (p.Prefix) out.push(p.Prefix);
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out;
  }

  private async withRetry<T>(call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (error) {
        if (!isTransient(error) || attempt >= 3) throw error;
        await new Promise((resolve) => setTimeout(resolve, 200 * 2 ** attempt));
      }
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

/** One message for the source's error: every failing folder (as many as fit), then the files skipped. */
export function describeS3Failures(failures: readonly S3ReadFailure[], skipped: readonly string[]): string {
  const parts = [...failures.map((f) => f.message), ...skipped];
  if (parts.length === 1) return parts[0]!;
  const head = failures.length > 0 ? `${failures.length} part${failures.length === 1 ? '' : 's'} of the bucket could not be read${skipped.length ? `, ${skipped.length} file${skipped.length === 1 ? '' : 's'} skipped` : ''}: ` : '';
  let text = head;
  for (let i = 0; i < parts.length; i++) {
    const next = `${i === 0 ? '' : '; '}${parts[i]}`;
    if (i > 0 && text.length + next.length > MAX_MESSAGE) return `${text}; and ${parts.length - i} more`;
    text += next;
  }
  return text;
}
