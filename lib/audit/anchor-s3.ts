import 'server-only';
import {
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { z } from 'zod';
import type { AppEnv } from '@/lib/config/env';
import { createS3Client } from '@/lib/stores/aws-clients';
import type { ChainAnchor } from './verify-chain';

// The audit chain's external sink: one small JSON object per anchor in an S3 bucket, locked with
// Object Lock (COMPLIANCE, AUDIT_ANCHOR_RETENTION_DAYS) where the bucket has it, so not even the
// bucket's owner can delete or replace it before the retention ends. Whoever rewrites app.db
// cannot rewrite these; `npm run audit:verify -- --anchors-from-s3` checks the chain against them.

export interface AnchorS3Config {
  bucket: string;
  /** Ends with '/' unless empty. */
  prefix: string;
  region: string;
  endpoint?: string;
  retentionDays: number;
  deployment: string;
}

export function anchorS3ConfigFromEnv(env: AppEnv): AnchorS3Config | null {
  if (!env.AUDIT_ANCHOR_S3_BUCKET) return null;
  return {
    bucket: env.AUDIT_ANCHOR_S3_BUCKET,
    prefix: env.AUDIT_ANCHOR_S3_PREFIX,
    region: env.AUDIT_ANCHOR_S3_REGION ?? (process.env.AWS_REGION || undefined) ?? 'us-east-1',
    ...(env.AUDIT_ANCHOR_S3_ENDPOINT ? { endpoint: env.AUDIT_ANCHOR_S3_ENDPOINT } : {}),
    retentionDays: env.AUDIT_ANCHOR_RETENTION_DAYS,
    deployment: env.DEPLOYMENT_NAME,
  };
}

const SEQ_DIGITS = 20;

/** `${prefix}${deployment}/${seq zero-padded}.json`: keys sort in seq order. */
export function anchorObjectKey(cfg: Pick<AnchorS3Config, 'prefix' | 'deployment'>, seq: number): string {
  return `${cfg.prefix}${cfg.deployment}/${String(seq).padStart(SEQ_DIGITS, '0')}.json`;
}

export const ANCHOR_FORMAT = 'secrets-dashboard/audit-anchor';

export const anchorObjectSchema = z.object({
  format: z.literal(ANCHOR_FORMAT),
  version: z.literal(1),
  deployment: z.string().min(1).max(63),
  seq: z.number().int().positive(),
  hash: z.string().regex(/^[0-9a-f]{64}$/),
  /** The anchored entry's time. */
  at: z.string().max(40),
  anchoredAt: z.string().max(40),
});
export type AnchorObject = z.infer<typeof anchorObjectSchema>;

/** The sink could not be written or read; the message names the bucket and the cause, and what to do. */
export class AnchorSinkError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnchorSinkError';
  }
}

const clients = new Map<string, S3Client>();

function clientFor(cfg: AnchorS3Config): S3Client {
  const id = `${cfg.region}\n${cfg.endpoint ?? ''}`;
  let client = clients.get(id);
  if (!client) {
    client = createS3Client({ region: cfg.region, ...(cfg.endpoint ? { endpoint: cfg.endpoint } : {}) });
    clients.set(id, client);
  }
  return client;
}

function errorSummary(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const name = e.name && e.name !== 'Error' ? `${e.name}: ` : '';
  return `${name}${e.message ?? String(error)}`;
}

function explain(cfg: AnchorS3Config, doing: string, permission: string, error: unknown): AnchorSinkError {
  const name = (error as { name?: string }).name ?? '';
  const why =
    name === 'AccessDenied' || name === 'Forbidden'
      ? `access denied: the dashboard's AWS identity needs ${permission} on the bucket`
      : name === 'NoSuchBucket'
        ? 'the bucket does not exist (check AUDIT_ANCHOR_S3_BUCKET and AUDIT_ANCHOR_S3_REGION)'
        : errorSummary(error);
  return new AnchorSinkError(`Cannot ${doing} s3://${cfg.bucket} (region ${cfg.region}): ${why}`);
}

/** Whether a bucket has Object Lock, asked once per bucket every 10 minutes (it can be turned on later). */
const lockKnown = new Map<string, { enabled: Promise<boolean>; until: number }>();
const LOCK_RECHECK_MS = 10 * 60_000;

export function bucketHasObjectLock(cfg: AnchorS3Config): Promise<boolean> {
  const known = lockKnown.get(cfg.bucket);
  if (known && known.until > Date.now()) return known.enabled;
  // One question for concurrent anchors; a failed answer is not kept.
  const enabled = clientFor(cfg)
    .send(new GetObjectLockConfigurationCommand({ Bucket: cfg.bucket }))
    .then(
      (answer) => answer.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled',
      (error: unknown) => {
        if ((error as { name?: string }).name === 'ObjectLockConfigurationNotFoundError') return false;
        lockKnown.delete(cfg.bucket);
        throw explain(cfg, 'read the Object Lock configuration of', 's3:GetBucketObjectLockConfiguration', error);
      },
    );
  lockKnown.set(cfg.bucket, { enabled, until: Date.now() + LOCK_RECHECK_MS });
  return enabled;
}

export interface WrittenAnchor {
  url: string;
  /** ISO time the Object Lock retention ends; null when the bucket has no Object Lock. */
  lockedUntil: string | null;
  /** The object was there already (another replica wrote this anchor). */
  existed: boolean;
}

/** Writes one anchor object (never replacing one that is there: If-None-Match). */
export async function writeAnchorObject(cfg: AnchorS3Config, anchor: AnchorObject): Promise<WrittenAnchor> {
  const key = anchorObjectKey(cfg, anchor.seq);
  const url = `s3://${cfg.bucket}/${key}`;
  const locked = await bucketHasObjectLock(cfg);
  const lockedUntil = locked ? new Date(Date.now() + cfg.retentionDays * 86_400_000) : null;
  try {
    await clientFor(cfg).send(
      new PutObjectCommand({
        Bucket: cfg.bucket,
        Key: key,
        Body: JSON.stringify(anchor),
        ContentType: 'application/json',
        IfNoneMatch: '*',
        ...(lockedUntil ? { ObjectLockMode: 'COMPLIANCE' as const, ObjectLockRetainUntilDate: lockedUntil } : {}),
      }),
    );
  } catch (error) {
    const e = error as { name?: string; $metadata?: { httpStatusCode?: number } };
    if (e.name !== 'PreconditionFailed' && e.$metadata?.httpStatusCode !== 412) {
      throw explain(cfg, 'write the anchor object to', `s3:PutObject${locked ? ' and s3:PutObjectRetention' : ''}`, error);
    }
    // There already: another replica anchored this head, or (another hash) this log is not the one
    // that was anchored: rewritten, or restored from an older backup.
    const there = await readAnchorObject(cfg, key);
    if (there.hash !== anchor.hash) {
      throw new AnchorSinkError(
        `${url} already records entry #${anchor.seq} with another hash (${there.hash.slice(0, 12)}…, not ${anchor.hash.slice(0, 12)}…): ` +
          'the log was rewritten or restored from an older backup since that anchor was written. Run npm run audit:verify -- --anchors-from-s3.',
      );
    }
    return { url, lockedUntil: null, existed: true };
  }
  return { url, lockedUntil: lockedUntil?.toISOString() ?? null, existed: false };
}

async function readAnchorObject(cfg: AnchorS3Config, key: string): Promise<AnchorObject> {
  const url = `s3://${cfg.bucket}/${key}`;
  let text: string;
  try {
    const answer = await clientFor(cfg).send(new GetObjectCommand({ Bucket: cfg.bucket, Key: key }));
    text = (await answer.Body?.transformToString('utf8')) ?? '';
  } catch (error) {
    throw explain(cfg, `read the anchor ${key} in`, 's3:GetObject', error);
  }
  let parsed: AnchorObject;
  try {
    parsed = anchorObjectSchema.parse(JSON.parse(text));
  } catch {
    throw new AnchorSinkError(`${url} is not an audit anchor (expected JSON {format: "${ANCHOR_FORMAT}", seq, hash, …}); remove it from the prefix or fix AUDIT_ANCHOR_S3_PREFIX.`);
  }
  if (parsed.deployment !== cfg.deployment || anchorObjectKey(cfg, parsed.seq) !== key) {
    // An object whose content disagrees with its name was copied or edited: say so rather than trust either.
    throw new AnchorSinkError(`${url} names deployment "${parsed.deployment}" entry #${parsed.seq}, which does not match its key: it was copied or altered.`);
  }
  return parsed;
}

const READ_CONCURRENCY = 8;

/** Every anchor of this deployment in the bucket, as anchors for the verifier (in seq order). */
export async function readAnchorsFromS3(cfg: AnchorS3Config): Promise<ChainAnchor[]> {
  const client = clientFor(cfg);
  const prefix = `${cfg.prefix}${cfg.deployment}/`;
  const keys: string[] = [];
  let token: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListObjectsV2Command({ Bucket: cfg.bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }));
    } catch (error) {
      throw explain(cfg, 'list the anchors in', 's3:ListBucket', error);
    }
    for (const o of page.Contents ?? []) if (o.Key && /^\d+\.json$/.test(o.Key.slice(prefix.length))) keys.push(o.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);

  const anchors: ChainAnchor[] = new Array(keys.length);
  let next = 0;
  const worker = async () => {
    while (next < keys.length) {
      const i = next++;
      const key = keys[i]!;
      const parsed = await readAnchorObject(cfg, key);
      anchors[i] = { seq: parsed.seq, hash: parsed.hash, source: `s3://${cfg.bucket}/${key}` };
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, keys.length) }, worker));
  return anchors;
}

/** Forgets cached clients and Object Lock answers (tests that point at another simulator). */
export function resetAnchorS3(): void {
  for (const client of clients.values()) client.destroy();
  clients.clear();
  lockKnown.clear();
}
