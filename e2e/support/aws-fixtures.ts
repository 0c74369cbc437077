import { SIM_VALUE_SENTINEL, type ParameterInput, type SecretInput } from '../../simulator/simulated-aws';

// The browser tests' AWS data set, loaded into the project's simulated AWS
// (`simulator/main.ts --aws --data e2e/support/aws-fixtures.ts`, see playwright.config.ts)
// and into the in-process simulators of the tests that write to AWS stores. Data only: the
// parameters and secrets (`parameters`, `secrets`), their sentinels and the names specs use.
// Dates are relative to when the module is loaded (the simulator's start).

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** The stored value of every item (unless it says otherwise); must never reach the browser. */
export const VALUE_SENTINEL = 'FAKE-AWS-VALUE-SENTINEL-c0ffee-5ecre7';
/** The Value of every GetParameterHistory entry (`--history-value`); the adapter must drop it. */
export const HISTORY_SENTINEL = 'FAKE-AWS-HISTORY-SENTINEL-b4dc0de-h1st';
/** Every value the data set holds (the simulator's own sentinel too, should an item lack one). */
export const SENTINELS = [VALUE_SENTINEL, HISTORY_SENTINEL, SIM_VALUE_SENTINEL];

export const VALUE_READING_OPERATIONS = ['GetParameter', 'GetParameters', 'GetParametersByPath', 'GetSecretValue', 'BatchGetSecretValue'];

/** Who the simulated AWS records as the author of a write (the dashboard's write role). */
export const WRITER_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/dashboard-write/secrets-dashboard`;

/**
 * A parameter whose history AWS refuses because its KMS key policy denies the caller. It must stay
 * the 7th parameter below: the simulator denies GetParameterHistory for every 7th one
 * (`--deny-history-every 7`; it has no flag naming a parameter yet).
 */
export const KMS_DENIED_PARAMETER = '/prod/payments/legacy/signing-key';
export const KMS_DENIED_EVERY = 7;

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

export const parameterArn = (name: string) => `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}`;
/** A secret's ARN: AWS ends it with six random characters. */
export const secretArnPattern = (name: string) => new RegExp(`^arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-[A-Za-z0-9]{6}$`);

const loadedAt = Date.now();
/** An ISO date `days` days before the data set was loaded. */
const daysAgo = (days: number) => new Date(loadedAt - days * 86_400_000).toISOString();

/** What an older version had of its own (the current version's fields otherwise). */
type OlderVersion = Pick<NonNullable<ParameterInput['History']>[number], 'Description' | 'Tier'>;

/** A parameter's versions, oldest first: [days ago, user, labels, own fields]; the last one is current. */
function versions(history: [number, string, string[], OlderVersion?][]): Pick<ParameterInput, 'Version' | 'LastModifiedDate' | 'LastModifiedUser' | 'Labels' | 'History'> {
  const [days, author, labels] = history.at(-1)!;
  return {
    Version: history.length,
    LastModifiedDate: daysAgo(days),
    LastModifiedUser: author,
    Labels: labels,
    History: history.slice(0, -1).map(([d, u, l, own], i) => ({ Version: i + 1, LastModifiedDate: daysAgo(d), LastModifiedUser: u, Labels: l, Value: VALUE_SENTINEL, ...own })),
  };
}

/** A parameter whose versions differ in description, tier, labels and policies (what "what changed" compares). */
export const CHANGED_PARAMETER = {
  name: '/prod/payments/stripe/api-key',
  firstDescription: 'Stripe test key, before go-live',
} as const;

/** A secret's versions, oldest first: [version id, days ago, staging labels]; the AWSCURRENT one holds the secret's SecretString, the others the sentinel. */
function secretVersions(list: [string, number, string[]][]): SecretInput['Versions'] {
  return [...list]
    .sort((a, b) => b[1] - a[1])
    .map(([id, days, stages]) => ({ VersionId: id, CreatedDate: daysAgo(days), Stages: stages, ...(stages.includes('AWSCURRENT') ? {} : { SecretString: VALUE_SENTINEL }) }));
}

const user = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const CI = `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/ci`;

export const parameters: ParameterInput[] = [
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
    Value: VALUE_SENTINEL,
    ...versions([
      [400, user('alice'), [], { Description: CHANGED_PARAMETER.firstDescription, Tier: 'Standard' }],
      [120, user('bob'), ['previous']],
      [3, CI, ['live']],
    ]),
  },
  {
    Name: '/prod/payments/stripe/webhook-secret',
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: 'alias/aws/ssm',
    Description: null,
    Tags: [{ Key: 'team', Value: 'payments' }],
    Value: VALUE_SENTINEL,
    ...versions([[30, user('alice'), []]]),
  },
  {
    Name: '/prod/payments/db/host',
    Type: 'String',
    Tier: 'Standard',
    DataType: 'text',
    Description: null,
    Tags: [],
    Value: VALUE_SENTINEL,
    ...versions([
      [250, user('carol'), []],
      [200, user('carol'), []],
    ]),
  },
  {
    Name: '/prod/payments/db/allowed-cidrs',
    Type: 'StringList',
    Tier: 'Intelligent-Tiering',
    DataType: 'text',
    Description: null,
    Tags: [{ Key: 'owner', Value: 'network' }],
    Value: VALUE_SENTINEL,
    ...versions([[10, user('dave'), []]]),
  },
  {
    Name: '/prod/payments/ami-id',
    Type: 'String',
    Tier: 'Standard',
    DataType: 'aws:ec2:image',
    Description: null,
    Tags: [],
    Value: VALUE_SENTINEL,
    ...versions([[5, CI, []]]),
  },
  {
    Name: '/staging/payments/stripe/api-key',
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: 'alias/aws/ssm',
    Description: null,
    Tags: [{ Key: 'env', Value: 'staging' }],
    Value: VALUE_SENTINEL,
    ...versions([[60, user('bob'), []]]),
  },
  // The 7th: see KMS_DENIED_EVERY.
  {
    Name: KMS_DENIED_PARAMETER,
    Type: 'SecureString',
    Tier: 'Standard',
    DataType: 'text',
    KeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0b7e-legacy`,
    Description: null,
    Tags: [],
    Value: VALUE_SENTINEL,
    ...versions([[900, user('legacy'), []]]),
  },
];

/** What every secret states explicitly, so nothing about it is left to the simulator's generated defaults. */
const plain = { Description: null, KmsKeyId: null, DeletedDate: null, RotationEnabled: false, LastAccessedDate: null, SecretString: VALUE_SENTINEL } as const;

export const secrets: SecretInput[] = [
  {
    ...plain,
    Name: PENDING_ROTATION_SECRET,
    Description: 'Stripe key, rotated by Lambda',
    KmsKeyId: PAYMENTS_KEY_ARN,
    RotationEnabled: true,
    RotationDays: 30,
    RotationLambdaARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-stripe-key`,
    LastRotatedDate: daysAgo(12),
    ReplicationStatus: [
      { Region: 'eu-west-1', Status: 'InSync' },
      { Region: 'us-west-2', Status: 'InProgress' },
    ],
    Tags: [
      { Key: 'team', Value: 'payments' },
      { Key: 'env', Value: 'prod' },
    ],
    LastChangedDate: daysAgo(12),
    Versions: secretVersions([
      ['a1b2c3d4-0001-4000-8000-00000000aaaa', 42, ['AWSPREVIOUS']],
      ['a1b2c3d4-0002-4000-8000-00000000bbbb', 12, ['AWSCURRENT']],
      ['a1b2c3d4-0003-4000-8000-00000000cccc', 0.01, ['AWSPENDING']],
      ['a1b2c3d4-0000-4000-8000-000000000000', 90, []],
    ]),
    LastAccessedDate: daysAgo(1),
  },
  {
    ...plain,
    Name: DB_CREDENTIALS_SECRET,
    Description: 'Payments database user',
    Tags: [{ Key: 'team', Value: 'payments' }],
    LastChangedDate: daysAgo(300),
    Versions: secretVersions([['b0000000-0001-4000-8000-000000000001', 300, ['AWSCURRENT']]]),
    SecretString: DB_CREDENTIALS_VALUE,
  },
  {
    // Named the Parameter Store way, with a leading slash.
    ...plain,
    Name: '/prod/payments/webhooks/signing-secret',
    Tags: [],
    LastChangedDate: daysAgo(20),
    Versions: secretVersions([
      ['c0000000-0001-4000-8000-000000000001', 50, ['AWSPREVIOUS']],
      ['c0000000-0002-4000-8000-000000000002', 20, ['AWSCURRENT']],
    ]),
  },
  {
    ...plain,
    Name: 'staging/app/session-key',
    Tags: [{ Key: 'env', Value: 'staging' }],
    LastChangedDate: daysAgo(8),
    Versions: secretVersions([['d0000000-0001-4000-8000-000000000001', 8, ['AWSCURRENT']]]),
  },
  {
    ...plain,
    Name: FAILING_ROTATION_SECRET,
    Description: 'Legacy payments credential; its rotation function always fails',
    RotationEnabled: true,
    RotationDays: 7,
    RotationLambdaARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-legacy-credential`,
    LastRotatedDate: daysAgo(40),
    RotationFails: true,
    Tags: [{ Key: 'team', Value: 'payments' }],
    LastChangedDate: daysAgo(40),
    Versions: secretVersions([['e0000000-0001-4000-8000-000000000001', 40, ['AWSCURRENT']]]),
  },
  {
    ...plain,
    Name: ROTATABLE_SECRET,
    Description: 'Partner API token, rotated by Lambda',
    RotationEnabled: true,
    RotationDays: 14,
    RotationLambdaARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-partner-token`,
    LastRotatedDate: daysAgo(6),
    Tags: [{ Key: 'env', Value: 'staging' }],
    LastChangedDate: daysAgo(6),
    Versions: secretVersions([
      ['f0000000-0001-4000-8000-000000000001', 20, ['AWSPREVIOUS']],
      ['f0000000-0002-4000-8000-000000000002', 6, ['AWSCURRENT']],
    ]),
  },
];
