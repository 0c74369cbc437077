import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { cloudTrailRecordOf } from './cloudtrail-recording';
import { credentialScope, pathOf, sendAwsJson, sendJson, serveOn } from './sim-http';
import { createSimulatedAws, type ItemSet, type ParameterInput, type SecretInput, type SimulatedAwsHandler, type SimulatedAwsOptions } from './simulated-aws';
import { createSimulatedCloudTrail, SIM_CT_TARGETS, type CloudTrailControlCommand, type SimulatedCloudTrailHandler } from './simulated-cloudtrail';
import { createSimulatedCompute, ECS_TARGET_PREFIX, type ComputeControlCommand, type LambdaFunctionInput, type SimulatedComputeHandler, type TaskDefinitionInput } from './simulated-compute';
import { createSimulatedKms, type KmsControlCommand, type SimKmsKey, type SimulatedKmsHandler } from './simulated-kms';
import { cloudTrailLogFile, cloudTrailLogKey, createSimulatedS3, s3Error, type S3ControlCommand, type SimObject, type SimulatedS3Handler } from './simulated-s3';

// A simulated AWS organisation on one loopback port: several accounts, each in one or more regions,
// each with Parameter Store, Secrets Manager, CloudTrail LookupEvents, KMS, ECS task definitions,
// Lambda functions and S3 (its trail bucket).
// Requests are routed as AWS routes them to an account: by the SigV4 access key id (each account's
// key is the dashboard's credential for it) and the region of the credential scope. The service is
// the X-Amz-Target prefix (AmazonSSM., secretsmanager., CloudTrail_20131101., TrentService.,
// AmazonEC2ContainerServiceV20141113.); a request without one is Lambda when its credential scope
// says so (REST), else S3 (path-style). An unknown key is refused as AWS refuses it
// (UnrecognizedClientException for the JSON services, 403 InvalidAccessKeyId for S3); a key of
// one account cannot read another account's bucket (AccessDenied), and a bucket asked for in the
// wrong region answers AuthorizationHeaderMalformed with the bucket's region, as S3 does.
//
// Every call made to Parameter Store / Secrets Manager is recorded in that account and region's
// CloudTrail (LookupEvents sees it at once, newest first) and, every trailDeliveryMs, delivered to
// the account's trail bucket as a CloudTrail log file, as a trail does. The recorded events per
// account and region are bounded (recordLimit; the oldest recorded go first) so a long demo keeps
// its memory.
//
// Control endpoints (plain JSON):
//   GET  /__health                        { status: 'ok', accounts: [{ alias, account, region, parameters, secrets, events }] }
//   GET  /__stats                         every service's stats, per account and region
//   POST /__control                       { account, region?, aws?, cloudtrail?, s3?, kms?, compute? }: the services' control commands
//   POST /__trail/flush                   deliver the recorded events to the trail buckets now
//   ANY  /__accounts/<alias|id>/<region>/__<endpoint>   the simulated AWS's own control endpoints (__calls, __values, __reset, …)

export interface SimulatedAccountSpec {
  /** 12 digits. */
  account: string;
  /** 'prod'. */
  alias: string;
  /** 'us-east-1' (several entries may share one account, one region each). */
  region: string;
  /** The dashboard's key for this account: routes requests (SigV4 Credential=<key>/date/<region>/...). */
  accessKeyId: string;
  secretAccessKey: string;
  /** Who the key is, as CloudTrail names it, e.g. 'arn:aws:sts::111111111111:assumed-role/secrets-dashboard/dashboard'. */
  principalArn: string;
  parameters: ParameterInput[];
  secrets: SecretInput[];
  /** Generated Parameter Store and Secrets Manager sets (lazy: an item is its ordinal until asked), beside the explicit ones. */
  ssmSets?: ItemSet[];
  secretSets?: ItemSet[];
  /** CloudTrail LookupEvents history (the last 90 days). */
  events: CloudTrailRecord[];
  /** The trail bucket's objects (older events as CloudTrail's gzipped files; see cloudTrailLogKey/cloudTrailLogFile). */
  trailBucket: string;
  trailObjects: SimObject[];
  /** Where the trail writes (the part of its keys before AWSLogs/); default taken from trailObjects, else none. */
  trailPrefix?: string;
  /** KMS keys of this account and region (default none). */
  kmsKeys?: SimKmsKey[];
  /** ECS task definitions and Lambda functions of this account and region (default none). */
  taskDefinitions?: TaskDefinitionInput[];
  functions?: LambdaFunctionInput[];
}

export interface SimulatedOrganisationOptions {
  port?: number;
  host?: string;
  accounts: SimulatedAccountSpec[];
  /** Latency of every answer (default: each service's own). */
  latencyMs?: number;
  /** "Now" of the generated data (epoch ms); default the start time. */
  now?: number;
  /** Record the calls made to SSM/SM into that account's CloudTrail (default true). */
  recordCalls?: boolean;
  /** Recorded events kept per account and region (default 10,000), in LookupEvents and in the log files delivered: the oldest recorded go first. */
  recordLimit?: number;
  /** How often recorded events are delivered to the trail bucket, in ms (default 300,000, as CloudTrail's about 5 minutes); null: only by flushTrail. */
  trailDeliveryMs?: number | null;
  /** Further options of every account's simulated Parameter Store and Secrets Manager (quotas, rotationDelayMs, recordCalls, …). */
  awsOptions?: Omit<SimulatedAwsOptions, 'account' | 'region' | 'onCall' | 'port' | 'host' | 'extraParameters' | 'extraSecrets' | 'now'>;
}

export interface SimulatedOrganisationAccount {
  alias: string;
  account: string;
  region: string;
}

export interface SimulatedOrganisation {
  url: string;
  port: number;
  accounts: SimulatedOrganisationAccount[];
  /** An account's (by alias or id) Parameter Store and Secrets Manager in a region (default its first). */
  aws(who: string, region?: string): SimulatedAwsHandler;
  kms(who: string, region?: string): SimulatedKmsHandler;
  /** An account's ECS task definitions and Lambda functions in a region. */
  compute(who: string, region?: string): SimulatedComputeHandler;
  /** One CloudTrail for every account (it keeps account|region apart). */
  cloudTrail: SimulatedCloudTrailHandler;
  /** One S3 for every bucket (bucket names are global, as on AWS). */
  s3: SimulatedS3Handler;
  /** How many calls were recorded into CloudTrail so far. */
  recorded(): number;
  /** Delivers the recorded events not yet delivered to the trail buckets; how many log files were written. */
  flushTrail(): number;
  close(): Promise<void>;
}

/** Regions a generated organisation's accounts are in, in this order. */
export const GENERATED_REGIONS = ['us-east-1', 'eu-west-1', 'us-west-2', 'eu-central-1', 'ap-southeast-2', 'ap-northeast-1'] as const;

export interface GeneratedOrganisationShape {
  accounts: number;
  /** How many regions each account is in (the first of GENERATED_REGIONS). */
  regions: number;
  /** Generated in every account and region. */
  ssmSets: ItemSet[];
  secretSets: ItemSet[];
}

/** The access key id of a generated organisation's account `index` (1-based): the dashboard's credential for it, in every region. */
export const generatedAccessKeyId = (index: number) => `AKIAORG${String(index).padStart(13, '0')}`;

/**
 * An organisation of `accounts` accounts in `regions` regions each, every one holding the same
 * generated sets (the benchmark's many-account inventory): account ids 900000000001…, aliases
 * acct01…, one access key per account (generatedAccessKeyId; the secret key is "bench"), one trail
 * bucket per account. Nothing is generated here: the sets stay lazy in each account's services.
 */
export function generatedOrganisation(shape: GeneratedOrganisationShape): SimulatedAccountSpec[] {
  if (!(Number.isInteger(shape.accounts) && shape.accounts >= 1 && shape.accounts <= 999)) throw new Error('a generated organisation has 1 to 999 accounts');
  if (!(Number.isInteger(shape.regions) && shape.regions >= 1 && shape.regions <= GENERATED_REGIONS.length))
    throw new Error(`a generated organisation's accounts are in 1 to ${GENERATED_REGIONS.length} regions`);
  const width = Math.max(2, String(shape.accounts).length);
  return Array.from({ length: shape.accounts }, (_, i) => i + 1).flatMap((index) => {
    const account = String(900_000_000_000 + index);
    return GENERATED_REGIONS.slice(0, shape.regions).map((region) => ({
      account,
      alias: `acct${String(index).padStart(width, '0')}`,
      region,
      accessKeyId: generatedAccessKeyId(index),
      secretAccessKey: 'bench',
      principalArn: `arn:aws:sts::${account}:assumed-role/secrets-dashboard/dashboard`,
      parameters: [],
      secrets: [],
      ssmSets: shape.ssmSets,
      secretSets: shape.secretSets,
      events: [],
      trailBucket: `org-trail-${account}`,
      trailObjects: [],
    }));
  });
}

const DEFAULT_RECORD_LIMIT = 10_000;
const DEFAULT_TRAIL_DELIVERY_MS = 300_000;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$/;

const accountSpecSchema = z.object({
  account: z.string().regex(/^\d{12}$/, 'an account id is 12 digits'),
  alias: z.string().regex(/^[a-z0-9-]{1,63}$/, 'an alias is lowercase letters, digits and -'),
  region: z.string().regex(REGION, 'a region looks like us-east-1'),
  // Any key without '/', ',' or spaces routes (the demo's are deliberately not in a real key's format).
  accessKeyId: z.string().regex(/^[A-Za-z0-9_.-]{3,128}$/, 'an access key id is 3 to 128 letters, digits, _ . -'),
  secretAccessKey: z.string().min(1),
  principalArn: z.string().regex(/^arn:aws:(sts|iam)::\d{12}:\S+$/, 'principalArn is an sts or iam ARN'),
  trailBucket: z.string().regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'a bucket name is 3 to 63 lowercase letters, digits, . and -'),
});

const controlSchema = z.object({
  account: z.string().min(1),
  region: z.string().regex(REGION).optional(),
  aws: z.record(z.string(), z.unknown()).optional(),
  cloudtrail: z.record(z.string(), z.unknown()).optional(),
  s3: z.record(z.string(), z.unknown()).optional(),
  kms: z.record(z.string(), z.unknown()).optional(),
  compute: z.record(z.string(), z.unknown()).optional(),
});

/** What a JSON service answers for a request it cannot take (before any service sees it). */
const jsonFault = (res: ServerResponse, status: number, type: string, message: string) => sendAwsJson(res, { status, type, body: { __type: type, message } });

const JSON_SERVICES: { prefixes: readonly string[]; signingName: string; kind: 'aws' | 'cloudtrail' | 'kms' | 'compute' }[] = [
  { prefixes: ['AmazonSSM.'], signingName: 'ssm', kind: 'aws' },
  { prefixes: ['secretsmanager.'], signingName: 'secretsmanager', kind: 'aws' },
  { prefixes: SIM_CT_TARGETS.map((t) => t.slice(0, t.lastIndexOf('.') + 1)), signingName: 'cloudtrail', kind: 'cloudtrail' },
  { prefixes: ['TrentService.'], signingName: 'kms', kind: 'kms' },
  { prefixes: [ECS_TARGET_PREFIX], signingName: 'ecs', kind: 'compute' },
];

/** The text before 'AWSLogs/' in a trail's keys: where the trail writes. */
function trailPrefixOf(spec: SimulatedAccountSpec): string | undefined {
  if (spec.trailPrefix !== undefined) return spec.trailPrefix;
  const key = spec.trailObjects.find((o) => o.key.includes('AWSLogs/'))?.key;
  const prefix = key?.slice(0, key.indexOf('AWSLogs/')).replace(/\/+$/, '');
  return prefix || undefined;
}

/** Records keep their own account and region; a record without them is the spec's. */
function placed(record: CloudTrailRecord, account: string, region: string): CloudTrailRecord {
  if (record.recipientAccountId && record.awsRegion) return record;
  return { ...record, recipientAccountId: record.recipientAccountId ?? account, awsRegion: record.awsRegion ?? region };
}

/** What the organisation keeps of an account after start: not its data (the services hold that). */
interface AccountPlace {
  account: string;
  alias: string;
  region: string;
  principalArn: string;
  trailBucket: string;
  trailPrefix: string | undefined;
  kmsKeys: SimKmsKey[];
}

interface Recording {
  /** Ids recorded into CloudTrail, oldest first (for the bound). */
  ids: string[];
  /** Records not yet delivered to the trail bucket. */
  undelivered: CloudTrailRecord[];
  /** Log files delivered, oldest first, with their event counts (for the bound). */
  delivered: { bucket: string; key: string; events: number }[];
  deliveredEvents: number;
}

export async function startSimulatedOrganisation(options: SimulatedOrganisationOptions): Promise<SimulatedOrganisation> {
  if (!Array.isArray(options.accounts) || options.accounts.length === 0) throw new Error('a simulated organisation needs at least one account');
  const keys = new Map<string, AccountPlace>();
  const aliases = new Map<string, string>();
  const specs = new Map<string, AccountPlace>();
  const regionsOf = new Map<string, string[]>();
  const bucketHome = new Map<string, { account: string; region: string }>();
  for (const spec of options.accounts) {
    const checked = accountSpecSchema.safeParse(spec);
    if (!checked.success) throw new Error(`account ${spec.alias ?? spec.account}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    const place = `${spec.account}|${spec.region}`;
    if (specs.has(place)) throw new Error(`account ${spec.account} is given twice for region ${spec.region}`);
    const keyOwner = keys.get(spec.accessKeyId);
    if (keyOwner && keyOwner.account !== spec.account) throw new Error(`access key ${spec.accessKeyId} is given to two accounts (${keyOwner.account}, ${spec.account})`);
    const aliasOwner = aliases.get(spec.alias);
    if (aliasOwner && aliasOwner !== spec.account) throw new Error(`alias ${spec.alias} names two accounts (${aliasOwner}, ${spec.account})`);
    const home = bucketHome.get(spec.trailBucket);
    if (home && home.account !== spec.account) throw new Error(`bucket ${spec.trailBucket} is given to two accounts (${home.account}, ${spec.account})`);
    const kept: AccountPlace = {
      account: spec.account,
      alias: spec.alias,
      region: spec.region,
      principalArn: spec.principalArn,
      trailBucket: spec.trailBucket,
      trailPrefix: trailPrefixOf(spec),
      kmsKeys: spec.kmsKeys ?? [],
    };
    specs.set(place, kept);
    keys.set(spec.accessKeyId, keyOwner ?? kept);
    aliases.set(spec.alias, spec.account);
    regionsOf.set(spec.account, [...(regionsOf.get(spec.account) ?? []), spec.region]);
    if (!home) bucketHome.set(spec.trailBucket, { account: spec.account, region: spec.region });
  }
  // Only these are kept: the accounts' data goes to the services, once.
  const places = [...specs.values()];
  const aliasOf = (account: string) => [...aliases].find(([, id]) => id === account)?.[0] ?? account;

  const recordCalls = options.recordCalls ?? true;
  const recordLimit = options.recordLimit ?? DEFAULT_RECORD_LIMIT;
  if (!(Number.isInteger(recordLimit) && recordLimit >= 1)) throw new Error('recordLimit must be a whole number >= 1');
  const latency = options.latencyMs === undefined ? {} : { latencyMs: options.latencyMs };
  const now = options.now === undefined ? {} : { now: options.now };
  // No closure below refers to `options`, so the accounts' data is not kept alive through it.
  const awsDefaults = { ...options.awsOptions, ...latency, ...now };

  const cloudTrail = createSimulatedCloudTrail({
    ...latency,
    ...now,
    accessKeys: Object.fromEntries([...keys].map(([key, spec]) => [key, spec.account])),
  });
  for (const spec of options.accounts) cloudTrail.control({ addEvents: spec.events.map((e) => placed(e, spec.account, spec.region)) });

  const s3 = createSimulatedS3({ ...latency, buckets: [...bucketHome.keys()].map((name) => ({ name })) });
  for (const spec of options.accounts) for (const object of spec.trailObjects) s3.put(object);

  const recordings = new Map<string, Recording>();
  let recordedCount = 0;
  const record = (account: string, region: string, event: CloudTrailRecord) => {
    const place = `${account}|${region}`;
    let recording = recordings.get(place);
    if (!recording) recordings.set(place, (recording = { ids: [], undelivered: [], delivered: [], deliveredEvents: 0 }));
    cloudTrail.control({ addEvents: [event] });
    recordedCount++;
    recording.ids.push(event.eventID!);
    // Without timed delivery (trailDeliveryMs null) flushTrail still delivers; the backlog is bounded too.
    recording.undelivered.push(event);
    if (recording.undelivered.length > recordLimit) recording.undelivered.splice(0, recording.undelivered.length - recordLimit);
    // Forget in batches, so the bound costs one pass over the events per tenth of the limit.
    if (recording.ids.length > recordLimit + Math.max(1, Math.floor(recordLimit / 10))) {
      cloudTrail.control({ forgetEvents: recording.ids.splice(0, recording.ids.length - recordLimit) });
    }
  };

  const awsHandlers = new Map<string, SimulatedAwsHandler>();
  const kmsHandlers = new Map<string, SimulatedKmsHandler>();
  /** An account's services in a region; a region the organisation does not list is there, empty (as AWS's are). */
  const awsIn = (account: string, region: string, data?: Pick<SimulatedAccountSpec, 'parameters' | 'secrets' | 'ssmSets' | 'secretSets'>): SimulatedAwsHandler => {
    const place = `${account}|${region}`;
    let handler = awsHandlers.get(place);
    if (!handler) {
      handler = createSimulatedAws({
        ...awsDefaults,
        account,
        region,
        ...(data?.ssmSets ? { ssm: data.ssmSets } : {}),
        ...(data?.secretSets ? { secretsmanager: data.secretSets } : {}),
        extraParameters: data?.parameters ?? [],
        extraSecrets: data?.secrets ?? [],
        ...(recordCalls
          ? {
              onCall: (call) => {
                const caller = call.accessKeyId ? keys.get(call.accessKeyId) : undefined;
                record(account, region, cloudTrailRecordOf(call, { account, region, principalArn: caller?.principalArn ?? null }));
              },
            }
          : {}),
      });
      awsHandlers.set(place, handler);
    }
    return handler;
  };
  const kmsIn = (account: string, region: string): SimulatedKmsHandler => {
    const place = `${account}|${region}`;
    let handler = kmsHandlers.get(place);
    if (!handler) kmsHandlers.set(place, (handler = createSimulatedKms({ ...latency, account, region, keys: specs.get(place)?.kmsKeys ?? [] })));
    return handler;
  };
  const computeHandlers = new Map<string, SimulatedComputeHandler>();
  const computeIn = (account: string, region: string, data?: Pick<SimulatedAccountSpec, 'taskDefinitions' | 'functions'>): SimulatedComputeHandler => {
    const place = `${account}|${region}`;
    let handler = computeHandlers.get(place);
    if (!handler) {
      const principals = Object.fromEntries([...keys].filter(([, p]) => p.account === account).map(([key, p]) => [key, p.principalArn]));
      handler = createSimulatedCompute({ ...latency, ...now, account, region, principals, taskDefinitions: data?.taskDefinitions ?? [], functions: data?.functions ?? [] });
      computeHandlers.set(place, handler);
    }
    return handler;
  };
  for (const spec of options.accounts) {
    awsIn(spec.account, spec.region, spec);
    kmsIn(spec.account, spec.region);
    computeIn(spec.account, spec.region, spec);
  }

  /** An account by alias or id, and a region of it (default its first). */
  const locate = (who: string, region?: string): { account: string; region: string } => {
    const account = aliases.get(who) ?? (regionsOf.has(who) ? who : undefined);
    if (!account) throw new Error(`no account "${who}" in the organisation (${[...aliases.keys()].join(', ')})`);
    const chosen = region ?? regionsOf.get(account)![0]!;
    if (!REGION.test(chosen)) throw new Error(`"${chosen}" is not a region`);
    return { account, region: chosen };
  };

  const flushTrail = (): number => {
    let files = 0;
    for (const [place, recording] of recordings) {
      if (recording.undelivered.length === 0) continue;
      const [account, region] = place.split('|') as [string, string];
      // A region the organisation does not list delivers to the account's (first) trail bucket.
      const spec = specs.get(place) ?? [...specs.values()].find((s) => s.account === account)!;
      const records = recording.undelivered.splice(0);
      const file = { bucket: spec.trailBucket, key: cloudTrailLogKey({ prefix: spec.trailPrefix, account, region, time: new Date() }), events: records.length };
      s3.put({ bucket: file.bucket, key: file.key, body: cloudTrailLogFile(records) });
      recording.delivered.push(file);
      recording.deliveredEvents += file.events;
      files++;
      // The files it wrote hold at most recordLimit events too (the oldest files go; the given ones stay).
      while (recording.deliveredEvents > recordLimit && recording.delivered.length > 1) {
        const oldest = recording.delivered.shift()!;
        s3.remove(oldest.bucket, oldest.key);
        recording.deliveredEvents -= oldest.events;
      }
    }
    return files;
  };
  const deliveryMs = options.trailDeliveryMs === undefined ? DEFAULT_TRAIL_DELIVERY_MS : options.trailDeliveryMs;
  const delivery = deliveryMs === null ? null : setInterval(flushTrail, deliveryMs);
  delivery?.unref();

  const routeJson = (req: IncomingMessage, res: ServerResponse, raw: Buffer, target: string) => {
    const service = JSON_SERVICES.find((s) => s.prefixes.some((p) => target.startsWith(p)));
    if (!service) return jsonFault(res, 400, 'UnknownOperationException', `The simulated organisation does not implement ${target}.`);
    const scope = credentialScope(req);
    if (!scope || !req.headers['x-amz-date']) return jsonFault(res, 403, 'MissingAuthenticationTokenException', 'Missing Authentication Token');
    const caller = keys.get(scope.accessKeyId);
    if (!caller) return jsonFault(res, 400, 'UnrecognizedClientException', 'The security token included in the request is invalid.');
    if (scope.service !== service.signingName)
      return jsonFault(res, 403, 'InvalidSignatureException', `Credential should be scoped to correct service: '${service.signingName}'. `);
    if (!REGION.test(scope.region)) return jsonFault(res, 403, 'InvalidSignatureException', 'Credential should be scoped to a valid region.');
    if (service.kind === 'cloudtrail') return cloudTrail.handle(req, res, raw);
    if (service.kind === 'kms') return kmsIn(caller.account, scope.region).handle(req, res, raw);
    if (service.kind === 'compute') return computeIn(caller.account, scope.region).handle(req, res, raw);
    return awsIn(caller.account, scope.region).handle(req, res, raw);
  };

  /** Lambda's REST API: the account by the key, as the JSON services (Lambda refuses an unknown key with 403). */
  const routeLambda = (req: IncomingMessage, res: ServerResponse, raw: Buffer, scope: { accessKeyId: string; region: string }) => {
    const caller = keys.get(scope.accessKeyId);
    if (!caller) return sendAwsJson(res, { status: 403, type: 'UnrecognizedClientException', body: { message: 'The security token included in the request is invalid.' } }, 'application/json');
    computeIn(caller.account, scope.region).handle(req, res, raw);
  };

  const routeS3 = (req: IncomingMessage, res: ServerResponse, raw: Buffer, path: string) => {
    const scope = credentialScope(req);
    // Unsigned: S3 itself refuses it.
    if (!scope) return s3.handle(req, res, raw);
    const caller = keys.get(scope.accessKeyId);
    if (!caller) return s3Error(res, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    let bucket: string;
    try {
      bucket = decodeURIComponent(path.split('/')[1] ?? '');
    } catch {
      return s3Error(res, 400, 'InvalidURI', "Couldn't parse the specified URI.");
    }
    const home = bucketHome.get(bucket);
    if (home && home.account !== caller.account) return s3Error(res, 403, 'AccessDenied', 'Access Denied');
    if (home && home.region !== scope.region) {
      return s3Error(res, 400, 'AuthorizationHeaderMalformed', `The authorization header is malformed; the region '${scope.region}' is wrong; expecting '${home.region}'`, {
        Region: home.region,
      });
    }
    s3.handle(req, res, raw);
  };

  const health = () => ({
    status: 'ok',
    accounts: places.map((spec) => {
      const stats = awsIn(spec.account, spec.region).stats();
      return {
        alias: spec.alias,
        account: spec.account,
        region: spec.region,
        parameters: stats.parameters,
        secrets: stats.secrets,
        events: cloudTrail.count({ account: spec.account, region: spec.region }),
        trailBucket: spec.trailBucket,
      };
    }),
    recorded: recordedCount,
  });

  const stats = () => {
    const { log, ...cloudtrail } = cloudTrail.stats();
    return {
      aws: Object.fromEntries([...awsHandlers].map(([place, h]) => [`${aliasOf(place.split('|')[0]!)}/${place.split('|')[1]!}`, h.stats()])),
      kms: Object.fromEntries([...kmsHandlers].map(([place, h]) => [`${aliasOf(place.split('|')[0]!)}/${place.split('|')[1]!}`, h.stats()])),
      compute: Object.fromEntries([...computeHandlers].map(([place, h]) => [`${aliasOf(place.split('|')[0]!)}/${place.split('|')[1]!}`, h.stats()])),
      // The newest calls only: the whole log of a long demo is large.
      cloudtrail: { ...cloudtrail, log: log.slice(-200) },
      s3: s3.stats(),
      recorded: recordedCount,
    };
  };

  const control = (raw: Buffer) => {
    const body = controlSchema.parse(JSON.parse(raw.toString('utf8') || '{}'));
    const { account, region } = locate(body.account, body.region);
    const out: Record<string, unknown> = { account, region };
    if (body.aws) out.aws = awsIn(account, region).control(body.aws);
    if (body.kms) out.kms = kmsIn(account, region).control(body.kms as KmsControlCommand);
    if (body.compute) out.compute = computeIn(account, region).control(body.compute as ComputeControlCommand);
    if (body.s3) out.s3 = s3.control(body.s3 as S3ControlCommand);
    if (body.cloudtrail) {
      const cmd = body.cloudtrail as CloudTrailControlCommand;
      out.cloudtrail = cloudTrail.control({ ...cmd, ...(cmd.addEvents ? { addEvents: cmd.addEvents.map((e) => placed(e, account, region)) } : {}) });
    }
    return out;
  };

  const routeControl = (req: IncomingMessage, res: ServerResponse, path: string, raw: Buffer) => {
    const route = `${req.method ?? ''} ${path}`;
    if (route === 'GET /__health') return sendJson(res, 200, health());
    if (route === 'GET /__stats') return sendJson(res, 200, stats());
    if (route === 'POST /__trail/flush') return sendJson(res, 200, { ok: true, files: flushTrail() });
    if (route === 'POST /__control') {
      try {
        return sendJson(res, 200, { ok: true, ...control(raw) });
      } catch (error) {
        const message = error instanceof z.ZodError ? error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') : (error as Error).message;
        return sendJson(res, 400, { error: message });
      }
    }
    const forwarded = /^\/__accounts\/([^/]+)\/(?:([a-z0-9-]+)\/)?(__.*)$/.exec(path);
    if (forwarded) {
      let place: { account: string; region: string };
      try {
        place = locate(decodeURIComponent(forwarded[1]!), forwarded[2]);
      } catch (error) {
        return sendJson(res, 404, { error: (error as Error).message });
      }
      if (awsIn(place.account, place.region).handleControl(req, res, `/${forwarded[3]!}`, raw)) return;
    }
    return sendJson(res, 404, { error: `no control endpoint ${route}` });
  };

  const server = await serveOn(
    (req, res, raw) => {
      const path = pathOf(req);
      if (path.startsWith('/__')) return routeControl(req, res, path, raw);
      const target = req.headers['x-amz-target'];
      if (typeof target === 'string' && target !== '') return routeJson(req, res, raw, target);
      const scope = credentialScope(req);
      if (scope?.service === 'lambda') return routeLambda(req, res, raw, scope);
      routeS3(req, res, raw, path);
    },
    options.port ?? 0,
    options.host ?? '127.0.0.1',
  );

  return {
    url: server.url,
    port: server.port,
    accounts: places.map((s) => ({ alias: s.alias, account: s.account, region: s.region })),
    aws: (who, region) => {
      const place = locate(who, region);
      return awsIn(place.account, place.region);
    },
    kms: (who, region) => {
      const place = locate(who, region);
      return kmsIn(place.account, place.region);
    },
    compute: (who, region) => {
      const place = locate(who, region);
      return computeIn(place.account, place.region);
    },
    cloudTrail,
    s3,
    recorded: () => recordedCount,
    flushTrail,
    close: async () => {
      if (delivery) clearInterval(delivery);
      for (const h of awsHandlers.values()) h.close();
      for (const h of kmsHandlers.values()) h.close();
      for (const h of computeHandlers.values()) h.close();
      cloudTrail.close();
      s3.close();
      await server.close();
    },
  };
}
