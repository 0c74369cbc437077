import { createHash } from 'node:crypto';
import { FIXTURE, SENTINEL, type FixtureItem } from '../../contract/fixture';
import {
  DEFAULT_QUOTAS,
  startSimulatedAws,
  type ParameterInput,
  type SecretInput,
  type SimulatedAws,
  type SimulatedAwsOptions,
} from '@/simulator/simulated-aws';

// The contract FIXTURE loaded into the project's simulated AWS (simulator/simulated-aws.ts), started
// in-process on loopback for one test file: the AWS adapters are tested through the real SDK
// clients against it, as they would talk to AWS. Every field the fixture has is given explicitly,
// so nothing about these items is left to the simulator's generated defaults.

export const FIXTURE_REGION = 'eu-west-1';
export const FIXTURE_ACCOUNT = '123456789012';
/** The one fixture secret with rotation turned on, and its rotation function. */
export const ROTATING_SECRET = '/prod/payments/db/password';
export const ROTATION_FUNCTION = `arn:aws:lambda:${FIXTURE_REGION}:${FIXTURE_ACCOUNT}:function:rotate-db`;
/** The Value of every GetParameterHistory entry (AWS sends one even without decryption): the adapters must drop it. */
export const HISTORY_VALUE = `${SENTINEL}-history-value`;
/** When every fixture secret was last read. */
export const LAST_ACCESSED = '2026-06-01T00:00:00.000Z';

const tagList = (tags: Record<string, string>) => Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));

/** The one fixture parameter with a policy (an expiration), as DescribeParameters shows it. */
export const EXPIRING_PARAMETER = '/prod/payments/stripe-key';
export const EXPIRATION_POLICY = {
  PolicyType: 'Expiration',
  PolicyStatus: 'Pending',
  PolicyText: '{"Type":"Expiration","Version":"1.0","Attributes":{"Timestamp":"2027-01-01T00:00:00.000Z"}}',
};
/** The one fixture secret replicated to another region. */
export const REPLICATED_SECRET = '/prod/payments/stripe-key';

/** FIXTURE as Parameter Store parameters: the newest version is current, the older ones its history. */
export function fixtureParameters(items: FixtureItem[] = FIXTURE): ParameterInput[] {
  return items.map((item) => {
    const last = item.versions.at(-1)!;
    return {
      Name: item.name,
      Type: item.kind === 'secret' ? 'SecureString' : item.kind,
      Description: item.description,
      Version: item.versions.length,
      LastModifiedDate: last.createdAt,
      LastModifiedUser: last.createdBy,
      Labels: last.labels,
      Tier: 'Standard',
      DataType: 'text',
      Tags: tagList(item.tags),
      Value: last.value,
      ...(item.name === EXPIRING_PARAMETER ? { Policies: [EXPIRATION_POLICY] } : {}),
      History: item.versions
        .slice(0, -1)
        .map((v, i) => ({ Version: i + 1, LastModifiedDate: v.createdAt, LastModifiedUser: v.createdBy, Labels: v.labels, Value: v.value })),
    };
  });
}

/** UUID-shaped, stable per name and version, like AWS's ClientRequestToken-derived ids. */
export function fixtureVersionId(secretName: string, index: number): string {
  const hex = createHash('sha256').update(`${secretName}#${index}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-a${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/**
 * FIXTURE as Secrets Manager secrets. Names lose their leading '/' ("/prod/db/password" is the
 * secret "prod/db/password"), as real secret names usually do, unless `keepLeadingSlash` lists them.
 * The newest version is AWSCURRENT, the one before AWSPREVIOUS, older ones keep only the fixture's
 * labels (none: deprecated); the fixture's labels are staging labels of their own.
 */
export function fixtureSecrets(options: { items?: FixtureItem[]; keepLeadingSlash?: readonly string[] } = {}): SecretInput[] {
  const keep = new Set(options.keepLeadingSlash ?? []);
  return (options.items ?? FIXTURE).map((item) => {
    const name = keep.has(item.name) ? item.name : item.name.slice(1);
    const last = item.versions.length - 1;
    const rotating = item.name === ROTATING_SECRET;
    return {
      Name: name,
      Description: item.description,
      KmsKeyId: item.kind === 'SecureString' ? `arn:aws:kms:${FIXTURE_REGION}:${FIXTURE_ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab` : null,
      LastChangedDate: item.versions[last]!.createdAt,
      LastAccessedDate: LAST_ACCESSED,
      DeletedDate: null,
      Versions: item.versions.map((v, i) => ({
        VersionId: fixtureVersionId(name, i),
        CreatedDate: v.createdAt,
        Stages: [...(i === last ? ['AWSCURRENT'] : i === last - 1 ? ['AWSPREVIOUS'] : []), ...v.labels],
        SecretString: v.value,
      })),
      SecretString: item.versions[last]!.value,
      Tags: tagList(item.tags),
      RotationEnabled: rotating,
      ...(rotating ? { RotationDays: 30, RotationLambdaARN: ROTATION_FUNCTION, LastRotatedDate: item.versions[last]!.createdAt } : {}),
      ...(item.name === REPLICATED_SECRET ? { ReplicationStatus: [{ Region: 'eu-central-1', Status: 'InSync' as const, StatusMessage: 'Replication succeeded' }] } : {}),
    };
  });
}

export interface FixtureAwsOptions extends Omit<SimulatedAwsOptions, 'extraParameters' | 'extraSecrets'> {
  /** Fixture names whose secret keeps the leading '/'. */
  keepLeadingSlash?: readonly string[];
  items?: FixtureItem[];
}

/** The simulator on a free loopback port holding FIXTURE in both services; no latency, no quotas. */
export function startFixtureAws(options: FixtureAwsOptions = {}): Promise<SimulatedAws> {
  const { keepLeadingSlash, items, ...rest } = options;
  return startSimulatedAws({
    account: FIXTURE_ACCOUNT,
    region: FIXTURE_REGION,
    latencyMs: 0,
    quotas: UNLIMITED,
    historyValue: HISTORY_VALUE,
    ...rest,
    extraParameters: fixtureParameters(items),
    extraSecrets: fixtureSecrets({ items, keepLeadingSlash }),
  });
}

/** Every quota of the simulator off: these tests make bursts of calls AWS would throttle. */
const UNLIMITED = Object.fromEntries(DEFAULT_QUOTAS.map((q) => [q.group, null]));
