import { createHash } from 'node:crypto';
import {
  BatchGetSecretValueCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretsCommand,
  ListSecretVersionIdsCommand,
  SecretsManagerClient,
  type DescribeSecretRequest,
  type DescribeSecretResponse,
  type ListSecretsRequest,
  type ListSecretsResponse,
  type ListSecretVersionIdsRequest,
  type ListSecretVersionIdsResponse,
  type SecretListEntry,
} from '@aws-sdk/client-secrets-manager';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { FIXTURE, type FixtureItem } from '../../contract/fixture';
import { serviceError } from './aws-errors';
import { FailureInjection } from './failure-injection';

// A small in-memory Secrets Manager that answers from FIXTURE with the response shapes of the
// API reference (ListSecrets, DescribeSecret, ListSecretVersionIds). Fixture names lose their
// leading '/' ("/prod/db/password" is the secret "prod/db/password") unless `keepLeadingSlash`
// lists them. The newest version is AWSCURRENT, the one before AWSPREVIOUS, older ones keep only
// the fixture's labels (none: "deprecated", listed only with IncludeDeprecated). It honours the
// name filter (case-sensitive prefix, '!' negation), SortBy/SortOrder, MaxResults and NextToken,
// and serves EMPTY pages that still carry a NextToken. GetSecretValue is answered with values so a
// test can see that it was never sent.

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';
const MAX_RESULTS = 100;

export interface FakeSecretsManagerOptions {
  items?: FixtureItem[];
  /** Fixture names whose secret keeps the leading '/'. */
  keepLeadingSlash?: string[];
  /** Empty pages (each with a NextToken) served before every other page of results; 0 for none. */
  emptyPages?: number;
}

interface FakeSecret {
  item: FixtureItem;
  name: string;
  arn: string;
  versions: { id: string; stages: string[]; createdAt: Date }[];
}

/** UUID-shaped, stable per name and version, like AWS's ClientRequestToken-derived ids. */
function versionId(name: string, index: number): string {
  const hex = createHash('sha256').update(`${name}#${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

const token = (offset: number, emptiesServed: number) => Buffer.from(`sm:${offset}:${emptiesServed}`).toString('base64');
function readToken(raw: string | undefined): { offset: number; emptiesServed: number } {
  if (raw === undefined) return { offset: 0, emptiesServed: 0 };
  const match = /^sm:(\d+):(\d+)$/.exec(Buffer.from(raw, 'base64').toString());
  if (!match) throw serviceError('InvalidNextTokenException', 'The NextToken value is not valid.');
  return { offset: Number(match[1]), emptiesServed: Number(match[2]) };
}

function checkMaxResults(value: number | undefined) {
  if (value !== undefined && (value < 1 || value > MAX_RESULTS))
    throw serviceError('ValidationException', `Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${MAX_RESULTS}`);
}

export class FakeSecretsManager extends FailureInjection {
  readonly secrets: FakeSecret[];
  private readonly emptyPages: number;

  constructor(options: FakeSecretsManagerOptions = {}) {
    super();
    const keep = new Set(options.keepLeadingSlash ?? []);
    this.emptyPages = options.emptyPages ?? 2;
    this.secrets = (options.items ?? FIXTURE).map((item) => {
      const name = keep.has(item.name) ? item.name : item.name.slice(1);
      const suffix = createHash('sha256').update(name).digest('base64url').replace(/[-_]/g, 'x').slice(0, 6);
      const last = item.versions.length - 1;
      return {
        item,
        name,
        arn: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-${suffix}`,
        versions: item.versions.map((v, i) => ({
          id: versionId(name, i),
          stages: [...(i === last ? ['AWSCURRENT'] : i === last - 1 ? ['AWSPREVIOUS'] : []), ...v.labels],
          createdAt: new Date(v.createdAt),
        })),
      };
    });
  }

  find(secretId: string | undefined): FakeSecret {
    const secret = this.secrets.find((s) => s.name === secretId || s.arn === secretId);
    if (!secret) throw serviceError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  }

  private stagesOf(secret: FakeSecret): Record<string, string[]> {
    return Object.fromEntries(secret.versions.filter((v) => v.stages.length > 0).map((v) => [v.id, v.stages]));
  }

  private entryOf(secret: FakeSecret): SecretListEntry & DescribeSecretResponse {
    const { item } = secret;
    const created = new Date(item.versions[0]!.createdAt);
    const changed = new Date(item.versions.at(-1)!.createdAt);
    const rotating = item.name === '/prod/payments/db/password';
    return {
      ARN: secret.arn,
      Name: secret.name,
      ...(item.description !== null ? { Description: item.description } : {}),
      ...(item.kind === 'SecureString' ? { KmsKeyId: `arn:aws:kms:${REGION}:${ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` } : {}),
      RotationEnabled: rotating,
      ...(rotating
        ? {
            RotationLambdaARN: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:rotate-db`,
            RotationRules: { AutomaticallyAfterDays: 30 },
            LastRotatedDate: changed,
            NextRotationDate: new Date(changed.getTime() + 30 * 86_400_000),
          }
        : {}),
      LastChangedDate: changed,
      LastAccessedDate: new Date(Date.UTC(2026, 5, 1)),
      Tags: Object.entries(item.tags).map(([Key, Value]) => ({ Key, Value })),
      CreatedDate: created,
      PrimaryRegion: REGION,
    };
  }

  listSecrets(input: ListSecretsRequest): ListSecretsResponse {
    checkMaxResults(input.MaxResults);
    let matches = [...this.secrets];
    for (const filter of input.Filters ?? []) {
      if (filter.Key !== 'name') throw serviceError('InvalidParameterException', `The fake only supports the name filter, not ${filter.Key}.`);
      const values = filter.Values ?? [];
      matches = matches.filter((s) =>
        values.some((v) => (v.startsWith('!') ? !s.name.startsWith(v.slice(1)) : s.name.startsWith(v))),
      );
    }
    if (input.SortBy === 'name') matches.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    else matches.sort((a, b) => Date.parse(a.item.versions[0]!.createdAt) - Date.parse(b.item.versions[0]!.createdAt));
    if (input.SortOrder === 'desc') matches.reverse();
    const pageSize = input.MaxResults ?? MAX_RESULTS;
    const { offset, emptiesServed } = readToken(input.NextToken);
    if (Math.floor(offset / pageSize) % 2 === 0 && emptiesServed < this.emptyPages && matches.length > 0) {
      return { SecretList: [], NextToken: token(offset, emptiesServed + 1) };
    }
    const page = matches.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return {
      SecretList: page.map((s) => ({ ...this.entryOf(s), SecretVersionsToStages: this.stagesOf(s) })),
      ...(next < matches.length ? { NextToken: token(next, 0) } : {}),
    };
  }

  describeSecret(input: DescribeSecretRequest): DescribeSecretResponse {
    const secret = this.find(input.SecretId);
    return {
      ...this.entryOf(secret),
      VersionIdsToStages: this.stagesOf(secret),
      ...(secret.item.name === '/prod/payments/stripe-key'
        ? { ReplicationStatus: [{ Region: 'eu-central-1', KmsKeyId: 'alias/aws/secretsmanager', Status: 'InSync', StatusMessage: 'Replication succeeded' }] }
        : {}),
    };
  }

  listSecretVersionIds(input: ListSecretVersionIdsRequest): ListSecretVersionIdsResponse {
    checkMaxResults(input.MaxResults);
    const secret = this.find(input.SecretId);
    const versions = secret.versions.filter((v) => input.IncludeDeprecated || v.stages.length > 0);
    const pageSize = input.MaxResults ?? MAX_RESULTS;
    const { offset } = readToken(input.NextToken);
    const page = versions.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return {
      Versions: page.map((v) => ({
        VersionId: v.id,
        VersionStages: v.stages,
        CreatedDate: v.createdAt,
        LastAccessedDate: new Date(Date.UTC(2026, 5, 1)),
        KmsKeyIds: ['DefaultEncryptionKey'],
      })),
      ARN: secret.arn,
      Name: secret.name,
      ...(next < versions.length ? { NextToken: token(next, 0) } : {}),
    };
  }

  /** Forbidden while browsing; answered with the value so a mistaken call would not fail loudly. */
  readValue(secretId: string | undefined) {
    const secret = this.find(secretId);
    const current = secret.versions.at(-1)!;
    return { ARN: secret.arn, Name: secret.name, VersionId: current.id, SecretString: secret.item.versions.at(-1)!.value, VersionStages: current.stages };
  }
}

export type SecretsManagerMock = AwsClientStub<SecretsManagerClient>;

export function fakeSecretsManagerClient(options: FakeSecretsManagerOptions = {}): {
  client: SecretsManagerClient;
  mock: SecretsManagerMock;
  fake: FakeSecretsManager;
} {
  const client = new SecretsManagerClient({ region: REGION, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
  const mock = mockClient(client);
  const fake = new FakeSecretsManager(options);
  installFakeSecretsManager(mock, fake);
  return { client, mock, fake };
}

export function installFakeSecretsManager(mock: SecretsManagerMock, fake: FakeSecretsManager): void {
  mock.onAnyCommand().rejects(serviceError('UnsupportedCommand', 'The fake does not answer this command.'));
  mock.on(ListSecretsCommand).callsFake((input: ListSecretsRequest) => fake.handle('ListSecrets', () => fake.listSecrets(input)));
  mock.on(DescribeSecretCommand).callsFake((input: DescribeSecretRequest) => fake.handle('DescribeSecret', () => fake.describeSecret(input)));
  mock.on(ListSecretVersionIdsCommand).callsFake((input: ListSecretVersionIdsRequest) => fake.handle('ListSecretVersionIds', () => fake.listSecretVersionIds(input)));
  mock.on(GetSecretValueCommand).callsFake((input: { SecretId?: string }) => fake.handle('GetSecretValue', () => fake.readValue(input.SecretId)));
  mock.on(BatchGetSecretValueCommand).callsFake(async (input: { SecretIdList?: string[] }) => ({
    SecretValues: (input.SecretIdList ?? []).map((id) => fake.readValue(id)),
    Errors: [],
  }));
}
