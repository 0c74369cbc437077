import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '@/lib/config/env';
import { knownAwsProfiles, loadStoreConfigs, parseStoreConfig, type StoreConfig } from '@/lib/config/stores';
import { makeTempDir } from '../support/temp-dir';

// CONFIG_FILE's `stores:` list: a valid file loads, and each kind of mistake stops start-up with a
// message naming the entry and the line.

const temp = makeTempDir('stores-config-');
let awsEnv: Record<string, string | undefined>;
const appEnv = (vars: Record<string, string>) => readEnv(vars as NodeJS.ProcessEnv);

beforeAll(() => {
  const configFile = path.join(temp.dir, 'aws-config');
  const credentialsFile = path.join(temp.dir, 'aws-credentials');
  writeFileSync(configFile, ['[default]', 'region = eu-west-1', '', '[profile prod-readonly]', 'region = eu-west-1', 'sso_session = corp', '', '[sso-session corp]', 'sso_region = eu-west-1', ''].join('\n'));
  writeFileSync(credentialsFile, ['[legacy-keys]', 'aws_access_key_id = AKIDEXAMPLE', 'aws_secret_access_key = example', ''].join('\n'));
  awsEnv = { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: credentialsFile, HOME: temp.dir };
});
afterAll(() => temp.cleanup());

const EXAMPLE = `# Stores the dashboard shows.
stores:
  - id: local
    kind: local
    label: Built-in encrypted store
  - id: prod-params
    kind: ssm
    label: Production parameters
    region: eu-west-1
    profile: prod-readonly
  - id: prod-secrets
    kind: secretsmanager
    region: us-east-1
    roleArn: arn:aws:iam::123456789012:role/secrets-dashboard-read
    externalId: dashboard-7f3a
  - id: gov-params
    kind: ssm
    region: us-gov-west-1
    profile: legacy-keys
  - id: localstack
    kind: secretsmanager
    region: us-east-1
    endpoint: http://localhost:4566
grants:
  - group: developers
    stores: [prod-params]
`;

function parse(text: string): StoreConfig[] {
  return parseStoreConfig(text, 'dashboard.yaml', awsEnv);
}

function failure(text: string): string {
  try {
    parse(text);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('store configuration', () => {
  it('loads the example: every kind, profile, role, endpoint; other sections are left for their owners', () => {
    const stores = parse(EXAMPLE);
    expect(stores).toEqual([
      { id: 'local', kind: 'local', label: 'Built-in encrypted store' },
      { id: 'prod-params', kind: 'ssm', label: 'Production parameters', region: 'eu-west-1', profile: 'prod-readonly' },
      {
        id: 'prod-secrets',
        kind: 'secretsmanager',
        region: 'us-east-1',
        roleArn: 'arn:aws:iam::123456789012:role/secrets-dashboard-read',
        externalId: 'dashboard-7f3a',
      },
      { id: 'gov-params', kind: 'ssm', region: 'us-gov-west-1', profile: 'legacy-keys' },
      { id: 'localstack', kind: 'secretsmanager', region: 'us-east-1', endpoint: 'http://localhost:4566' },
    ]);
  });

  it('without CONFIG_FILE has only the built-in store', () => {
    expect(loadStoreConfigs(appEnv({}), awsEnv)).toEqual([{ id: 'local', kind: 'local', label: 'Built-in encrypted store' }]);
  });

  it('reads CONFIG_FILE from disk, and a file without stores: keeps the built-in store', () => {
    const file = path.join(temp.dir, 'grants-only.yaml');
    writeFileSync(file, 'grants: []\n');
    expect(loadStoreConfigs(appEnv({ CONFIG_FILE: file }), awsEnv)).toEqual([{ id: 'local', kind: 'local', label: 'Built-in encrypted store' }]);
    const full = path.join(temp.dir, 'full.yaml');
    writeFileSync(full, EXAMPLE);
    expect(loadStoreConfigs(appEnv({ CONFIG_FILE: full }), awsEnv).map((s) => s.id)).toEqual([
      'local',
      'prod-params',
      'prod-secrets',
      'gov-params',
      'localstack',
    ]);
  });

  it('stops on a CONFIG_FILE that does not exist, naming it', () => {
    const missing = path.join(temp.dir, 'nope.yaml');
    expect(() => loadStoreConfigs(appEnv({ CONFIG_FILE: missing }), awsEnv)).toThrow(new RegExp(`${missing}.*does not exist`));
  });

  it('refuses a bad region, naming the entry and the line', () => {
    const message = failure(EXAMPLE.replace('region: us-east-1\n    roleArn', 'region: us-east-one\n    roleArn'));
    expect(message).toContain('dashboard.yaml:13');
    expect(message).toContain('stores[2] (id "prod-secrets")');
    expect(message).toMatch(/region must be an AWS region/);
  });

  it('requires a region for AWS stores, pointing at the entry', () => {
    const message = failure('stores:\n  - id: p\n    kind: ssm\n');
    expect(message).toContain('dashboard.yaml:2');
    expect(message).toContain('stores[0] (id "p")');
    expect(message).toMatch(/region/);
  });

  it('refuses a malformed role ARN', () => {
    const message = failure(EXAMPLE.replace('arn:aws:iam::123456789012:role/secrets-dashboard-read', 'arn:aws:iam::1234:user/bob'));
    expect(message).toContain('dashboard.yaml:14');
    expect(message).toContain('stores[2] (id "prod-secrets")');
    expect(message).toMatch(/roleArn must be an IAM role ARN/);
  });

  it('refuses an unknown profile, naming it, the entry, the line and the files looked in', () => {
    const message = failure(EXAMPLE.replace('profile: prod-readonly', 'profile: prod-typo'));
    expect(message).toContain('dashboard.yaml:10');
    expect(message).toContain('stores[1] (id "prod-params")');
    expect(message).toContain('profile "prod-typo"');
    expect(message).toContain(awsEnv.AWS_CONFIG_FILE!);
    // The credentials file's section names count, config's need the "profile " prefix.
    expect(knownAwsProfiles(awsEnv).profiles).toEqual(new Set(['default', 'prod-readonly', 'legacy-keys']));
  });

  it('refuses an unknown profile when no AWS files exist at all', () => {
    const empty = makeTempDir('no-aws-');
    try {
      expect(() => parseStoreConfig('stores:\n  - id: p\n    kind: ssm\n    region: eu-west-1\n    profile: default\n', 'x.yaml', { HOME: empty.dir })).toThrow(
        /profile "default" is not defined/,
      );
    } finally {
      empty.cleanup();
    }
  });

  it('refuses a duplicate id, naming both entries', () => {
    const message = failure(EXAMPLE.replace('id: gov-params', 'id: prod-params'));
    expect(message).toContain('dashboard.yaml:16');
    expect(message).toContain('stores[3] (id "prod-params")');
    expect(message).toContain('already used by stores[1]');
  });

  it('refuses an unknown kind, listing the kinds', () => {
    const message = failure(EXAMPLE.replace('kind: secretsmanager\n    region: us-east-1\n    roleArn', 'kind: consul\n    region: us-east-1\n    roleArn'));
    expect(message).toContain('dashboard.yaml:12');
    expect(message).toContain('stores[2] (id "prod-secrets")');
    expect(message).toContain('kind must be one of local, ssm, secretsmanager, vault');
  });

  it('refuses ids that are not URL-safe, unknown keys, a bad endpoint and externalId without a role', () => {
    expect(failure('stores:\n  - id: Prod_Params\n    kind: local\n')).toMatch(/stores\[0\] \(id "Prod_Params"\): id must be/);
    expect(failure('stores:\n  - id: p\n    kind: ssm\n    region: eu-west-1\n    regoin: x\n')).toMatch(/dashboard\.yaml:2: stores\[0\] \(id "p"\).*regoin/);
    expect(failure('stores:\n  - id: p\n    kind: ssm\n    region: eu-west-1\n    endpoint: ftp://x\n')).toMatch(/:5: .*endpoint must be an http\(s\) URL/);
    expect(failure('stores:\n  - id: p\n    kind: ssm\n    region: eu-west-1\n    externalId: abc\n')).toMatch(/externalId is only used when assuming a role/);
    expect(failure('stores:\n  - id: a\n    kind: local\n  - id: b\n    kind: local\n')).toMatch(/stores\[1\] \(id "b"\).*only one store may be of kind local/);
  });

  it('refuses unknown top-level sections, an empty list and broken YAML', () => {
    expect(failure('store:\n  - id: a\n    kind: local\n')).toMatch(/dashboard\.yaml:1: .*store/);
    expect(failure('stores: []\n')).toMatch(/"stores:" is empty/);
    expect(failure('stores:\n  - id: a\n   kind: local\n')).toMatch(/not valid YAML[\s\S]*dashboard\.yaml:3/);
  });
});
