import 'server-only';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { createS3Client } from '@/lib/stores/aws-clients';
import { AUDITED_EVENT_SOURCES } from './lookup-events-source';
import type { S3SourceConfig } from './sources-config';
import { describeAwsError, isTransient, type CloudTrailSource, type SourceLocation, type SourceRunContext, type SourceRunResult } from './sync';
import type { CloudTrailRecord, SourceCursor } from './types';

// A trail's log bucket: the gzipped JSON files CloudTrail writes under
//   <prefix>/AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz
// and, for an organization trail, <prefix>/AWSLogs/<org-id>/<account>/CloudTrail/<region>/...
// Keys under one account/region folder sort by date, so each folder is read incrementally:
// ListObjectsV2 with StartAfter = the last key indexed there. Each file is one page: its records
// of the three audited services are written with the file's key as the folder's new position.
// History past LookupEvents' 90 days comes from here (the index's retention still applies).

const AUDITED = new Set<string>(AUDITED_EVENT_SOURCES);
const ACCOUNT = /^\d{12}$/;
const ORG = /^o-[a-z0-9]{10,32}$/;
const MAX_FILE_BYTES = 512 * 1024 * 1024;

const cursorSchema = z.object({
  version: z.literal(1),
  /** Per account/region folder (its full key prefix): the last key indexed. */
  folders: z.record(z.string(), z.string()),
});
export type S3Cursor = z.infer<typeof cursorSchema>;

export function parseS3Cursor(raw: SourceCursor | null | undefined): S3Cursor {
  const parsed = cursorSchema.safeParse(raw);
  return parsed.success ? parsed.data : { version: 1, folders: {} };
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

export interface S3SourceOptions {
  client?: S3Client;
}

export class S3CloudTrailSource implements CloudTrailSource {
  readonly kind = 'cloudtrail-s3' as const;
  readonly id: string;
  readonly where: SourceLocation;
  private readonly client: S3Client;
  private readonly root: string;

  constructor(
    readonly config: S3SourceConfig,
    options: S3SourceOptions = {},
  ) {
    this.id = config.id;
    this.where = { account: config.account, region: config.connection.region };
    this.client = options.client ?? createS3Client(config.connection);
    this.root = `${config.prefix ? `${config.prefix}/` : ''}AWSLogs/`;
  }

  async run(context: SourceRunContext): Promise<SourceRunResult> {
    const result: SourceRunResult = { pages: 0, inserted: 0, duplicates: 0, error: null, throttled: 0 };
    let cursor = parseS3Cursor((await context.sink.sourceState(this.id))?.cursor);
    let folders: string[];
    try {
      folders = await this.folders();
    } catch (error) {
      return await this.fail(context, result, `Listing s3://${this.config.bucket}/${this.root}: ${describeAwsError(error)}`);
    }
    let failed = false;
    // Once a file was skipped this run, pages no longer mark the source healthy (its notice stays).
    let warned = false;
    for (const folder of folders) {
      let startAfter = cursor.folders[folder];
      let token: string | undefined;
      do {
        if (context.stopped()) return result;
        let keys: string[];
        try {
          const page = await this.withRetry(() =>
            this.client.send(
              new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix: folder, ...(token ? { ContinuationToken: token } : startAfter ? { StartAfter: startAfter } : {}) }),
            ),
          );
          keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [o.Key] : [])).sort();
          token = page.IsTruncated ? page.NextContinuationToken : undefined;
        } catch (error) {
          await this.fail(context, result, `Listing s3://${this.config.bucket}/${folder}: ${describeAwsError(error)}`);
          failed = true;
          break;
        }
        for (const key of keys) {
          if (context.stopped()) return result;
          let records: CloudTrailRecord[] = [];
          let skipped: string | null = null;
          if (key.endsWith('.json.gz') || key.endsWith('.json')) {
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
              // Not fetched: the position stays before this file, it comes again next run.
              await this.fail(context, result, `Reading s3://${this.config.bucket}/${key}: ${describeAwsError(error)}`);
              failed = true;
              break;
            }
          }
          const next: S3Cursor = { version: 1, folders: { ...cursor.folders, [folder]: key } };
          const newest = records.reduce<string | null>((a, r) => (typeof r.eventTime === 'string' && (a === null || r.eventTime > a) ? r.eventTime : a), null);
          const previous = (await context.sink.sourceState(this.id))?.lastEventTime ?? null;
          try {
            const ingested = await context.sink.ingest(
              this.id,
              this.kind,
              this.where,
              records,
              {
                cursor: next,
                lastEventTime: previous !== null && (newest === null || previous > newest) ? previous : newest,
                ...(skipped || warned ? {} : { lastSuccessAt: new Date(context.now()).toISOString() }),
              },
              context.stores,
            );
            result.inserted += ingested.inserted;
            result.duplicates += ingested.duplicates;
          } catch (error) {
            return await this.fail(context, result, `Indexing s3://${this.config.bucket}/${key} failed: ${error instanceof Error ? error.message : String(error)}`);
          }
          if (skipped) {
            warned = true;
            await this.fail(context, result, skipped);
          }
          cursor = next;
          startAfter = key;
          result.pages++;
        }
        if (failed) break;
      } while (token);
    }
    return result;
  }

  /** Every account/region folder under AWSLogs/ (organization trails one level deeper), cut to the configured accounts and regions. */
  async folders(): Promise<string[]> {
    const accountFolders: string[] = [];
    for (const child of await this.children(this.root)) {
      const name = child.slice(this.root.length, -1);
      if (ACCOUNT.test(name)) accountFolders.push(child);
      else if (ORG.test(name)) for (const inner of await this.children(child)) if (ACCOUNT.test(inner.slice(child.length, -1))) accountFolders.push(inner);
    }
    const folders: string[] = [];
    for (const accountFolder of accountFolders) {
      const account = accountFolder.slice(0, -1).split('/').pop()!;
      if (this.config.accounts && !this.config.accounts.includes(account)) continue;
      const trailFolder = `${accountFolder}CloudTrail/`;
      for (const regionFolder of await this.children(trailFolder)) {
        const region = regionFolder.slice(trailFolder.length, -1);
        if (this.config.regions && !this.config.regions.includes(region)) continue;
        folders.push(regionFolder);
      }
    }
    return folders.sort();
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

  private async fail(context: SourceRunContext, result: SourceRunResult, message: string): Promise<SourceRunResult> {
    result.error ??= message;
    try {
      await context.sink.recordSourceError(this.id, message, { kind: this.kind, ...this.where });
    } catch {
      // The index is failing too; the sync's log line carries the message.
    }
    return result;
  }
}
