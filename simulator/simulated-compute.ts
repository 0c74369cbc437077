import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { AwsFault } from './aws-fault';
import { afterLatency, answerControl, CallCounters, cancelAll, parseJsonObject, pathOf, sendAwsJson, serveAlone, TokenBucket, zodMessage, type Controllable, type JsonAnswer, type Standalone } from './sim-http';

// The simulated ECS task definitions and Lambda functions of one account in one region: what reads
// secrets (ECS `secrets[].valueFrom`, Lambda environment variables), for the dashboard's findings
// about who uses an item. Read-only, as the dashboard only reads them: ECS ListTaskDefinitions and
// DescribeTaskDefinition over AWS JSON 1.1 (X-Amz-Target AmazonEC2ContainerServiceV20141113.<Op>),
// Lambda ListFunctions over REST JSON (GET /2015-03-31/functions/). A latency per call, AWS's request
// rates (ECS answers ThrottlingException, Lambda 429 TooManyRequestsException, so the SDK retries),
// refused callers as AWS words it, and the /fail/<failure> paths of the simulated AWS.

export const ECS_TARGET_PREFIX = 'AmazonEC2ContainerServiceV20141113.';
const LAMBDA_FUNCTIONS = '/2015-03-31/functions';
const OPERATIONS = ['ecs:ListTaskDefinitions', 'ecs:DescribeTaskDefinition', 'lambda:ListFunctions'] as const;
type Operation = (typeof OPERATIONS)[number];

/**
 * Requests a second per account and region. ECS throttles its Describe and List calls at a sustained
 * 20 a second; Lambda's control plane (ListFunctions among it) at 15.
 */
export const COMPUTE_QUOTAS: Readonly<Record<Operation, number>> = { 'ecs:ListTaskDefinitions': 20, 'ecs:DescribeTaskDefinition': 20, 'lambda:ListFunctions': 15 };
export const COMPUTE_DEFAULT_LATENCY_MS = 20;

const date = z.union([z.number(), z.string()]);
const epochSeconds = (value: number | string | undefined, fallbackMs: number) => (value === undefined ? fallbackMs / 1000 : typeof value === 'number' ? value : Date.parse(value) / 1000);

/** A task definition revision as it was registered (dates: epoch seconds or ISO). */
const taskDefinitionInput = z.object({
  family: z.string().regex(/^[A-Za-z0-9_-]{1,255}$/, 'letters, digits, _ and -'),
  revision: z.number().int().min(1).default(1),
  status: z.enum(['ACTIVE', 'INACTIVE']).default('ACTIVE'),
  taskRoleArn: z.string().optional(),
  executionRoleArn: z.string().optional(),
  registeredAt: date.optional(),
  containerDefinitions: z
    .array(
      z.object({
        name: z.string().min(1),
        image: z.string().min(1),
        /** Plain environment variables: what ECS shows anyone who may describe the task definition. */
        environment: z.array(z.object({ name: z.string().min(1), value: z.string() })).default([]),
        /** Injected at start: a parameter's name or ARN, or a secret's (partial) ARN with an optional `:json-key:version-stage:version-id`. */
        secrets: z.array(z.object({ name: z.string().min(1), valueFrom: z.string().min(1) })).default([]),
      }),
    )
    .min(1),
});
export type TaskDefinitionInput = z.input<typeof taskDefinitionInput>;

/** A Lambda function ($LATEST), as ListFunctions shows it. */
const lambdaFunctionInput = z.object({
  FunctionName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'letters, digits, _ and -'),
  Runtime: z.string().default('nodejs20.x'),
  /** Default arn:aws:iam::<account>:role/<FunctionName>-role. */
  Role: z.string().optional(),
  Handler: z.string().default('index.handler'),
  Description: z.string().default(''),
  LastModified: date.optional(),
  Environment: z.object({ Variables: z.record(z.string(), z.string()) }).optional(),
  /** Layer version ARNs, e.g. the AWS-Parameters-and-Secrets-Lambda-Extension's. */
  Layers: z.array(z.string()).default([]),
});
export type LambdaFunctionInput = z.input<typeof lambdaFunctionInput>;

const controlCommand = z
  .object({
    /** Operations (e.g. 'lambda:ListFunctions') the caller is refused as AWS refuses them; [] lifts every refusal. */
    deny: z.array(z.enum(OPERATIONS)),
    /** Every call fails with this error type; null = healthy. */
    failAll: z.string().regex(/^[A-Za-z]+$/).nullable(),
    latencyMs: z.number().min(0).max(600_000),
    /** Requests a second per operation; null = unlimited. */
    quotas: z.partialRecord(z.enum(OPERATIONS), z.number().min(0).nullable()),
    resetStats: z.boolean(),
    /** Functions written as UpdateFunctionConfiguration or CreateFunction would: replaced by name, or added. */
    putFunctions: z.array(lambdaFunctionInput),
    /** Task definition revisions (ARNs) deregistered, as DeregisterTaskDefinition does: INACTIVE from then on. */
    deregister: z.array(z.string()),
  })
  .partial()
  .strict();
export type ComputeControlCommand = z.input<typeof controlCommand>;

export interface SimulatedComputeOptions {
  /** The account and region in every ARN (default 123456789012, us-east-1). */
  account?: string;
  region?: string;
  taskDefinitions?: TaskDefinitionInput[];
  functions?: LambdaFunctionInput[];
  /** Default 20 ms. */
  latencyMs?: number;
  /** When undated definitions were registered and functions last modified (epoch ms); default the start time. */
  now?: number;
  /** Who each access key is, for the wording of a refusal (default a dashboard-read role). */
  principals?: Record<string, string>;
  port?: number;
  host?: string;
}

export interface SimulatedComputeHandler {
  /** Answers one ECS (AWS JSON 1.1) or Lambda (REST JSON) request whose body was read (latency applied inside). */
  handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void;
  handleControl(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): boolean;
  stats(): ReturnType<CallCounters['stats']> & { latencyMs: number; failAll: string | null; deny: string[]; taskDefinitions: number; functions: number };
  resetStats(): void;
  control(cmd: ComputeControlCommand): { taskDefinitions: number; functions: number };
  close(): void;
}

export type SimulatedCompute = Standalone<SimulatedComputeHandler>;

/** A page's position as both services hand it out: opaque to the caller, checked when it comes back. */
const encodePage = (offset: number) => Buffer.from(`page:${offset}`, 'utf8').toString('base64url');
function decodePage(token: unknown, length: number, invalid: () => AwsFault): number {
  if (token === undefined || token === null || token === '') return 0;
  const match = typeof token === 'string' ? /^page:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8')) : null;
  if (!match || Number(match[1]) > length) throw invalid();
  return Number(match[1]);
}

/** Lambda's LastModified: ISO 8601 with milliseconds and a +0000 offset. */
const lambdaTime = (seconds: number) => new Date(seconds * 1000).toISOString().replace('Z', '+0000');

export function createSimulatedCompute(options: SimulatedComputeOptions = {}): SimulatedComputeHandler {
  const account = options.account ?? '123456789012';
  const region = options.region ?? 'us-east-1';
  const now = options.now ?? Date.now();
  const load = <T>(schema: z.ZodType<T>, what: string, items: unknown[]) =>
    items.map((item) => {
      const parsed = schema.safeParse(item);
      if (!parsed.success) throw new Error(`${what} ${JSON.stringify(item).slice(0, 80)}: ${zodMessage(parsed.error)}`);
      return parsed.data;
    });

  /** Where a function of this name goes in the list ListFunctions pages through (sorted by name). */
  const sortedIndex = (list: readonly { FunctionName: string }[], name: string) => {
    const at = list.findIndex((f) => f.FunctionName > name);
    return at < 0 ? list.length : at;
  };
  const taskDefinitionArn = (family: string, revision: number) => `arn:aws:ecs:${region}:${account}:task-definition/${family}:${revision}`;
  // Sorted as ListTaskDefinitions lists them: by family, then revision.
  const taskDefinitions = load(taskDefinitionInput, 'task definition', options.taskDefinitions ?? [])
    .map((t) => ({ ...t, arn: taskDefinitionArn(t.family, t.revision) }))
    .sort((a, b) => (a.family < b.family ? -1 : a.family > b.family ? 1 : a.revision - b.revision));
  if (new Set(taskDefinitions.map((t) => t.arn)).size !== taskDefinitions.length) throw new Error('a task definition revision is given twice');
  const functions = load(lambdaFunctionInput, 'function', options.functions ?? []).sort((a, b) => (a.FunctionName < b.FunctionName ? -1 : 1));
  if (new Set(functions.map((f) => f.FunctionName)).size !== functions.length) throw new Error('a function name is given twice');

  const settings = { latencyMs: options.latencyMs ?? COMPUTE_DEFAULT_LATENCY_MS, failAll: null as string | null, deny: new Set<string>() };
  const buckets = new Map<string, TokenBucket>(Object.entries(COMPUTE_QUOTAS).map(([op, rate]) => [op, new TokenBucket(rate)]));
  const counters = new CallCounters();

  const ecs = {
    ListTaskDefinitions: (body: Record<string, unknown>) => {
      const invalid = (message: string) => new AwsFault('InvalidParameterException', message);
      const status = body.status ?? 'ACTIVE';
      if (!['ACTIVE', 'INACTIVE', 'DELETE_IN_PROGRESS'].includes(String(status))) throw invalid(`Invalid status: ${String(status)}`);
      const max = body.maxResults ?? 100;
      if (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100) throw invalid('maxResults must be between 1 and 100.');
      const prefix = typeof body.familyPrefix === 'string' ? body.familyPrefix : '';
      const matching = taskDefinitions.filter((t) => t.status === status && t.family.startsWith(prefix));
      if (body.sort === 'DESC') matching.reverse();
      const offset = decodePage(body.nextToken, matching.length, () => invalid('Invalid nextToken.'));
      const next = offset + max < matching.length ? { nextToken: encodePage(offset + max) } : {};
      return { taskDefinitionArns: matching.slice(offset, offset + max).map((t) => t.arn), ...next };
    },
    DescribeTaskDefinition: (body: Record<string, unknown>) => {
      const named = body.taskDefinition;
      if (typeof named !== 'string' || named === '') throw new AwsFault('ClientException', 'Task Definition can not be blank.');
      // A family (its newest ACTIVE revision), family:revision, or the ARN of a revision in this account and region.
      const unable = () => new AwsFault('ClientException', 'Unable to describe task definition.');
      const arnPrefix = `arn:aws:ecs:${region}:${account}:task-definition/`;
      if (named.startsWith('arn:') && !named.startsWith(arnPrefix)) throw unable();
      const [family, revision, rest] = named.replace(arnPrefix, '').split(':');
      const found = revision
        ? taskDefinitions.find((t) => t.family === family && String(t.revision) === revision)
        : taskDefinitions.filter((t) => t.family === family && t.status === 'ACTIVE').at(-1);
      if (!found || rest !== undefined) throw unable();
      const include = Array.isArray(body.include) ? body.include : [];
      return {
        taskDefinition: {
          taskDefinitionArn: found.arn,
          family: found.family,
          revision: found.revision,
          status: found.status,
          containerDefinitions: found.containerDefinitions.map((c) => ({ ...c, cpu: 0, essential: true, portMappings: [], mountPoints: [], volumesFrom: [] })),
          ...(found.taskRoleArn ? { taskRoleArn: found.taskRoleArn } : {}),
          ...(found.executionRoleArn ? { executionRoleArn: found.executionRoleArn } : {}),
          networkMode: 'awsvpc',
          volumes: [],
          placementConstraints: [],
          compatibilities: ['EC2', 'FARGATE'],
          requiresCompatibilities: ['FARGATE'],
          cpu: '256',
          memory: '512',
          registeredAt: epochSeconds(found.registeredAt, now),
          registeredBy: `arn:aws:sts::${account}:assumed-role/deploy/ci`,
        },
        ...(include.includes('TAGS') ? { tags: [] } : {}),
      };
    },
  };

  const listFunctions = (query: URLSearchParams) => {
    const invalid = (message: string) => new AwsFault('InvalidParameterValueException', message);
    const maxItems = query.get('MaxItems');
    if (maxItems !== null && !(/^\d+$/.test(maxItems) && Number(maxItems) >= 1 && Number(maxItems) <= 10_000)) throw invalid('MaxItems must be between 1 and 10000.');
    // Lambda answers at most 50 a page, whatever MaxItems asks for.
    const max = Math.min(50, Number(maxItems ?? 50));
    const offset = decodePage(query.get('Marker'), functions.length, () => invalid('Invalid Marker.'));
    const page = functions.slice(offset, offset + max).map((f) => {
      const digest = createHash('sha256').update(`${account}/${region}/${f.FunctionName}`).digest();
      return {
        FunctionName: f.FunctionName,
        FunctionArn: `arn:aws:lambda:${region}:${account}:function:${f.FunctionName}`,
        Runtime: f.Runtime,
        Role: f.Role ?? `arn:aws:iam::${account}:role/${f.FunctionName}-role`,
        Handler: f.Handler,
        CodeSize: 1024 + digest.readUInt16BE(0),
        Description: f.Description,
        Timeout: 30,
        MemorySize: 256,
        LastModified: lambdaTime(epochSeconds(f.LastModified, now)),
        CodeSha256: digest.toString('base64'),
        Version: '$LATEST',
        ...(f.Environment ? { Environment: { Variables: f.Environment.Variables } } : {}),
        TracingConfig: { Mode: 'PassThrough' },
        ...(f.Layers.length > 0 ? { Layers: f.Layers.map((Arn) => ({ Arn, CodeSize: 5_000_000 })) } : {}),
        PackageType: 'Zip',
        Architectures: ['x86_64'],
        EphemeralStorage: { Size: 512 },
      };
    });
    return { Functions: page, ...(offset + max < functions.length ? { NextMarker: encodePage(offset + max) } : {}) };
  };

  /** A refusal as each service words it: ECS over JSON 1.1 (HTTP 400), Lambda over REST (its own statuses). */
  const refusal = (operation: Operation, kind: string, accessKeyId: string | undefined): AwsFault => {
    const [service, action] = operation.split(':') as [string, string];
    const lambda = service === 'lambda';
    const caller = (accessKeyId && options.principals?.[accessKeyId]) ?? `arn:aws:sts::${account}:assumed-role/dashboard-read/secrets-dashboard`;
    if (kind === 'access-denied')
      return new AwsFault('AccessDeniedException', `User: ${caller} is not authorized to perform: ${operation} on resource: * because no identity-based policy allows the ${operation} action`, lambda ? 403 : 400);
    if (kind === 'throttled') return lambda ? new AwsFault('TooManyRequestsException', 'Rate exceeded', 429) : new AwsFault('ThrottlingException', 'Rate exceeded');
    if (kind === 'expired-token') return new AwsFault('ExpiredTokenException', 'The security token included in the request is expired', lambda ? 403 : 400);
    if (kind === 'not-found') return new AwsFault('ResourceNotFoundException', `The simulator answers ${action} as not found.`, lambda ? 404 : 400);
    return new AwsFault('UnknownFailure', `The simulator has no failure "${kind}"; use access-denied, throttled, not-found, expired-token or timeout.`, 404);
  };

  /** Decide the answer at arrival (so quotas see arrival times); it is sent after the latency. */
  const arrive = (req: IncomingMessage, raw: Buffer, operation: Operation, scope: string): JsonAnswer | 'hang' => {
    const at = performance.now();
    const c = counters.arrive(operation, at);
    const accessKeyId = /Credential=([^/,\s]+)\//.exec(String(req.headers.authorization ?? ''))?.[1];
    try {
      if (!accessKeyId || !req.headers['x-amz-date']) throw new AwsFault('MissingAuthenticationTokenException', 'Missing Authentication Token', 403);
      const failure = scope.startsWith('fail/') ? scope.slice('fail/'.length) : null;
      if (failure === 'timeout') return 'hang';
      if (failure === 'throttled' || buckets.get(operation)?.take(at) === false) throw refusal(operation, 'throttled', accessKeyId);
      c.accepted.add(at);
      if (failure !== null) throw refusal(operation, failure, accessKeyId);
      if (settings.deny.has(operation)) throw refusal(operation, 'access-denied', accessKeyId);
      if (settings.failAll) throw new AwsFault(settings.failAll, `Simulated failure ${settings.failAll}`, /^(Internal|Server|Service)/.test(settings.failAll) ? 500 : 400);
      if (operation === 'lambda:ListFunctions') return c.succeed(listFunctions(new URL(req.url ?? '/', 'http://sim').searchParams));
      const body = parseJsonObject(raw);
      if (!body) throw new AwsFault('SerializationException', 'Start of structure or map found where not expected.');
      return c.succeed(operation === 'ecs:ListTaskDefinitions' ? ecs.ListTaskDefinitions(body) : ecs.DescribeTaskDefinition(body));
    } catch (error) {
      if (error instanceof AwsFault) return c.fail(error.type, error.message, error.status);
      return c.fail(operation.startsWith('lambda') ? 'ServiceException' : 'ServerException', `Simulator bug: ${(error as Error).message}`, 500);
    } finally {
      c.computeMs += performance.now() - at;
    }
  };

  const pending = new Set<NodeJS.Timeout>();
  const hanging = new Set<ServerResponse>();
  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const path = pathOf(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const functionsAt = path.indexOf(LAMBDA_FUNCTIONS);
    const lambda = !target && functionsAt >= 0 && /^\/?$/.test(path.slice(functionsAt + LAMBDA_FUNCTIONS.length)) && req.method === 'GET';
    const ecs = target.startsWith(ECS_TARGET_PREFIX) && req.method === 'POST';
    const operation = lambda ? 'lambda:ListFunctions' : ecs ? `ecs:${target.slice(ECS_TARGET_PREFIX.length)}` : '';
    const contentType = lambda ? 'application/json' : undefined;
    if (!OPERATIONS.includes(operation as Operation)) {
      const type = 'UnknownOperationException';
      return sendAwsJson(res, { status: lambda || !target ? 404 : 400, type, body: { __type: type, message: `The simulator does not implement ${target || `${req.method ?? ''} ${path}`}.` } }, contentType);
    }
    const scope = (lambda ? path.slice(0, functionsAt) : path).replace(/^\/+|\/+$/g, '');
    const out = arrive(req, raw, operation as Operation, scope);
    if (out === 'hang') {
      // Never answered; the client gives up (and closes the socket) when its timeout passes.
      hanging.add(res);
      res.on('close', () => hanging.delete(res));
      return;
    }
    afterLatency(settings.latencyMs, pending, () => sendAwsJson(res, out, contentType));
  };

  const control = (cmd: ComputeControlCommand) => {
    const checked = controlCommand.parse(cmd);
    if (checked.deny) settings.deny = new Set(checked.deny);
    if (checked.failAll !== undefined) settings.failAll = checked.failAll;
    if (checked.latencyMs !== undefined) settings.latencyMs = checked.latencyMs;
    for (const [operation, rate] of Object.entries(checked.quotas ?? {})) {
      if (rate === null) buckets.delete(operation);
      else buckets.set(operation, new TokenBucket(rate));
    }
    if (checked.resetStats) counters.reset();
    for (const fn of checked.putFunctions ?? []) {
      const at = functions.findIndex((f) => f.FunctionName === fn.FunctionName);
      if (at >= 0) functions[at] = fn;
      else functions.splice(sortedIndex(functions, fn.FunctionName), 0, fn);
    }
    for (const arn of checked.deregister ?? []) {
      const found = taskDefinitions.find((t) => t.arn === arn);
      if (!found) throw new Error(`no task definition ${arn}`);
      found.status = 'INACTIVE';
    }
    return { taskDefinitions: taskDefinitions.length, functions: functions.length };
  };

  const self: SimulatedComputeHandler & Controllable<ComputeControlCommand> = {
    handle,
    handleControl: (req, res, path, raw) => answerControl(req, res, path, raw, self),
    health: () => ({ account, region, taskDefinitions: taskDefinitions.length, functions: functions.length }),
    stats: () => ({ ...counters.stats(), latencyMs: settings.latencyMs, failAll: settings.failAll, deny: [...settings.deny], taskDefinitions: taskDefinitions.length, functions: functions.length }),
    resetStats: () => counters.reset(),
    control,
    close: () => {
      cancelAll(pending);
      for (const res of hanging) res.destroy();
      hanging.clear();
    },
  };
  return self;
}

/** ECS and Lambda on a loopback server of their own, with the control endpoints under /__. */
export async function startSimulatedCompute(options: SimulatedComputeOptions = {}): Promise<SimulatedCompute> {
  return serveAlone(createSimulatedCompute(options), options.port, options.host);
}
