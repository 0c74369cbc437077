import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { listenOn } from './sim-http';
import { gzipSync } from 'node:zlib';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';

// A simulated S3 for a trail's log bucket: ListObjectsV2 (REST XML, path-style URLs, Prefix,
// Delimiter, StartAfter, ContinuationToken, MaxKeys) and GetObject, SigV4 header required. The
// real S3 client works against it with `forcePathStyle: true`. Objects are kept in memory; the
// helpers below lay out CloudTrail's keys and gzipped files.
//
// Control endpoints (plain JSON): GET /__stats, POST /__control { putObjects, failAll, resetStats }.

export interface SimObject {
  bucket: string;
  key: string;
  body: Buffer;
}

export interface SimulatedS3Options {
  port?: number;
  host?: string;
  latencyMs?: number;
  objects?: SimObject[];
}

export interface S3ControlCommand {
  /** Objects to add; `records` is gzipped as a CloudTrail log file. */
  putObjects?: ({ bucket: string; key: string } & ({ records: CloudTrailRecord[] } | { base64: string }))[];
  /** Every call fails with this S3 error code (e.g. AccessDenied, InternalError); null = healthy. */
  failAll?: string | null;
  /** The next N GetObject calls fail with InternalError. */
  failNextGets?: number;
  resetStats?: boolean;
}

export interface S3SimStats {
  list: number;
  get: number;
  errors: number;
  /** Keys fetched with GetObject, in order. */
  fetched: string[];
}

export interface SimulatedS3 {
  url: string;
  port: number;
  stats(): S3SimStats;
  control(cmd: S3ControlCommand): { objects: number };
  put(object: SimObject): void;
  close(): Promise<void>;
}

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

function s3Error(res: ServerResponse, status: number, code: string, message: string): void {
  sendXml(res, status, `<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message><RequestId>${randomUUID()}</RequestId></Error>`);
}

export async function startSimulatedS3(options: SimulatedS3Options = {}): Promise<SimulatedS3> {
  const buckets = new Map<string, Map<string, Buffer>>();
  const put = (o: SimObject) => {
    let bucket = buckets.get(o.bucket);
    if (!bucket) buckets.set(o.bucket, (bucket = new Map()));
    bucket.set(o.key, o.body);
  };
  for (const o of options.objects ?? []) put(o);
  let counters: S3SimStats = { list: 0, get: 0, errors: 0, fetched: [] };
  const settings = { failAll: null as string | null, failNextGets: 0, latencyMs: options.latencyMs ?? 5 };

  const list = (res: ServerResponse, bucketName: string, query: URLSearchParams) => {
    counters.list++;
    const bucket = buckets.get(bucketName);
    if (!bucket) return s3Error(res, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    const prefix = query.get('prefix') ?? '';
    const delimiter = query.get('delimiter') ?? '';
    const startAfter = query.get('start-after') ?? '';
    const token = query.get('continuation-token');
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
          `<Contents><Key>${xmlEscape(k)}</Key><LastModified>2026-01-01T00:00:00.000Z</LastModified><ETag>&quot;${k.length.toString(16)}&quot;</ETag><Size>${bucket.get(k)!.length}</Size><StorageClass>STANDARD</StorageClass></Contents>`,
      ),
      ...prefixes.map((p) => `<CommonPrefixes><Prefix>${xmlEscape(p)}</Prefix></CommonPrefixes>`),
      '</ListBucketResult>',
    ].join('');
    sendXml(res, 200, xml);
  };

  const get = (res: ServerResponse, bucketName: string, key: string) => {
    counters.get++;
    if (settings.failNextGets > 0) {
      settings.failNextGets--;
      counters.errors++;
      return s3Error(res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
    }
    const body = buckets.get(bucketName)?.get(key);
    if (!body) {
      counters.errors++;
      return s3Error(res, 404, 'NoSuchKey', 'The specified key does not exist.');
    }
    counters.fetched.push(key);
    res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': String(body.length), etag: `"${key.length.toString(16)}"`, 'x-amz-request-id': randomUUID() });
    res.end(body);
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://sim');
    if (url.pathname.startsWith('/__')) {
      if (req.method === 'GET' && url.pathname === '/__stats') return sendJsonOk(res, counters);
      if (req.method === 'POST' && url.pathname === '/__control') {
        try {
          return sendJsonOk(res, { ok: true, ...control(JSON.parse(raw.toString('utf8') || '{}') as S3ControlCommand) });
        } catch (error) {
          res.writeHead(400, { 'content-type': 'application/json' });
          return res.end(JSON.stringify({ error: (error as Error).message }));
        }
      }
    }
    const auth = String(req.headers.authorization ?? '');
    if (!/^AWS4-HMAC-SHA256 Credential=\S+\/s3\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+$/.test(auth) || !req.headers['x-amz-date']) {
      counters.errors++;
      return s3Error(res, 403, 'AccessDenied', 'Missing or malformed Authorization header');
    }
    if (settings.failAll) {
      counters.errors++;
      return s3Error(res, settings.failAll === 'AccessDenied' ? 403 : 500, settings.failAll, `Simulated failure ${settings.failAll}`);
    }
    if (req.method !== 'GET') return s3Error(res, 405, 'MethodNotAllowed', 'The simulator answers GET only.');
    // Path style: /<bucket>/<key...>
    const [, bucket = '', ...rest] = url.pathname.split('/');
    const key = rest.map(decodeURIComponent).join('/');
    if (!key && url.searchParams.get('list-type') === '2') return list(res, decodeURIComponent(bucket), url.searchParams);
    if (!key) return s3Error(res, 400, 'InvalidRequest', 'The simulator lists with list-type=2 only.');
    return get(res, decodeURIComponent(bucket), key);
  };

  const control = (cmd: S3ControlCommand) => {
    for (const o of cmd.putObjects ?? []) put({ bucket: o.bucket, key: o.key, body: 'records' in o ? cloudTrailLogFile(o.records) : Buffer.from(o.base64, 'base64') });
    if (cmd.failAll !== undefined) settings.failAll = cmd.failAll;
    if (cmd.failNextGets !== undefined) settings.failNextGets = cmd.failNextGets;
    if (cmd.resetStats) counters = { list: 0, get: 0, errors: 0, fetched: [] };
    return { objects: [...buckets.values()].reduce((n, b) => n + b.size, 0) };
  };

  const pending = new Set<NodeJS.Timeout>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const run = () => handle(req, res, Buffer.concat(chunks));
      if (settings.latencyMs <= 0) return run();
      const timer = setTimeout(() => {
        pending.delete(timer);
        if (!res.destroyed) run();
      }, settings.latencyMs);
      pending.add(timer);
    });
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listenOn(server, options.port ?? 0, host);
  return {
    url: `http://${host}:${port}`,
    port,
    stats: () => ({ ...counters, fetched: [...counters.fetched] }),
    control,
    put,
    close: () =>
      new Promise<void>((resolve) => {
        for (const t of pending) clearTimeout(t);
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function sendJsonOk(res: ServerResponse, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(payload.length) });
  res.end(payload);
}
