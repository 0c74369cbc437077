import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { afterLatency, answerControl, cancelAll, serveAlone, TokenBucket, type Controllable, type Standalone } from './sim-http';
import { crc32, gzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';

// A simulated S3 for a trail's log bucket and the audit chain's anchor bucket: ListObjectsV2 (REST
// XML, path-style URLs, Prefix, Delimiter, StartAfter, ContinuationToken, MaxKeys), GetObject,
// PutObject (If-None-Match, Object Lock headers, Content-MD5 / x-amz-checksum-crc32 checked, the
// SDK's aws-chunked bodies), DeleteObject and GetObjectLockConfiguration; SigV4 header required.
// A bucket made with Object Lock is versioned as on AWS: a PUT adds a version, a DELETE without a
// version id adds a delete marker, and deleting a version under COMPLIANCE retention (or
// GOVERNANCE without the bypass header) is refused with AccessDenied. AWS's request rates per
// prefix (3,500 writes and 5,500 reads a second) answer 503 SlowDown. The real S3 client works
// against it with `forcePathStyle: true`. Objects are kept in memory; the helpers below lay out
// CloudTrail's keys and gzipped files.
//
// createSimulatedS3 is the service without a server (for the organisation's gateway); startSimulatedS3
// serves it alone. Control endpoints (plain JSON): GET /__stats, POST /__control { putObjects, putLogFiles, deny, buckets, failAll, resetStats, … }.
// A log file can be put with any key and LastModified (putLogFiles: a file CloudTrail delivers late,
// under a key older than files already there), and a bucket or a prefix of it can deny every
// request (deny: a trail bucket of another account without a policy for the caller).

export interface SimObject {
  bucket: string;
  key: string;
  body: Buffer;
  /** When it landed (default now). */
  lastModified?: Date;
}

export interface SimBucket {
  name: string;
  /** Object Lock enabled (which makes the bucket versioned), optionally with a default retention. */
  objectLock?: boolean | { defaultMode?: 'COMPLIANCE' | 'GOVERNANCE'; defaultDays?: number };
}

export interface SimulatedS3Options {
  port?: number;
  host?: string;
  latencyMs?: number;
  objects?: SimObject[];
  /** Buckets made up front (a bucket an object is put into is otherwise made plain, without Object Lock). */
  buckets?: SimBucket[];
  /** Writes (PUT, DELETE) per second before SlowDown; AWS: 3,500 per prefix. */
  writesPerSecond?: number;
  /** Reads (GET, LIST) per second before SlowDown; AWS: 5,500 per prefix. */
  readsPerSecond?: number;
}

/** A CloudTrail log file to put where CloudTrail would (cloudTrailLogKey), at the time its key names. */
export interface SimLogFile {
  bucket: string;
  prefix?: string;
  orgId?: string;
  account: string;
  region: string;
  /** The time in the file's key (ISO). */
  time: string;
  unique?: string;
  records: CloudTrailRecord[];
  /** When it landed in the bucket (ISO; default now): LastModified in listings. */
  lastModified?: string;
}

/** Requests to this bucket (or to keys and listings under this prefix of it) are answered 403 AccessDenied. */
export interface SimDenial {
  bucket: string;
  prefix?: string;
}

export interface S3ControlCommand {
  /** Objects to add; `records` is gzipped as a CloudTrail log file. `lastModified` (ISO) is when it landed, default now. */
  putObjects?: ({ bucket: string; key: string; lastModified?: string } & ({ records: CloudTrailRecord[] } | { base64: string }))[];
  /** CloudTrail log files to add, each under the key CloudTrail gives it; their keys are returned in `keys`. */
  putLogFiles?: SimLogFile[];
  /** Buckets or prefixes that deny every request from now on (replaces the list; [] for none). */
  deny?: SimDenial[];
  /** Every call fails with this S3 error code (e.g. AccessDenied, InternalError); null = healthy. */
  failAll?: string | null;
  /** The next N GetObject calls fail with InternalError. */
  failNextGets?: number;
  /** Every PutObject fails with this S3 error code (e.g. AccessDenied); null = healthy. */
  failPuts?: string | null;
  /** Buckets to make (or, for one already there, to give Object Lock). */
  buckets?: SimBucket[];
  writesPerSecond?: number;
  readsPerSecond?: number;
  resetStats?: boolean;
}

/** A PutObject as received: what the client sent about retention and integrity. */
export interface SimPut {
  bucket: string;
  key: string;
  status: number;
  lockMode: string | null;
  retainUntil: string | null;
  /** Content-MD5 or an x-amz-checksum-* header came with it. */
  checksum: boolean;
  ifNoneMatch: string | null;
}

/** One ListObjectsV2 call as received. */
export interface SimList {
  bucket: string;
  prefix: string;
  startAfter: string | null;
  delimiter: string | null;
  /** A continuation of an earlier page (ContinuationToken). */
  continued: boolean;
}

export interface S3SimStats {
  list: number;
  /** Every ListObjectsV2 call, in order. */
  lists: SimList[];
  get: number;
  errors: number;
  /** Keys fetched with GetObject, in order. */
  fetched: string[];
  /** Every PutObject, in order. */
  puts: SimPut[];
  deletes: number;
  lockConfigReads: number;
  throttled: number;
}

/** One stored version of an object (a bucket without versioning keeps one). */
export interface SimObjectVersion {
  versionId: string;
  body: Buffer;
  deleteMarker: boolean;
  lockMode: 'COMPLIANCE' | 'GOVERNANCE' | null;
  retainUntil: Date | null;
  contentType: string;
  /** When this version landed (LastModified). */
  lastModified: Date;
}

/** The simulated S3 without a server of its own (a gateway routes requests to it). */
export interface SimulatedS3Handler {
  /** Answers one S3 REST request whose body was already read (latency applied inside). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  /** Answers a control request (GET /__health, GET /__stats, POST /__stats/reset, POST /__control); false for another path. */
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  stats(): S3SimStats;
  control(cmd: S3ControlCommand): { objects: number; keys?: string[] };
  put(object: SimObject): void;
  /** Every version of an object, oldest first (delete markers included); [] when there is none. */
  versions(bucket: string, key: string): SimObjectVersion[];
  /** Drops an object and all its versions (a gateway bounding what it wrote); whether it was there. */
  remove(bucket: string, key: string): boolean;
  /** Cancels answers still held back for latency. */
  close(): void;
}

export type SimulatedS3 = Standalone<SimulatedS3Handler>;

/** A CloudTrail log file: gzipped JSON `{"Records": [...]}`. */
export function cloudTrailLogFile(records: CloudTrailRecord[]): Buffer {
  return gzipSync(Buffer.from(JSON.stringify({ Records: records }), 'utf8'));
}

/** Where CloudTrail writes a log file: `<prefix>/AWSLogs/[<org-id>/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>`. */
export function cloudTrailLogKey(options: { prefix?: string; orgId?: string; account: string; region: string; time: Date; unique?: string }): string {
  const { account, region, time } = options;
  const y = String(time.getUTCFullYear());
  const m = String(time.getUTCMonth() + 1).padStart(2, '0');
  const d = String(time.getUTCDate()).padStart(2, '0');
  const stamp = `${y}${m}${d}T${String(time.getUTCHours()).padStart(2, '0')}${String(time.getUTCMinutes()).padStart(2, '0')}Z`;
  const root = `${options.prefix ? `${options.prefix.replace(/\/+$/, '')}/` : ''}AWSLogs/${options.orgId ? `${options.orgId}/` : ''}${account}/CloudTrail/${region}`;
  return `${root}/${y}/${m}/${d}/${account}_CloudTrail_${region}_${stamp}_${options.unique ?? randomUUID().slice(0, 16)}.json.gz`;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function sendXml(res: ServerResponse, status: number, xml: string): void {
  const payload = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${xml}`, 'utf8');
  res.writeHead(status, { 'content-type': 'application/xml', 'content-length': String(payload.length), 'x-amz-request-id': randomUUID() });
  res.end(payload);
}

/** An S3 error as S3 writes it (XML); `extra` adds elements such as AuthorizationHeaderMalformed's Region. */
export function s3Error(res: ServerResponse, status: number, code: string, message: string, extra: Record<string, string> = {}): void {
  if (res.destroyed) return;
  const more = Object.entries(extra)
    .map(([name, value]) => `<${name}>${xmlEscape(value)}</${name}>`)
    .join('');
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message>${more}<RequestId>${randomUUID()}</RequestId></Error>`);
}

interface StoredBucket {
  objectLock: { defaultMode: 'COMPLIANCE' | 'GOVERNANCE' | null; defaultDays: number | null } | null;
  objects: Map<string, SimObjectVersion[]>;
}

/** The current version of an object, or undefined when it has none or a delete marker is newest. */
function current(versions: SimObjectVersion[] | undefined): SimObjectVersion | undefined {
  const latest = versions?.[versions.length - 1];
  return latest && !latest.deleteMarker ? latest : undefined;
}

/** The payload of an aws-chunked body (`<hex size>[;chunk-signature=…]\r\n<data>\r\n…0\r\n<trailers>`). */
function decodeAwsChunked(raw: Buffer): { body: Buffer; trailers: Record<string, string> } {
  const parts: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = raw.indexOf('\r\n', at);
    if (eol < 0) throw new Error('truncated aws-chunked body');
    const size = parseInt(raw.subarray(at, eol).toString('latin1').split(';')[0]!, 16);
    if (!Number.isFinite(size)) throw new Error('bad aws-chunked chunk size');
    at = eol + 2;
    if (size === 0) break;
    parts.push(raw.subarray(at, at + size));
    at += size + 2;
  }
  const trailers: Record<string, string> = {};
  for (const line of raw.subarray(at).toString('latin1').split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) trailers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return { body: Buffer.concat(parts), trailers };
}

const emptyStats = (): S3SimStats => ({ list: 0, lists: [], get: 0, errors: 0, fetched: [], puts: [], deletes: 0, lockConfigReads: 0, throttled: 0 });

export function createSimulatedS3(options: SimulatedS3Options = {}): SimulatedS3Handler {
  const buckets = new Map<string, StoredBucket>();
  const makeBucket = (b: SimBucket): StoredBucket => {
    let bucket = buckets.get(b.name);
    if (!bucket) buckets.set(b.name, (bucket = { objectLock: null, objects: new Map() }));
    if (b.objectLock) {
      const rule = typeof b.objectLock === 'object' ? b.objectLock : {};
      bucket.objectLock = { defaultMode: rule.defaultMode ?? null, defaultDays: rule.defaultDays ?? null };
    }
    return bucket;
  };
  const put = (o: SimObject) => {
    const bucket = buckets.get(o.bucket) ?? makeBucket({ name: o.bucket });
    bucket.objects.set(o.key, [{ versionId: 'null', body: o.body, deleteMarker: false, lockMode: null, retainUntil: null, contentType: 'application/octet-stream', lastModified: o.lastModified ?? new Date() }]);
  };
  for (const b of options.buckets ?? []) makeBucket(b);
  for (const o of options.objects ?? []) put(o);
  let counters: S3SimStats = emptyStats();
  const settings = { failAll: null as string | null, failPuts: null as string | null, failNextGets: 0, latencyMs: options.latencyMs ?? 5, deny: [] as SimDenial[] };
  let writes = new TokenBucket(options.writesPerSecond ?? 3500);
  let reads = new TokenBucket(options.readsPerSecond ?? 5500);

  const list = (res: ServerResponse, bucketName: string, query: URLSearchParams) => {
    counters.list++;
    const stored = buckets.get(bucketName);
    if (!stored) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const bucket = new Map<string, SimObjectVersion>();
    for (const [key, versions] of stored.objects) {
      const live = current(versions);
      if (live) bucket.set(key, live);
    }
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const startAfter = query.get('start-after') ?? '';
    const token = query.get('continuation-token');
    counters.lists.push({ bucket: bucketName, prefix, startAfter: query.get('start-after'), delimiter: query.get('delimiter'), continued: token !== null });
    const maxKeys = Math.min(1000, Math.max(0, Number(query.get('max-keys') ?? 1000) || 1000));
    const after = token ? Buffer.from(token, 'base64url').toString('utf8') : startAfter;
    const keys = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
    const contents: string[] = [];
    const prefixes: string[] = [];
    let last = '';
    let truncated = false;
    for (const key of keys) {
      if (contents.length + prefixes.length >= maxKeys) {
        truncated = true;
        break;
      }
      if (delimiter) {
        const cut = key.indexOf(delimiter, prefix.length);
        if (cut >= 0) {
          const common = key.slice(0, cut + delimiter.length);
          if (prefixes[prefixes.length - 1] !== common) prefixes.push(common);
          last = key;
          continue;
        }
      }
      contents.push(key);
      last = key;
    }
    // With a delimiter, skip the rest of the last common prefix so it is not listed twice.
    const resume = delimiter && prefixes.length && last.startsWith(prefixes[prefixes.length - 1]!) ? `${prefixes[prefixes.length - 1]!}\uffff` : last;
    const xml = [
      '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
      `<Name>${xmlEscape(bucketName)}</Name><Prefix>${xmlEscape(prefix)}</Prefix>`,
      startAfter ? `<StartAfter>${xmlEscape(startAfter)}</StartAfter>` : '',
      `<KeyCount>${contents.length + prefixes.length}</KeyCount><MaxKeys>${maxKeys}</MaxKeys>`,
      delimiter ? `<Delimiter>${xmlEscape(delimiter)}</Delimiter>` : '',
      `<IsTruncated>${truncated}</IsTruncated>`,
      token ? `<ContinuationToken>${xmlEscape(token)}</ContinuationToken>` : '',
      truncated ? `<NextContinuationToken>${Buffer.from(resume, 'utf8').toString('base64url')}</NextContinuationToken>` : '',
      ...contents.map(
        (k) =>
          `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${bucket.get(k)!.lastModified.toISOString()}</LastModified><ETag>&quot;${k.length.toString(16)}&quot;</ETag><Size>${bucket.get(k)!.body.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`),
      '</ListBucketResult>',
    ].join('');
    sendXml(res, 200, xml);
  };

  const get = (res: ServerResponse, bucketName: string, key: string, versionId: string | null) => {
    counters.get++;
    if (settings.failNextGets > 0) {
      settings.failNextGets--;
      counters.errors++;
      return s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    const versions = buckets.get(bucketName)?.objects.get(key);
    const version = versionId ? versions?.find((v) => v.versionId === versionId && !v.deleteMarker) : current(versions);
    if (!version) {
      counters.errors++;
      return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    const body = version.body;
    counters.fetched.push(key);
    res.writeHead(200, {
      'content-type': version.contentType === 'application/octet-stream' ? 'application/x-gzip' : version.contentType,
      'content-length': String(body.length),
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      'x-amz-request-id': randomUUID(),
      ...(version.versionId !== 'null' ? { 'x-amz-version-id': version.versionId } : {}),
      ...(version.lockMode && version.retainUntil
        ? { 'x-amz-object-lock-mode': version.lockMode, 'x-amz-object-lock-retain-until-date': version.retainUntil.toISOString() }
        : {}),
    });
    res.end(body);
  };

  const putObject = (req: IncomingMessage, res: ServerResponse, bucketName: string, key: string, raw: Buffer) => {
    const header = (name: string) => {
      const v = req.headers[name];
      return Array.isArray(v) ? v[0]! : (v ?? null);
    };
    const lockMode = header('x-amz-object-lock-mode');
    const retainUntilText = header('x-amz-object-lock-retain-until-date');
    const ifNoneMatch = header('if-none-match');
    const checksumHeaders = Object.keys(req.headers).filter((h) => h.startsWith('x-amz-checksum-'));
    const trailerNames = (header('x-amz-trailer') ?? '').toLowerCase();
    const record: SimPut = {
      bucket: bucketName,
      key,
      status: 200,
      lockMode,
      retainUntil: retainUntilText,
      checksum: Boolean(header('content-md5')) || checksumHeaders.length > 0 || trailerNames.startsWith('x-amz-checksum-'),
      ifNoneMatch,
    };
    counters.puts.push(record);
    const fail = (status: number, code: string, message: string) => {
      record.status = status;
      counters.errors++;
      s3Error(res, status, code, message);
    };
    if (settings.failPuts) return fail(settings.failPuts === 'AccessDenied' ? 403 : 500, settings.failPuts, `Simulated failure ${settings.failPuts}`);
    const bucket = buckets.get(bucketName);
    if (!bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');

    let body = raw;
    const checksums: Record<string, string> = {};
    for (const h of checksumHeaders) checksums[h] = String(req.headers[h]);
    if ((header('content-encoding') ?? '').includes('aws-chunked') || /^STREAMING-/.test(header('x-amz-content-sha256') ?? '')) {
      try {
        const decoded = decodeAwsChunked(raw);
        body = decoded.body;
        for (const [name, value] of Object.entries(decoded.trailers)) if (name.startsWith('x-amz-checksum-')) checksums[name] = value;
      } catch (error) {
        return fail(400, 'IncompleteBody', `The request body is not valid aws-chunked encoding: ${(error as Error).message}`);
      }
    }
    const md5 = header('content-md5');
    if (md5 && md5 !== createHash('md5').update(body).digest('base64')) return fail(400, 'BadDigest', 'The Content-MD5 you specified did not match what we received.');
    const crc = checksums['x-amz-checksum-crc32'];
    if (crc) {
      const mine = Buffer.alloc(4);
      mine.writeUInt32BE(crc32(body) >>> 0);
      if (crc !== mine.toString('base64')) return fail(400, 'BadDigest', 'The CRC32 you specified did not match the calculated checksum.');
    }

    let mode: SimObjectVersion['lockMode'] = null;
    let retainUntil: Date | null = null;
    if (lockMode || retainUntilText) {
      if (!bucket.objectLock) return fail(400, 'InvalidRequest', 'Bucket is missing Object Lock Configuration');
      if (!lockMode || !retainUntilText) return fail(400, 'InvalidArgument', 'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied');
      if (lockMode !== 'COMPLIANCE' && lockMode !== 'GOVERNANCE') return fail(400, 'InvalidArgument', 'Unknown wormMode directive.');
      retainUntil = new Date(retainUntilText);
      if (Number.isNaN(retainUntil.getTime())) return fail(400, 'InvalidArgument', 'The retain until date must be an ISO 8601 date.');
      if (retainUntil.getTime() <= Date.now()) return fail(400, 'InvalidArgument', 'The retain until date must be in the future!');
      if (!record.checksum) {
        return fail(400, 'InvalidRequest', 'Content-MD5 OR x-amz-checksum- HTTP header is required for Put Object requests with Object Lock parameters');
      }
      mode = lockMode;
    } else if (bucket.objectLock?.defaultMode && bucket.objectLock.defaultDays) {
      mode = bucket.objectLock.defaultMode;
      retainUntil = new Date(Date.now() + bucket.objectLock.defaultDays * 86_400_000);
    }

    const versions = bucket.objects.get(key) ?? [];
    if (ifNoneMatch === '*' && current(versions)) return fail(412, 'PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
    const version: SimObjectVersion = {
      versionId: bucket.objectLock ? randomUUID().replace(/-/g, '') : 'null',
      body,
      deleteMarker: false,
      lockMode: mode,
      retainUntil,
      contentType: header('content-type') ?? 'binary/octet-stream',
      lastModified: new Date(),
    };
    // A versioned (Object Lock) bucket keeps every version: an overwrite leaves a locked one in place.
    bucket.objects.set(key, bucket.objectLock ? [...versions, version] : [version]);
    res.writeHead(200, {
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      'x-amz-request-id': randomUUID(),
      ...(bucket.objectLock ? { 'x-amz-version-id': version.versionId } : {}),
      'content-length': '0',
    });
    res.end();
  };

  const deleteObject = (req: IncomingMessage, res: ServerResponse, bucketName: string, key: string, versionId: string | null) => {
    counters.deletes++;
    const bucket = buckets.get(bucketName);
    if (!bucket) {
      counters.errors++;
      return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    }
    const versions = bucket.objects.get(key) ?? [];
    if (!versionId) {
      if (bucket.objectLock) {
        // Versioned: a delete marker hides the object; every version stays.
        const marker: SimObjectVersion = { versionId: randomUUID().replace(/-/g, ''), body: Buffer.alloc(0), deleteMarker: true, lockMode: null, retainUntil: null, contentType: '', lastModified: new Date() };
        bucket.objects.set(key, [...versions, marker]);
        res.writeHead(204, { 'x-amz-delete-marker': 'true', 'x-amz-version-id': marker.versionId, 'x-amz-request-id': randomUUID() });
        return res.end();
      }
      bucket.objects.delete(key);
      res.writeHead(204, { 'x-amz-request-id': randomUUID() });
      return res.end();
    }
    const version = versions.find((v) => v.versionId === versionId);
    if (version && version.retainUntil && version.retainUntil.getTime() > Date.now()) {
      const bypass = String(req.headers['x-amz-bypass-governance-retention'] ?? '').toLowerCase() === 'true';
      if (version.lockMode === 'COMPLIANCE' || !bypass) {
        counters.errors++;
        return s3Error(res, 403, 'AccessDenied', 'Access Denied because object protected by object lock.');
      }
    }
    bucket.objects.set(
      key,
      versions.filter((v) => v.versionId !== versionId),
    );
    res.writeHead(204, { 'x-amz-request-id': randomUUID() });
    res.end();
  };

  const objectLockConfiguration = (res: ServerResponse, bucketName: string) => {
    counters.lockConfigReads++;
    const bucket = buckets.get(bucketName);
    if (!bucket) {
      counters.errors++;
      return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    }
    if (!bucket.objectLock) {
      counters.errors++;
      return s3Error(res, 404, 'ObjectLockConfigurationNotFoundError', 'Object Lock configuration does not exist for this bucket');
    }
    const { defaultMode, defaultDays } = bucket.objectLock;
    const rule = defaultMode && defaultDays ? `<Rule><DefaultRetention><Mode>${defaultMode}</Mode><Days>${defaultDays}</Days></DefaultRetention></Rule>` : '';
    sendXml(res, 200, `<ObjectLockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><ObjectLockEnabled>Enabled</ObjectLockEnabled>${rule}</ObjectLockConfiguration>`);
  };

  const answer = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    const auth = String(req.headers.authorization ?? '');
    if (!/^AWS4-HMAC-SHA256 Credential=\S+\/s3\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+$/.test(auth) || !req.headers['x-amz-date']) {
      counters.errors++;
      return s3Error(res, 403, 'AccessDenied', 'Missing or malformed Authorization header');
    }
    if (settings.failAll) {
      counters.errors++;
      return s3Error(res, settings.failAll === 'AccessDenied' ? 403 : 500, settings.failAll, `Simulated failure ${settings.failAll}`);
    }
    if (req.method !== 'GET' && req.method !== 'PUT' && req.method !== 'DELETE') return s3Error(res, 405, 'MethodNotAllowed', 'The simulator answers GET, PUT and DELETE.');
    // AWS's request rates: 503 SlowDown, which the SDK retries with backoff.
    if (!(req.method === 'GET' ? reads : writes).take(performance.now())) {
      counters.throttled++;
      counters.errors++;
      return s3Error(res, 503, 'SlowDown', 'Please reduce your request rate.');
    }
    // Path style: /<bucket>/<key...>
    const [, bucketPart = '', ...rest] = url.pathname.split('/');
    let bucket: string;
    let key: string;
    try {
      bucket = decodeURIComponent(bucketPart);
      key = rest.map(decodeURIComponent).join('/');
    } catch {
      counters.errors++;
      return s3Error(res, 400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
    const versionId = url.searchParams.get('versionId');
    // A bucket (or prefix) whose policy does not let this caller in: as S3 answers it.
    const listing = !key && url.searchParams.get('list-type') === '2';
    const reach = listing ? (url.searchParams.get('prefix') ?? '') : key;
    if (settings.deny.some((d) => d.bucket === bucket && (!d.prefix || (reach.startsWith(d.prefix) && (key !== '' || listing))))) {
      counters.errors++;
      return s3Error(res, 403, 'AccessDenied', 'Access Denied');
    }
    if (req.method === 'PUT') {
      if (!key) return s3Error(res, 400, 'InvalidRequest', 'The simulator does not make buckets over the wire (use options.buckets or control).');
      return putObject(req, res, bucket, key, raw);
    }
    if (req.method === 'DELETE') {
      if (!key) return s3Error(res, 400, 'InvalidRequest', 'The simulator does not delete buckets.');
      return deleteObject(req, res, bucket, key, versionId);
    }
    if (!key && url.searchParams.has('object-lock')) return objectLockConfiguration(res, bucket);
    if (!key && url.searchParams.get('list-type') === '2') return list(res, bucket, url.searchParams);
    if (!key) return s3Error(res, 400, 'InvalidRequest', 'The simulator lists with list-type=2 only.');
    return get(res, bucket, key, versionId);
  };

  const objectCount = () => [...buckets.values()].reduce((n, b) => n + [...b.objects.values()].filter((v) => current(v)).length, 0);
  const control = (cmd: S3ControlCommand) => {
    for (const b of cmd.buckets ?? []) makeBucket(b);
    const landed = (iso: string | undefined) => {
      const at = iso === undefined ? new Date() : new Date(iso);
      if (Number.isNaN(at.getTime())) throw new Error(`lastModified "${iso}" is not an ISO time`);
      return at;
    };
    for (const o of cmd.putObjects ?? [])
      put({ bucket: o.bucket, key: o.key, body: 'records' in o ? cloudTrailLogFile(o.records) : Buffer.from(o.base64, 'base64'), lastModified: landed(o.lastModified) });
    const keys: string[] = [];
    for (const f of cmd.putLogFiles ?? []) {
      const time = new Date(f.time);
      if (Number.isNaN(time.getTime())) throw new Error(`putLogFiles: time "${f.time}" is not an ISO time`);
      const key = cloudTrailLogKey({ account: f.account, region: f.region, time, ...(f.prefix ? { prefix: f.prefix } : {}), ...(f.orgId ? { orgId: f.orgId } : {}), ...(f.unique ? { unique: f.unique } : {}) });
      put({ bucket: f.bucket, key, body: cloudTrailLogFile(f.records), lastModified: landed(f.lastModified) });
      keys.push(key);
    }
    if (cmd.deny !== undefined) settings.deny = cmd.deny.map((d) => ({ bucket: d.bucket, ...(d.prefix ? { prefix: d.prefix } : {}) }));
    if (cmd.failAll !== undefined) settings.failAll = cmd.failAll;
    if (cmd.failPuts !== undefined) settings.failPuts = cmd.failPuts;
    if (cmd.failNextGets !== undefined) settings.failNextGets = cmd.failNextGets;
    if (cmd.writesPerSecond !== undefined) writes = new TokenBucket(cmd.writesPerSecond);
    if (cmd.readsPerSecond !== undefined) reads = new TokenBucket(cmd.readsPerSecond);
    if (cmd.resetStats) counters = emptyStats();
    return { objects: objectCount(), ...(cmd.putLogFiles ? { keys } : {}) };
  };

  const pending = new Set<NodeJS.Timeout>();
  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) =>
    afterLatency(settings.latencyMs, pending, () => {
      if (res.destroyed) return;
      try {
        answer(req, res, raw);
      } catch (error) {
        // Answered later than the request arrived: nothing above would catch it, and the process must go on.
        s3Error(res, 500, 'InternalError', `Simulator bug: ${(error as Error).message}`);
      }
    });
  const self: SimulatedS3Handler & Controllable<S3ControlCommand> = {
    handle,
    handleControl: (req, res, path, raw) => answerControl(req, res, path, raw, self),
    health: () => ({ buckets: buckets.size, objects: objectCount() }),
    stats: () => ({ ...counters, lists: counters.lists.map((l) => ({ ...l })), fetched: [...counters.fetched], puts: counters.puts.map((p) => ({ ...p })) }),
    resetStats: () => void (counters = emptyStats()),
    control,
    put,
    versions: (bucket, key) => (buckets.get(bucket)?.objects.get(key) ?? []).map((v) => ({ ...v })),
    remove: (bucket, key) => buckets.get(bucket)?.objects.delete(key) ?? false,
    close: () => cancelAll(pending),
  };
  return self;
}

/** The simulated S3 on a server of its own, with its control endpoints under /__. */
export async function startSimulatedS3(options: SimulatedS3Options = {}): Promise<SimulatedS3> {
  return serveAlone(createSimulatedS3(options), options.port, options.host);
}
