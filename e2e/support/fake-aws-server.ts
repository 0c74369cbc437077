import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { z } from 'zod';
import { afterLatency, listenOn, sendAwsJson } from '../../simulator/sim-http';
import { ACCOUNT } from './fake-aws-data';
import { AwsFault, type Body } from './fake-aws-protocol';
import { DEFAULT_QUOTAS, Quotas, type QuotaName } from './fake-aws-quotas';
import { secretValues, secretsManager } from './fake-aws-secrets-manager';
import { parameterValues, ssm } from './fake-aws-ssm';
import { initialState, type FakeAwsEnv, type FakeAwsState } from './fake-aws-state';

// A small fake AWS for the browser tests: Parameter Store and Secrets Manager over the AWS JSON 1.1
// protocol, on 127.0.0.1 only, each instance with its own copy of the data set
// (e2e/support/fake-aws-data.ts), which writes change. The dashboard reaches it through a
// per-store `endpoint` in CONFIG_FILE. The endpoint's path picks the behaviour:
//
//   http://127.0.0.1:PORT/                  healthy: the data set, readable and writable
//   http://127.0.0.1:PORT/fail/<failure>    every call fails the way AWS fails (FAILURES)
//   http://127.0.0.1:PORT/probe             healthy, but recorded as "probe" (tests of the test)
//   http://127.0.0.1:PORT/writes            healthy, recorded as "writes": the stores that rotate,
//                                           generate and reveal, apart from the ones browsing reads
//
// Reads answer the stored values (VALUE_SENTINEL for the initial items, DB_CREDENTIALS_VALUE for
// the JSON secret); parameter history entries carry HISTORY_SENTINEL as their Value, as AWS sends
// one even without decryption. Writes (PutParameter, PutSecretValue, RotateSecret,
// CancelRotateSecret, UpdateSecretVersionStage) behave as AWS documents, rotation finishing after
// a delay. AWS's quotas for value calls are enforced (fake-aws-quotas.ts); latency is optional.
//
// Plain-JSON endpoints for tests (not AWS protocol):
//   GET  /__health
//   GET  /__calls                                     every AWS call, in order (RecordedCall)
//   GET  /__values?service=ssm|secretsmanager&name=N  the stored values of an item, old and new
//   POST /__control {rotationDelayMs?, latencyMs?}    change this instance's timing
//   POST /__reset                                     back to the initial data set (calls are kept)

export {
  ACCOUNT,
  DB_CREDENTIALS_SECRET,
  DB_CREDENTIALS_VALUE,
  FAILING_ROTATION_SECRET,
  HISTORY_SENTINEL,
  KMS_DENIED_PARAMETER,
  PARAMETERS,
  PAYMENTS_KEY_ARN,
  PENDING_ROTATION_SECRET,
  REGION,
  ROTATABLE_SECRET,
  SECRETS,
  SENTINELS,
  VALUE_READING_OPERATIONS,
  VALUE_SENTINEL,
  WRITER_ARN,
  parameterArn,
  secretArn,
  type FakeParameter,
  type FakeSecret,
} from './fake-aws-data';
export { DEFAULT_QUOTAS, type QuotaName } from './fake-aws-quotas';

/** The failures a store can be pointed at, as /fail/<key>, with the error AWS sends. */
export const FAILURES = {
  'access-denied': {
    status: 400,
    type: 'AccessDeniedException',
    message: `User: arn:aws:sts::${ACCOUNT}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform this action`,
  },
  throttled: { status: 400, type: 'ThrottlingException', message: 'Rate exceeded' },
  'not-found': { status: 400, type: 'ResourceNotFoundException', message: "The resource can't be found." },
  'expired-token': { status: 400, type: 'ExpiredTokenException', message: 'The security token included in the request is expired' },
  /** Never answered: the client's request timeout decides. */
  timeout: null,
} as const;
export type FailureKey = keyof typeof FAILURES;

export interface RecordedCall {
  seq: number;
  scope: string;
  service: 'ssm' | 'secretsmanager' | 'unknown';
  operation: string;
  /** Name, SecretId or ResourceId of the request, when it has one. */
  name: string | null;
  withDecryption: boolean;
  signed: boolean;
  /** The AWS error type it was answered with (null: answered, or not yet). */
  error: string | null;
}

/** The timing of one instance; /__control and `control()` change it. */
export interface FakeAwsSettings {
  /** Added before every AWS answer. */
  latencyMs: number;
  /** How long the simulated rotation function takes to promote AWSPENDING to AWSCURRENT. */
  rotationDelayMs: number;
}

export const DEFAULT_SETTINGS: FakeAwsSettings = { latencyMs: 0, rotationDelayMs: 1500 };

export interface FakeAwsOptions extends Partial<FakeAwsSettings> {
  port?: number;
  host?: string;
  /** Calls per second per quota, overriding AWS's defaults (DEFAULT_QUOTAS). */
  quotas?: Partial<Record<QuotaName, number>>;
}

/** What GET /__values answers: the current value and every version, oldest first. */
export interface StoredValues {
  current: string | null;
  versions: { id: string | number; value: string | null; stages?: string[]; labels?: string[] }[];
}

export interface FakeAws {
  url: string;
  port: number;
  calls: RecordedCall[];
  /** The instance's timing now. */
  settings: () => FakeAwsSettings;
  /** Changes the timing (what POST /__control does). */
  control: (change: Partial<FakeAwsSettings>) => FakeAwsSettings;
  /** The stored values of an item (what GET /__values answers), or null if there is none. */
  values: (service: 'ssm' | 'secretsmanager', name: string) => StoredValues | null;
  /** Back to the initial data set, quotas full, rotations in flight dropped (calls are kept). */
  reset: () => void;
  close: () => Promise<void>;
}

const settingsSchema = z
  .object({
    latencyMs: z.number().int().min(0).max(60_000),
    rotationDelayMs: z.number().int().min(0).max(600_000),
  })
  .partial()
  .strict();

const valuesQuery = z.object({
  service: z.enum(['ssm', 'secretsmanager']),
  name: z.string().min(1),
});

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(payload.length) });
  res.end(payload);
}

function problem(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ');
}

function scopeOf(pathname: string): string {
  const trimmed = pathname.replace(/\/+$/, '').replace(/^\/+/, '');
  return trimmed === '' ? 'ok' : trimmed;
}

export async function startFakeAws(options: FakeAwsOptions = {}): Promise<FakeAws> {
  const settings: FakeAwsSettings = settingsSchema.required().parse({
    latencyMs: options.latencyMs ?? DEFAULT_SETTINGS.latencyMs,
    rotationDelayMs: options.rotationDelayMs ?? DEFAULT_SETTINGS.rotationDelayMs,
  });
  const quotas = new Quotas({ ...DEFAULT_QUOTAS, ...options.quotas });
  const calls: RecordedCall[] = [];
  const hanging = new Set<ServerResponse>();
  // Latency timers and rotations in flight; closing (and resetting, for rotations) cancels them.
  const answering = new Set<NodeJS.Timeout>();
  const rotations = new Set<NodeJS.Timeout>();
  let state: FakeAwsState = initialState(Date.now() / 1000);
  const env: FakeAwsEnv = {
    now: () => Date.now() / 1000,
    rotationDelayMs: () => settings.rotationDelayMs,
    later: (delayMs, fn) => afterLatency(delayMs, rotations, fn),
  };

  const control = (change: Partial<FakeAwsSettings>): FakeAwsSettings => {
    Object.assign(settings, settingsSchema.parse(change));
    return { ...settings };
  };
  const values = (service: 'ssm' | 'secretsmanager', name: string): StoredValues | null =>
    service === 'ssm' ? parameterValues(state, name) : secretValues(state, name);
  const reset = (): void => {
    for (const timer of rotations) clearTimeout(timer);
    rotations.clear();
    state = initialState(Date.now() / 1000);
    quotas.reset();
  };

  /** The plain-JSON test endpoints; false when the request is not one of them. */
  function testEndpoint(req: IncomingMessage, url: URL, raw: string, res: ServerResponse): boolean {
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /__health') sendJson(res, 200, { status: 'ok' });
    else if (route === 'GET /__calls') sendJson(res, 200, { calls });
    else if (route === 'GET /__values') {
      const query = valuesQuery.safeParse(Object.fromEntries(url.searchParams));
      if (!query.success) sendJson(res, 400, { message: `Bad /__values query: ${problem(query.error)}` });
      else {
        const found = values(query.data.service, query.data.name);
        if (found) sendJson(res, 200, found);
        else sendJson(res, 404, { message: `No ${query.data.service} item named ${query.data.name}.` });
      }
    } else if (route === 'POST /__control') {
      let input: unknown;
      try {
        input = JSON.parse(raw || '{}');
      } catch {
        input = undefined;
      }
      const change = settingsSchema.safeParse(input);
      if (!change.success) sendJson(res, 400, { message: `Bad /__control body: ${problem(change.error)}` });
      else sendJson(res, 200, control(change.data));
    } else if (route === 'POST /__reset') {
      reset();
      sendJson(res, 200, { status: 'reset' });
    } else return false;
    return true;
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const raw = Buffer.concat(chunks).toString('utf8');
      if (url.pathname.startsWith('/__') && testEndpoint(req, url, raw, res)) return;
      if (req.method !== 'POST') return sendJson(res, 405, { message: 'AWS JSON requests are POSTs' });

      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation = ''] = target.split('.');
      const service = prefix === 'AmazonSSM' ? 'ssm' : prefix === 'secretsmanager' ? 'secretsmanager' : 'unknown';
      const answerFault = (fault: AwsFault, call?: RecordedCall) => {
        if (call) call.error = fault.type;
        sendAwsJson(res, { status: fault.status, body: { __type: fault.type, message: fault.message }, type: fault.type });
      };
      let body: Body = {};
      try {
        const parsed: unknown = raw ? JSON.parse(raw) : {};
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
        body = parsed as Body;
      } catch {
        return answerFault(new AwsFault('SerializationException', 'Body is not a JSON object'));
      }
      const scope = scopeOf(url.pathname);
      const signed = /^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''));
      const name = [body.Name, body.SecretId, body.ResourceId].find((v): v is string => typeof v === 'string') ?? null;
      const call: RecordedCall = { seq: calls.length + 1, scope, service, operation, name, withDecryption: body.WithDecryption === true, signed, error: null };
      calls.push(call);

      try {
        if (!signed) throw new AwsFault('MissingAuthenticationTokenException', 'Request is missing Authentication Token', 403);
        if (scope.startsWith('fail/')) {
          const key = scope.slice('fail/'.length);
          if (!(key in FAILURES)) throw new AwsFault('UnknownFailure', `The fake has no failure "${key}"; use one of ${Object.keys(FAILURES).join(', ')}.`, 404);
          const failure = FAILURES[key as FailureKey];
          if (failure === null) {
            // Never answer; the client gives up (and closes the socket) when its timeout passes.
            hanging.add(res);
            res.on('close', () => hanging.delete(res));
            return;
          }
          throw new AwsFault(failure.type, failure.message, failure.status);
        }
        if (scope !== 'ok' && scope !== 'probe' && scope !== 'writes') throw new AwsFault('UnknownScope', `The fake serves /, /probe, /writes and /fail/<failure>, not /${scope}.`, 404);
        if (service === 'unknown') throw new AwsFault('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
        // The quota is counted when the call arrives, as AWS counts it.
        if (!quotas.admit(service, operation)) throw new AwsFault('ThrottlingException', 'Rate exceeded');
      } catch (error) {
        if (!(error instanceof AwsFault)) throw error;
        return afterLatency(settings.latencyMs, answering, () => answerFault(error, call));
      }

      afterLatency(settings.latencyMs, answering, () => {
        try {
          const out = service === 'ssm' ? ssm(state, env, operation, body) : secretsManager(state, env, operation, body);
          sendAwsJson(res, { status: 200, body: out });
        } catch (error) {
          answerFault(
            error instanceof AwsFault ? error : new AwsFault('InternalFailure', `The fake failed: ${error instanceof Error ? error.message : String(error)}`, 500),
            call,
          );
        }
      });
    });
  });
  const port = await listenOn(server, options.port ?? 0, options.host ?? '127.0.0.1');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    settings: () => ({ ...settings }),
    control,
    values,
    reset,
    close: () =>
      new Promise<void>((resolve) => {
        for (const timer of [...answering, ...rotations]) clearTimeout(timer);
        answering.clear();
        rotations.clear();
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
