import 'server-only';
import { DescribeTaskDefinitionCommand, ListTaskDefinitionsCommand, type ECSClient } from '@aws-sdk/client-ecs';
import { ListFunctionsCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { DescribeSecretCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { createEcsClient, createLambdaClient, createSecretsManagerClient, lazy, type AwsConnection } from '@/lib/stores/aws-clients';
import { isAwsNotFound, toStoreError } from '@/lib/stores/aws-errors';

// What the consumer scan reads of one AWS connection: its Lambda functions and ECS task definitions
// (whose answers hold environment values: the caller examines them in memory and drops them) and,
// for a secret the inventory leaves out, DescribeSecret (metadata only). One attempt per call: the
// scan paces and retries itself. Failures are StoreErrors whose code says what happened; their
// messages are built from the error's name only, never from AWS's text (which can echo input).

/** A Lambda function as the scan needs it; `environment` holds values, never to be kept. */
export interface WorkloadFunction {
  arn: string;
  name: string;
  environment: Record<string, string>;
}

/** An ECS task definition revision as the scan needs it; `environment` values are never to be kept. */
export interface WorkloadTaskDefinition {
  arn: string;
  /** family:revision */
  name: string;
  containers: { name: string; environment: { name: string; value: string }[]; secrets: { name: string; valueFrom: string }[] }[];
}

export interface SecretDeletion {
  /** The secret's name and ARN as AWS answers them. */
  name: string;
  arn: string;
  /** When it was scheduled for deletion; null when it is not. */
  deletedAt: string | null;
}

export interface WorkloadSource {
  listFunctions(marker?: string): Promise<{ functions: WorkloadFunction[]; next?: string }>;
  listTaskDefinitions(token?: string): Promise<{ arns: string[]; next?: string }>;
  describeTaskDefinition(arn: string): Promise<WorkloadTaskDefinition>;
  /** null when there is no such secret. */
  describeSecret(secretId: string): Promise<SecretDeletion | null>;
}

const SOURCE_ID = 'consumers';

async function once<T>(action: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw toStoreError(SOURCE_ID, action, error);
  }
}

export function awsWorkloadSource(connection: AwsConnection): WorkloadSource {
  const limits = { maxAttempts: 1 };
  const lambda = lazy<LambdaClient>(() => createLambdaClient(connection, limits));
  const ecs = lazy<ECSClient>(() => createEcsClient(connection, limits));
  const secrets = lazy<SecretsManagerClient>(() => createSecretsManagerClient(connection, limits));
  return {
    async listFunctions(marker) {
      const out = await once('lambda:ListFunctions', () => lambda().send(new ListFunctionsCommand({ MaxItems: 50, ...(marker ? { Marker: marker } : {}) })));
      const functions = (out.Functions ?? []).flatMap((f) =>
        f.FunctionArn && f.FunctionName ? [{ arn: f.FunctionArn, name: f.FunctionName, environment: f.Environment?.Variables ?? {} }] : [],
      );
      return { functions, ...(out.NextMarker ? { next: out.NextMarker } : {}) };
    },
    async listTaskDefinitions(token) {
      const out = await once('ecs:ListTaskDefinitions', () => ecs().send(new ListTaskDefinitionsCommand({ status: 'ACTIVE', maxResults: 100, ...(token ? { nextToken: token } : {}) })));
      return { arns: out.taskDefinitionArns ?? [], ...(out.nextToken ? { next: out.nextToken } : {}) };
    },
    async describeTaskDefinition(arn) {
      const out = await once('ecs:DescribeTaskDefinition', () => ecs().send(new DescribeTaskDefinitionCommand({ taskDefinition: arn })));
      const td = out.taskDefinition;
      return {
        arn: td?.taskDefinitionArn ?? arn,
        name: td?.family ? `${td.family}:${td.revision ?? ''}` : arn.slice(arn.lastIndexOf('/') + 1),
        containers: (td?.containerDefinitions ?? []).map((c) => ({
          name: c.name ?? '',
          environment: (c.environment ?? []).flatMap((e) => (e.name !== undefined && e.value !== undefined ? [{ name: e.name, value: e.value }] : [])),
          secrets: (c.secrets ?? []).flatMap((s) => (s.name && s.valueFrom ? [{ name: s.name, valueFrom: s.valueFrom }] : [])),
        })),
      };
    },
    async describeSecret(secretId) {
      try {
        const out = await secrets().send(new DescribeSecretCommand({ SecretId: secretId }));
        if (!out.Name || !out.ARN) return null;
        return { name: out.Name, arn: out.ARN, deletedAt: out.DeletedDate ? out.DeletedDate.toISOString() : null };
      } catch (error) {
        if (isAwsNotFound(error)) return null;
        throw toStoreError(SOURCE_ID, 'secretsmanager:DescribeSecret', error);
      }
    },
  };
}
