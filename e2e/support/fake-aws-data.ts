// The fake AWS's initial data set (e2e/support/fake-aws-server.ts): the parameters and secrets every
// server instance starts from (each instance deep-copies it, so writes never leak between
// instances). Dates are relative: days before the instance starts (negative: after).

/** The stored value of every initial item; must never reach the browser (and is never asked for). */
export const VALUE_SENTINEL = 'FAKE-AWS-VALUE-SENTINEL-c0ffee-5ecre7';
/** The Value field of every GetParameterHistory entry; the adapter must drop it. */
export const HISTORY_SENTINEL = 'FAKE-AWS-HISTORY-SENTINEL-b4dc0de-h1st';
export const SENTINELS = [VALUE_SENTINEL, HISTORY_SENTINEL];

export const VALUE_READING_OPERATIONS = ['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue'];

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** Who AWS records as the author of a write made through the fake (the dashboard's write role). */
export const WRITER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/dashboard-write/secrets-dashboard`;

/** A parameter whose history AWS refuses because its KMS key policy denies the caller. */
export const KMS_DENIED_PARAMETER = '/prod/payments/legacy/signing-key';
export const KMS_DENIED_MESSAGE = `User: arn:aws:sts::${ACCOUNT}:assumed-role/dashboard-read/secrets-dashboard is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:${REGION}:${ACCOUNT}:key/0b7e-legacy because no identity-based policy allows the kms:Decrypt action`;

export const PAYMENTS_KEY_ARN = `arn:aws:kms:${REGION}:${ACCOUNT}:key/1f2e3d4c-aaaa-bbbb-cccc-payments0001`;

/** The JSON value of `prod/payments/db-credentials` (its password is the sentinel). */
export const DB_CREDENTIALS_SECRET = 'prod/payments/db-credentials';
export const DB_CREDENTIALS_VALUE = JSON.stringify({ username: 'payments_app', password: VALUE_SENTINEL, host: 'db.internal' });

/** A secret with a working rotation function and no rotation in progress: RotateSecret succeeds. */
export const ROTATABLE_SECRET = 'staging/app/partner-api-token';
/** A secret whose rotation function always fails: RotateSecret leaves AWSPENDING and never promotes it. */
export const FAILING_ROTATION_SECRET = 'prod/payments/legacy-rotation';
/** A secret mid-rotation (AWSPENDING on a version of its own): RotateSecret is refused until it is cleared. */
export const PENDING_ROTATION_SECRET = 'prod/payments/stripe-api-key';

export interface Tag {
  Key: string;
  Value: string;
}

export interface ParameterPolicy {
  PolicyText: string;
  PolicyType: string;
  PolicyStatus: string;
}

export interface FakeParameter {
  Name: string;
  Type: 'String' | 'StringList' | 'SecureString';
  Tier: 'Standard' | 'Advanced' | 'Intelligent-Tiering';
  DataType: string;
  KeyId?: string;
  Description?: string;
  Policies?: ParameterPolicy[];
  Tags: Tag[];
  /** Oldest first: [days ago, user, labels]. */
  history: [number, string, string[]][];
  /** The value of every version (default VALUE_SENTINEL). */
  value?: string;
}

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

export interface FakeSecret {
  Name: string;
  Description?: string;
  KmsKeyId?: string;
  /** `fails`: the rotation function never finishes a rotation (its setSecret step errors). */
  Rotation?: { days: number; schedule?: string; lambda: string; lastRotated: number; next: number; fails?: boolean };
  Replication?: { Region: string; Status: string }[];
  Tags: Tag[];
  /** [version id, days ago, stages] */
  versions: [string, number, string[]][];
  lastAccessed?: number;
  /** The SecretString of every version (default VALUE_SENTINEL). */
  value?: string;
}

export const SECRETS: FakeSecret[] = [
  {
    Name: PENDING_ROTATION_SECRET,
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
    Name: DB_CREDENTIALS_SECRET,
    Description: 'Payments database user',
    Tags: [{ Key: 'team', Value: 'payments' }],
    versions: [['b0000000-0001-4000-8000-000000000001', 300, ['AWSCURRENT']]],
    value: DB_CREDENTIALS_VALUE,
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
  {
    Name: FAILING_ROTATION_SECRET,
    Description: 'Legacy payments credential; its rotation function always fails',
    Rotation: {
      days: 7,
      schedule: 'rate(7 days)',
      lambda: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-legacy-credential`,
      lastRotated: 40,
      next: 33,
      fails: true,
    },
    Tags: [{ Key: 'team', Value: 'payments' }],
    versions: [['e0000000-0001-4000-8000-000000000001', 40, ['AWSCURRENT']]],
  },
  {
    Name: ROTATABLE_SECRET,
    Description: 'Partner API token, rotated by Lambda',
    Rotation: {
      days: 14,
      schedule: 'rate(14 days)',
      lambda: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-partner-token`,
      lastRotated: 6,
      next: -8,
    },
    Tags: [{ Key: 'env', Value: 'staging' }],
    versions: [
      ['f0000000-0001-4000-8000-000000000001', 20, ['AWSPREVIOUS']],
      ['f0000000-0002-4000-8000-000000000002', 6, ['AWSCURRENT']],
    ],
  },
];

export const parameterArn = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
export const secretArn = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`;
