import { createHmac, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { AwsFault } from './aws-fault';
import { answerControl, answerJsonAfter, cancelAll, type Controllable, parseJsonObject, serveAlone, SlidingWindow, type Standalone } from './sim-http';

// A simulated CloudTrail LookupEvents for tests and the audit benchmark: AWS JSON 1.1 on
// 127.0.0.1, the API reference's shapes (EventTime in epoch seconds, ReadOnly as a string,
// CloudTrailEvent as a JSON string), newest first, one lookup attribute, StartTime/EndTime,
// NextToken (InvalidNextTokenException for a token that is not its own or was issued for other
// parameters), a latency per call, and AWS's hard limit of 2 calls a second per account and
// region: a third call within a second is answered HTTP 400 ThrottlingException, as AWS does.
// The account is the one the access key is mapped to (options.accessKeys, default SIM_CT_ACCOUNT);
// the region comes from the SigV4 credential scope. A region not enabled for the account (an
// opt-in region; options.disabledRegions) refuses every call as AWS does, HTTP 400
// UnrecognizedClientException, before any quota is counted.
//
// Events are generated deterministically (N events over M items and K actors, the event kinds
// reviewers care about, some denied, some with odd or missing fields) or added explicitly.
//
// Control endpoints (plain JSON):
//   GET  /__health   GET /__stats   POST /__stats/reset
//   POST /__control  a CloudTrailControlCommand (add or forget events, generate more, fail calls, latency, rate)
//
// createSimulatedCloudTrail is the service without a server (for the organisation's gateway);
// startSimulatedCloudTrail serves it alone.

import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { seededRandom } from '../lib/random/seeded-random';

export const SIM_CT_ACCOUNT = '123456789012';
export const SIM_CT_REGION = 'us-east-1';
export const SIM_CT_TARGETS = ['CloudTrail_20131101.LookupEvents', 'com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents'];
export const AUDITED_EVENT_SOURCES = ['ssm.amazonaws.com', 'secretsmanager.amazonaws.com', 'kms.amazonaws.com'] as const;
const DAY_MS = 86_400_000;
const LOOKUP_KEYS = ['EventId', 'EventName', 'ReadOnly', 'Username', 'ResourceType', 'ResourceName', 'EventSource', 'AccessKeyId'] as const;

export interface GenerateSpec {
  events: number;
  /** Distinct items touched (half parameters, half secrets); default 50. */
  items?: number;
  /** Distinct actors; default 10. */
  actors?: number;
  account?: string;
  region?: string;
  /** Events spread evenly over this many days before `now` (default 30; LookupEvents keeps 90). */
  days?: number;
  /** The newest event's time (epoch ms); default the simulator's now. */
  newest?: number;
  seed?: number;
  /** Prefix of the generated event ids (distinct per generate call). */
  idPrefix?: string;
}

export interface SimulatedCloudTrailOptions {
  port?: number;
  host?: string;
  /** Delay before every answer (default 30 ms). */
  latencyMs?: number;
  /** Calls a second per account and region (default 2); null = unlimited. */
  ratePerSecond?: number | null;
  generate?: GenerateSpec[];
  /** Explicit records (recipientAccountId / awsRegion say where; default the simulator's). */
  events?: CloudTrailRecord[];
  /** Access key id → account. */
  accessKeys?: Record<string, string>;
  /** "Now" for generated data and the default EndTime (epoch ms); default the start time. */
  now?: number;
  /** Regions not enabled: "eu-south-2" for every account, or "<account>:<region>" for one. */
  disabledRegions?: string[];
}

export interface CloudTrailControlCommand {
  addEvents?: CloudTrailRecord[];
  generate?: GenerateSpec[];
  /** The next N LookupEvents calls fail with this error (after the rate check). */
  failNext?: { count: number; type: string; status?: number } | null;
  /** Every call fails with this error type; null = healthy. */
  failAll?: string | null;
  latencyMs?: number;
  ratePerSecond?: number | null;
  /** Every NextToken issued so far becomes invalid (as when tokens expire). */
  expireTokens?: boolean;
  /** Event ids to drop (a gateway bounding the events it records). */
  forgetEvents?: string[];
  /** Regions not enabled from now on (replaces the list): "eu-south-2" or "<account>:<region>". */
  disabledRegions?: string[];
  resetStats?: boolean;
}

export interface LookupCallRecord {
  at: number;
  account: string;
  region: string;
  attribute: string | null;
  startTime: number | null;
  endTime: number | null;
  withToken: boolean;
  status: number;
  error?: string;
  returned: number;
}

export interface CloudTrailSimStats {
  calls: number;
  ok: number;
  throttled: number;
  errors: number;
  /** Events answered in all. */
  returned: number;
  /** Most calls arriving in any 1-second window, per account|region and overall. */
  maxCallsPerSecond: number;
  maxCallsPerSecondByAccountRegion: Record<string, number>;
  /** Most calls admitted (not throttled) in any 1-second window. */
  maxAcceptedPerSecond: number;
  events: number;
  log: LookupCallRecord[];
}

/** The simulated CloudTrail without a server of its own (a gateway routes requests to it). */
export interface SimulatedCloudTrailHandler {
  /** Answers one LookupEvents request whose body was already read (latency applied inside). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  /** Answers a control request (GET /__health, GET /__stats, POST /__stats/reset, POST /__control); false for another path. */
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  stats(): CloudTrailSimStats;
  resetStats(): void;
  control(cmd: CloudTrailControlCommand): { events: number; added: number };
  /** Events (all sources) the simulator holds for an account and region. */
  count(filter?: { account?: string; region?: string; eventSource?: string }): number;
  /** Cancels answers still held back for latency. */
  close(): void;
}

export type SimulatedCloudTrail = Standalone<SimulatedCloudTrailHandler>;

// ---------------------------------------------------------------------------------------------
// Generated data.

const rng = (seed: number): (() => number) => seededRandom(seed >>> 0 || 1);

const pick = <T>(list: readonly T[], r: () => number): T => list[Math.floor(r() * list.length)]!;

interface Actor {
  type: string;
  arn: string;
  principalId: string;
  accessKeyId: string;
  username: string;
  sessionIssuer?: { type: string; arn: string; userName: string };
}

function actorFor(account: string, index: number): Actor {
  if (index % 3 === 2) {
    const name = `dev-${index}`;
    return { type: 'IAMUser', arn: `arn:aws:iam::${account}:user/${name}`, principalId: `AIDA${index}EXAMPLE`, accessKeyId: `AKIA${String(index).padStart(16, '0')}`, username: name };
  }
  const role = index % 3 === 0 ? `app-role-${index}` : `ci-deploy-${index}`;
  return {
    type: 'AssumedRole',
    arn: `arn:aws:sts::${account}:assumed-role/${role}/session-${index}`,
    principalId: `AROA${index}EXAMPLE:session-${index}`,
    accessKeyId: `ASIA${String(index).padStart(16, '0')}`,
    username: `session-${index}`,
    sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${account}:role/${role}`, userName: role },
  };
}

const parameterName = (i: number) => `/app/team${i % 7}/svc${i % 5}/key${i}`;
const secretName = (i: number) => `app/team${i % 7}/secret${i}`;

/** One generated record: the kind cycles through what reviewers look for; some fail, some are odd. */
function generatedRecord(n: number, spec: Required<Omit<GenerateSpec, 'newest'>> & { newest: number }, r: () => number): CloudTrailRecord {
  const { account, region } = spec;
  const time = spec.newest - Math.floor((n / Math.max(1, spec.events)) * spec.days * DAY_MS) - Math.floor(r() * 1000);
  const actor = actorFor(account, Math.floor(r() * spec.actors));
  const item = Math.floor(r() * spec.items);
  const param = parameterName(item - (item % 2));
  const secret = secretName(item | 1);
  const paramArn = `arn:aws:ssm:${region}:${account}:parameter${param}`;
  const secretArn = `arn:aws:secretsmanager:${region}:${account}:secret:${secret}-AbCdEf`;
  const kinds = ['GetParameter', 'GetParameters', 'GetParametersByPath', 'PutParameter', 'GetSecretValue', 'BatchGetSecretValue', 'RotateSecret', 'Decrypt'] as const;
  const kind = kinds[n % kinds.length]!;
  const base: CloudTrailRecord = {
    eventVersion: '1.08',
    userIdentity: {
      type: actor.type,
      principalId: actor.principalId,
      arn: actor.arn,
      accountId: account,
      ...(actor.sessionIssuer ? { sessionContext: { sessionIssuer: actor.sessionIssuer } } : {}),
    },
    eventTime: new Date(time).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    awsRegion: region,
    sourceIPAddress: `10.${n % 256}.${(n >> 8) % 256}.${(n * 7) % 256}`,
    userAgent: n % 4 === 0 ? 'aws-cli/2.15.0 Python/3.11' : 'aws-sdk-js/3.600.0',
    eventID: `${spec.idPrefix}${String(n).padStart(8, '0')}-${Math.floor(r() * 1e9).toString(16)}`,
    eventType: 'AwsApiCall',
    recipientAccountId: account,
    managementEvent: true,
    eventCategory: 'Management',
  };
  let record: CloudTrailRecord;
  switch (kind) {
    case 'GetParameter':
      record = { ...base, eventSource: 'ssm.amazonaws.com', eventName: kind, readOnly: true, requestParameters: { name: param, withDecryption: true }, responseElements: null };
      break;
    case 'GetParameters':
      record = {
        ...base,
        eventSource: 'ssm.amazonaws.com',
        eventName: kind,
        readOnly: true,
        requestParameters: { names: [param, parameterName((item + 2) % spec.items), paramArn], withDecryption: true },
        responseElements: null,
      };
      break;
    case 'GetParametersByPath':
      record = { ...base, eventSource: 'ssm.amazonaws.com', eventName: kind, readOnly: true, requestParameters: { path: `/app/team${item % 7}`, recursive: true, withDecryption: false } };
      break;
    case 'PutParameter':
      record = {
        ...base,
        eventSource: 'ssm.amazonaws.com',
        eventName: kind,
        readOnly: false,
        requestParameters: { name: param, type: 'SecureString', overwrite: true, keyId: 'alias/aws/ssm' },
        responseElements: { version: 1 + (n % 9), tier: 'Standard' },
      };
      break;
    case 'GetSecretValue':
      record = { ...base, eventSource: 'secretsmanager.amazonaws.com', eventName: kind, readOnly: true, requestParameters: { secretId: n % 2 ? secretArn : secret }, responseElements: null };
      break;
    case 'BatchGetSecretValue':
      record = {
        ...base,
        eventSource: 'secretsmanager.amazonaws.com',
        eventName: kind,
        readOnly: true,
        requestParameters: { secretIdList: [secret, secretName(((item + 2) | 1) % spec.items)] },
        responseElements: null,
      };
      break;
    case 'RotateSecret':
      record = { ...base, eventSource: 'secretsmanager.amazonaws.com', eventName: kind, readOnly: false, requestParameters: { secretId: secretArn, rotateImmediately: true } };
      break;
    default:
      record = {
        ...base,
        eventSource: 'kms.amazonaws.com',
        eventName: 'Decrypt',
        readOnly: true,
        userIdentity: n % 2 ? { type: 'AWSService', invokedBy: 'ssm.amazonaws.com' } : base.userIdentity,
        sourceIPAddress: n % 2 ? 'ssm.amazonaws.com' : base.sourceIPAddress,
        requestParameters: {
          encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
          encryptionContext: n % 2 ? { PARAMETER_ARN: paramArn } : { SecretARN: secretArn, SecretVersionId: randomishId(r) },
        },
        resources: [{ accountId: account, type: 'AWS::KMS::Key', ARN: `arn:aws:kms:${region}:${account}:key/1234abcd-12ab-34cd-56ef-1234567890ab` }],
      };
  }
  // Some calls are denied; some records lack fields or carry odd ones (kept, never dropped).
  if (n % 11 === 5) Object.assign(record, { errorCode: 'AccessDenied', errorMessage: `User: ${actor.arn} is not authorized to perform this operation` });
  if (n % 37 === 7) delete record.userAgent;
  if (n % 41 === 9) record.requestParameters = null;
  if (n % 43 === 11) delete record.readOnly;
  if (n % 47 === 13) record.userIdentity = { type: 'Unknown' };
  return record;
}

function randomishId(r: () => number): string {
  return `${Math.floor(r() * 0xffffffff).toString(16).padStart(8, '0')}-0000-4000-8000-${Math.floor(r() * 0xffffffff).toString(16).padStart(12, '0')}`;
}

/** The generated records of one spec, deterministic for its seed. */
export function generateRecords(spec: GenerateSpec, now: number): CloudTrailRecord[] {
  const full = {
    events: spec.events,
    items: Math.max(2, spec.items ?? 50),
    actors: Math.max(1, spec.actors ?? 10),
    account: spec.account ?? SIM_CT_ACCOUNT,
    region: spec.region ?? SIM_CT_REGION,
    days: spec.days ?? 30,
    newest: spec.newest ?? now,
    seed: spec.seed ?? 1,
    idPrefix: spec.idPrefix ?? `sim-${spec.seed ?? 1}-`,
  };
  const r = rng(full.seed);
  return Array.from({ length: spec.events }, (_, n) => generatedRecord(n, full, r));
}

// ---------------------------------------------------------------------------------------------
// The store: per account|region|eventSource, events sorted newest first (time desc, id desc).

interface StoredEvent {
  time: number;
  id: string;
  record: CloudTrailRecord;
}

function compareNewestFirst(a: StoredEvent, b: StoredEvent): number {
  return b.time - a.time || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

class EventStore {
  readonly lists = new Map<string, StoredEvent[]>();
  readonly ids = new Set<string>();
  private unsorted = new Set<string>();

  add(record: CloudTrailRecord, fallback: { account: string; region: string }): boolean {
    const id = typeof record.eventID === 'string' ? record.eventID : randomUUID();
    if (this.ids.has(id)) return false;
    const time = Date.parse(String(record.eventTime));
    if (!Number.isFinite(time)) throw new Error(`event ${id}: eventTime "${String(record.eventTime)}" is not a date`);
    const key = `${record.recipientAccountId ?? fallback.account}|${record.awsRegion ?? fallback.region}|${record.eventSource ?? ''}`;
    let list = this.lists.get(key);
    if (!list) this.lists.set(key, (list = []));
    // Kept as given when it has its id (no copy: the demo holds tens of thousands).
    list.push({ time, id, record: record.eventID === id ? record : { ...record, eventID: id } });
    this.unsorted.add(key);
    this.ids.add(id);
    return true;
  }

  /** Drops these events (by id) wherever they are; how many were held. */
  remove(ids: ReadonlySet<string>): number {
    let removed = 0;
    for (const [key, list] of this.lists) {
      const kept = list.filter((e) => !ids.has(e.id));
      if (kept.length !== list.length) this.lists.set(key, kept);
    }
    for (const id of ids) if (this.ids.delete(id)) removed++;
    return removed;
  }

  list(account: string, region: string, eventSource: string | null): StoredEvent[] {
    const prefix = `${account}|${region}|`;
    const keys = [...this.lists.keys()].filter((k) => k.startsWith(prefix) && (eventSource === null || k === prefix + eventSource));
    for (const key of keys) {
      if (this.unsorted.delete(key)) this.lists.get(key)!.sort(compareNewestFirst);
    }
    if (keys.length === 1) return this.lists.get(keys[0]!)!;
    return keys.flatMap((k) => this.lists.get(k)!).sort(compareNewestFirst);
  }

  count(filter: { account?: string; region?: string; eventSource?: string }): number {
    let n = 0;
    for (const [key, list] of this.lists) {
      const [account, region, source] = key.split('|');
      if ((filter.account ?? account) === account && (filter.region ?? region) === region && (filter.eventSource ?? source) === source) n += list.length;
    }
    return n;
  }
}

// ---------------------------------------------------------------------------------------------
// LookupEvents.

type Body = Record<string, unknown>;

function epochMs(value: unknown, what: string): number | null {
  if (value === undefined || value === null) return null;
  const ms = typeof value === 'number' ? value * 1000 : typeof value === 'string' ? Date.parse(value) : NaN;
  if (!Number.isFinite(ms)) throw new AwsFault('InvalidTimeRangeException', `${what} is not a valid time.`);
  return ms;
}

function matches(record: CloudTrailRecord, key: string, value: string): boolean {
  switch (key) {
    case 'EventId':
      return record.eventID === value;
    case 'EventName':
      return record.eventName === value;
    case 'ReadOnly':
      return String(record.readOnly ?? '') === value;
    case 'Username':
      return usernameOf(record) === value;
    case 'AccessKeyId':
      return (record.userIdentity as { accessKeyId?: string } | undefined)?.accessKeyId === value;
    case 'ResourceName':
      return (record.resources ?? []).some((r) => r.ARN === value);
    case 'ResourceType':
      return (record.resources ?? []).some((r) => r.type === value);
    default:
      return record.eventSource === value;
  }
}

function usernameOf(record: CloudTrailRecord): string | undefined {
  const identity = record.userIdentity;
  if (!identity) return undefined;
  if (identity.sessionContext?.sessionIssuer?.userName) return identity.arn?.split('/').pop();
  return identity.arn?.split('/').pop() ?? identity.invokedBy;
}

/** The API reference's Event shape. */
function toApiEvent(stored: StoredEvent): Record<string, unknown> {
  const r = stored.record;
  const event: Record<string, unknown> = {
    EventId: stored.id,
    EventTime: stored.time / 1000,
    CloudTrailEvent: JSON.stringify(r),
  };
  if (r.eventName !== undefined) event.EventName = r.eventName;
  if (r.readOnly !== undefined) event.ReadOnly = String(r.readOnly);
  const accessKeyId = (r.userIdentity as { accessKeyId?: string } | undefined)?.accessKeyId;
  if (accessKeyId) event.AccessKeyId = accessKeyId;
  if (r.eventSource !== undefined) event.EventSource = r.eventSource;
  const username = usernameOf(r);
  if (username) event.Username = username;
  event.Resources = (r.resources ?? []).map((res) => ({ ResourceType: res.type, ResourceName: res.ARN }));
  return event;
}

interface TokenBody {
  /** Parameters the token was issued for. */
  p: string;
  /** Position: the last returned event's time and id. */
  t: number;
  i: string;
  /** Token generation (expireTokens bumps it). */
  g: number;
}

export function createSimulatedCloudTrail(options: SimulatedCloudTrailOptions = {}): SimulatedCloudTrailHandler {
  const now = options.now ?? Date.now();
  const store = new EventStore();
  const fallback = { account: SIM_CT_ACCOUNT, region: SIM_CT_REGION };
  let generated = 0;
  const generate = (specs: GenerateSpec[]): number => {
    let added = 0;
    for (const spec of specs) {
      if (!(Number.isInteger(spec.events) && spec.events >= 0)) throw new Error('generate.events must be a whole number >= 0');
      const idPrefix = spec.idPrefix ?? `sim-${spec.seed ?? 1}-${generated++}-`;
      for (const record of generateRecords({ ...spec, idPrefix }, now)) if (store.add(record, fallback)) added++;
    }
    return added;
  };
  generate(options.generate ?? []);
  for (const record of options.events ?? []) store.add(record, fallback);

  const settings = {
    latencyMs: options.latencyMs ?? 30,
    ratePerSecond: options.ratePerSecond === undefined ? 2 : options.ratePerSecond,
    failAll: null as string | null,
    failNext: null as { count: number; type: string; status?: number } | null,
    tokenGeneration: 0,
    disabledRegions: new Set(options.disabledRegions ?? []),
  };
  const secret = randomUUID();
  const sign = (text: string) => createHmac('sha256', secret).update(text).digest('base64url').slice(0, 22);
  const encodeToken = (body: TokenBody) => {
    const text = Buffer.from(JSON.stringify(body)).toString('base64url');
    return `${text}.${sign(text)}`;
  };
  const decodeToken = (token: unknown, params: string): TokenBody => {
    const bad = new AwsFault('InvalidNextTokenException', 'Invalid NextToken');
    if (typeof token !== 'string') throw bad;
    const [text, mac] = token.split('.');
    if (!text || mac !== sign(text)) throw bad;
    const body = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as TokenBody;
    if (body.p !== params || body.g !== settings.tokenGeneration) throw bad;
    return body;
  };

  let counters = { calls: 0, ok: 0, throttled: 0, errors: 0, returned: 0 };
  let arrivals = new Map<string, SlidingWindow>();
  let allArrivals = new SlidingWindow();
  let accepted = new Map<string, SlidingWindow>();
  let maxAccepted = 0;
  let log: LookupCallRecord[] = [];
  const resetStats = () => {
    counters = { calls: 0, ok: 0, throttled: 0, errors: 0, returned: 0 };
    arrivals = new Map();
    allArrivals = new SlidingWindow();
    accepted = new Map();
    maxAccepted = 0;
    log = [];
  };
  const windowOf = (map: Map<string, SlidingWindow>, key: string) => {
    let w = map.get(key);
    if (!w) map.set(key, (w = new SlidingWindow()));
    return w;
  };

  const lookup = (body: Body, account: string, region: string, entry: LookupCallRecord): Body => {
    const attributes = body.LookupAttributes;
    let attribute: { key: string; value: string } | null = null;
    if (attributes !== undefined) {
      if (!Array.isArray(attributes)) throw new AwsFault('InvalidLookupAttributesException', 'LookupAttributes must be a list.');
      if (attributes.length > 1) throw new AwsFault('InvalidLookupAttributesException', 'You can specify only one lookup attribute.');
      const [first] = attributes as { AttributeKey?: unknown; AttributeValue?: unknown }[];
      if (first) {
        if (!LOOKUP_KEYS.includes(first.AttributeKey as (typeof LOOKUP_KEYS)[number]))
          throw new AwsFault('InvalidLookupAttributesException', `AttributeKey must be one of ${LOOKUP_KEYS.join(', ')}.`);
        if (typeof first.AttributeValue !== 'string' || first.AttributeValue.length === 0 || first.AttributeValue.length > 2000)
          throw new AwsFault('InvalidLookupAttributesException', 'AttributeValue must be 1 to 2000 characters.');
        attribute = { key: first.AttributeKey as string, value: first.AttributeValue };
      }
    }
    const max = body.MaxResults === undefined ? 50 : body.MaxResults;
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 50) throw new AwsFault('InvalidMaxResultsException', 'MaxResults must be from 1 to 50.');
    const start = epochMs(body.StartTime, 'StartTime');
    const end = epochMs(body.EndTime, 'EndTime');
    if (start !== null && end !== null && start > end) throw new AwsFault('InvalidTimeRangeException', 'StartTime must be before EndTime.');
    entry.attribute = attribute ? `${attribute.key}=${attribute.value}` : null;
    entry.startTime = start;
    entry.endTime = end;
    const params = JSON.stringify([attribute, start, end, max, account, region]);
    const position = body.NextToken === undefined || body.NextToken === null ? null : decodeToken(body.NextToken, params);
    entry.withToken = position !== null;

    const bySource = attribute?.key === 'EventSource' ? attribute.value : null;
    const list = store.list(account, region, bySource);
    const oldest = Date.now() - 90 * DAY_MS;
    const lower = Math.max(start ?? -Infinity, Math.min(oldest, now - 90 * DAY_MS));
    const upper = end ?? Infinity;
    // Binary search the first event at or below the upper bound (or after the token's position).
    let lo = 0;
    let hi = list.length;
    const before = (e: StoredEvent) => (position ? compareNewestFirst(e, { time: position.t, id: position.i, record: {} }) <= 0 : e.time > upper);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(list[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    const events: StoredEvent[] = [];
    let i = lo;
    for (; i < list.length && events.length < max; i++) {
      const e = list[i]!;
      if (e.time < lower) break;
      if (e.time > upper) continue;
      if (attribute && !matches(e.record, attribute.key, attribute.value)) continue;
      events.push(e);
    }
    // A token when more may follow (AWS may also return one that leads to an empty page).
    const more = events.length === max && i < list.length && list[i]!.time >= lower;
    const last = events[events.length - 1];
    entry.returned = events.length;
    return {
      Events: events.map(toApiEvent),
      ...(more && last ? { NextToken: encodeToken({ p: params, t: last.time, i: last.id, g: settings.tokenGeneration }) } : {}),
    };
  };

  const answer = (req: IncomingMessage, raw: Buffer): { status: number; body: unknown; type?: string } => {
    const at = performance.now();
    counters.calls++;
    const auth = String(req.headers.authorization ?? '');
    const scope = /^AWS4-HMAC-SHA256 Credential=([^/\s]+)\/\d{8}\/([a-z0-9-]+)\/cloudtrail\/aws4_request, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+$/.exec(auth);
    const account = scope ? (options.accessKeys?.[scope[1]!] ?? SIM_CT_ACCOUNT) : 'unknown';
    const region = scope?.[2] ?? 'unknown';
    const key = `${account}|${region}`;
    const entry: LookupCallRecord = { at: Date.now(), account, region, attribute: null, startTime: null, endTime: null, withToken: false, status: 200, returned: 0 };
    log.push(entry);
    windowOf(arrivals, key).add(at);
    allArrivals.add(at);
    const fail = (type: string, message: string, status = 400) => {
      if (type === 'ThrottlingException') counters.throttled++;
      else counters.errors++;
      entry.status = status;
      entry.error = type;
      return { status, type, body: { __type: type, message } };
    };
    if (!scope || !req.headers['x-amz-date']) return fail('MissingAuthenticationTokenException', 'Request is missing Authentication Token', 403);
    const target = String(req.headers['x-amz-target'] ?? '');
    if (!SIM_CT_TARGETS.includes(target)) return fail('UnknownOperationException', `The simulator does not implement ${target || '(no X-Amz-Target)'}.`);
    // An opt-in region the account has not enabled does not know its credentials at all.
    if (settings.disabledRegions.has(region) || settings.disabledRegions.has(`${account}:${region}`))
      return fail('UnrecognizedClientException', 'The security token included in the request is invalid.');

    const window = windowOf(accepted, key);
    if (settings.ratePerSecond !== null && window.inWindow(at) >= settings.ratePerSecond) return fail('ThrottlingException', 'Rate exceeded');
    window.add(at);
    maxAccepted = Math.max(maxAccepted, window.max);

    if (settings.failNext && settings.failNext.count > 0) {
      settings.failNext.count--;
      const { type, status } = settings.failNext;
      if (settings.failNext.count === 0) settings.failNext = null;
      return fail(type, `Simulated failure ${type}`, status ?? (type.startsWith('Internal') || type === 'ServiceUnavailable' ? 500 : 400));
    }
    if (settings.failAll) return fail(settings.failAll, `Simulated failure ${settings.failAll}`, settings.failAll.startsWith('Internal') ? 500 : 400);
    const body = parseJsonObject(raw);
    if (!body) return fail('SerializationException', 'Start of structure or map found where not expected.');
    try {
      const out = lookup(body, account, region, entry);
      counters.ok++;
      counters.returned += entry.returned;
      return { status: 200, body: out };
    } catch (error) {
      if (error instanceof AwsFault) return fail(error.type, error.message, error.status);
      return fail('InternalFailure', `Simulator bug: ${(error as Error).message}`, 500);
    }
  };

  const control = (cmd: CloudTrailControlCommand) => {
    if (!cmd || typeof cmd !== 'object') throw new Error('a control command is a JSON object');
    const known = ['addEvents', 'generate', 'failNext', 'failAll', 'latencyMs', 'ratePerSecond', 'expireTokens', 'forgetEvents', 'disabledRegions', 'resetStats'];
    const unknown = Object.keys(cmd).filter((k) => !known.includes(k));
    if (unknown.length > 0) throw new Error(`unknown control field(s): ${unknown.join(', ')}`);
    if (cmd.latencyMs !== undefined && !(typeof cmd.latencyMs === 'number' && cmd.latencyMs >= 0)) throw new Error('latencyMs must be a number >= 0');
    if (cmd.ratePerSecond !== undefined && cmd.ratePerSecond !== null && !(typeof cmd.ratePerSecond === 'number' && cmd.ratePerSecond > 0))
      throw new Error('ratePerSecond must be a number > 0 or null');
    if (cmd.addEvents !== undefined && !Array.isArray(cmd.addEvents)) throw new Error('addEvents is a list of CloudTrail records');
    if (cmd.forgetEvents !== undefined && !Array.isArray(cmd.forgetEvents)) throw new Error('forgetEvents is a list of event ids');
    if (cmd.disabledRegions !== undefined && !(Array.isArray(cmd.disabledRegions) && cmd.disabledRegions.every((r) => typeof r === 'string')))
      throw new Error('disabledRegions is a list of regions or "<account>:<region>"');
    if (cmd.forgetEvents?.length) store.remove(new Set(cmd.forgetEvents));
    if (cmd.disabledRegions !== undefined) settings.disabledRegions = new Set(cmd.disabledRegions);
    let added = 0;
    for (const record of cmd.addEvents ?? []) if (store.add(record, fallback)) added++;
    added += generate(cmd.generate ?? []);
    if (cmd.failNext !== undefined) settings.failNext = cmd.failNext;
    if (cmd.failAll !== undefined) settings.failAll = cmd.failAll;
    if (cmd.latencyMs !== undefined) settings.latencyMs = cmd.latencyMs;
    if (cmd.ratePerSecond !== undefined) settings.ratePerSecond = cmd.ratePerSecond;
    if (cmd.expireTokens) settings.tokenGeneration++;
    if (cmd.resetStats) resetStats();
    return { events: store.ids.size, added };
  };

  const stats = (): CloudTrailSimStats => ({
    ...counters,
    maxCallsPerSecond: allArrivals.max,
    maxCallsPerSecondByAccountRegion: Object.fromEntries([...arrivals].map(([k, w]) => [k, w.max])),
    maxAcceptedPerSecond: maxAccepted,
    events: store.ids.size,
    log: [...log],
  });

  const pending = new Set<NodeJS.Timeout>();
  const self: SimulatedCloudTrailHandler & Controllable<CloudTrailControlCommand> = {
    handle: (req, res, raw) => answerJsonAfter(req, res, settings.latencyMs, pending, () => answer(req, raw)),
    handleControl: (req, res, path, raw) => answerControl(req, res, path, raw, self),
    health: () => ({ events: store.ids.size }),
    stats,
    resetStats,
    control,
    count: (filter = {}) => store.count(filter),
    close: () => cancelAll(pending),
  };
  return self;
}

/** The simulated CloudTrail on a server of its own, with its control endpoints under /__. */
export async function startSimulatedCloudTrail(options: SimulatedCloudTrailOptions = {}): Promise<SimulatedCloudTrail> {
  return serveAlone(createSimulatedCloudTrail(options), options.port, options.host);
}
