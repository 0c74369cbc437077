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

/** FIXTURE as Parameter Store parameters: the newest version is current, the older ones its history. */
export function fixtureParameters(items: FixtureItem[] = FIXTURE): ParameterInput[] {
  return items.map((item) => {
    const last = item.versions.at(-1)!;
    return {
      Name: item.name,
      Type: item.kind === 'secret' ? 'SecureString' : item.kind,
      // '' is "no description" to the adapters (undefined would let the simulator make one up).
      Description: item.description ?? '',
      Version: item.versions.length,
      LastModifiedDate: last.createdAt,
      LastModifiedUser: last.createdBy,
      Tier: 'Standard',
      DataType: 'text',
      Tags: tagList(item.tags),
      Value: last.value,
      // The current version's labels cannot be given yet (the simulator has no LabelParameterVersion).
      History: item.versions.slice(0, -1).map((v, i) => ({ Version: i + 1, LastModifiedDate: v.createdAt, LastModifiedUser: v.createdBy, Labels: v.labels })),
    };
  });
}

/**
 * FIXTURE as Secrets Manager secrets. Names lose their leading '/' ("/prod/db/password" is the
 * secret "prod/db/password"), as real secret names usually do, unless `keepLeadingSlash` lists them.
 */
export function fixtureSecrets(options: { items?: FixtureItem[]; keepLeadingSlash?: readonly string[] } = {}): SecretInput[] {
  const keep = new Set(options.keepLeadingSlash ?? []);
  return (options.items ?? FIXTURE).map((item) => {
    const first = item.versions[0]!;
    const last = item.versions.at(-1)!;
    const rotating = item.name === ROTATING_SECRET;
    return {
      Name: keep.has(item.name) ? item.name : item.name.slice(1),
      Description: item.description ?? '',
      CreatedDate: first.createdAt,
      LastChangedDate: last.createdAt,
      LastAccessedDate: LAST_ACCESSED,
      DeletedDate: null,
      VersionCount: item.versions.length,
      Tags: tagList(item.tags),
      SecretString: last.value,
      RotationEnabled: rotating,
      ...(rotating ? { RotationDays: 30, RotationLambdaARN: ROTATION_FUNCTION, LastRotatedDate: last.createdAt } : {}),
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
