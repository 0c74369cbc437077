import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { AwsFault } from './aws-fault';
import { LAMBDA_ARN, nextRotation, rotatedValue, validateRotationRules, type RotationRules } from './secret-rotation';

export type { RotationRules } from './secret-rotation';
import { afterLatency, answerControl, CallCounters, cancelAll, parseJsonObject, sendAwsJson, sendJson, serveAlone, TokenBucket, zodMessage, type JsonAnswer, type Standalone } from './sim-http';
import { seededRandom } from '../lib/random/seeded-random';

// The simulated AWS Parameter Store and Secrets Manager of one account in one region, over the AWS
// JSON 1.1 protocol (see README.md). The data set is kept compactly so that a million generated items
// cost little: a sorted array of names and a Map from name to an ordinal, every other field derived
// from a hash of the name when asked. An item given explicitly or written is kept whole (values
// included: in memory only, never logged, never in a SimCall).
//
// The endpoint's path is a scope: /fail/<access-denied|throttled|not-found|expired-token|timeout>
// fails every call that way (timeout: never answered); any other path serves as usual and is
// recorded with the call (e.g. /writes, /probe).

/** What every value-carrying field holds (Value, SecretString). */
export const SIM_VALUE_SENTINEL = 'SIM-AWS-VALUE-SENTINEL';
export const SIM_ACCOUNT = '123456789012';
export const SIM_REGION = 'us-east-1';

export type SimService = 'ssm' | 'secretsmanager';

export interface QuotaGroup {
  /** The key used in `quotas` overrides, stats and the control endpoint. */
  group: string;
  service: SimService;
  operations: readonly string[];
  /** Sustained requests per second; the bucket holds as many (burst = rate). */
  ratePerSecond: number;
}

/**
 * AWS's default per-account, per-region request quotas that the simulator enforces. Operations not
 * listed here are not limited.
 */
export const DEFAULT_QUOTAS: readonly QuotaGroup[] = Object.freeze([
  { group: 'ssm:DescribeParameters', service: 'ssm', operations: ['DescribeParameters'], ratePerSecond: 10 },
  {
    group: 'ssm:GetParameter+GetParameters+GetParametersByPath',
    service: 'ssm',
    operations: ['GetParameter', 'GetParameters', 'GetParametersByPath'],
    ratePerSecond: 40,
  },
  { group: 'ssm:GetParameterHistory', service: 'ssm', operations: ['GetParameterHistory'], ratePerSecond: 10 },
  { group: 'ssm:ListTagsForResource', service: 'ssm', operations: ['ListTagsForResource'], ratePerSecond: 10 },
  { group: 'secretsmanager:ListSecrets', service: 'secretsmanager', operations: ['ListSecrets'], ratePerSecond: 100 },
  { group: 'secretsmanager:DescribeSecret', service: 'secretsmanager', operations: ['DescribeSecret'], ratePerSecond: 40_000 },
  { group: 'secretsmanager:GetSecretValue', service: 'secretsmanager', operations: ['GetSecretValue'], ratePerSecond: 10_000 },
  { group: 'secretsmanager:ListSecretVersionIds', service: 'secretsmanager', operations: ['ListSecretVersionIds'], ratePerSecond: 50 },
  { group: 'ssm:PutParameter', service: 'ssm', operations: ['PutParameter'], ratePerSecond: 3 },
  {
    group: 'secretsmanager:PutSecretValue+RotateSecret+UpdateSecretVersionStage',
    service: 'secretsmanager',
    operations: ['PutSecretValue', 'RotateSecret', 'UpdateSecretVersionStage'],
    ratePerSecond: 50,
  },
  { group: 'secretsmanager:CancelRotateSecret', service: 'secretsmanager', operations: ['CancelRotateSecret'], ratePerSecond: 50 },
  { group: 'secretsmanager:GetResourcePolicy', service: 'secretsmanager', operations: ['GetResourcePolicy'], ratePerSecond: 50 },
] as const);

export const DEFAULT_LATENCY_MS = 30;
/** How many names one listing call examines at most before it answers with what it has and a NextToken. */
export const DEFAULT_SCAN_WINDOW = 1000;

// ---------------------------------------------------------------------------------------------
// Types of the options.

export interface Tag {
  Key: string;
  Value: string;
}

/**
 * A generated set. Parameter Store patterns: `hierarchy` (names /scale/team{t}/svc{s}/key{k}),
 * `hierarchy:<root>` (/<root>/team…), `flat:<folder>` (/<folder>/item-000001 …).
 * Secrets Manager patterns: `hierarchy` (scale/team{t}/svc{s}/secret{k}, every 50th with a leading
 * slash), `hierarchy:<root>`, `flat:<folder>` (<folder>/secret-000001 …).
 */
export interface ItemSet {
  pattern: string;
  count: number;
}

const PARAMETER_TYPES = ['String', 'StringList', 'SecureString'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];
/** Dates of an input: epoch seconds or ISO text (parseDate reads them). */
const inputDate = z.union([z.number(), z.string()]);
const tagList = z.array(z.object({ Key: z.string(), Value: z.string() }));

/** An explicit parameter; every field but Name defaults to the generated one. */
const parameterInput = z.object({
  Name: z
    .string()
    .regex(/^[a-zA-Z0-9_.\-/]{1,2048}$/, 'letters, digits and . - _ /')
    .refine((name) => !name.includes('/') || name.startsWith('/'), 'a hierarchical parameter name begins with "/"'),
  /** The current value (default SIM_VALUE_SENTINEL); kept in memory only, never logged. */
  Value: z.string().min(1).optional(),
  /** Older versions, any order, each with its value (default the sentinel); the current one is Version/LastModifiedDate. */
  History: z
    .array(
      z.object({
        Version: z.number().int().min(1),
        LastModifiedDate: inputDate,
        LastModifiedUser: z.string().optional(),
        Labels: z.array(z.string()).optional(),
        Value: z.string().optional(),
        /** This version's own description (null: none) and tier, where they differ from the current one's. */
        Description: z.string().nullable().optional(),
        Tier: z.enum(['Standard', 'Advanced', 'Intelligent-Tiering']).optional(),
      }),
    )
    .refine((history) => new Set(history.map((h) => h.Version)).size === history.length, 'History versions are distinct')
    .optional(),
  /** Labels, policies (Advanced tier, as DescribeParameters shows them) and allowed pattern of the current version. */
  Labels: z.array(z.string()).optional(),
  Policies: z.array(z.object({ PolicyText: z.string(), PolicyType: z.string(), PolicyStatus: z.string() })).optional(),
  AllowedPattern: z.string().optional(),
  Type: z.enum(PARAMETER_TYPES).optional(),
  /** null: no description (undefined: a generated one, for about a third of the items). */
  Description: z.string().nullable().optional(),
  KeyId: z.string().optional(),
  Version: z.number().int().min(1).optional(),
  LastModifiedDate: inputDate.optional(),
  LastModifiedUser: z.string().optional(),
  Tier: z.enum(['Standard', 'Advanced', 'Intelligent-Tiering']).optional(),
  DataType: z.string().optional(),
  Tags: tagList.optional(),
});
export type ParameterInput = z.input<typeof parameterInput>;

/** An explicit secret; every field but Name defaults to the generated one. */
const secretInput = z.object({
  Name: z.string().regex(/^[a-zA-Z0-9/_+=.@-]{1,512}$/, 'letters, digits and / _ + = . @ -'),
  /** null: no description, or the account's default key (undefined: a generated one, for some items). */
  Description: z.string().nullable().optional(),
  KmsKeyId: z.string().nullable().optional(),
  /** true: rotation every 30 days (or RotationDays); false: none. */
  RotationEnabled: z.boolean().optional(),
  RotationDays: z.number().int().min(1).optional(),
  LastChangedDate: inputDate.optional(),
  LastAccessedDate: inputDate.nullable().optional(),
  CreatedDate: inputDate.optional(),
  /** Scheduled for deletion at this date (listed only with IncludePlannedDeletion). */
  DeletedDate: inputDate.nullable().optional(),
  /** How many versions: the newest is AWSCURRENT, the one before AWSPREVIOUS. */
  VersionCount: z.number().int().min(1).max(20).optional(),
  Tags: tagList.optional(),
  /** The current value (default SIM_VALUE_SENTINEL); kept in memory only, never logged. */
  SecretString: z.string().optional(),
  /** The rotation function (default a generated one) and the schedule as RotateSecret takes it (instead of RotationDays). */
  RotationLambdaARN: z.string().regex(LAMBDA_ARN, 'a Lambda function ARN').optional(),
  RotationRules: z
    .custom<RotationRules>()
    .superRefine((rules, ctx) => {
      try {
        validateRotationRules(rules);
      } catch (error) {
        ctx.addIssue({ code: 'custom', message: (error as Error).message });
      }
    })
    .optional(),
  LastRotatedDate: inputDate.optional(),
  /** Every rotation of it fails in the rotation function: AWSPENDING left behind, AWSCURRENT unchanged, as on AWS. */
  RotationFails: z.boolean().optional(),
  /** An AWSPENDING version already left behind at this date (a rotation that failed before the simulator started). */
  PendingSince: inputDate.optional(),
  /** JSON text, for GetResourcePolicy. */
  ResourcePolicy: z
    .string()
    .refine((text) => {
      try {
        return JSON.parse(text) !== undefined;
      } catch {
        return false;
      }
    }, 'JSON text')
    .optional(),
  /** The versions, oldest first (instead of VersionCount's generated ones); SecretString defaults to the sentinel. */
  Versions: z
    .array(z.object({ VersionId: z.string().min(1), CreatedDate: inputDate, Stages: z.array(z.string()), SecretString: z.string().optional() }))
    .min(1)
    .refine((v) => new Set(v.map((x) => x.VersionId)).size === v.length && v.filter((x) => x.Stages.includes('AWSCURRENT')).length === 1, 'distinct VersionIds, exactly one with AWSCURRENT')
    .optional(),
  /** Replicas, as DescribeSecret shows them in ReplicationStatus. */
  ReplicationStatus: z
    .array(z.object({ Region: z.string(), Status: z.enum(['InSync', 'Failed', 'InProgress']), StatusMessage: z.string().optional(), KmsKeyId: z.string().optional(), LastAccessedDate: inputDate.optional() }))
    .optional(),
});
export type SecretInput = z.input<typeof secretInput>;

/** An explicit item checked as it loads, its name in the message. */
function checked<T>(schema: z.ZodType<T>, what: string, item: unknown): T {
  const result = schema.safeParse(item);
  if (!result.success) throw new Error(`${what} ${JSON.stringify((item as { Name?: unknown } | null)?.Name)}: ${zodMessage(result.error)}`);
  return result.data;
}

/** Names to fail: a list, every Nth generated/added item (by ordinal), a predicate, or none. */
export type DenySpec = readonly string[] | { every: number } | ((name: string) => boolean) | null;

export type QuotaOverrides = Record<string, number | null>;

/** One AWS call as the simulator answered it, for a call hook (CloudTrail recording). Never a value. */
export interface SimCall {
  service: SimService;
  /** e.g. 'GetSecretValue'; for service events (eventType 'AwsServiceEvent') e.g. 'RotationSucceeded'. */
  operation: string;
  /** Epoch ms. */
  at: number;
  /** From the SigV4 Authorization header (null: unsigned, or a service event). */
  accessKeyId: string | null;
  userAgent: string | null;
  /** Request parameters as CloudTrail records them (lower-camel keys; never a value: no Value, SecretString, SecretBinary). */
  requestParameters: Record<string, unknown>;
  /** Item ARNs the call touched, for CloudTrail's resources. */
  resources: { type: 'AWS::SSM::Parameter' | 'AWS::SecretsManager::Secret'; arn: string }[];
  readOnly: boolean;
  errorCode?: string;
  errorMessage?: string;
  /** 'AwsApiCall' (default, absent) or 'AwsServiceEvent' (what the rotation function reports: RotationSucceeded, RotationFailed). */
  eventType?: 'AwsApiCall' | 'AwsServiceEvent';
  /** The endpoint path's scope ('ok', 'writes', 'fail/access-denied', …). */
  scope?: string;
}

/** One recorded call (GET /__calls), when recording is on. */
export interface SimRecordedCall {
  seq: number;
  /** 'ok' for /, else the path without slashes ('writes', 'probe', 'fail/throttled'). */
  scope: string;
  service: SimService | 'unknown';
  operation: string;
  /** Name, SecretId or ResourceId of the request, when it has one. */
  name: string | null;
  withDecryption: boolean;
  signed: boolean;
  /** The AWS error type it was answered with (null: answered without error, or not yet). */
  error: string | null;
}

/** What GET /__values answers (tests only): the current value and every version, oldest first. */
export interface StoredValues {
  current: string | null;
  versions: { id: string | number; value: string | null; stages?: string[]; labels?: string[] }[];
}

export interface SimulatedAwsOptions {
  /** The account in every ARN and message (default SIM_ACCOUNT). */
  account?: string;
  /** The region in every ARN (default SIM_REGION). */
  region?: string;
  /** Called after every AWS call is answered (not control calls), and for rotation service events. */
  onCall?: (call: SimCall) => void;
  /** Record calls for GET /__calls (default false, so benchmarks stay lean). */
  recordCalls?: boolean;
  /** How long the simulated rotation function takes (default 1500 ms). */
  rotationDelayMs?: number;
  /** When set, every GetParameterHistory entry carries this as its Value (a sentinel proving a reader drops it). */
  historyValue?: string;
  /** Who each access key is (CloudTrail's principal), for LastModifiedUser of writes. */
  principals?: Record<string, string>;
  /** The author of writes made with a key not in `principals` (default arn:aws:sts::<account>:assumed-role/dashboard-write/secrets-dashboard). */
  writerArn?: string;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  ssm?: ItemSet[];
  extraParameters?: ParameterInput[];
  secretsmanager?: ItemSet[];
  extraSecrets?: SecretInput[];
  /** Fixed delay before every AWS answer (default 30). */
  latencyMs?: number;
  /** Per group (or per `service:Operation`): requests per second, null = unlimited. */
  quotas?: QuotaOverrides;
  /** ListTagsForResource answers AccessDeniedException for these parameters. */
  denyTags?: DenySpec;
  /** GetParameterHistory answers AccessDeniedException (kms:Decrypt) for these parameters. */
  denyHistory?: DenySpec;
  /** DescribeParameters answers AccessDeniedException for any call that could list a parameter under these prefixes. */
  denyDescribePrefixes?: readonly string[] | null;
  /** Every AWS call fails with this error type (e.g. AccessDeniedException); null = healthy. */
  failAll?: string | null;
  /** Names a listing call examines at most before answering (short pages); default 1000. */
  scanWindow?: number;
  /** The "now" the generated dates are relative to (epoch ms); default the start time. */
  now?: number;
  /** Seed of the generated fields (default 1). */
  seed?: number;
}

const DENY_COMMAND = z.union([z.array(z.string()), z.object({ every: z.number().int().min(1) }).strict(), z.null()]);
const MS = z.number().min(0).max(600_000);
/** A control command (items are checked one by one as they are added; quota names by applyQuotas; deny predicates only through the options). */
const CONTROL_COMMAND = z
  .object({
    addParameters: z.array(z.custom<ParameterInput>()),
    deleteParameters: z.array(z.string()),
    addSecrets: z.array(z.custom<SecretInput>()),
    deleteSecrets: z.array(z.string()),
    failAll: z
      .string()
      .regex(/^[A-Za-z]+$/, 'an error type such as AccessDeniedException')
      .nullable(),
    latencyMs: MS,
    rotationDelayMs: MS,
    quotas: z.record(z.string(), z.number().min(0).nullable()),
    denyTags: DENY_COMMAND,
    denyHistory: DENY_COMMAND,
    denyDescribePrefixes: z.array(z.string().min(1)).nullable(),
    scanWindow: z.number().int().min(1),
    resetStats: z.boolean(),
    recordCalls: z.boolean(),
    /** Forget the recorded calls. */
    clearCalls: z.boolean(),
  })
  .partial()
  .strict();
export type ControlCommand = z.input<typeof CONTROL_COMMAND>;

export interface ControlResult {
  parameters: number;
  secrets: number;
  added: number;
  deleted: number;
  /** Names asked to be deleted that did not exist. */
  notFound: string[];
}

/** The calls by operation (keyed `ssm:DescribeParameters`, `secretsmanager:ListSecrets`, …), the settings and the data's size. */
export interface SimStats extends ReturnType<CallCounters['stats']> {
  quotas: { group: string; ratePerSecond: number | null }[];
  latencyMs: number;
  failAll: string | null;
  parameters: number;
  secrets: number;
}

/** The simulator without a server of its own, for a gateway that routes requests to it. */
export interface SimulatedAwsHandler {
  readonly account: string;
  readonly region: string;
  /** Answers one AWS JSON 1.1 request whose body was already read (latency applied inside). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  /** Answers a plain-JSON control request (/__health, /__stats, /__control, /__calls, /__values, /__reset); false if the path is none of them. */
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  stats(): SimStats;
  resetStats(): void;
  control(cmd: ControlCommand): ControlResult;
  /** Recorded calls (only with recordCalls). */
  calls(): SimRecordedCall[];
  /** An item's stored values (tests only), or null if there is no such item. */
  values(service: SimService, name: string): StoredValues | null;
  /** Back to the initial data set, quotas full, rotations in flight dropped (recorded calls are kept). */
  reset(): void;
  /** Cancels pending answers and rotations, and drops requests left hanging. */
  close(): void;
}

export type SimulatedAws = Standalone<SimulatedAwsHandler>;

// ---------------------------------------------------------------------------------------------
// Deterministic pseudo-random fields.

const DAY = 86_400;
const EIGHTEEN_MONTHS_DAYS = 548;

function hashString(s: string, seed: number): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

const rng = seededRandom;

function pick<T>(list: readonly T[], r: number): T {
  return list[Math.min(list.length - 1, Math.floor(r * list.length))]!;
}

const ms3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/** Who generated items name as their authors, in this account. */
function usersOf(account: string): string[] {
  return [
    `arn:aws:iam::${account}:user/alice`,
    `arn:aws:iam::${account}:user/bob`,
    `arn:aws:iam::${account}:user/carol`,
    `arn:aws:iam::${account}:user/dave`,
    `arn:aws:iam::${account}:role/terraform`,
    `arn:aws:sts::${account}:assumed-role/deploy/ci`,
  ];
}
const OWNERS = ['alice', 'bob', 'carol', 'dave', 'platform', 'security'];
const ENVS = ['prod', 'staging', 'dev'];
function cmksOf(account: string, region: string): string[] {
  return [1, 2, 3].map((n) => `arn:aws:kms:${region}:${account}:key/1f2e3d4c-0000-4000-8000-sim00000000${n}`);
}
const DESCRIPTIONS: readonly ((svc: string) => string)[] = [
  (s) => `Stripe API key for ${s}`,
  (s) => `Database password for the ${s} service`,
  (s) => `OAuth token used by ${s}`,
  (s) => `Connection string for the ${s} database`,
  (s) => `Webhook signing secret (stripe) for ${s}`,
  (s) => `Feature flag configuration for ${s}`,
  (s) => `Service token for ${s} to call the billing API`,
  (s) => `Read-only database replica host for ${s}`,
];
const ARN_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'.split('');

function segments(name: string): string[] {
  return name.split('/').filter((s) => s !== '');
}

function tagsFor(name: string, count: number, r: () => number): Tag[] {
  const segs = segments(name);
  const team = segs.find((s) => /^team\d+$/.test(s)) ?? segs[0] ?? 'root';
  const all: Tag[] = [
    { Key: 'team', Value: team },
    { Key: 'env', Value: pick(ENVS, r()) },
    { Key: 'owner', Value: pick(OWNERS, r()) },
  ];
  return all.slice(0, count);
}

function hexId(r: () => number): string {
  const word = () => Math.floor(r() * 0x100000000).toString(16).padStart(8, '0');
  const a = word();
  const b = word();
  const c = word();
  const d = word();
  return `${a}-${b.slice(0, 4)}-4${b.slice(5, 8)}-8${c.slice(1, 4)}-${c.slice(4, 8)}${d}`;
}

function parseDate(value: number | string | undefined | null, what: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'string') {
    const ms = Date.parse(value);
    if (Number.isFinite(ms)) return ms / 1000;
  }
  throw new Error(`${what} must be epoch seconds or an ISO date`);
}

/** An input's date: null says there is none, undefined leaves the generated one. */
function givenDate(value: number | string | null | undefined, what: string, generated: number | undefined): number | undefined {
  return value === null ? undefined : value === undefined ? generated : parseDate(value, what);
}

// ---------------------------------------------------------------------------------------------
// Sorted name index.

class SortedNames {
  names: string[] = [];

  get length(): number {
    return this.names.length;
  }

  /** First index whose name is >= key. */
  lowerBound(key: string): number {
    let lo = 0;
    let hi = this.names.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.names[mid]! < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** First index whose name is > key. */
  upperBound(key: string): number {
    const i = this.lowerBound(key);
    return this.names[i] === key ? i + 1 : i;
  }

  /** One past the last name that starts with prefix. */
  prefixEnd(prefix: string): number {
    if (prefix === '') return this.names.length;
    const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
    return this.lowerBound(next);
  }

  insert(name: string): void {
    const i = this.lowerBound(name);
    if (this.names[i] !== name) this.names.splice(i, 0, name);
  }

  remove(name: string): boolean {
    const i = this.lowerBound(name);
    if (this.names[i] !== name) return false;
    this.names.splice(i, 1);
    return true;
  }

  load(names: string[]): void {
    this.names = names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
}

/** What a listing scan does with one name: include, skip, or jump to an index past it. */
type ScanTest = (name: string) => boolean | number;

interface ScanResult {
  names: string[];
  /** The last name examined when the scan stopped early; resume after it. */
  resumeAfter?: string;
}

/**
 * Walk names[start..end) ascending (or descending), collecting up to `max` matches, examining at
 * most `window` names; stops early like AWS listings do (fewer than MaxResults with a NextToken).
 */
function runScan(index: SortedNames, start: number, end: number, test: ScanTest, max: number, window: number, desc = false): ScanResult {
  const names = index.names;
  const hits: string[] = [];
  let examined = 0;
  if (!desc) {
    let i = start;
    while (i < end) {
      if (hits.length >= max) return { names: hits, resumeAfter: names[i - 1]! };
      if (examined >= window) return { names: hits, resumeAfter: names[i - 1]! };
      const name = names[i]!;
      examined++;
      const verdict = test(name);
      if (verdict === true) {
        hits.push(name);
        i++;
      } else if (verdict === false) i++;
      else i = Math.max(i + 1, verdict);
    }
    return { names: hits };
  }
  let i = end - 1;
  while (i >= start) {
    if (hits.length >= max || examined >= window) return { names: hits, resumeAfter: names[i + 1]! };
    const name = names[i]!;
    examined++;
    const verdict = test(name);
    if (verdict === true) hits.push(name);
    i = typeof verdict === 'number' ? Math.min(i - 1, verdict) : i - 1;
  }
  return { names: hits };
}

// ---------------------------------------------------------------------------------------------
// The protocol's errors and tokens.

const validation = (value: unknown, member: string, constraint: string) =>
  new AwsFault('ValidationException', `1 validation error detected: Value '${String(value)}' at '${member}' failed to satisfy constraint: ${constraint}`);

function maxResults(body: Body, member: string, min: number, max: number, fallback: number): number {
  const v = body.MaxResults;
  if (v === undefined || v === null) return fallback;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new AwsFault('SerializationException', `${member} must be an integer`);
  if (v < min) throw validation(v, member, `Member must have value greater than or equal to ${min}`);
  if (v > max) throw validation(v, member, `Member must have value less than or equal to ${max}`);
  return v;
}

type TokenKind = 'scan' | 'offset';

function encodeToken(kind: TokenKind, value: string | number): string {
  return `AAEAA${Buffer.from(JSON.stringify({ k: kind, v: value }), 'utf8').toString('base64url')}`;
}

function decodeToken(token: unknown, kind: 'scan', service: SimService): string | undefined;
function decodeToken(token: unknown, kind: 'offset', service: SimService): number | undefined;
function decodeToken(token: unknown, kind: TokenKind, service: SimService): string | number | undefined {
  if (token === undefined || token === null || token === '') return undefined;
  const bad = () =>
    service === 'ssm'
      ? new AwsFault('InvalidNextToken', 'The specified token isn\'t valid.')
      : new AwsFault('InvalidNextTokenException', 'The specified token isn\'t valid.');
  if (typeof token !== 'string' || !token.startsWith('AAEAA')) throw bad();
  try {
    const parsed = JSON.parse(Buffer.from(token.slice(5), 'base64url').toString('utf8')) as { k?: unknown; v?: unknown };
    if (parsed.k !== kind) throw bad();
    if (kind === 'scan' && typeof parsed.v === 'string') return parsed.v;
    if (kind === 'offset' && typeof parsed.v === 'number' && Number.isInteger(parsed.v) && parsed.v >= 0) return parsed.v;
  } catch {
    throw bad();
  }
  throw bad();
}

type Body = Record<string, unknown>;

/** Who makes a call, and when (epoch seconds): writes record them. */
interface Caller {
  principal: string;
  now: number;
}

/** A string field of the body, or undefined; a present non-string is the SerializationException AWS sends. */
function optionalString(body: Body, field: string): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new AwsFault('SerializationException', `${field} must be a string.`);
  return value;
}

/** A required string field; Parameter Store says ValidationException, Secrets Manager InvalidParameterException. */
function requiredString(body: Body, field: string, faultType = 'ValidationException'): string {
  const value = optionalString(body, field);
  if (value === undefined)
    throw new AwsFault(faultType, `1 validation error detected: Value null at '${field[0]!.toLowerCase()}${field.slice(1)}' failed to satisfy constraint: Member must not be null`);
  return value;
}

/** PutParameter's Policies (a JSON array of policies) as GetParameterHistory shows them. */
function parsePolicies(text: string | undefined): ParameterPolicy[] | undefined {
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new AwsFault('InvalidPolicyTypeException', 'The policy is not valid JSON.');
  }
  if (!Array.isArray(parsed)) throw new AwsFault('InvalidPolicyTypeException', 'Policies must be a JSON array.');
  return parsed.map((policy: { Type?: unknown }) => {
    if (!['Expiration', 'ExpirationNotification', 'NoChangeNotification'].includes(String(policy?.Type)))
      throw new AwsFault('InvalidPolicyTypeException', `The policy type ${String(policy?.Type)} is not supported.`);
    return { PolicyText: JSON.stringify(policy), PolicyType: String(policy.Type), PolicyStatus: 'Pending' };
  });
}

// ---------------------------------------------------------------------------------------------
// The data.

export interface ParameterPolicy {
  PolicyText: string;
  PolicyType: string;
  PolicyStatus: string;
}

/** One version of a parameter kept whole, with the attributes it was written with. */
interface ParamVersionRecord {
  version: number;
  date: number;
  user: string;
  labels: string[];
  /** undefined: the sentinel (values are kept only for items written or given one). */
  value?: string;
  type: ParameterType;
  keyId?: string;
  description?: string;
  tier: string;
  dataType: string;
  allowedPattern?: string;
  policies: ParameterPolicy[];
}

/** A parameter kept whole (given explicitly, or written): oldest version first. */
interface MaterialParameter {
  ordinal: number;
  tags: Tag[];
  versions: ParamVersionRecord[];
}
/** A generated parameter is only its ordinal: its fields are derived from a hash of its name when asked. */
type ParamRecord = number | MaterialParameter;

interface ParamMeta {
  name: string;
  type: ParameterType;
  version: number;
  lastModified: number;
  created: number;
  user: string;
  description?: string;
  keyId?: string;
  tier: string;
  dataType: string;
  tags: Tag[];
  hash: number;
  ordinal: number;
  material?: MaterialParameter;
  allowedPattern?: string;
  policies?: ParameterPolicy[];
}

interface SecretVersion {
  id: string;
  created: number;
  stages: string[];
  /** undefined (and no binary): the sentinel. */
  value?: string;
  /** Base64, as the JSON protocol carries blobs. */
  binary?: string;
}

interface SecretRotation {
  enabled: boolean;
  lambda?: string;
  rules?: RotationRules;
  lastRotated?: number;
  next?: number;
}

/** A secret whole: derived from its name when asked, and kept once given explicitly or written. */
interface MaterialSecret {
  ordinal: number;
  description?: string;
  kmsKeyId?: string;
  tags: Tag[];
  created: number;
  lastChanged: number;
  lastAccessed?: number;
  deleted?: number;
  rotation: SecretRotation & {
    /** The simulated rotation function fails every rotation. */
    fails: boolean;
    /** The ClientRequestToken of the rotation the function is running now (CancelRotateSecret stops it). */
    running?: string;
  };
  /** Oldest first. */
  versions: SecretVersion[];
  resourcePolicy?: string;
  replication?: { Region: string; Status: string; StatusMessage?: string; KmsKeyId: string; LastAccessedDate?: number }[];
}
/** A generated secret is only its ordinal, as a generated parameter. */
type SecretRecord = number | MaterialSecret;

/** A secret as the operations read it: whole, named, and the record kept for it (none for a generated one). */
interface SecretMeta extends MaterialSecret {
  name: string;
  arn: string;
  material?: MaterialSecret;
}

interface Shape {
  teams: number;
  svcs: number;
  perFolder: number;
}

/** Teams × services × keys for a hierarchy of `count` items, leaf folders of ~100–200 items. */
function hierarchyShape(count: number): Shape {
  const leaves = Math.max(1, Math.round(count / 150));
  const teams = Math.max(1, Math.min(20, Math.round(Math.sqrt(leaves))));
  const svcs = Math.max(1, Math.ceil(leaves / teams));
  const perFolder = Math.max(1, Math.ceil(count / (teams * svcs)));
  return { teams, svcs, perFolder };
}

function parseSetPattern(pattern: string): { kind: 'hierarchy'; root: string } | { kind: 'flat'; folder: string } {
  if (pattern === 'hierarchy') return { kind: 'hierarchy', root: 'scale' };
  if (pattern.startsWith('hierarchy:')) return { kind: 'hierarchy', root: pattern.slice('hierarchy:'.length).replace(/^\/+|\/+$/g, '') };
  if (pattern.startsWith('flat:')) return { kind: 'flat', folder: pattern.slice('flat:'.length).replace(/^\/+|\/+$/g, '') };
  throw new Error(`unknown set pattern "${pattern}" (use hierarchy, hierarchy:<root> or flat:<folder>)`);
}

function* setNames(set: ItemSet, service: SimService): Generator<string> {
  if (!Number.isInteger(set.count) || set.count < 0) throw new Error(`set count must be a non-negative integer, not ${set.count}`);
  const p = parseSetPattern(set.pattern);
  if (p.kind === 'flat') {
    if (p.folder === '') throw new Error('flat:<folder> needs a folder');
    for (let i = 1; i <= set.count; i++) {
      const n = String(i).padStart(6, '0');
      yield service === 'ssm' ? `/${p.folder}/item-${n}` : `${p.folder}/secret-${n}`;
    }
    return;
  }
  const { svcs, perFolder } = hierarchyShape(set.count);
  for (let i = 0; i < set.count; i++) {
    const t = Math.floor(i / (svcs * perFolder)) + 1;
    const s = (Math.floor(i / perFolder) % svcs) + 1;
    const k = (i % perFolder) + 1;
    if (service === 'ssm') yield `/${p.root}/team${t}/svc${s}/key${k}`;
    else yield `${i % 50 === 49 ? '/' : ''}${p.root}/team${t}/svc${s}/secret${k}`;
  }
}

const checkParameterInput = (item: unknown) => checked(parameterInput, 'parameter', item);
const checkSecretInput = (item: unknown) => checked(secretInput, 'secret', item);

function compileDeny(spec: DenySpec | undefined): ((name: string, ordinal: number) => boolean) | null {
  if (spec === undefined || spec === null) return null;
  if (typeof spec === 'function') return (name) => spec(name);
  if (Array.isArray(spec)) {
    const set = new Set<string>(spec as readonly string[]);
    return (name) => set.has(name);
  }
  const every = (spec as { every: number }).every;
  if (!Number.isInteger(every) || every < 1) throw new Error('deny { every } must be a positive integer');
  return (_name, ordinal) => (ordinal + 1) % every === 0;
}

export const parameterArn = (name: string, account = SIM_ACCOUNT, region = SIM_REGION) =>
  `arn:aws:ssm:${region}:${account}:parameter${name.startsWith('/') ? '' : '/'}${name}`;

/** A secret's ARN as the simulator names it: the name and a suffix of 6 characters derived from it (AWS's are random). */
export function secretArn(name: string, account = SIM_ACCOUNT, region = SIM_REGION, seed = 1): string {
  let a = hashString(name, seed ^ 0x5ec7e7);
  let b = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d) >>> 0;
  let suffix = '';
  for (let i = 0; i < 3; i++) {
    suffix += ARN_ALPHABET[a % 62]! + ARN_ALPHABET[b % 62]!;
    a = Math.floor(a / 62);
    b = Math.floor(b / 62);
  }
  return `arn:aws:secretsmanager:${region}:${account}:secret:${name}-${suffix}`;
}

class Store {
  readonly paramIndex = new SortedNames();
  readonly params = new Map<string, ParamRecord>();
  readonly secretIndex = new SortedNames();
  readonly secrets = new Map<string, SecretRecord>();
  private nextOrdinal = 0;
  private readonly nowS: number;
  readonly users: string[];
  readonly cmks: string[];

  constructor(
    private readonly seed: number,
    nowMs: number,
    readonly account: string,
    readonly region: string,
  ) {
    this.nowS = nowMs / 1000;
    this.users = usersOf(account);
    this.cmks = cmksOf(account, region);
  }

  parameterArn(name: string): string {
    return parameterArn(name, this.account, this.region);
  }

  generate(ssmSets: ItemSet[], secretSets: ItemSet[]): void {
    const pNames: string[] = [];
    for (const set of ssmSets)
      for (const name of setNames(set, 'ssm')) {
        if (this.params.has(name)) throw new Error(`duplicate parameter name ${name}; give the sets different roots`);
        this.params.set(name, this.nextOrdinal++);
        pNames.push(name);
      }
    this.paramIndex.load(pNames);
    const sNames: string[] = [];
    for (const set of secretSets)
      for (const name of setNames(set, 'secretsmanager')) {
        if (this.secrets.has(name)) throw new Error(`duplicate secret name ${name}; give the sets different roots`);
        this.secrets.set(name, this.nextOrdinal++);
        sNames.push(name);
      }
    this.secretIndex.load(sNames);
  }

  addParameter(raw: unknown): void {
    const input = checkParameterInput(raw);
    const existing = this.params.get(input.Name);
    const ordinal = existing === undefined ? this.nextOrdinal++ : typeof existing === 'number' ? existing : existing.ordinal;
    // An explicit parameter is its generated self under the input's fields, kept whole from now on.
    const meta = this.generatedParamMeta(input.Name, ordinal);
    const history = (input.History ?? []).map((h) => ({ ...h, date: parseDate(h.LastModifiedDate, 'History LastModifiedDate')! })).sort((a, b) => a.Version - b.Version);
    // With a history, the current version follows its newest entry unless given.
    meta.version = input.Version ?? (history.length > 0 ? history.at(-1)!.Version + 1 : meta.version);
    if (history.some((h) => h.Version >= meta.version)) throw new Error(`${input.Name}: History versions must be older than the current Version ${meta.version}`);
    if (input.Type !== undefined) meta.type = input.Type;
    if (input.Description !== undefined) meta.description = input.Description ?? undefined;
    meta.keyId = meta.type === 'SecureString' ? (input.KeyId ?? meta.keyId ?? 'alias/aws/ssm') : undefined;
    meta.lastModified = parseDate(input.LastModifiedDate, 'LastModifiedDate') ?? meta.lastModified;
    if (meta.version === 1 || meta.created > meta.lastModified) meta.created = meta.lastModified;
    meta.user = input.LastModifiedUser ?? meta.user;
    meta.tier = input.Tier ?? meta.tier;
    meta.dataType = input.DataType ?? meta.dataType;
    meta.tags = input.Tags ?? meta.tags;
    const versions =
      input.History === undefined
        ? Array.from({ length: meta.version - 1 }, (_, i) => this.versionRecord(meta, i + 1))
        : history.map((h) => {
            const { value: _generated, description: currentDescription, ...base } = this.versionRecord(meta, h.Version);
            const description = h.Description === undefined ? currentDescription : (h.Description ?? undefined);
            return {
              ...base,
              date: h.date,
              user: h.LastModifiedUser ?? meta.user,
              labels: h.Labels ?? [],
              ...(h.Value !== undefined ? { value: h.Value } : {}),
              ...(description !== undefined ? { description } : {}),
              ...(h.Tier !== undefined ? { tier: h.Tier } : {}),
            };
          });
    const current = this.versionRecord(meta, meta.version);
    if (input.Value !== undefined) current.value = input.Value;
    if (input.Labels !== undefined) current.labels = [...input.Labels];
    if (input.Policies !== undefined) current.policies = input.Policies.map((p) => ({ ...p }));
    if (input.AllowedPattern !== undefined) current.allowedPattern = input.AllowedPattern;
    this.params.set(input.Name, { ordinal, tags: meta.tags, versions: [...versions, current] });
    if (existing === undefined) this.paramIndex.insert(input.Name);
  }

  addSecret(raw: unknown): void {
    const input = checkSecretInput(raw);
    const existing = this.secrets.get(input.Name);
    const ordinal = existing === undefined ? this.nextOrdinal++ : typeof existing === 'number' ? existing : existing.ordinal;
    // An explicit secret is its generated self under the input's fields, kept whole from now on.
    const m = this.generatedSecret(input.Name, ordinal, input);
    this.secrets.set(input.Name, m);
    if (existing === undefined) this.secretIndex.insert(input.Name);

    if (input.Versions !== undefined) {
      m.versions = input.Versions.map((v) => ({
        id: v.VersionId,
        created: parseDate(v.CreatedDate, 'Versions CreatedDate')!,
        stages: [...v.Stages],
        ...(v.SecretString !== undefined ? { value: v.SecretString } : {}),
      }));
      const first = Math.min(...m.versions.map((v) => v.created));
      if (input.CreatedDate === undefined || m.created > first) m.created = first;
      if (input.LastChangedDate === undefined) m.lastChanged = Math.max(...m.versions.map((v) => v.created));
    }
    const current = m.versions.find((v) => v.stages.includes('AWSCURRENT'))!;
    if (input.SecretString !== undefined && current.value === undefined) current.value = input.SecretString;
    if (input.ReplicationStatus !== undefined)
      m.replication = input.ReplicationStatus.map((r) => ({
        Region: r.Region,
        Status: r.Status,
        ...(r.StatusMessage !== undefined ? { StatusMessage: r.StatusMessage } : {}),
        KmsKeyId: r.KmsKeyId ?? 'alias/aws/secretsmanager',
        ...(r.LastAccessedDate !== undefined ? { LastAccessedDate: parseDate(r.LastAccessedDate, 'ReplicationStatus LastAccessedDate')! } : {}),
      }));
    const scheduled = input.RotationLambdaARN !== undefined || input.RotationRules !== undefined;
    if (scheduled) {
      if (input.RotationLambdaARN !== undefined) m.rotation.lambda = input.RotationLambdaARN;
      m.rotation.enabled = input.RotationEnabled ?? true;
      if (input.RotationRules !== undefined) m.rotation.rules = validateRotationRules(input.RotationRules);
      m.rotation.lambda ??= `arn:aws:lambda:${this.region}:${this.account}:function:rotate-secret`;
      m.rotation.rules ??= { AutomaticallyAfterDays: input.RotationDays ?? 30 };
    }
    const lastRotated = parseDate(input.LastRotatedDate, 'LastRotatedDate');
    if (lastRotated !== undefined) m.rotation.lastRotated = lastRotated;
    if (m.rotation.rules && (lastRotated !== undefined || scheduled)) {
      const from = m.rotation.lastRotated ?? m.lastChanged;
      m.rotation.next = nextRotation(m.rotation.rules, from, from);
    }
    if (input.RotationFails !== undefined) m.rotation.fails = input.RotationFails;
    const pendingSince = parseDate(input.PendingSince, 'PendingSince');
    if (pendingSince !== undefined && !m.versions.some((v) => v.stages.includes('AWSPENDING')))
      m.versions.push({ id: hexId(rng(hashString(input.Name, this.seed ^ 0x9e4d))), created: pendingSince, stages: ['AWSPENDING'] });
    if (input.ResourcePolicy !== undefined) m.resourcePolicy = input.ResourcePolicy;
  }

  /** A parameter kept whole from now on (before its first write); its generated fields become its record. */
  materialParameter(name: string): MaterialParameter | undefined {
    const rec = this.params.get(name);
    if (rec === undefined || typeof rec !== 'number') return rec;
    const meta = this.generatedParamMeta(name, rec);
    const m: MaterialParameter = { ordinal: rec, tags: meta.tags, versions: Array.from({ length: meta.version }, (_, i) => this.versionRecord(meta, i + 1)) };
    this.params.set(name, m);
    return m;
  }

  /** A new parameter, kept whole (PutParameter without an existing one). */
  createParameter(name: string, tags: Tag[], first: ParamVersionRecord): MaterialParameter {
    const m: MaterialParameter = { ordinal: this.nextOrdinal++, tags, versions: [first] };
    this.params.set(name, m);
    this.paramIndex.insert(name);
    return m;
  }

  /** A secret kept whole from now on (before its first write). */
  materialSecret(name: string): MaterialSecret {
    const rec = this.secrets.get(name);
    if (rec === undefined) throw new Error(`no secret ${name}`);
    if (typeof rec !== 'number') return rec;
    const m = this.generatedSecret(name, rec);
    this.secrets.set(name, m);
    return m;
  }

  deleteParameter(name: string): boolean {
    if (!this.params.delete(name)) return false;
    this.paramIndex.remove(name);
    return true;
  }

  deleteSecret(name: string): boolean {
    if (!this.secrets.delete(name)) return false;
    this.secretIndex.remove(name);
    return true;
  }

  paramMeta(name: string): ParamMeta | undefined {
    const rec = this.params.get(name);
    if (rec === undefined) return undefined;
    if (typeof rec === 'number') return this.generatedParamMeta(name, rec);
    const cur = rec.versions.at(-1)!;
    return {
      name,
      type: cur.type,
      version: cur.version,
      lastModified: cur.date,
      created: rec.versions[0]!.date,
      user: cur.user,
      ...(cur.description !== undefined ? { description: cur.description } : {}),
      ...(cur.keyId !== undefined ? { keyId: cur.keyId } : {}),
      tier: cur.tier,
      dataType: cur.dataType,
      tags: rec.tags,
      hash: hashString(name, this.seed),
      ordinal: rec.ordinal,
      material: rec,
      ...(cur.allowedPattern !== undefined ? { allowedPattern: cur.allowedPattern } : {}),
      policies: cur.policies,
    };
  }

  /** A parameter's fields derived from a hash of its name (cheap: 100,000s of items are only their names). */
  private generatedParamMeta(name: string, ordinal: number): ParamMeta {
    const hash = hashString(name, this.seed);
    const r = rng(hash);
    const typeRoll = r();
    const versionRoll = r();
    const ageRoll = r();
    const spanRoll = r();
    const userRoll = r();
    const descRoll = r();
    const descPick = r();
    const keyRoll = r();
    const keyPick = r();
    const tierRoll = r();
    const tagCount = Math.floor(r() * 4);
    const type: ParameterType = typeRoll < 0.5 ? 'String' : typeRoll < 0.6 ? 'StringList' : 'SecureString';
    const version = 1 + Math.floor(versionRoll * versionRoll * 12);
    const lastModified = ms3(this.nowS - ageRoll * EIGHTEEN_MONTHS_DAYS * DAY);
    const segs = segments(name);
    const svc = segs.at(-2) ?? segs[0] ?? 'app';
    return {
      name,
      type,
      version,
      lastModified,
      created: ms3(lastModified - (version > 1 ? spanRoll * 400 * DAY : 0)),
      user: pick(this.users, userRoll),
      ...(descRoll < 0.35 ? { description: pick(DESCRIPTIONS, descPick)(svc) } : {}),
      ...(type === 'SecureString' ? { keyId: keyRoll < 0.6 ? 'alias/aws/ssm' : pick(this.cmks, keyPick) } : {}),
      tier: tierRoll < 0.1 ? 'Advanced' : 'Standard',
      dataType: 'text',
      tags: tagsFor(name, tagCount, r),
      hash,
      ordinal,
    };
  }

  /** Version v (1..version) of a parameter: date, user, labels. */
  paramVersion(meta: ParamMeta, v: number): { date: number; user: string; labels: string[] } {
    if (meta.material) {
      const rec = meta.material.versions.find((x) => x.version === v);
      return rec ? { date: rec.date, user: rec.user, labels: rec.labels } : { date: meta.lastModified, user: meta.user, labels: [] };
    }
    if (v === meta.version) {
      return { date: meta.lastModified, user: meta.user, labels: (meta.hash & 7) === 0 ? ['live'] : [] };
    }
    const r = rng(meta.hash ^ Math.imul(v, 0x9e3779b1));
    const date = ms3(meta.created + ((meta.lastModified - meta.created) * (v - 1)) / Math.max(1, meta.version - 1));
    const labels = v === meta.version - 1 && (meta.hash & 15) === 1 ? ['previous'] : [];
    return { date, user: pick(this.users, r()), labels };
  }

  /** The version numbers a parameter still has (AWS keeps the newest 100), oldest first. */
  paramVersionNumbers(meta: ParamMeta): number[] {
    if (meta.material) return meta.material.versions.map((v) => v.version);
    return Array.from({ length: meta.version }, (_, i) => i + 1);
  }

  /** Version v of a parameter whole: its attributes, and its value when one is kept. */
  versionRecord(meta: ParamMeta, v: number): ParamVersionRecord {
    const kept = meta.material?.versions.find((x) => x.version === v);
    if (kept) return { ...kept, labels: [...kept.labels] };
    return {
      version: v,
      ...this.paramVersion(meta, v),
      type: meta.type,
      ...(meta.keyId !== undefined ? { keyId: meta.keyId } : {}),
      ...(meta.description !== undefined ? { description: meta.description } : {}),
      tier: meta.tier,
      dataType: meta.dataType,
      policies: [],
    };
  }

  secretArn(name: string): string {
    return secretArn(name, this.account, this.region, this.seed);
  }

  /** When a generated secret was scheduled for deletion (about 1 in 100), cheaply, without the rest. */
  private generatedDeletion(name: string): number | undefined {
    const h = hashString(name, this.seed ^ 0xde1e7e);
    return h % 100 === 0 ? ms3(this.nowS - ((h >>> 8) % (7 * DAY))) : undefined;
  }

  isPlannedDeletion(name: string): boolean {
    const rec = this.secrets.get(name);
    return rec !== undefined && (typeof rec === 'number' ? this.generatedDeletion(name) : rec.deleted) !== undefined;
  }

  secretMeta(name: string): SecretMeta | undefined {
    const rec = this.secrets.get(name);
    if (rec === undefined) return undefined;
    const whole = typeof rec === 'number' ? this.generatedSecret(name, rec) : rec;
    return { ...whole, name, arn: this.secretArn(name), ...(typeof rec === 'number' ? {} : { material: rec }) };
  }

  /** A secret's fields derived from a hash of its name, under an explicit input's own (dates, rotation, versions). */
  private generatedSecret(name: string, ordinal: number, input?: SecretInput): MaterialSecret {
    const hash = hashString(name, this.seed ^ 0x51ab);
    const r = rng(hash);
    const changedRoll = r();
    const createdRoll = r();
    const accessedRoll = r();
    const accessedWhen = r();
    const descRoll = r();
    const descPick = r();
    const kmsRoll = r();
    const kmsPick = r();
    const rotRoll = r();
    const rotDays = r();
    const rotSchedule = r();
    const versionRoll = r();
    const previousRoll = r();
    const pendingRoll = r();
    const tagCount = Math.floor(r() * 4);
    const segs = segments(name);
    const svc = segs.at(-2) ?? segs[0] ?? 'app';

    const lastChanged = givenDate(input?.LastChangedDate, 'LastChangedDate', ms3(this.nowS - changedRoll * EIGHTEEN_MONTHS_DAYS * DAY))!;
    const created = Math.min(lastChanged, givenDate(input?.CreatedDate, 'CreatedDate', ms3(lastChanged - createdRoll * 400 * DAY))!);
    const generatedAccess = accessedRoll < 0.8 ? Math.floor((lastChanged + accessedWhen * (this.nowS - lastChanged)) / DAY) * DAY : undefined;
    const lastAccessed = givenDate(input?.LastAccessedDate, 'LastAccessedDate', generatedAccess);
    const deleted = givenDate(input?.DeletedDate, 'DeletedDate', this.generatedDeletion(name));

    const rotationOn = input?.RotationEnabled ?? rotRoll < 0.3;
    const days = input?.RotationDays ?? pick([30, 60, 90], rotDays);
    const rotation: MaterialSecret['rotation'] = rotationOn
      ? {
          enabled: true,
          lambda: `arn:aws:lambda:${this.region}:${this.account}:function:rotate-${svc.replace(/[^a-zA-Z0-9-_]/g, '-')}`,
          rules: { AutomaticallyAfterDays: days, ...(rotSchedule < 0.5 ? { ScheduleExpression: `rate(${days} days)` } : {}) },
          lastRotated: lastChanged,
          next: ms3(lastChanged + days * DAY),
          fails: false,
        }
      : { enabled: false, fails: false };

    const count = input?.VersionCount ?? 1 + Math.floor(versionRoll * versionRoll * 5);
    const vr = rng(hash ^ 0x7e75);
    const versions: SecretVersion[] = [];
    for (let i = 0; i < count; i++) {
      const date = count === 1 ? lastChanged : ms3(created + ((lastChanged - created) * i) / (count - 1));
      versions.push({ id: hexId(vr), created: date, stages: [] });
    }
    versions[count - 1]!.stages.push('AWSCURRENT');
    if (count >= 2 && previousRoll < 0.7) versions[count - 2]!.stages.push('AWSPREVIOUS');
    // Only generated items may be caught mid-rotation; explicit ones say so with PendingSince.
    if (rotationOn && !input && pendingRoll < 0.05) versions.push({ id: hexId(vr), created: ms3(this.nowS - 600), stages: ['AWSPENDING'] });

    const description = input?.Description !== undefined ? (input.Description ?? undefined) : descRoll < 0.35 ? pick(DESCRIPTIONS, descPick)(svc) : undefined;
    const kmsKeyId = input?.KmsKeyId !== undefined ? (input.KmsKeyId ?? undefined) : kmsRoll < 0.3 ? pick(this.cmks, kmsPick) : undefined;
    return {
      ordinal,
      ...(description !== undefined ? { description } : {}),
      ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
      tags: input?.Tags ?? tagsFor(name, tagCount, r),
      created,
      lastChanged,
      ...(lastAccessed !== undefined ? { lastAccessed } : {}),
      ...(deleted !== undefined ? { deleted } : {}),
      rotation,
      versions,
    };
  }

  /** An item's values for the test endpoint: the sentinel for every version of an item never written. */
  storedValues(service: SimService, name: string): StoredValues | null {
    if (service === 'ssm') {
      const meta = this.paramMeta(name);
      if (!meta) return null;
      const versions = [];
      for (const v of this.paramVersionNumbers(meta)) {
        const rec = this.versionRecord(meta, v);
        versions.push({ id: v, value: rec.value ?? SIM_VALUE_SENTINEL, labels: rec.labels });
      }
      return { current: versions.at(-1)!.value, versions };
    }
    let meta: SecretMeta;
    try {
      meta = this.resolveSecret(name);
    } catch {
      return null;
    }
    const valueOf = (v: SecretVersion) => v.value ?? v.binary ?? SIM_VALUE_SENTINEL;
    const current = meta.versions.find((v) => v.stages.includes('AWSCURRENT'));
    return { current: current ? valueOf(current) : null, versions: meta.versions.map((v) => ({ id: v.id, value: valueOf(v), stages: [...v.stages] })) };
  }

  /** A secret by name, full ARN or partial ARN (without the random suffix). */
  resolveSecret(id: unknown): SecretMeta {
    const notFound = () => new AwsFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    if (typeof id !== 'string' || id === '') throw validation(id, 'secretId', 'Member must have length greater than or equal to 1');
    const prefix = `arn:aws:secretsmanager:${this.region}:${this.account}:secret:`;
    if (id.startsWith('arn:')) {
      if (!id.startsWith(prefix)) throw notFound();
      const rest = id.slice(prefix.length);
      if (this.secrets.has(rest)) return this.secretMeta(rest)!;
      const name = rest.slice(0, -7);
      const meta = this.secretMeta(name);
      if (!meta || meta.arn !== id) throw notFound();
      return meta;
    }
    const meta = this.secretMeta(id);
    if (!meta) throw notFound();
    return meta;
  }
}

// ---------------------------------------------------------------------------------------------
// Parameter Store.

const PARAMETER_FILTER_KEYS = ['Path', 'Name', 'Type', 'KeyId', 'Tier', 'DataType', 'Label'];

/** A part of an API that AWS has and no user of the simulator needs (see README.md): said plainly, never answered wrongly. */
const notSimulated = (what: string) => new AwsFault('ValidationException', `The simulator does not implement ${what}.`);

interface ParamQuery {
  start: number;
  end: number;
  test: ScanTest;
}

class ParameterStoreApi {
  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
  ) {}

  private get index(): SortedNames {
    return this.store.paramIndex;
  }

  private normalizePath(value: unknown): string {
    if (typeof value !== 'string' || !value.startsWith('/'))
      throw new AwsFault('ValidationException', 'The parameter doesn\'t meet the parameter name requirements. The parameter name must begin with a forward slash "/".');
    return value.length > 1 ? value.replace(/\/+$/, '') || '/' : value;
  }

  /** The range and test of a one-level or recursive listing under path. */
  private pathQuery(path: string, recursive: boolean): ParamQuery {
    const n = this.index.length;
    if (path === '/') {
      if (recursive) return { start: 0, end: n, test: () => true };
      return { start: 0, end: n, test: (name) => this.oneLevel(name, 1) };
    }
    const prefix = `${path}/`;
    const start = this.index.lowerBound(prefix);
    const end = this.index.prefixEnd(prefix);
    if (recursive) return { start, end, test: () => true };
    return { start, end, test: (name) => this.oneLevel(name, prefix.length) };
  }

  /** A direct child (include), or the index just past the sub-folder it is in (skip it whole). */
  private oneLevel(name: string, from: number): boolean | number {
    const cut = name.indexOf('/', from);
    if (cut < 0) return true;
    return this.index.prefixEnd(name.slice(0, cut + 1));
  }

  /** DescribeParameters' filters as the dashboard sends them: one Path (OneLevel or Recursive) and Name (Equals, BeginsWith, Contains). */
  private compileFilters(filters: unknown): ParamQuery {
    let start = 0;
    let end = this.index.length;
    const tests: ScanTest[] = [];
    if (filters !== undefined && filters !== null && !Array.isArray(filters)) throw new AwsFault('SerializationException', 'ParameterFilters must be a list');
    for (const raw of (filters as unknown[] | undefined) ?? []) {
      const f = raw as { Key?: unknown; Option?: unknown; Values?: unknown };
      const key = typeof f.Key === 'string' ? f.Key : '';
      const values = Array.isArray(f.Values) ? f.Values.map(String) : [];
      if (!PARAMETER_FILTER_KEYS.includes(key) && !key.startsWith('tag:'))
        throw new AwsFault('InvalidFilterKey', `The following filter key is not valid: ${key}. Valid filter keys include: [${PARAMETER_FILTER_KEYS.join(', ')}, tag:<key>].`);
      if (key !== 'Path' && key !== 'Name') throw notSimulated(`the ${key} filter`);
      if (values.length === 0) throw new AwsFault('InvalidFilterValue', `The ${key} filter needs a value.`);
      const option = typeof f.Option === 'string' ? f.Option : undefined;
      if (key === 'Path') {
        if (option !== undefined && option !== 'OneLevel' && option !== 'Recursive')
          throw new AwsFault('InvalidFilterOption', `The following filter option is not valid: ${option}. Valid options include: [Recursive, OneLevel].`);
        if (values.length > 1) throw notSimulated('a Path filter with several values');
        let path: string;
        try {
          path = this.normalizePath(values[0]);
        } catch {
          throw new AwsFault('InvalidFilterValue', `The parameter filter value ${values[0]} is not valid. A path must begin with "/".`);
        }
        const q = this.pathQuery(path, option === 'Recursive');
        start = Math.max(start, q.start);
        end = Math.min(end, q.end);
        tests.push(q.test);
      } else {
        const opt = option ?? 'Equals';
        if (opt !== 'Equals' && opt !== 'BeginsWith' && opt !== 'Contains')
          throw new AwsFault('InvalidFilterOption', `The following filter option is not valid: ${opt}. Valid options include: [BeginsWith, Equals, Contains].`);
        if (opt === 'Contains') {
          tests.push((name) => values.some((v) => name.includes(v)));
          continue;
        }
        // Equals and BeginsWith read only the index ranges of their values (as AWS reads an index),
        // jumping from the end of one range to the start of the next.
        const ranges = this.nameRanges(values, opt === 'Equals');
        start = Math.max(start, ranges[0]?.[0] ?? end);
        end = Math.min(end, ranges.at(-1)?.[1] ?? start);
        const matches = (name: string) => values.some((v) => (opt === 'Equals' ? name === v : name.startsWith(v)));
        tests.push((name) => {
          if (matches(name)) return true;
          const at = this.index.lowerBound(name);
          const next = ranges.find(([from]) => from > at);
          return next ? next[0] : this.index.length;
        });
      }
    }
    // A jump from one test (skipping a sub-folder) holds for the conjunction too.
    const test: ScanTest = (name) => {
      for (const t of tests) {
        const verdict = t(name);
        if (verdict !== true) return verdict;
      }
      return true;
    };
    return { start, end, test };
  }

  /** The sorted, merged index ranges [start, end) of names equal to (or beginning with) any of the values. */
  private nameRanges(values: readonly string[], equals: boolean): [number, number][] {
    const ranges = values
      .map((v): [number, number] => {
        const from = this.index.lowerBound(v);
        return [from, equals ? (this.index.names[from] === v ? from + 1 : from) : this.index.prefixEnd(v)];
      })
      .filter(([from, to]) => to > from)
      .sort((a, b) => a[0] - b[0]);
    const merged: [number, number][] = [];
    for (const [from, to] of ranges) {
      const last = merged.at(-1);
      if (last && from <= last[1]) last[1] = Math.max(last[1], to);
      else merged.push([from, to]);
    }
    return merged;
  }

  /**
   * Whether DescribeParameters with these filters could list a parameter under a prefix the
   * account denies (the `denyDescribePrefixes` control): such a call is refused whole, as IAM
   * refuses a request rather than filtering its answer.
   */
  private deniedPrefix(filters: unknown): string | null {
    const denied = this.settings.denyDescribePrefixes;
    if (!denied || denied.length === 0) return null;
    const list = Array.isArray(filters) ? (filters as { Key?: unknown; Option?: unknown; Values?: unknown }[]) : [];
    const under = (d: string) =>
      list.every((f) => {
        const values = Array.isArray(f.Values) ? f.Values.map(String) : [];
        if (f.Key === 'Name' && f.Option === 'BeginsWith') return values.some((v) => v.startsWith(d) || d.startsWith(v));
        if (f.Key === 'Name' && (f.Option === undefined || f.Option === 'Equals')) return values.some((v) => v.startsWith(d));
        if (f.Key === 'Path') return values.some((v) => {
          const prefix = v === '/' ? '/' : `${v.replace(/\/+$/, '')}/`;
          return prefix.startsWith(d) || d.startsWith(prefix);
        });
        return true;
      });
    return denied.find(under) ?? null;
  }

  private page(query: ParamQuery, body: Body, max: number): ScanResult {
    const after = decodeToken(body.NextToken, 'scan', 'ssm');
    const start = after === undefined ? query.start : Math.max(query.start, this.index.upperBound(after));
    return runScan(this.index, start, query.end, query.test, max, this.settings.scanWindow);
  }

  private metadata(meta: ParamMeta) {
    return {
      Name: meta.name,
      ARN: this.store.parameterArn(meta.name),
      Type: meta.type,
      ...(meta.keyId !== undefined ? { KeyId: meta.keyId } : {}),
      LastModifiedDate: meta.lastModified,
      LastModifiedUser: meta.user,
      ...(meta.description !== undefined ? { Description: meta.description } : {}),
      Version: meta.version,
      Tier: meta.tier,
      Policies: meta.policies ?? [],
      DataType: meta.dataType,
      ...(meta.allowedPattern !== undefined ? { AllowedPattern: meta.allowedPattern } : {}),
    };
  }

  /** The value as a read returns it: a SecureString without decryption is ciphertext (a stand-in, never the plaintext). */
  private shownValue(meta: ParamMeta, version: number, withDecryption: boolean): string {
    const value = this.store.versionRecord(meta, version).value ?? SIM_VALUE_SENTINEL;
    if (meta.type !== 'SecureString' || withDecryption) return value;
    return `AQICAHh${createHash('sha256').update(`${meta.name}\0${version}\0${value}`).digest('base64')}`;
  }

  private valueOf(meta: ParamMeta, withDecryption: boolean, selector?: string) {
    return {
      Name: meta.name,
      Type: meta.type,
      Value: this.shownValue(meta, meta.version, withDecryption),
      Version: meta.version,
      ...(selector ? { Selector: selector } : {}),
      LastModifiedDate: meta.lastModified,
      ARN: this.store.parameterArn(meta.name),
      DataType: meta.dataType,
    };
  }

  private find(name: unknown): ParamMeta {
    const meta = typeof name === 'string' ? this.store.paramMeta(name) : undefined;
    if (!meta) throw new AwsFault('ParameterNotFound', `Parameter ${String(name)} not found.`);
    return meta;
  }

  /** A name, an ARN, with an optional :version or :label selector. */
  private resolve(raw: unknown): { meta: ParamMeta; selector?: string } {
    if (typeof raw !== 'string' || raw === '') throw validation(raw, 'name', 'Member must have length greater than or equal to 1');
    let name = raw;
    const arnPrefix = `arn:aws:ssm:${this.store.region}:${this.store.account}:parameter`;
    if (name.startsWith(arnPrefix)) name = name.slice(arnPrefix.length);
    const cut = name.indexOf(':');
    const selector = cut >= 0 ? name.slice(cut) : undefined;
    if (cut >= 0) name = name.slice(0, cut);
    const meta = this.store.paramMeta(name) ?? (raw.startsWith(arnPrefix) ? this.store.paramMeta(name.replace(/^\//, '')) : undefined);
    if (!meta) throw new AwsFault('ParameterNotFound', `Parameter ${raw} not found.`);
    if (selector !== undefined) {
      const label = selector.slice(1);
      if (/^\d+$/.test(label)) {
        const v = Number(label);
        if (!this.store.paramVersionNumbers(meta).includes(v))
          throw new AwsFault('ParameterVersionNotFound', `Systems Manager could not find version ${v} of ${meta.name}. Verify the version and try again.`);
        return { meta: { ...meta, version: v, lastModified: this.store.paramVersion(meta, v).date }, selector };
      }
      for (const v of this.store.paramVersionNumbers(meta).reverse())
        if (this.store.paramVersion(meta, v).labels.includes(label))
          return { meta: { ...meta, version: v, lastModified: this.store.paramVersion(meta, v).date }, selector };
      throw new AwsFault('ParameterVersionLabelNotFound', `Systems Manager could not find label ${label} for ${meta.name}.`);
    }
    return { meta };
  }

  /** PutParameter as AWS documents it: a new version (Overwrite), or a new parameter at version 1. */
  private putParameter(body: Body, caller: Caller) {
    const name = requiredString(body, 'Name');
    const value = requiredString(body, 'Value');
    const invalid = (message: string) => new AwsFault('ValidationException', message);
    if (!/^[a-zA-Z0-9_.\-/]{1,2048}$/.test(name)) throw invalid('Parameter name must only contain letters, numbers and the symbols .-_/ (at most 2048 characters).');
    if (name.includes('/') && !name.startsWith('/'))
      throw invalid('Parameter name must be a fully qualified name. A hierarchical parameter name must begin with a forward slash "/".');
    if (/^\/?(aws|ssm)/i.test(name)) throw invalid(`Parameter name: can't be prefixed with "aws" or "ssm" (case-insensitive).`);
    if (value.length === 0) throw invalid("1 validation error detected: Value '' at 'value' failed to satisfy constraint: Member must have length greater than or equal to 1");
    const overwrite = body.Overwrite === true;
    const tags = body.Tags;
    if (tags !== undefined && (!Array.isArray(tags) || tags.some((t: { Key?: unknown; Value?: unknown }) => typeof t?.Key !== 'string' || typeof t?.Value !== 'string')))
      throw new AwsFault('SerializationException', 'Tags must be a list of {Key, Value}.');
    if (Array.isArray(tags) && tags.length > 0 && overwrite)
      throw invalid(
        "Invalid request: tags and overwrite can't be used together. To create a parameter with tags, please remove overwrite flag. To update tags for an existing parameter, please use AddTagsToResource or RemoveTagsFromResource.",
      );
    const existing = this.store.paramMeta(name);
    if (existing && !overwrite)
      throw new AwsFault('ParameterAlreadyExists', 'The parameter already exists. To overwrite this value, set the overwrite option in the request to true.');
    const before = existing ? this.store.versionRecord(existing, existing.version) : undefined;

    const type = (optionalString(body, 'Type') ?? before?.type) as ParameterType | undefined;
    if (!type) throw invalid('A parameter type is required when you create a parameter.');
    if (!['String', 'StringList', 'SecureString'].includes(type))
      throw invalid(`1 validation error detected: Value '${type}' at 'type' failed to satisfy constraint: Member must satisfy enum value set: [SecureString, StringList, String]`);
    const sentKeyId = optionalString(body, 'KeyId');
    if (sentKeyId !== undefined && type !== 'SecureString') throw invalid('KeyId is required for SecureString type parameter only.');
    // Without a KeyId a SecureString is encrypted with the account's default key (AWS does not keep the old one).
    const keyId = type === 'SecureString' ? (sentKeyId ?? 'alias/aws/ssm') : undefined;

    const dataType = optionalString(body, 'DataType') ?? before?.dataType ?? 'text';
    if (!['text', 'aws:ec2:image', 'aws:ssm:integration'].includes(dataType))
      throw invalid(`The following data type is not supported: ${dataType} (Data type names are all lowercase.)`);
    // Never echo the value in an error: it may be a secret sent to the wrong parameter.
    if (dataType === 'aws:ec2:image') {
      if (type !== 'String') throw invalid('The aws:ec2:image data type is only supported for parameters of type String.');
      if (!/^ami-[0-9a-f]{8}([0-9a-f]{9})?$/.test(value)) throw invalid('Parameter value is not a valid AMI ID. An AMI ID has the format ami-12345abcdeEXAMPLE.');
    }
    const allowedPattern = optionalString(body, 'AllowedPattern') ?? before?.allowedPattern;
    if (allowedPattern !== undefined) {
      let pattern: RegExp;
      try {
        pattern = new RegExp(allowedPattern);
      } catch {
        throw invalid('The AllowedPattern is not a valid regular expression.');
      }
      if (!pattern.test(value)) throw invalid('Parameter value failed to satisfy constraint specified by allowed pattern.');
    }
    const policies = parsePolicies(optionalString(body, 'Policies')) ?? before?.policies ?? [];

    const bytes = Buffer.byteLength(value, 'utf8');
    const sentTier = optionalString(body, 'Tier');
    if (sentTier !== undefined && !['Standard', 'Advanced', 'Intelligent-Tiering'].includes(sentTier))
      throw invalid(`1 validation error detected: Value '${sentTier}' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Standard, Advanced, Intelligent-Tiering]`);
    const wasAdvanced = before?.tier === 'Advanced';
    // Intelligent-Tiering picks Advanced only when the parameter needs it; an advanced parameter stays advanced.
    const tier =
      sentTier === 'Advanced' || (sentTier === undefined && wasAdvanced)
        ? 'Advanced'
        : sentTier === 'Intelligent-Tiering' && (wasAdvanced || bytes > 4096 || policies.length > 0)
          ? 'Advanced'
          : 'Standard';
    if (wasAdvanced && tier === 'Standard')
      throw invalid(
        "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.",
      );
    if (bytes > (tier === 'Advanced' ? 8192 : 4096))
      throw invalid(
        tier === 'Standard'
          ? 'Standard tier parameters support a maximum parameter value of 4096 characters. To create a larger parameter value, upgrade the parameter to use the advanced-parameter tier. For more information, see https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html'
          : 'Advanced tier parameters support a maximum parameter value of 8192 characters.',
      );
    if (policies.length > 0 && tier === 'Standard') throw invalid('Parameter policies are supported only for advanced parameters. Use the advanced-parameter tier.');

    const description = optionalString(body, 'Description') ?? before?.description;
    const next: ParamVersionRecord = {
      version: (before?.version ?? 0) + 1,
      date: caller.now,
      user: caller.principal,
      labels: [],
      value,
      type,
      ...(keyId !== undefined ? { keyId } : {}),
      ...(description !== undefined ? { description } : {}),
      tier,
      dataType,
      ...(allowedPattern !== undefined ? { allowedPattern } : {}),
      policies,
    };
    if (!existing) {
      this.store.createParameter(name, Array.isArray(tags) ? (tags as Tag[]).map((t) => ({ Key: t.Key, Value: t.Value })) : [], next);
      return { Version: next.version, Tier: next.tier };
    }
    const m = this.store.materialParameter(name)!;
    if (m.versions.length >= 100) {
      // AWS drops the oldest version to make room, unless a label holds it.
      const oldest = m.versions[0]!;
      if (oldest.labels.length > 0)
        throw new AwsFault(
          'ParameterMaxVersionLimitExceeded',
          `You attempted to create a new version of ${name} by calling the PutParameter API with the overwrite flag. Version ${oldest.version}, the oldest version, can't be deleted because it has a label associated with it. Move the label to another version of the parameter, and try again.`,
        );
      m.versions.shift();
    }
    m.versions.push(next);
    return { Version: next.version, Tier: next.tier };
  }

  call(operation: string, body: Body, caller: Caller): unknown {
    const withDecryption = body.WithDecryption === true;
    switch (operation) {
      case 'DescribeParameters': {
        const max = maxResults(body, 'maxResults', 1, 50, 10);
        if (body.Filters !== undefined) throw notSimulated('DescribeParameters Filters (use ParameterFilters)');
        const denied = this.deniedPrefix(body.ParameterFilters);
        if (denied !== null)
          throw new AwsFault(
            'AccessDeniedException',
            `User: arn:aws:sts::${this.store.account}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: ssm:DescribeParameters on resource: ${this.store.parameterArn(denied)}* with an explicit deny in a service control policy`,
          );
        const query = this.compileFilters(body.ParameterFilters);
        const { names, resumeAfter } = this.page(query, body, max);
        return {
          Parameters: names.map((n) => this.metadata(this.store.paramMeta(n)!)),
          ...(resumeAfter !== undefined ? { NextToken: encodeToken('scan', resumeAfter) } : {}),
        };
      }
      case 'GetParametersByPath': {
        const max = maxResults(body, 'maxResults', 1, 10, 10);
        const path = this.normalizePath(body.Path);
        if (body.ParameterFilters !== undefined) throw notSimulated('GetParametersByPath ParameterFilters');
        const { names, resumeAfter } = this.page(this.pathQuery(path, body.Recursive === true), body, max);
        return {
          Parameters: names.map((n) => this.valueOf(this.store.paramMeta(n)!, withDecryption)),
          ...(resumeAfter !== undefined ? { NextToken: encodeToken('scan', resumeAfter) } : {}),
        };
      }
      case 'GetParameter': {
        const { meta, selector } = this.resolve(body.Name);
        return { Parameter: this.valueOf(meta, withDecryption, selector) };
      }
      case 'GetParameters': {
        const names = body.Names;
        if (!Array.isArray(names) || names.length < 1) throw validation('[]', 'names', 'Member must have length greater than or equal to 1');
        if (names.length > 10) throw validation(`[${names.join(', ')}]`, 'names', 'Member must have length less than or equal to 10');
        const found: unknown[] = [];
        const invalid: string[] = [];
        for (const n of names) {
          try {
            const { meta, selector } = this.resolve(n);
            found.push(this.valueOf(meta, withDecryption, selector));
          } catch (error) {
            if (!(error instanceof AwsFault) || error.type === 'ValidationException') throw error;
            invalid.push(String(n));
          }
        }
        return { Parameters: found, InvalidParameters: invalid };
      }
      case 'GetParameterHistory': {
        const max = maxResults(body, 'maxResults', 1, 50, 50);
        const meta = this.find(body.Name);
        if (this.settings.denyHistory?.(meta.name, meta.ordinal))
          throw new AwsFault(
            'AccessDeniedException',
            `User: arn:aws:sts::${this.store.account}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: kms:Decrypt on resource: ${meta.keyId ?? this.store.cmks[0]} because no identity-based policy allows the kms:Decrypt action`,
          );
        const offset = decodeToken(body.NextToken, 'offset', 'ssm') ?? 0;
        const numbers = this.store.paramVersionNumbers(meta);
        const entries = numbers.slice(offset, offset + max).map((v) => {
          const version = this.store.versionRecord(meta, v);
          return {
            Name: meta.name,
            Type: version.type,
            ...(version.keyId !== undefined ? { KeyId: version.keyId } : {}),
            LastModifiedDate: version.date,
            LastModifiedUser: version.user,
            ...(version.description !== undefined ? { Description: version.description } : {}),
            // AWS sends every version's value (ciphertext for a SecureString without decryption).
            Value: this.settings.historyValue ?? this.shownValue({ ...meta, type: version.type }, v, withDecryption),
            ...(version.allowedPattern !== undefined ? { AllowedPattern: version.allowedPattern } : {}),
            Version: v,
            Labels: version.labels,
            Tier: version.tier,
            Policies: version.policies,
            DataType: version.dataType,
          };
        });
        const next = offset + max < numbers.length ? encodeToken('offset', offset + max) : undefined;
        return { Parameters: entries, ...(next ? { NextToken: next } : {}) };
      }
      case 'ListTagsForResource': {
        const type = body.ResourceType;
        if (typeof type !== 'string' || !['Document', 'ManagedInstance', 'MaintenanceWindow', 'Parameter', 'PatchBaseline', 'OpsItem', 'OpsMetadata', 'Automation', 'Association'].includes(type))
          throw new AwsFault('InvalidResourceType', 'The resource type is not valid. For example, if you are attempting to tag an EC2 instance, the instance must be a registered managed node.');
        const meta = type === 'Parameter' && typeof body.ResourceId === 'string' ? this.store.paramMeta(body.ResourceId) : undefined;
        if (!meta) throw new AwsFault('InvalidResourceId', 'The resource ID is not valid. Verify the ID and try again.');
        if (this.settings.denyTags?.(meta.name, meta.ordinal))
          throw new AwsFault(
            'AccessDeniedException',
            `User: arn:aws:sts::${this.store.account}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: ssm:ListTagsForResource on resource: ${this.store.parameterArn(meta.name)} because no identity-based policy allows the ssm:ListTagsForResource action`,
          );
        return { TagList: meta.tags };
      }
      case 'PutParameter':
        return this.putParameter(body, caller);
      default:
        throw new AwsFault('UnknownOperationException', `The simulator does not implement AmazonSSM.${operation}.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Secrets Manager.

const SECRET_FILTER_KEYS = ['description', 'name', 'tag-key', 'tag-value', 'primary-region', 'owning-service', 'all'];
const FILTER_VALUE = /^!?[a-zA-Z0-9 :_@/+=.\-!]*$/;

/** A name filter: prefixes of which one must match, and ones none may match (given with a leading !). */
interface SecretFilter {
  positive: string[];
  negative: string[];
}

/** What the simulated rotation function needs from its simulator: a timer (cancelled on reset and close) and the service events it reports. */
interface RotationEnv {
  later(delayMs: number, fn: () => void): void;
  /** A Secrets Manager service event (RotationStarted, RotationSucceeded, RotationFailed) for the call hook. */
  event(operation: string, secretArn: string, token: string, failure?: { code: string; message: string }): void;
}

const CURRENT = 'AWSCURRENT';
const PREVIOUS = 'AWSPREVIOUS';
const PENDING = 'AWSPENDING';

const invalidParameter = (message: string) => new AwsFault('InvalidParameterException', message);
const invalidRequest = (message: string) => new AwsFault('InvalidRequestException', message);

const withStage = (m: MaterialSecret, stage: string) => m.versions.find((v) => v.stages.includes(stage));

/** A rotation AWS considers unfinished: AWSPENDING on a version that is not also AWSCURRENT. */
const unfinishedRotation = (m: MaterialSecret) => m.versions.find((v) => v.stages.includes(PENDING) && !v.stages.includes(CURRENT));

function attachStage(m: MaterialSecret, stage: string, to: SecretVersion): void {
  for (const v of m.versions) if (v !== to) v.stages = v.stages.filter((x) => x !== stage);
  if (!to.stages.includes(stage)) to.stages.push(stage);
}

/** AWSCURRENT moves to `to`; the version it leaves gets AWSPREVIOUS, as AWS does. */
function makeCurrent(m: MaterialSecret, to: SecretVersion): void {
  const old = withStage(m, CURRENT);
  if (old === to) return;
  attachStage(m, CURRENT, to);
  if (old) attachStage(m, PREVIOUS, old);
}

function checkToken(token: string): void {
  if (token.length < 32 || token.length > 64) throw invalidParameter('ClientRequestToken must be between 32 and 64 characters long.');
}

class SecretsManagerApi {
  constructor(
    private readonly store: Store,
    private readonly settings: Settings,
    private readonly rotation: RotationEnv,
  ) {}

  /** A secret a write may change, kept whole from now on. */
  private writable(id: unknown): { meta: SecretMeta; m: MaterialSecret } {
    const meta = this.store.resolveSecret(id);
    if (meta.deleted !== undefined)
      throw invalidRequest("You can't perform this operation on the secret because it was marked for deletion.");
    return { meta, m: this.store.materialSecret(meta.name) };
  }

  private putSecretValue(body: Body, caller: Caller) {
    const { meta, m } = this.writable(body.SecretId);
    const token = optionalString(body, 'ClientRequestToken') ?? randomUUID();
    checkToken(token);
    const secretString = optionalString(body, 'SecretString');
    const secretBinary = optionalString(body, 'SecretBinary');
    if ((secretString === undefined) === (secretBinary === undefined)) throw invalidParameter('You must provide either SecretString or SecretBinary, but not both.');
    const bytes = secretString !== undefined ? Buffer.byteLength(secretString, 'utf8') : Buffer.from(secretBinary!, 'base64').length;
    if (bytes > 65_536) throw invalidParameter('The secret value exceeds the maximum size of 65536 bytes.');
    const stages = body.VersionStages === undefined ? [CURRENT] : body.VersionStages;
    if (!Array.isArray(stages) || stages.length < 1 || stages.length > 20 || !stages.every((x) => typeof x === 'string' && x.length >= 1 && x.length <= 256))
      throw invalidParameter('VersionStages must list 1 to 20 staging labels.');
    const answer = { ARN: meta.arn, Name: meta.name };

    const existing = m.versions.find((v) => v.id === token);
    if (existing) {
      // A retry: the same token with the same value is ignored; a version can never change.
      if (existing.value !== secretString || existing.binary !== secretBinary)
        throw new AwsFault('ResourceExistsException', "You can't modify an existing version, you can only create a new version.");
      return { ...answer, VersionId: existing.id, VersionStages: [...existing.stages] };
    }
    const version: SecretVersion = {
      id: token,
      created: caller.now,
      stages: [],
      ...(secretString !== undefined ? { value: secretString } : { binary: secretBinary! }),
    };
    m.versions.push(version);
    for (const stage of stages as string[]) {
      if (stage === CURRENT) makeCurrent(m, version);
      else attachStage(m, stage, version);
    }
    m.lastChanged = caller.now;
    return { ...answer, VersionId: version.id, VersionStages: [...version.stages] };
  }

  /**
   * RotateSecret: the simulated rotation function creates AWSPENDING at once (its createSecret step)
   * and, after the rotation delay, promotes it to AWSCURRENT (finishSecret); a function that fails
   * leaves AWSPENDING behind and AWSCURRENT unchanged, as on AWS.
   */
  private rotateSecret(body: Body, caller: Caller) {
    const { meta, m } = this.writable(body.SecretId);
    const token = optionalString(body, 'ClientRequestToken') ?? randomUUID();
    checkToken(token);
    const rules = body.RotationRules === undefined || body.RotationRules === null ? undefined : validateRotationRules(body.RotationRules);
    const sentLambda = optionalString(body, 'RotationLambdaARN');
    if (sentLambda !== undefined && !LAMBDA_ARN.test(sentLambda)) throw invalidParameter('RotationLambdaARN must be the ARN of a Lambda function.');
    const lambda = sentLambda ?? m.rotation.lambda;
    if (!lambda) throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
    if (body.RotateImmediately !== undefined && typeof body.RotateImmediately !== 'boolean') throw new AwsFault('SerializationException', 'RotateImmediately must be a boolean.');
    const immediately = body.RotateImmediately !== false;
    const answer = { ARN: meta.arn, Name: meta.name };

    // A retry of a rotation already started with this token: it rotates once.
    if (immediately && m.versions.some((v) => v.id === token)) return { ...answer, VersionId: token };
    if (unfinishedRotation(m)) throw invalidRequest("A previous rotation isn't complete. That rotation will be reattempted.");

    const now = caller.now;
    m.rotation.lambda = lambda;
    if (rules) m.rotation.rules = rules;
    m.rotation.rules ??= { AutomaticallyAfterDays: 30 };
    m.rotation.enabled = true;
    if (!immediately) {
      m.rotation.next = nextRotation(m.rotation.rules, m.rotation.lastRotated, now);
      return answer;
    }
    const current = withStage(m, CURRENT);
    m.versions.push({ id: token, created: now, stages: [PENDING], value: rotatedValue(current?.value) });
    m.lastChanged = now;
    m.rotation.running = token;
    this.rotation.event('RotationStarted', meta.arn, token);
    this.rotation.later(this.settings.rotationDelayMs, () => this.finishRotation(meta.name, meta.arn, m, token));
    return { ...answer, VersionId: token };
  }

  /** The simulated function's last step: the pending version becomes current, or the function fails. */
  private finishRotation(name: string, arn: string, m: MaterialSecret, token: string): void {
    if (m.rotation.running !== token || this.store.secrets.get(name) !== m) return; // cancelled, or the item was replaced
    m.rotation.running = undefined;
    const version = m.versions.find((v) => v.id === token);
    if (!version || !version.stages.includes(PENDING)) return;
    if (m.rotation.fails) {
      // Its setSecret step errors: AWSPENDING stays on the new version, AWSCURRENT where it was.
      this.rotation.event('RotationFailed', arn, token, {
        code: 'RotationFailed',
        message: `Secrets Manager rotation failed: the rotation function ${m.rotation.lambda ?? ''} returned an error in step setSecret.`,
      });
      return;
    }
    makeCurrent(m, version);
    version.stages = version.stages.filter((x) => x !== PENDING);
    const now = Date.now() / 1000;
    m.rotation.lastRotated = now;
    m.rotation.next = m.rotation.rules ? nextRotation(m.rotation.rules, now, now) : undefined;
    m.lastChanged = now;
    this.rotation.event('RotationSucceeded', arn, token);
  }

  private cancelRotateSecret(body: Body) {
    const { meta, m } = this.writable(body.SecretId);
    // The rules and the function stay, so RotateSecret can turn rotation back on; AWSPENDING stays too, as AWS warns.
    m.rotation.enabled = false;
    m.rotation.next = undefined;
    m.rotation.running = undefined;
    const pending = unfinishedRotation(m);
    return { ARN: meta.arn, Name: meta.name, ...(pending ? { VersionId: pending.id } : {}) };
  }

  private updateSecretVersionStage(body: Body, caller: Caller) {
    const { meta, m } = this.writable(body.SecretId);
    const stage = requiredString(body, 'VersionStage', 'InvalidParameterException');
    const moveTo = optionalString(body, 'MoveToVersionId');
    const removeFrom = optionalString(body, 'RemoveFromVersionId');
    const version = (id: string) => {
      const found = m.versions.find((v) => v.id === id);
      if (!found) throw new AwsFault('ResourceNotFoundException', `Secrets Manager can't find the specified secret version: ${id}`);
      return found;
    };
    const holder = withStage(m, stage);
    if (removeFrom !== undefined && holder?.id !== removeFrom) throw invalidParameter(`The staging label ${stage} is not attached to version ${removeFrom}.`);
    if (moveTo !== undefined) {
      const target = version(moveTo);
      if (holder && holder !== target && removeFrom === undefined)
        throw invalidParameter(
          `The parameter RemoveFromVersionId can't be empty. Staging label ${stage} is currently attached to version ${holder.id}, so you must explicitly reference that version in RemoveFromVersionId.`,
        );
      if (stage === CURRENT) makeCurrent(m, target);
      else attachStage(m, stage, target);
    } else if (removeFrom !== undefined) {
      if (stage === CURRENT) throw invalidParameter('You can only move staging label AWSCURRENT to a different secret version. It can’t be completely removed.');
      const from = version(removeFrom);
      from.stages = from.stages.filter((x) => x !== stage);
    }
    // A pending version taken away ends the rotation the function was running on it.
    if (stage === PENDING && m.rotation.running !== undefined && !unfinishedRotation(m)) m.rotation.running = undefined;
    m.lastChanged = caller.now;
    return { ARN: meta.arn, Name: meta.name };
  }

  private get index(): SortedNames {
    return this.store.secretIndex;
  }

  private compileFilters(raw: unknown): SecretFilter[] {
    if (raw === undefined || raw === null) return [];
    if (!Array.isArray(raw)) throw new AwsFault('SerializationException', 'Filters must be a list');
    if (raw.length > 10) throw validation(`[${raw.length} filters]`, 'filters', 'Member must have length less than or equal to 10');
    return raw.map((f: { Key?: unknown; Values?: unknown }, i) => {
      const key = typeof f.Key === 'string' ? f.Key : '';
      if (!SECRET_FILTER_KEYS.includes(key))
        throw validation(key, `filters.${i + 1}.member.key`, `Member must satisfy enum value set: [${SECRET_FILTER_KEYS.join(', ')}]`);
      if (key !== 'name') throw notSimulated(`the ${key} filter`);
      const values = Array.isArray(f.Values) ? f.Values.map(String) : [];
      if (values.length < 1) throw validation('[]', `filters.${i + 1}.member.values`, 'Member must have length greater than or equal to 1');
      if (values.length > 10) throw validation(`[${values.join(', ')}]`, `filters.${i + 1}.member.values`, 'Member must have length less than or equal to 10');
      for (const v of values) {
        if (v.length > 512 || !FILTER_VALUE.test(v))
          throw validation(v, `filters.${i + 1}.member.values`, 'Member must satisfy regular expression pattern: ^\\!?[a-zA-Z0-9 :_@\\/\\+\\=\\.\\-\\!]*$');
      }
      return {
        positive: values.filter((v) => !v.startsWith('!')),
        negative: values.filter((v) => v.startsWith('!')).map((v) => v.slice(1)),
      };
    });
  }

  private matches(name: string, filters: SecretFilter[], includeDeleted: boolean): boolean {
    if (!includeDeleted && this.store.isPlannedDeletion(name)) return false;
    const test = (prefix: string) => name.startsWith(prefix);
    return filters.every((f) => (f.positive.length === 0 || f.positive.some(test)) && !f.negative.some(test));
  }

  /** Matching names in name order, one page. Positive name prefixes narrow the scan. */
  private scanPage(body: Body, filters: SecretFilter[], includeDeleted: boolean, max: number, desc: boolean): ScanResult {
    let start = 0;
    let end = this.index.length;
    const nameFilters = filters.filter((f) => f.positive.length > 0);
    let prefixes: string[] = [];
    if (nameFilters.length > 0) {
      // Every name filter must match; the first one's prefixes bound the scan.
      prefixes = [...nameFilters[0]!.positive].sort();
      start = this.index.lowerBound(prefixes[0]!);
      end = Math.max(...prefixes.map((p) => this.index.prefixEnd(p)));
    }
    // Negated name prefixes are contiguous ranges of the sorted names: the scan steps over them.
    const excluded = filters.flatMap((f) => f.negative);
    const test: ScanTest = (name) => {
      if (this.matches(name, filters, includeDeleted)) return true;
      const skip = excluded.find((p) => name.startsWith(p));
      if (skip !== undefined) return desc ? this.index.lowerBound(skip) - 1 : this.index.prefixEnd(skip);
      if (prefixes.length > 0 && !desc && !prefixes.some((p) => name.startsWith(p))) {
        const next = prefixes.find((p) => p > name);
        return next === undefined ? end : this.index.lowerBound(next);
      }
      return false;
    };
    const after = decodeToken(body.NextToken, 'scan', 'secretsmanager');
    if (after !== undefined) {
      if (desc) end = Math.min(end, this.index.lowerBound(after));
      else start = Math.max(start, this.index.upperBound(after));
    }
    return runScan(this.index, start, end, test, max, this.settings.scanWindow, desc);
  }

  private listEntry(meta: SecretMeta) {
    return {
      ARN: meta.arn,
      Name: meta.name,
      ...(meta.description !== undefined ? { Description: meta.description } : {}),
      ...(meta.kmsKeyId !== undefined ? { KmsKeyId: meta.kmsKeyId } : {}),
      RotationEnabled: meta.rotation?.enabled === true,
      ...(meta.rotation?.lambda !== undefined ? { RotationLambdaARN: meta.rotation.lambda } : {}),
      ...(meta.rotation?.rules !== undefined ? { RotationRules: meta.rotation.rules } : {}),
      ...(meta.rotation?.lastRotated !== undefined ? { LastRotatedDate: meta.rotation.lastRotated } : {}),
      // AWS shows no next rotation once rotation is off (CancelRotateSecret keeps the function and rules).
      ...(meta.rotation?.enabled && meta.rotation.next !== undefined ? { NextRotationDate: meta.rotation.next } : {}),
      LastChangedDate: meta.lastChanged,
      ...(meta.lastAccessed !== undefined ? { LastAccessedDate: meta.lastAccessed } : {}),
      ...(meta.deleted !== undefined ? { DeletedDate: meta.deleted } : {}),
      Tags: meta.tags,
      SecretVersionsToStages: Object.fromEntries(meta.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages])),
      CreatedDate: meta.created,
      PrimaryRegion: this.store.region,
    };
  }

  private value(meta: SecretMeta, versionId: unknown, stage: unknown) {
    if (meta.deleted !== undefined)
      throw new AwsFault('InvalidRequestException', "You can't perform this operation on the secret because it was marked for deletion.");
    const version = meta.versions.find((v) =>
      versionId !== undefined ? v.id === versionId && (stage === undefined || v.stages.includes(String(stage))) : v.stages.includes(stage === undefined ? 'AWSCURRENT' : String(stage)),
    );
    if (!version)
      throw new AwsFault(
        'ResourceNotFoundException',
        versionId !== undefined
          ? `Secrets Manager can't find the specified secret value for VersionId: ${String(versionId)}`
          : `Secrets Manager can't find the specified secret value for staging label: ${String(stage ?? 'AWSCURRENT')}`,
      );
    // AWS keeps the date of the last access only (kept for items held whole; generated ones stay light).
    if (meta.material) meta.material.lastAccessed = Math.floor(Date.now() / 1000 / DAY) * DAY;
    return {
      ARN: meta.arn,
      Name: meta.name,
      VersionId: version.id,
      ...(version.binary !== undefined ? { SecretBinary: version.binary } : { SecretString: version.value ?? SIM_VALUE_SENTINEL }),
      VersionStages: [...version.stages],
      CreatedDate: version.created,
    };
  }

  call(operation: string, body: Body, caller: Caller): unknown {
    switch (operation) {
      case 'PutSecretValue':
        return this.putSecretValue(body, caller);
      case 'RotateSecret':
        return this.rotateSecret(body, caller);
      case 'CancelRotateSecret':
        return this.cancelRotateSecret(body);
      case 'UpdateSecretVersionStage':
        return this.updateSecretVersionStage(body, caller);
      case 'GetResourcePolicy': {
        const meta = this.store.resolveSecret(body.SecretId);
        return { ARN: meta.arn, Name: meta.name, ...(meta.resourcePolicy !== undefined ? { ResourcePolicy: meta.resourcePolicy } : {}) };
      }
      case 'ListSecrets': {
        const max = maxResults(body, 'maxResults', 1, 100, 100);
        const filters = this.compileFilters(body.Filters);
        const order = body.SortOrder ?? 'asc';
        if (order !== 'asc' && order !== 'desc') throw validation(order, 'sortOrder', 'Member must satisfy enum value set: [asc, desc]');
        const sortBy = body.SortBy ?? 'name';
        if (!['name', 'created-date', 'last-accessed-date', 'last-changed-date'].includes(String(sortBy)))
          throw validation(sortBy, 'sortBy', 'Member must satisfy enum value set: [created-date, last-accessed-date, last-changed-date, name]');
        if (sortBy !== 'name') throw notSimulated(`ListSecrets SortBy ${String(sortBy)}`);
        const { names, resumeAfter } = this.scanPage(body, filters, body.IncludePlannedDeletion === true, max, order === 'desc');
        return {
          SecretList: names.map((n) => this.listEntry(this.store.secretMeta(n)!)),
          ...(resumeAfter !== undefined ? { NextToken: encodeToken('scan', resumeAfter) } : {}),
        };
      }
      case 'DescribeSecret': {
        const meta = this.store.resolveSecret(body.SecretId);
        const { SecretVersionsToStages, ...entry } = this.listEntry(meta);
        return { ...entry, VersionIdsToStages: SecretVersionsToStages, ...(meta.replication ? { ReplicationStatus: meta.replication } : {}) };
      }
      case 'ListSecretVersionIds': {
        const max = maxResults(body, 'maxResults', 1, 100, 100);
        const meta = this.store.resolveSecret(body.SecretId);
        const all = meta.versions
          .filter((v) => body.IncludeDeprecated === true || v.stages.length > 0)
          .reverse()
          .map((v) => ({
            VersionId: v.id,
            ...(v.stages.length > 0 ? { VersionStages: v.stages } : {}),
            ...(v.stages.includes('AWSCURRENT') && meta.lastAccessed !== undefined ? { LastAccessedDate: meta.lastAccessed } : {}),
            CreatedDate: v.created,
            KmsKeyIds: [meta.kmsKeyId ?? 'DefaultEncryptionKey'],
          }));
        const offset = decodeToken(body.NextToken, 'offset', 'secretsmanager') ?? 0;
        return {
          Versions: all.slice(offset, offset + max),
          ...(offset + max < all.length ? { NextToken: encodeToken('offset', offset + max) } : {}),
          ARN: meta.arn,
          Name: meta.name,
        };
      }
      case 'GetSecretValue': {
        const meta = this.store.resolveSecret(body.SecretId);
        return this.value(meta, body.VersionId, body.VersionStage);
      }
      default:
        throw new AwsFault('UnknownOperationException', `The simulator does not implement secretsmanager.${operation}.`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Settings that change at runtime.

interface Settings {
  latencyMs: number;
  failAll: string | null;
  scanWindow: number;
  denyTags: ((name: string, ordinal: number) => boolean) | null;
  denyHistory: ((name: string, ordinal: number) => boolean) | null;
  /** DescribeParameters is refused for any call that could list a parameter under one of these prefixes. */
  denyDescribePrefixes: string[] | null;
  /** group → rate (null: unlimited). */
  rates: Map<string, number | null>;
  buckets: Map<string, TokenBucket>;
  rotationDelayMs: number;
  recordCalls: boolean;
  historyValue: string | null;
}

/** The operations the simulator answers (every one has a quota), `service:Operation` → its quota group. */
const OPERATION_GROUP = new Map<string, string>(DEFAULT_QUOTAS.flatMap((q) => q.operations.map((op) => [`${q.service}:${op}`, q.group] as const)));

function applyQuotas(settings: Settings, overrides: QuotaOverrides): void {
  for (const [key, rate] of Object.entries(overrides)) {
    const group = DEFAULT_QUOTAS.some((q) => q.group === key) ? key : OPERATION_GROUP.get(key);
    if (!group) throw new Error(`unknown quota "${key}"; use one of ${DEFAULT_QUOTAS.map((q) => q.group).join(', ')} (or service:Operation)`);
    if (rate !== null && (typeof rate !== 'number' || !(rate >= 0))) throw new Error(`quota ${key} must be a number >= 0 or null`);
    const effective = rate === null || rate === Infinity ? null : rate;
    settings.rates.set(group, effective);
    if (effective === null) settings.buckets.delete(group);
    else settings.buckets.set(group, new TokenBucket(effective));
  }
}

function checkNonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !(value >= 0) || !Number.isFinite(value)) throw new Error(`${what} must be a number >= 0`);
  return value;
}

const FAILURE_MESSAGES: Record<string, { status: number; message: (service: SimService, op: string, account: string, region: string) => string }> = {
  AccessDeniedException: {
    status: 400,
    message: (service, op, account, region) =>
      `User: arn:aws:sts::${account}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: ${service}:${op} on resource: arn:aws:${service}:${region}:${account}:* because no identity-based policy allows the ${service}:${op} action`,
  },
  ExpiredTokenException: { status: 400, message: () => 'The security token included in the request is expired' },
  UnrecognizedClientException: { status: 400, message: () => 'The security token included in the request is invalid.' },
  ThrottlingException: { status: 400, message: () => 'Rate exceeded' },
  ResourceNotFoundException: { status: 400, message: () => "The resource can't be found." },
  InternalServerError: { status: 500, message: () => 'An internal error occurred.' },
  InternalServiceError: { status: 500, message: () => 'An error occurred on the server side.' },
  InternalFailure: { status: 500, message: () => 'The request processing has failed because of an unknown error, exception or failure.' },
  ServiceUnavailable: { status: 503, message: () => 'Service Unavailable' },
};

/**
 * Endpoint paths that fail every call the way AWS fails (`/fail/<key>`), as the browser tests'
 * stores are pointed at them. `timeout` is never answered: the client's own timeout decides.
 */
export const SCOPE_FAILURES = {
  'access-denied': 'AccessDeniedException',
  throttled: 'ThrottlingException',
  'not-found': 'ResourceNotFoundException',
  'expired-token': 'ExpiredTokenException',
  timeout: null,
} as const;
export type ScopeFailure = keyof typeof SCOPE_FAILURES;

export const DEFAULT_ROTATION_DELAY_MS = 1500;

/** The scope of an endpoint path: 'ok' for /, else the path without its outer slashes. */
function scopeOf(pathname: string): string {
  const trimmed = pathname.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? 'ok' : trimmed;
}

// ---------------------------------------------------------------------------------------------
// The handler, and the server around it.

/** What one arriving call is: decided at arrival, answered after the latency. */
interface Arrival {
  out: JsonAnswer | 'hang';
  service: SimService | null;
  operation: string;
  body: Body;
}

const VALUE_FIELDS = new Set(['Value', 'SecretString', 'SecretBinary']);

/** A request body as CloudTrail records it: lower-camel keys, never a value field. */
export function cloudTrailParameters(body: unknown): unknown {
  if (Array.isArray(body)) return body.map(cloudTrailParameters);
  if (!body || typeof body !== 'object') return body;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (VALUE_FIELDS.has(key)) continue;
    out[key.charAt(0).toLowerCase() + key.slice(1)] = cloudTrailParameters(value);
  }
  return out;
}

const READ_ONLY = /^(Get|Describe|List)/;


const VALUES_QUERY = z.object({ service: z.enum(['ssm', 'secretsmanager']), name: z.string().min(1).max(2048) }).strict();

export function createSimulatedAws(options: SimulatedAwsOptions = {}): SimulatedAwsHandler {
  const account = options.account ?? SIM_ACCOUNT;
  const region = options.region ?? SIM_REGION;
  if (!/^\d{12}$/.test(account)) throw new Error(`account must be 12 digits, not ${JSON.stringify(account)}`);
  if (!/^[a-z]{2}(-[a-z]+)+-\d$/.test(region)) throw new Error(`region must look like us-east-1, not ${JSON.stringify(region)}`);
  const startedAt = options.now ?? Date.now();

  const settings: Settings = {
    latencyMs: checkNonNegative(options.latencyMs ?? DEFAULT_LATENCY_MS, 'latencyMs'),
    failAll: options.failAll ?? null,
    scanWindow: options.scanWindow ?? DEFAULT_SCAN_WINDOW,
    denyTags: compileDeny(options.denyTags),
    denyHistory: compileDeny(options.denyHistory),
    denyDescribePrefixes: options.denyDescribePrefixes ? [...options.denyDescribePrefixes] : null,
    rates: new Map(DEFAULT_QUOTAS.map((q) => [q.group, q.ratePerSecond])),
    buckets: new Map(DEFAULT_QUOTAS.map((q) => [q.group, new TokenBucket(q.ratePerSecond)])),
    rotationDelayMs: checkNonNegative(options.rotationDelayMs ?? DEFAULT_ROTATION_DELAY_MS, 'rotationDelayMs'),
    recordCalls: options.recordCalls === true,
    historyValue: options.historyValue ?? null,
  };
  if (!(settings.scanWindow >= 1)) throw new Error('scanWindow must be >= 1');
  applyQuotas(settings, options.quotas ?? {});

  // Latency timers, rotations in flight, and requests never answered (/fail/timeout).
  const pending = new Set<NodeJS.Timeout>();
  const rotations = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  const recorded: SimRecordedCall[] = [];

  const writerArn = options.writerArn ?? `arn:aws:sts::${account}:assumed-role/dashboard-write/secrets-dashboard`;
  const rotationEnv: RotationEnv = {
    later: (delayMs, fn) => afterLatency(delayMs, rotations, fn),
    event: (operation, secretArn, token, failure) =>
      options.onCall?.({
        service: 'secretsmanager',
        operation,
        at: Date.now(),
        accessKeyId: null,
        userAgent: 'secretsmanager.amazonaws.com',
        requestParameters: { clientRequestToken: token },
        resources: [{ type: 'AWS::SecretsManager::Secret', arn: secretArn }],
        readOnly: false,
        eventType: 'AwsServiceEvent',
        ...(failure ? { errorCode: failure.code, errorMessage: failure.message } : {}),
      }),
  };

  const build = () => {
    const store = new Store(options.seed ?? 1, startedAt, account, region);
    store.generate(options.ssm ?? [], options.secretsmanager ?? []);
    for (const p of options.extraParameters ?? []) store.addParameter(p);
    for (const s of options.extraSecrets ?? []) store.addSecret(s);
    return { store, ssmApi: new ParameterStoreApi(store, settings), smApi: new SecretsManagerApi(store, settings, rotationEnv) };
  };
  let world = build();

  const counters = new CallCounters();
  const stats = (): SimStats => ({
    ...counters.stats(),
    quotas: DEFAULT_QUOTAS.map((q) => ({ group: q.group, ratePerSecond: settings.rates.get(q.group) ?? null })),
    latencyMs: settings.latencyMs,
    failAll: settings.failAll,
    parameters: world.store.params.size,
    secrets: world.store.secrets.size,
  });
  const resetStats = () => counters.reset();

  const control = (cmd: ControlCommand): ControlResult => {
    const checked = CONTROL_COMMAND.safeParse(cmd);
    if (!checked.success) throw new Error(`bad control command: ${checked.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`);
    // Validate everything before changing anything.
    const addParameters = (cmd.addParameters ?? []).map(checkParameterInput);
    const addSecrets = (cmd.addSecrets ?? []).map(checkSecretInput);
    const denyTags = cmd.denyTags !== undefined ? compileDeny(cmd.denyTags) : undefined;
    const denyHistory = cmd.denyHistory !== undefined ? compileDeny(cmd.denyHistory) : undefined;
    if (cmd.quotas !== undefined) {
      const probe: Settings = { ...settings, rates: new Map(settings.rates), buckets: new Map() };
      applyQuotas(probe, cmd.quotas);
    }

    const store = world.store;
    let added = 0;
    let deleted = 0;
    const notFound: string[] = [];
    for (const p of addParameters) {
      store.addParameter(p);
      added++;
    }
    for (const s of addSecrets) {
      store.addSecret(s);
      added++;
    }
    for (const n of cmd.deleteParameters ?? []) if (store.deleteParameter(n)) deleted++;
    else notFound.push(n);
    for (const n of cmd.deleteSecrets ?? []) if (store.deleteSecret(n)) deleted++;
    else notFound.push(n);
    if (cmd.failAll !== undefined) settings.failAll = cmd.failAll;
    if (cmd.latencyMs !== undefined) settings.latencyMs = cmd.latencyMs;
    if (cmd.rotationDelayMs !== undefined) settings.rotationDelayMs = cmd.rotationDelayMs;
    if (cmd.recordCalls !== undefined) settings.recordCalls = cmd.recordCalls;
    if (cmd.clearCalls) recorded.length = 0;
    if (cmd.scanWindow !== undefined) settings.scanWindow = cmd.scanWindow;
    if (denyTags !== undefined) settings.denyTags = denyTags;
    if (denyHistory !== undefined) settings.denyHistory = denyHistory;
    if (cmd.denyDescribePrefixes !== undefined) settings.denyDescribePrefixes = cmd.denyDescribePrefixes;
    if (cmd.quotas !== undefined) applyQuotas(settings, cmd.quotas);
    if (cmd.resetStats) resetStats();
    return { parameters: store.params.size, secrets: store.secrets.size, added, deleted, notFound };
  };

  /** Decide the answer to one AWS call (at arrival); it is sent after the latency. */
  const arrive = (req: IncomingMessage, raw: Buffer, scope: string): Arrival => {
    const target = String(req.headers['x-amz-target'] ?? '');
    const dot = target.indexOf('.');
    const prefix = dot < 0 ? target : target.slice(0, dot);
    const operation = dot < 0 ? '' : target.slice(dot + 1);
    const service: SimService | null = prefix === 'AmazonSSM' ? 'ssm' : prefix === 'secretsmanager' ? 'secretsmanager' : null;
    const now = performance.now();
    const c = counters.arrive(`${service ?? (prefix || 'unknown')}:${operation || 'unknown'}`, now);
    let body: Body = {};
    const fail = (type: string, message: string, status = 400): Arrival => ({ out: c.fail(type, message, status), service, operation, body });

    const auth = String(req.headers.authorization ?? '');
    if (!/^AWS4-HMAC-SHA256 Credential=\S+, ?SignedHeaders=\S+, ?Signature=[0-9a-f]+$/.test(auth) || !req.headers['x-amz-date'])
      return fail('MissingAuthenticationTokenException', 'Request is missing Authentication Token', 403);
    const parsed = parseJsonObject(raw);
    if (!parsed) return fail('SerializationException', 'Start of structure or map found where not expected.');
    body = parsed;
    if (!service || !OPERATION_GROUP.has(`${service}:${operation}`))
      return fail('UnknownOperationException', `The simulator does not implement ${target || '(no X-Amz-Target)'}.`);

    if (scope.startsWith('fail/')) {
      const key = scope.slice('fail/'.length);
      if (!(key in SCOPE_FAILURES)) return fail('UnknownFailure', `The simulator has no failure "${key}"; use one of ${Object.keys(SCOPE_FAILURES).join(', ')}.`, 404);
      const type = SCOPE_FAILURES[key as ScopeFailure];
      if (type === null) return { out: 'hang', service, operation, body };
      const known = FAILURE_MESSAGES[type]!;
      return fail(type, known.message(service, operation, account, region), known.status);
    }

    const bucket = settings.buckets.get(OPERATION_GROUP.get(`${service}:${operation}`)!);
    if (bucket && !bucket.take(now)) return fail('ThrottlingException', 'Rate exceeded');
    c.accepted.add(now);

    if (settings.failAll) {
      const known = FAILURE_MESSAGES[settings.failAll];
      return fail(settings.failAll, known ? known.message(service, operation, account, region) : `Simulated failure ${settings.failAll}`, known?.status ?? 400);
    }

    if (body.WithDecryption === true) c.withDecryption++;
    try {
      const accessKeyId = /Credential=([^/,\s]+)\//.exec(auth)?.[1];
      const caller: Caller = { principal: (accessKeyId !== undefined ? options.principals?.[accessKeyId] : undefined) ?? writerArn, now: Date.now() / 1000 };
      const out = service === 'ssm' ? world.ssmApi.call(operation, body, caller) : world.smApi.call(operation, body, caller);
      return { out: c.succeed(out), service, operation, body };
    } catch (error) {
      if (error instanceof AwsFault) return fail(error.type, error.message, error.status);
      return fail(service === 'ssm' ? 'InternalServerError' : 'InternalServiceError', `Simulator bug: ${(error as Error).message}`, 500);
    } finally {
      c.computeMs += performance.now() - now;
    }
  };

  /** The items a call names, as CloudTrail lists them in resources. */
  const resourcesOf = (service: SimService, body: Body): SimCall['resources'] => {
    if (service === 'ssm') {
      const names = [body.Name, body.ResourceType === 'Parameter' ? body.ResourceId : undefined, ...(Array.isArray(body.Names) ? body.Names : [])];
      return names
        .filter((n): n is string => typeof n === 'string' && n !== '')
        .map((n) => ({ type: 'AWS::SSM::Parameter' as const, arn: n.startsWith('arn:') ? n.replace(/:\d+$|:[A-Za-z][\w.-]*$/, '') : world.store.parameterArn(n.replace(/:[^/]*$/, '')) }));
    }
    try {
      return [{ type: 'AWS::SecretsManager::Secret', arn: world.store.resolveSecret(body.SecretId).arn }];
    } catch {
      return []; // no secret, or an unknown one: CloudTrail names no resource
    }
  };

  const simCall = (req: IncomingMessage, arrival: Arrival, at: number, scope: string): SimCall | null => {
    if (!arrival.service || arrival.out === 'hang') return null;
    const credential = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''));
    const out = arrival.out;
    const error = out.type ? (out.body as { message?: string }).message : undefined;
    return {
      service: arrival.service,
      operation: arrival.operation,
      at,
      accessKeyId: credential?.[1] ?? null,
      userAgent: typeof req.headers['user-agent'] === 'string' ? req.headers['user-agent'] : null,
      requestParameters: cloudTrailParameters(arrival.body) as Record<string, unknown>,
      resources: resourcesOf(arrival.service, arrival.body),
      readOnly: READ_ONLY.test(arrival.operation),
      ...(out.type ? { errorCode: out.type, ...(error !== undefined ? { errorMessage: error } : {}) } : {}),
      scope,
    };
  };

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    if (req.method !== 'POST') return sendJson(res, 405, { message: 'AWS JSON 1.1 requests are POSTs' });
    const scope = scopeOf(new URL(req.url ?? '/', 'http://sim').pathname);
    const at = Date.now();
    const arrival = arrive(req, raw, scope);
    if (settings.recordCalls) {
      const body = arrival.body;
      recorded.push({
        seq: recorded.length + 1,
        scope,
        service: arrival.service ?? 'unknown',
        operation: arrival.operation,
        name: [body.Name, body.SecretId, body.ResourceId].find((v): v is string => typeof v === 'string') ?? null,
        withDecryption: body.WithDecryption === true,
        signed: /^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? '')),
        error: arrival.out === 'hang' ? null : (arrival.out.type ?? null),
      });
    }
    if (arrival.out === 'hang') {
      // Never answered; the client gives up (and closes the socket) when its timeout passes.
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    const out = arrival.out;
    const call = options.onCall ? simCall(req, arrival, at, scope) : null;
    afterLatency(settings.latencyMs, pending, () => {
      sendAwsJson(res, out);
      if (call) options.onCall!(call);
    });
  };

  const values = (service: SimService, name: string): StoredValues | null => world.store.storedValues(service, name);
  const health = () => ({ account, region, parameters: world.store.params.size, secrets: world.store.secrets.size });

  const reset = (): void => {
    for (const timer of rotations) clearTimeout(timer);
    rotations.clear();
    world = build();
    for (const q of DEFAULT_QUOTAS) {
      const rate = settings.rates.get(q.group);
      if (rate !== null && rate !== undefined) settings.buckets.set(q.group, new TokenBucket(rate));
    }
  };

  const handleControl = (req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer): boolean => {
    const route = `${req.method ?? ''} ${path}`;
    if (route === 'GET /__calls') sendJson(res, 200, { recording: settings.recordCalls, calls: recorded });
    else if (route === 'POST /__reset') {
      reset();
      sendJson(res, 200, { ok: true, status: 'reset' });
    } else if (route === 'GET /__values') {
      const query = VALUES_QUERY.safeParse(Object.fromEntries(new URL(req.url ?? '/', 'http://sim').searchParams));
      const found = query.success ? values(query.data.service, query.data.name) : null;
      if (!query.success) sendJson(res, 400, { error: `GET /__values?service=ssm|secretsmanager&name=<name>: ${zodMessage(query.error)}` });
      else if (found) sendJson(res, 200, found);
      else sendJson(res, 404, { error: `no ${query.data.service} item named ${query.data.name}` });
    } else return answerControl(req, res, path, raw, { health, stats, resetStats, control });
    return true;
  };

  return {
    account,
    region,
    handle,
    handleControl,
    stats,
    resetStats,
    control,
    calls: () => [...recorded],
    values,
    reset,
    close: () => {
      cancelAll(pending);
      cancelAll(rotations);
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
  };
}

/** The simulator with its own loopback server: AWS calls at any path, control endpoints under /__. */
export async function startSimulatedAws(options: SimulatedAwsOptions = {}): Promise<SimulatedAws> {
  return serveAlone(createSimulatedAws(options), options.port, options.host);
}
