import 'server-only';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { ECSClient } from '@aws-sdk/client-ecs';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SSMClient } from '@aws-sdk/client-ssm';
import { fromIni, fromTemporaryCredentials } from '@aws-sdk/credential-providers';

// How the dashboard talks to AWS: one client per store, built on first use so start-up needs no
// network. Credentials come from the default provider chain, a named profile (read from the store's
// credentialsFile when it names one), or a role assumed from either. Without a per-store endpoint
// the SDK's own AWS_ENDPOINT_URL* variables still apply.

export interface AwsConnection {
  region: string;
  profile?: string;
  /** The shared-credentials file the profile is read from, instead of ~/.aws/credentials (absolute). */
  credentialsFile?: string;
  roleArn?: string;
  externalId?: string;
  endpoint?: string;
}

export const AWS_MAX_ATTEMPTS = 3;
export const AWS_CONNECTION_TIMEOUT_MS = 3_000;
/** How long one AWS request may take; AWS_REQUEST_TIMEOUT_MS overrides it (read once, at start). */
export const AWS_REQUEST_TIMEOUT_MS = requestTimeoutFrom(process.env.AWS_REQUEST_TIMEOUT_MS);
export const ROLE_SESSION_NAME = 'secrets-dashboard';

export function requestTimeoutFrom(raw: string | undefined, fallback = 10_000): number {
  if (raw === undefined || raw.trim() === '') return fallback;
  const ms = Number(raw);
  if (!Number.isInteger(ms) || ms < 100 || ms > 300_000)
    throw new Error(`AWS_REQUEST_TIMEOUT_MS must be a whole number of milliseconds from 100 to 300000, not "${raw}".`);
  return ms;
}

export function awsCredentials(connection: AwsConnection) {
  const base = connection.profile
    ? fromIni({ profile: connection.profile, ...(connection.credentialsFile ? { filepath: connection.credentialsFile } : {}) })
    : undefined;
  if (connection.roleArn) {
    return fromTemporaryCredentials({
      params: {
        RoleArn: connection.roleArn,
        RoleSessionName: ROLE_SESSION_NAME,
        ...(connection.externalId ? { ExternalId: connection.externalId } : {}),
      },
      // Undefined means the default chain signs the AssumeRole call.
      ...(base ? { masterCredentials: base } : {}),
      clientConfig: { region: connection.region, maxAttempts: AWS_MAX_ATTEMPTS },
    });
  }
  return base;
}

/** Limits on one AWS call; tests shorten them to see a timeout quickly. */
export interface AwsCallLimits {
  maxAttempts?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

function commonConfig(connection: AwsConnection, limits: AwsCallLimits = {}) {
  const credentials = awsCredentials(connection);
  return {
    region: connection.region,
    // Adaptive retries back off on throttling; a small bound keeps a page from hanging.
    retryMode: 'adaptive' as const,
    maxAttempts: limits.maxAttempts ?? AWS_MAX_ATTEMPTS,
    requestHandler: {
      connectionTimeout: limits.connectionTimeoutMs ?? AWS_CONNECTION_TIMEOUT_MS,
      requestTimeout: limits.requestTimeoutMs ?? AWS_REQUEST_TIMEOUT_MS,
      // Without this the handler only logs a warning when requestTimeout passes and keeps waiting.
      throwOnRequestTimeout: true,
    },
    ...(credentials ? { credentials } : {}),
    ...(connection.endpoint ? { endpoint: connection.endpoint } : {}),
  };
}

export function createSsmClient(connection: AwsConnection, limits?: AwsCallLimits): SSMClient {
  return new SSMClient(commonConfig(connection, limits));
}

export function createSecretsManagerClient(connection: AwsConnection, limits?: AwsCallLimits): SecretsManagerClient {
  return new SecretsManagerClient(commonConfig(connection, limits));
}

export function createCloudTrailClient(connection: AwsConnection, limits?: AwsCallLimits): CloudTrailClient {
  return new CloudTrailClient(commonConfig(connection, limits));
}

/** The consumer scan's ECS reads (ListTaskDefinitions, DescribeTaskDefinition): answers hold environment values, examined in memory and dropped. */
export function createEcsClient(connection: AwsConnection, limits?: AwsCallLimits): ECSClient {
  return new ECSClient(commonConfig(connection, limits));
}

/** The consumer scan's Lambda reads (ListFunctions): answers hold environment values, examined in memory and dropped. */
export function createLambdaClient(connection: AwsConnection, limits?: AwsCallLimits): LambdaClient {
  return new LambdaClient(commonConfig(connection, limits));
}

/** Path-style URLs, so an endpoint such as a local simulator or MinIO works without DNS per bucket. */
export function createS3Client(connection: AwsConnection, limits?: AwsCallLimits): S3Client {
  return new S3Client({ ...commonConfig(connection, limits), forcePathStyle: connection.endpoint !== undefined });
}

/** Builds a value once, on first call; used so constructing a store makes no client. */
export function lazy<T>(make: () => T): () => T {
  let made: { value: T } | undefined;
  return () => (made ??= { value: make() }).value;
}
