import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A small fake AWS for the browser tests: Parameter Store and Secrets Manager over the AWS JSON 1.1
// protocol, on 127.0.0.1 only, answering from a fixed data set. The dashboard reaches it through a
// per-store `endpoint` in CONFIG_FILE. The endpoint's path picks the behaviour:
//
//   http://127.0.0.1:PORT/                  healthy: the data set below
//   http://127.0.0.1:PORT/fail/<failure>    every call fails the way AWS fails (FAILURES)
//   http://127.0.0.1:PORT/probe             healthy, but recorded as "probe" (tests of the test)
//
// Value-reading calls (GetParameter, GetParameters, GetParametersByPath, GetSecretValue) are
// answered with VALUE_SENTINEL, and every call is recorded; GET /__calls returns the record, so a
// test can assert that browsing never read a value and never asked for decryption. Parameter
// history entries carry HISTORY_SENTINEL as their Value, as AWS sends one even without decryption.

/** What a value-reading call returns; must never reach the browser (and is never asked for). */
export const VALUE_SENTINEL = 'FAKE-AWS-VALUE-SENTINEL-c0ffee-5ecre7';
/** The Value field of every GetParameterHistory entry; the adapter must drop it. */
export const HISTORY_SENTINEL = 'FAKE-AWS-HISTORY-SENTINEL-b4dc0de-h1st';
export const SENTINELS = [VALUE_SENTINEL, HISTORY_SENTINEL];

export const VALUE_READING_OPERATIONS = ['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue'];

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

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

/** A parameter whose history AWS refuses because its KMS key policy denies the caller. */
export const KMS_DENIED_PARAMETER = '/prod/payments/legacy/signing-key';
const KMS_DENIED_MESSAGE = `User: arn:aws:sts::${ACCOUNT}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:${REGION}:${ACCOUNT}:key/0b7e-legacy because no identity-based policy allows the kms:Decrypt action`;

export interface RecordedCall {
  seq: number;
  scope: string;
  service: 'ssm' | 'secretsmanager' | 'unknown';
  operation: string;
  /** Name, SecretId or ResourceId of the request, when it has one. */
  name: string | null;
  withDecryption: boolean;
  signed: boolean;
}

// ---------------------------------------------------------------------------------------------
// The data set. Dates are relative to the start of the server, in epoch seconds as AWS sends them.

const DAY = 86_400;
const now = Math.floor(Date.now() / 1000);
const ago = (days: number) => now - Math.round(days * DAY);

interface FakeParameter {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Tier: 'Standard' | 'Advanced' | 'Intelligent-Tiering';
  DataType: string;
  KeyId?: string;
  Description?: string;
  Policies?: { PolicyText: string; PolicyType: string; PolicyStatus: string }[];
  Tags: { Key: string; Value: string }[];
  /** Oldest first: [days ago, user, labels]. */
  history: [number, string, string[]][];
}

export const PAYMENTS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1f2e3d4c-aaaa-bbbb-cccc-payments0001`;

export const PARAMETERS: FakeParameter[] = [
  {
    Name: '/prod/payments/stripe/api-key',
    Type: 'SecureString',
    Tier: 'Advanced',
    DataType: 'text',
    KeyId: PAYMENTS_KEY_ARN,
    Description: 'Stripe live secret key for the payments service',
    Policies: [
      { PolicyType: 'Expiration', PolicyStatus: 'Pending', PolicyText: '{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2031-12-02T21:34:33.000Z"}}' },
      { PolicyType: 'ExpirationNotification', PolicyStatus: 'Pending', PolicyText: '{"Type":"ExpirationNotification","Version":"1.0","Attributes":{"Before":"15","Unit":"Days"}}' },
      { PolicyType: 'NoChangeNotification', PolicyStatus: 'Finished', PolicyText: '{"Type":"NoChangeNotification","Version":"1.0","Attributes":{"After":"20","Unit":"Days"}}' },
    ],
    Tags: [
      { Key: 'team', Value: 'payments' },
      { Key: 'env', Value: 'prod' },
    ],
    history: [
      [400, 'arn:aws:iam::123456789012:user/alice', []],
      [120, 'arn:aws:iam::123456789012:user/bob', ['previous']],
      [3, 'arn:aws:sts::123456789012:assumed-role/deploy/ci', ['live']],
    ],
  },
  {
    Name: '/prod/payments/stripe/webhook-secret',
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: 'alias/aws/ssm',
    Tags: [{ Key: 'team', Value: 'payments' }],
    history: [[30, 'arn:aws:iam::123456789012:user/alice', []]],
  },
  {
    Name: '/prod/payments/db/host',
    Type: 'String',
    Tier: 'Standard',
    DataType: 'text',
    Tags: [],
    history: [
      [250, 'arn:aws:iam::123456789012:user/carol', []],
      [200, 'arn:aws:iam::123456789012:user/carol', []],
    ],
  },
  {
    Name: '/prod/payments/db/allowed-cidrs',
    Type: 'StringList',
    Tier: 'Intelligent-Tiering',
    DataType: 'text',
    Tags: [{ Key: 'owner', Value: 'network' }],
    history: [[10, 'arn:aws:iam::123456789012:user/dave', []]],
  },
  {
    Name: '/prod/payments/ami-id',
    Type: 'String',
    Tier: 'Standard',
    DataType: 'aws:ec2:image',
    Tags: [],
    history: [[5, 'arn:aws:sts::123456789012:assumed-role/deploy/ci', []]],
  },
  {
    Name: KMS_DENIED_PARAMETER,
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b7e-legacy`,
    Tags: [],
    history: [[900, 'arn:aws:iam::123456789012:user/legacy', []]],
  },
  {
    Name: '/staging/payments/stripe/api-key',
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: 'alias/aws/ssm',
    Tags: [{ Key: 'env', Value: 'staging' }],
    history: [[60, 'arn:aws:iam::123456789012:user/bob', []]],
  },
];

interface FakeSecret {
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  Rotation?: { days: number; schedule?: string; lambda: string; lastRotated: number; next: number };
  Replication?: { Region: string; Status: string }[];
  Tags: { Key: string; Value: string }[];
  /** [version id, days ago, stages] */
  versions: [string, number, string[]][];
  lastAccessed?: number;
}

export const SECRETS: FakeSecret[] = [
  {
    Name: 'prod/payments/stripe-api-key',
    Description: 'Stripe key, rotated by Lambda',
    KmsKeyId: PAYMENTS_KEY_ARN,
    Rotation: {
      days: 30,
      schedule: 'rate(30 days)',
      lambda: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-stripe-key`,
      lastRotated: 12,
      next: -18,
    },
    Replication: [
      { Region: 'eu-west-1', Status: 'InSync' },
      { Region: 'us-west-2', Status: 'InProgress' },
    ],
    Tags: [
      { Key: 'team', Value: 'payments' },
      { Key: 'env', Value: 'prod' },
    ],
    versions: [
      ['a1b2c3d4-0001-4000-8000-00000000aaaa', 42, ['AWSPREVIOUS']],
      ['a1b2c3d4-0002-4000-8000-00000000bbbb', 12, ['AWSCURRENT']],
      ['a1b2c3d4-0003-4000-8000-00000000cccc', 0.01, ['AWSPENDING']],
      ['a1b2c3d4-0000-4000-8000-000000000000', 90, []],
    ],
    lastAccessed: 1,
  },
  {
    Name: 'prod/payments/db-credentials',
    Description: 'Payments database user',
    Tags: [{ Key: 'team', Value: 'payments' }],
    versions: [['b0000000-0001-4000-8000-000000000001', 300, ['AWSCURRENT']]],
  },
  {
    // Named the Parameter Store way, with a leading slash.
    Name: '/prod/payments/webhooks/signing-secret',
    Tags: [],
    versions: [
      ['c0000000-0001-4000-8000-000000000001', 50, ['AWSPREVIOUS']],
      ['c0000000-0002-4000-8000-000000000002', 20, ['AWSCURRENT']],
    ],
  },
  {
    Name: 'staging/app/session-key',
    Tags: [{ Key: 'env', Value: 'staging' }],
    versions: [['d0000000-0001-4000-8000-000000000001', 8, ['AWSCURRENT']]],
  },
];

export const parameterArn = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
export const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;

// ---------------------------------------------------------------------------------------------
// The protocol.

class AwsFault extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
  ) {
    super(message);
  }
}

type Body = Record<string, unknown>;

function page<T>(all: T[], body: Body, max: number): { items: T[]; NextToken?: string } {
  const start = typeof body.NextToken === 'string' ? Number(Buffer.from(body.NextToken, 'base64').toString('utf8')) || 0 : 0;
  const size = Math.min(typeof body.MaxResults === 'number' && body.MaxResults > 0 ? body.MaxResults : max, max);
  const items = all.slice(start, start + size);
  return start + size < all.length ? { items, NextToken: Buffer.from(String(start + size)).toString('base64') } : { items };
}

function parameterMetadata(p: FakeParameter) {
  const [days, user] = p.history.at(-1)!;
  return {
    Name: p.Name,
    ARN: parameterArn(p.Name),
    Type: p.Type,
    ...(p.KeyId ? { KeyId: p.KeyId } : {}),
    ...(p.Description ? { Description: p.Description } : {}),
    LastModifiedDate: ago(days),
    LastModifiedUser: user,
    Version: p.history.length,
    Tier: p.Tier,
    Policies: p.Policies ?? [],
    DataType: p.DataType,
  };
}

function findParameter(name: unknown): FakeParameter {
  const found = PARAMETERS.find((p) => p.Name === name);
  if (!found) throw new AwsFault('ParameterNotFound', `Parameter ${String(name)} not found.`);
  return found;
}

function parentOf(name: string): string {
  const cut = name.lastIndexOf('/');
  return cut <= 0 ? '/' : name.slice(0, cut);
}

function matchesFilters(p: FakeParameter, filters: unknown): boolean {
  if (!Array.isArray(filters)) return true;
  return filters.every((f: { Key?: string; Option?: string; Values?: string[] }) => {
    const values = f.Values ?? [];
    if (f.Key === 'Path') {
      return values.some((v) =>
        f.Option === 'Recursive' ? v === '/' || p.Name.startsWith(`${v}/`) : parentOf(p.Name) === v,
      );
    }
    if (f.Key === 'Name') return values.some((v) => (f.Option === 'BeginsWith' ? p.Name.startsWith(v) : p.Name === v));
    throw new AwsFault('InvalidFilterKey', `The filter key ${String(f.Key)} is not supported by the fake.`);
  });
}

function ssm(operation: string, body: Body): unknown {
  switch (operation) {
    case 'DescribeParameters': {
      const all = PARAMETERS.filter((p) => matchesFilters(p, body.ParameterFilters)).sort((a, b) => (a.Name < b.Name ? -1 : 1));
      const { items, NextToken } = page(all, body, 50);
      return { Parameters: items.map(parameterMetadata), ...(NextToken ? { NextToken } : {}) };
    }
    case 'GetParameterHistory': {
      const p = findParameter(body.Name);
      if (p.Name === KMS_DENIED_PARAMETER) throw new AwsFault('AccessDeniedException', KMS_DENIED_MESSAGE);
      const entries = p.history.map(([days, user, labels], i) => ({
        ...parameterMetadata(p),
        LastModifiedDate: ago(days),
        LastModifiedUser: user,
        Version: i + 1,
        Labels: labels,
        // AWS returns the value with every history entry (ciphertext for SecureString without decryption).
        Value: HISTORY_SENTINEL,
      }));
      const { items, NextToken } = page(entries, body, 50);
      return { Parameters: items, ...(NextToken ? { NextToken } : {}) };
    }
    case 'ListTagsForResource': {
      if (body.ResourceType !== 'Parameter') throw new AwsFault('InvalidResourceType', 'Only Parameter resources are in the fake.');
      const p = PARAMETERS.find((x) => x.Name === body.ResourceId);
      if (!p) throw new AwsFault('InvalidResourceId', 'The resource ID is not valid.');
      return { TagList: p.Tags };
    }
    case 'GetParameter': {
      const p = findParameter(body.Name);
      return { Parameter: { Name: p.Name, Type: p.Type, Value: VALUE_SENTINEL, Version: p.history.length, ARN: parameterArn(p.Name), DataType: p.DataType } };
    }
    case 'GetParameters':
      return {
        Parameters: PARAMETERS.filter((p) => (body.Names as string[] | undefined)?.includes(p.Name)).map((p) => ({ Name: p.Name, Type: p.Type, Value: VALUE_SENTINEL, Version: p.history.length })),
        InvalidParameters: [],
      };
    case 'GetParametersByPath':
      return {
        Parameters: PARAMETERS.filter((p) => p.Name.startsWith(String(body.Path ?? '/'))).map((p) => ({ Name: p.Name, Type: p.Type, Value: VALUE_SENTINEL, Version: p.history.length })),
      };
    default:
      throw new AwsFault('UnknownOperationException', `The fake does not implement AmazonSSM.${operation}.`);
  }
}

function secretListEntry(s: FakeSecret) {
  const newest = Math.min(...s.versions.map(([, days]) => days));
  const oldest = Math.max(...s.versions.map(([, days]) => days));
  return {
    ARN: secretArn(s.Name),
    Name: s.Name,
    ...(s.Description ? { Description: s.Description } : {}),
    ...(s.KmsKeyId ? { KmsKeyId: s.KmsKeyId } : {}),
    RotationEnabled: Boolean(s.Rotation),
    ...(s.Rotation
      ? {
          RotationLambdaARN: s.Rotation.lambda,
          RotationRules: { AutomaticallyAfterDays: s.Rotation.days, ...(s.Rotation.schedule ? { ScheduleExpression: s.Rotation.schedule } : {}) },
          LastRotatedDate: ago(s.Rotation.lastRotated),
          NextRotationDate: ago(s.Rotation.next),
        }
      : {}),
    LastChangedDate: ago(newest),
    ...(s.lastAccessed !== undefined ? { LastAccessedDate: ago(s.lastAccessed) } : {}),
    Tags: s.Tags,
    SecretVersionsToStages: Object.fromEntries(s.versions.filter(([, , stages]) => stages.length > 0).map(([id, , stages]) => [id, stages])),
    CreatedDate: ago(oldest),
    PrimaryRegion: REGION,
  };
}

function findSecret(id: unknown): FakeSecret {
  const found = SECRETS.find((s) => s.Name === id || secretArn(s.Name) === id);
  if (!found) throw new AwsFault('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
  return found;
}

function secretsManager(operation: string, body: Body): unknown {
  switch (operation) {
    case 'ListSecrets': {
      const filters = (body.Filters as { Key?: string; Values?: string[] }[] | undefined) ?? [];
      const all = SECRETS.filter((s) =>
        filters.every((f) => {
          if (f.Key !== 'name') throw new AwsFault('InvalidParameterException', `The fake supports only the name filter, not ${String(f.Key)}.`);
          return (f.Values ?? []).some((v) => s.Name.startsWith(v));
        }),
      ).sort((a, b) => (a.Name < b.Name ? -1 : 1));
      if (body.SortOrder === 'desc') all.reverse();
      const { items, NextToken } = page(all, body, 100);
      return { SecretList: items.map(secretListEntry), ...(NextToken ? { NextToken } : {}) };
    }
    case 'DescribeSecret': {
      const s = findSecret(body.SecretId);
      const { SecretVersionsToStages, ...entry } = secretListEntry(s);
      return {
        ...entry,
        VersionIdsToStages: SecretVersionsToStages,
        ...(s.Replication ? { ReplicationStatus: s.Replication.map((r) => ({ ...r, KmsKeyId: 'alias/aws/secretsmanager', LastAccessedDate: ago(2) })) } : {}),
      };
    }
    case 'ListSecretVersionIds': {
      const s = findSecret(body.SecretId);
      const all = s.versions
        .filter(([, , stages]) => body.IncludeDeprecated === true || stages.length > 0)
        .map(([VersionId, days, VersionStages]) => ({ VersionId, VersionStages, CreatedDate: ago(days), KmsKeyIds: [s.KmsKeyId ?? 'DefaultEncryptionKey'] }));
      const { items, NextToken } = page(all, body, 100);
      return { Versions: items, ARN: secretArn(s.Name), Name: s.Name, ...(NextToken ? { NextToken } : {}) };
    }
    case 'GetSecretValue': {
      const s = findSecret(body.SecretId);
      const current = s.versions.find(([, , stages]) => stages.includes('AWSCURRENT'))!;
      return { ARN: secretArn(s.Name), Name: s.Name, VersionId: current[0], SecretString: VALUE_SENTINEL, VersionStages: current[2], CreatedDate: ago(current[1]) };
    }
    default:
      throw new AwsFault('UnknownOperationException', `The fake does not implement secretsmanager.${operation}.`);
  }
}

// ---------------------------------------------------------------------------------------------
// The server.

export interface FakeAws {
  url: string;
  port: number;
  calls: RecordedCall[];
  close: () => Promise<void>;
}

function send(res: ServerResponse, status: number, body: unknown, type?: string): void {
  res.writeHead(status, {
    'content-type': 'application/x-amz-json-1.1',
    'x-amzn-requestid': `fake-${Math.random().toString(16).slice(2, 10)}`,
    ...(type ? { 'x-amzn-errortype': type } : {}),
  });
  res.end(JSON.stringify(body));
}

function scopeOf(pathname: string): string {
  const trimmed = pathname.replace(/\/+$/, '').replace(/^\/+/, '');
  return trimmed === '' ? 'ok' : trimmed;
}

export async function startFakeAws(options: { port?: number; host?: string } = {}): Promise<FakeAws> {
  const calls: RecordedCall[] = [];
  const hanging = new Set<ServerResponse>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname === '/__health') return send(res, 200, { status: 'ok' });
      if (req.method === 'GET' && url.pathname === '/__calls') return send(res, 200, { calls });
      if (req.method !== 'POST') return send(res, 405, { message: 'AWS JSON requests are POSTs' });

      const target = String(req.headers['x-amz-target'] ?? '');
      const [prefix, operation = ''] = target.split('.');
      const service = prefix === 'AmazonSSM' ? 'ssm' : prefix === 'secretsmanager' ? 'secretsmanager' : 'unknown';
      let body: Body = {};
      try {
        body = chunks.length ? (JSON.parse(Buffer.concat(chunks).toString('utf8')) as Body) : {};
      } catch {
        return send(res, 400, { __type: 'SerializationException', message: 'Body is not JSON' }, 'SerializationException');
      }
      const scope = scopeOf(url.pathname);
      const signed = /^AWS4-HMAC-SHA256 Credential=/.test(String(req.headers.authorization ?? ''));
      const name = [body.Name, body.SecretId, body.ResourceId].find((v): v is string => typeof v === 'string') ?? null;
      calls.push({ seq: calls.length + 1, scope, service, operation, name, withDecryption: body.WithDecryption === true, signed });

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
        if (scope !== 'ok' && scope !== 'probe') throw new AwsFault('UnknownScope', `The fake serves /, /probe and /fail/<failure>, not /${scope}.`, 404);
        const out = service === 'ssm' ? ssm(operation, body) : service === 'secretsmanager' ? secretsManager(operation, body) : null;
        if (out === null) throw new AwsFault('UnknownOperationException', `Unknown X-Amz-Target "${target}".`);
        send(res, 200, out);
      } catch (error) {
        if (!(error instanceof AwsFault)) throw error;
        send(res, error.status, { __type: error.type, message: error.message }, error.type);
      }
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
