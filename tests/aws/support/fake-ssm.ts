import {
  DescribeParametersCommand,
  GetParameterCommand,
  GetParameterHistoryCommand,
  GetParametersByPathCommand,
  GetParametersCommand,
  ListTagsForResourceCommand,
  SSMClient,
  type DescribeParametersRequest,
  type DescribeParametersResult,
  type GetParameterHistoryRequest,
  type GetParameterHistoryResult,
  type ListTagsForResourceRequest,
  type ListTagsForResourceResult,
  type ParameterMetadata,
} from '@aws-sdk/client-ssm';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';
import { FIXTURE, type FixtureItem } from '../../contract/fixture';
import { serviceError } from './aws-errors';
import { FailureInjection } from './failure-injection';

// A small in-memory Parameter Store that answers from FIXTURE with the response shapes of the
// SSM API reference (DescribeParameters, GetParameterHistory, ListTagsForResource). It honours
// ParameterFilters (Path OneLevel/Recursive, Name Equals), MaxResults and NextToken, rejects what
// AWS rejects (a Path value with a trailing slash, MaxResults out of range, a foreign token), and
// like AWS sometimes answers with an EMPTY page that still carries a NextToken. The forbidden
// value-reading commands are answered too, with values, so a test can see that none was sent.

export const REGION = 'eu-west-1';
export const ACCOUNT = '123456789012';

const HISTORY_MAX = 50;
const DESCRIBE_MAX = 50;

function ssmParameterName(item: FixtureItem) {
  return item.name;
}

function metadataOf(item: FixtureItem): ParameterMetadata {
  const last = item.versions.at(-1)!;
  return {
    Name: ssmParameterName(item),
    ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${item.name}`,
    Type: item.kind === 'secret' ? 'SecureString' : item.kind,
    ...(item.kind === 'SecureString' ? { KeyId: 'alias/aws/ssm' } : {}),
    LastModifiedDate: new Date(last.createdAt),
    LastModifiedUser: last.createdBy,
    ...(item.description !== null ? { Description: item.description } : {}),
    Version: item.versions.length,
    Tier: 'Standard',
    Policies:
      item.name === '/prod/payments/stripe-key'
        ? [
            {
              PolicyType: 'Expiration',
              PolicyStatus: 'Pending',
              PolicyText: '{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2027-01-01T00:00:00.000Z"}}',
            },
          ]
        : [],
    DataType: 'text',
  };
}

/** Tokens look opaque but carry an offset and how many empty pages were served at that offset. */
const token = (offset: number, emptiesServed: number) => Buffer.from(`ssm:${offset}:${emptiesServed}`).toString('base64');
function readToken(raw: string | undefined): { offset: number; emptiesServed: number } {
  if (raw === undefined) return { offset: 0, emptiesServed: 0 };
  const match = /^ssm:(\d+):(\d+)$/.exec(Buffer.from(raw, 'base64').toString());
  if (!match) throw serviceError('InvalidNextToken', 'The specified token is not valid.');
  return { offset: Number(match[1]), emptiesServed: Number(match[2]) };
}

function checkMaxResults(value: number | undefined, max: number) {
  if (value !== undefined && (value < 1 || value > max))
    throw serviceError('ValidationException', `1 validation error detected: Value '${value}' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to ${max}`);
}

function parentOf(name: string): string {
  const i = name.lastIndexOf('/');
  return i <= 0 ? '/' : name.slice(0, i);
}

export interface FakeSsmOptions {
  items?: FixtureItem[];
  /** Empty pages (each with a NextToken) served before every other page of results; 0 for none. */
  emptyPages?: number;
}

export class FakeParameterStore extends FailureInjection {
  readonly items: FixtureItem[];
  private readonly emptyPages: number;

  constructor(options: FakeSsmOptions = {}) {
    super();
    this.items = options.items ?? FIXTURE;
    this.emptyPages = options.emptyPages ?? 2;
  }

  private find(name: string | undefined): FixtureItem | undefined {
    return this.items.find((i) => ssmParameterName(i) === name);
  }

  describeParameters(input: DescribeParametersRequest): DescribeParametersResult {
    checkMaxResults(input.MaxResults, DESCRIBE_MAX);
    let matches = [...this.items];
    for (const filter of input.ParameterFilters ?? []) {
      const [value] = filter.Values ?? [];
      if (value === undefined) throw serviceError('InvalidFilterValue', 'The filter value is not valid.');
      if (filter.Key === 'Path') {
        if (value !== '/' && value.endsWith('/')) throw serviceError('ValidationException', 'The parameter path must not end with a slash.');
        if (!value.startsWith('/')) throw serviceError('ValidationException', 'The parameter path must begin with a slash.');
        const option = filter.Option ?? 'OneLevel';
        if (option !== 'OneLevel' && option !== 'Recursive') throw serviceError('InvalidFilterOption', `The filter option ${option} is not valid.`);
        matches = matches.filter((i) =>
          option === 'OneLevel' ? parentOf(i.name) === value : i.name.startsWith(value === '/' ? '/' : `${value}/`),
        );
      } else if (filter.Key === 'Name') {
        const option = filter.Option ?? 'Equals';
        matches = matches.filter((i) => (option === 'BeginsWith' ? i.name.startsWith(value) : i.name === value));
      } else {
        throw serviceError('InvalidFilterKey', `The filter key ${filter.Key} is not supported here.`);
      }
    }
    // AWS promises no order; reversed order proves the adapter sorts each page itself.
    matches.reverse();
    const pageSize = input.MaxResults ?? 10;
    const { offset, emptiesServed } = readToken(input.NextToken);
    const pageIndex = Math.floor(offset / pageSize);
    if (pageIndex % 2 === 0 && emptiesServed < this.emptyPages && matches.length > 0) {
      return { Parameters: [], NextToken: token(offset, emptiesServed + 1) };
    }
    const page = matches.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return { Parameters: page.map(metadataOf), ...(next < matches.length ? { NextToken: token(next, 0) } : {}) };
  }

  getParameterHistory(input: GetParameterHistoryRequest): GetParameterHistoryResult {
    checkMaxResults(input.MaxResults, HISTORY_MAX);
    const item = this.find(input.Name);
    if (!item) throw serviceError('ParameterNotFound', 'Parameter not found.');
    const pageSize = input.MaxResults ?? HISTORY_MAX;
    const { offset } = readToken(input.NextToken);
    const meta = metadataOf(item);
    // History comes oldest first, and (as in AWS) with each version's Value: String values in
    // clear, SecureString values too when decryption is asked for. Values carry the SENTINEL.
    const entries = item.versions.map((v, i) => ({
      Name: meta.Name,
      Type: meta.Type,
      KeyId: meta.KeyId,
      LastModifiedDate: new Date(v.createdAt),
      LastModifiedUser: v.createdBy,
      Description: meta.Description,
      Value: item.kind === 'SecureString' && !input.WithDecryption ? `AQICAH-ciphertext-${v.value}` : v.value,
      AllowedPattern: '',
      Version: i + 1,
      Labels: v.labels,
      Tier: meta.Tier,
      Policies: meta.Policies,
      DataType: meta.DataType,
    }));
    const page = entries.slice(offset, offset + pageSize);
    const next = offset + pageSize;
    return { Parameters: page, ...(next < entries.length ? { NextToken: token(next, 0) } : {}) };
  }

  listTagsForResource(input: ListTagsForResourceRequest): ListTagsForResourceResult {
    if (input.ResourceType !== 'Parameter') throw serviceError('InvalidResourceType', 'The resource type is not valid.');
    const item = this.find(input.ResourceId);
    if (!item) throw serviceError('InvalidResourceId', 'The resource ID is not valid. Verify that you entered the correct ID and try again.');
    return { TagList: Object.entries(item.tags).map(([Key, Value]) => ({ Key, Value })) };
  }

  /** Forbidden while browsing; answered with values so a mistaken call would not fail loudly. */
  readValue(name: string | undefined) {
    const item = this.find(name);
    if (!item) throw serviceError('ParameterNotFound', 'Parameter not found.');
    const last = item.versions.at(-1)!;
    return { Name: item.name, Type: metadataOf(item).Type, Value: last.value, Version: item.versions.length };
  }
}

export type SsmMock = AwsClientStub<SSMClient>;

/** A real SSMClient whose send is answered by the fake, and the stub to inspect the calls. */
export function fakeSsmClient(options: FakeSsmOptions = {}): { client: SSMClient; mock: SsmMock; fake: FakeParameterStore } {
  const client = new SSMClient({ region: REGION, credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'example' } });
  const mock = mockClient(client);
  const fake = new FakeParameterStore(options);
  installFakeSsm(mock, fake);
  return { client, mock, fake };
}

export function installFakeSsm(mock: SsmMock, fake: FakeParameterStore): void {
  mock.onAnyCommand().rejects(serviceError('UnsupportedCommand', 'The fake does not answer this command.'));
  mock.on(DescribeParametersCommand).callsFake((input: DescribeParametersRequest) => fake.handle('DescribeParameters', () => fake.describeParameters(input)));
  mock.on(GetParameterHistoryCommand).callsFake((input: GetParameterHistoryRequest) => fake.handle('GetParameterHistory', () => fake.getParameterHistory(input)));
  mock.on(ListTagsForResourceCommand).callsFake((input: ListTagsForResourceRequest) => fake.handle('ListTagsForResource', () => fake.listTagsForResource(input)));
  mock.on(GetParameterCommand).callsFake(async (input: { Name?: string }) => ({ Parameter: fake.readValue(input.Name) }));
  mock.on(GetParametersCommand).callsFake(async (input: { Names?: string[] }) => ({
    Parameters: (input.Names ?? []).map((n) => fake.readValue(n)),
    InvalidParameters: [],
  }));
  mock.on(GetParametersByPathCommand).callsFake(async (input: { Path?: string }) => ({
    Parameters: fake.items.filter((i) => i.name.startsWith(`${input.Path}/`)).map((i) => fake.readValue(i.name)),
  }));
}
