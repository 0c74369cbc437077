import { seededRandom } from '../../lib/random/seeded-random';
import type { LambdaFunctionInput, TaskDefinitionInput } from '../simulated-compute';
import { secretArn, type SecretInput } from '../simulated-aws';
import { DAY_MS, demoValue, type Env } from './catalogue';

// What runs in the demo accounts and reads their items: a few ECS task definitions and Lambda
// functions, each naming real demo parameters and secrets in every form AWS accepts (a parameter's
// name or ARN, a secret's full or partial ARN with a `:json-key:…` suffix, Lambda environment
// variables holding names, ids and the Parameters and Secrets extension's paths). For the findings
// about who uses what: one task definition names another account's parameter, one a secret
// scheduled for deletion, and in prod a few plain-text credentials sit in plain sight. The payments
// API's database credentials are used by a task definition and a function both (the Used by panel).
// Most items are referenced by nothing. Deterministic for a given `now`.

export interface DemoCompute {
  taskDefinitions: TaskDefinitionInput[];
  functions: LambdaFunctionInput[];
  /** Secrets these need beyond the catalogue: the one scheduled for deletion. */
  secrets: SecretInput[];
}

/**
 * Credentials planted in plain sight (prod only), obviously fake: an access key id and a GitHub
 * token in their real formats, and a high-entropy 40-character string (as a secret access key looks).
 * Built here rather than written out, so the source holds nothing a secret scanner would flag.
 */
const entropy = seededRandom(0x5eed_0040);
export const PLANTED_PLAIN_TEXT = {
  // Base32 like a real key id (A-Z, 2-7), so the access-key detector recognises it.
  awsAccessKeyId: ['AKIA', 'DEMOFAKENOTREALX'].join(''),
  githubToken: ['ghp', 'DemoFakeGithubTokenNotReal0123456789'].join('_'),
  highEntropy: Array.from({ length: 40 }, () => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'[Math.floor(entropy() * 64)]).join(''),
} as const;

/** The secret scheduled for deletion that a task definition still names. */
export const DELETED_SECRET = 'prod/payments/ledger/legacy-db-password';

/** AWS's Parameters and Secrets Lambda Extension, as a layer of the region. */
const extensionLayer = (region: string) => `arn:aws:lambda:${region}:${region === 'us-east-1' ? '177933569100' : '015030872274'}:layer:AWS-Parameters-and-Secrets-Lambda-Extension:12`;

export function demoCompute(env: Env, account: string, region: string, other: { account: string; region: string }, now: number): DemoCompute {
  const parameterArn = (name: string) => `arn:aws:ssm:${region}:${account}:parameter${name}`;
  const fullArn = (name: string) => secretArn(name, account, region);
  const partialArn = (name: string) => `arn:aws:secretsmanager:${region}:${account}:secret:${name}`;
  const registered = (daysAgo: number) => new Date(now - daysAgo * DAY_MS).toISOString();
  const image = (name: string) => `${account}.dkr.ecr.${region}.amazonaws.com/${name}:${env}`;
  const roles = (family: string) => ({ taskRoleArn: `arn:aws:iam::${account}:role/${family}`, executionRoleArn: `arn:aws:iam::${account}:role/ecs-task-execution` });
  const prod = env === 'prod';

  const taskDefinitions: TaskDefinitionInput[] = [
    {
      family: 'payments-api',
      revision: 7,
      registeredAt: registered(12),
      ...roles('payments-api'),
      containerDefinitions: [
        {
          name: 'api',
          image: image('payments-api'),
          environment: [
            { name: 'LOG_LEVEL', value: prod ? 'info' : 'debug' },
            { name: 'DB_HOST', value: `payments-api-db.${env}.internal.example.com` },
          ],
          secrets: [
            { name: 'DB_PASSWORD', valueFrom: parameterArn('/payments/api/db/password') },
            { name: 'SIGNING_KEY', valueFrom: '/payments/api/signing-key' },
            { name: 'DB_USERNAME', valueFrom: `${fullArn(`${env}/payments/api/db-credentials`)}:username::` },
            { name: 'STRIPE_API_KEY', valueFrom: partialArn(`${env}/payments/api/stripe-api-key`) },
          ],
        },
      ],
    },
    // The revision before it, no longer in use: it read the password by name.
    {
      family: 'payments-api',
      revision: 6,
      status: 'INACTIVE',
      registeredAt: registered(80),
      ...roles('payments-api'),
      containerDefinitions: [{ name: 'api', image: image('payments-api'), secrets: [{ name: 'DB_PASSWORD', valueFrom: '/payments/api/db/password' }] }],
    },
    {
      family: 'payments-ledger',
      registeredAt: registered(40),
      ...roles('payments-ledger'),
      containerDefinitions: [
        {
          name: 'ledger',
          image: image('payments-ledger'),
          secrets: [
            { name: 'DB_CREDENTIALS', valueFrom: fullArn(`${env}/payments/ledger/db-credentials`) },
            ...(prod ? [{ name: 'LEGACY_DB_PASSWORD', valueFrom: fullArn(DELETED_SECRET) }] : []),
          ],
        },
      ],
    },
    {
      family: 'checkout-cart',
      revision: 3,
      registeredAt: registered(5),
      ...roles('checkout-cart'),
      containerDefinitions: [
        {
          name: 'cart',
          image: image('checkout-cart'),
          environment: [{ name: 'PORT', value: '8080' }],
          secrets: [
            { name: 'DB_PASSWORD', valueFrom: '/checkout/cart/db/password' },
            // Shared from the other account: only an ARN can name it.
            { name: 'CI_SIGNING_KEY', valueFrom: `arn:aws:ssm:${other.region}:${other.account}:parameter/platform/ci/signing-key` },
          ],
        },
      ],
    },
    {
      family: 'identity-auth',
      revision: 2,
      registeredAt: registered(150),
      ...roles('identity-auth'),
      containerDefinitions: [
        {
          name: 'auth',
          image: image('identity-auth'),
          environment: [
            { name: 'LOG_LEVEL', value: 'info' },
            ...(prod
              ? [
                  { name: 'AWS_ACCESS_KEY_ID', value: PLANTED_PLAIN_TEXT.awsAccessKeyId },
                  { name: 'AWS_SECRET_ACCESS_KEY', value: PLANTED_PLAIN_TEXT.highEntropy },
                ]
              : []),
          ],
          secrets: [{ name: 'DB_PASSWORD', valueFrom: `${fullArn(`${env}/identity/auth/db-credentials`)}:password:AWSCURRENT:` }],
        },
      ],
    },
  ];

  const functions: LambdaFunctionInput[] = [
    {
      FunctionName: 'payments-webhooks-handler',
      LastModified: registered(9),
      Environment: { Variables: { DB_PASSWORD_PARAMETER: '/payments/webhooks/db/password', STRIPE_SECRET_ID: `${env}/payments/webhooks/stripe-api-key`, LOG_LEVEL: 'info' } },
      Layers: [extensionLayer(region)],
    },
    {
      FunctionName: 'notifications-email-sender',
      Runtime: 'python3.12',
      Handler: 'app.handler',
      LastModified: registered(33),
      Environment: {
        Variables: {
          PARAMETERS_SECRETS_EXTENSION_HTTP_PORT: '2773',
          SENDGRID_KEY_URL: `http://localhost:2773/secretsmanager/get?secretId=${encodeURIComponent(`${env}/notifications/email/sendgrid-api-key`)}`,
          SIGNING_KEY_URL: `http://localhost:2773/systemsmanager/parameters/get?name=${encodeURIComponent('/notifications/email/signing-key')}&withDecryption=true`,
        },
      },
      Layers: [extensionLayer(region)],
    },
    // Runs the payments API's schema migrations with the API's own database credentials.
    {
      FunctionName: 'payments-api-migrations',
      LastModified: registered(12),
      Environment: { Variables: { DB_SECRET_ARN: fullArn(`${env}/payments/api/db-credentials`), MIGRATIONS_TABLE: 'schema_migrations' } },
    },
    {
      FunctionName: 'search-indexer-nightly',
      LastModified: registered(61),
      Environment: { Variables: { DB_SECRET_ARN: fullArn(`${env}/search/indexer/db-credentials`), DB_PASSWORD_PARAMETER_ARN: parameterArn('/search/indexer/db/password') } },
    },
    // Reads nothing: only configuration.
    { FunctionName: 'identity-session-cleanup', LastModified: registered(200), Environment: { Variables: { RETENTION_DAYS: '30', LOG_LEVEL: 'warn' } } },
    ...(prod ? [{ FunctionName: 'platform-github-sync', LastModified: registered(300), Environment: { Variables: { GITHUB_ORG: 'example', GITHUB_TOKEN: PLANTED_PLAIN_TEXT.githubToken } } }] : []),
  ];

  const secrets: SecretInput[] = prod
    ? [
        {
          Name: DELETED_SECRET,
          Description: 'Password of the ledger database before its move (scheduled for deletion)',
          SecretString: demoValue(seededRandom(0x5eed_0de1)),
          RotationEnabled: false,
          CreatedDate: new Date(now - 700 * DAY_MS).toISOString(),
          LastChangedDate: new Date(now - 400 * DAY_MS).toISOString(),
          LastAccessedDate: new Date(Math.floor((now - 20 * DAY_MS) / DAY_MS) * DAY_MS).toISOString(),
          DeletedDate: new Date(now - 3 * DAY_MS).toISOString(),
          VersionCount: 2,
          Tags: [
            { Key: 'owner', Value: 'payments-team@example.com' },
            { Key: 'team', Value: 'payments' },
          ],
        },
      ]
    : [];
  return { taskDefinitions, functions, secrets };
}
