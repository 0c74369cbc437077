import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, readEnv } from '@/lib/config/env';
import { storesFromConfig } from '@/lib/config/stores';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { auditSourcesFromConfig, cloudTrailSources, loadCloudTrailSources, storeLocators } from '@/lib/cloudtrail/sources-config';
import { makeTempDir } from '../support/temp-dir';

// Which CloudTrail sources exist: one LookupEvents source per distinct account and region of the
// AWS stores, plus CONFIG_FILE's `audit:` list; every mistake in that list names its line.

const temp = makeTempDir('audit-config-');
let awsEnv: Record<string, string | undefined>;
beforeAll(() => {
  const configFile = path.join(temp.dir, 'aws-config');
  writeFileSync(configFile, ['[default]', 'region = eu-west-1', '', '[profile audit]', 'region = eu-west-1', ''].join('\n'));
  awsEnv = { AWS_CONFIG_FILE: configFile, AWS_SHARED_CREDENTIALS_FILE: path.join(temp.dir, 'none'), HOME: temp.dir };
});
afterAll(() => temp.cleanup());

const STORES = `stores:
  - { id: local, kind: local }
  - { id: prod-params, kind: ssm, region: eu-west-1, roleArn: "arn:aws:iam::111111111111:role/read" }
  - { id: prod-secrets, kind: secretsmanager, region: eu-west-1, roleArn: "arn:aws:iam::111111111111:role/read" }
  - { id: us-secrets, kind: secretsmanager, region: us-east-1, roleArn: "arn:aws:iam::111111111111:role/read" }
  - { id: dev-params, kind: ssm, region: eu-west-1 }
  - { id: dev-sim, kind: ssm, region: eu-west-1, endpoint: "http://127.0.0.1:4566" }
`;

function sourcesOf(text: string) {
  const doc = parseConfigYaml(text, 'config.yaml');
  return cloudTrailSources(storesFromConfig(doc, awsEnv), auditSourcesFromConfig(doc, awsEnv));
}

function problems(audit: string): string {
  try {
    auditSourcesFromConfig(parseConfigYaml(`${STORES}audit:\n${audit}`, 'config.yaml'), awsEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the audit section to be rejected');
}

describe('CloudTrail sources from the stores', () => {
  it('one LookupEvents source per distinct account, region and credentials', () => {
    const sources = sourcesOf(STORES);
    expect(sources.map((s) => [s.id, s.kind, s.account, s.connection.region, s.kind === 'lookup-events' ? s.stores : []])).toEqual([
      ['aws-111111111111-eu-west-1', 'lookup-events', '111111111111', 'eu-west-1', ['prod-params', 'prod-secrets']],
      ['aws-111111111111-us-east-1', 'lookup-events', '111111111111', 'us-east-1', ['us-secrets']],
      ['aws-default-eu-west-1', 'lookup-events', null, 'eu-west-1', ['dev-params']],
      [expect.stringMatching(/^aws-default-eu-west-1-[0-9a-f]{6}$/), 'lookup-events', null, 'eu-west-1', ['dev-sim']],
    ]);
    expect(sources[0]!.connection).toEqual({ region: 'eu-west-1', roleArn: 'arn:aws:iam::111111111111:role/read' });
  });

  it('no AWS stores, no sources; the store locators carry the account of the role', () => {
    expect(sourcesOf('stores:\n  - { id: local, kind: local }\n')).toEqual([]);
    const stores = storesFromConfig(parseConfigYaml(STORES, 'c'), awsEnv);
    expect(storeLocators(stores)).toContainEqual({ storeId: 'prod-params', kind: 'ssm', region: 'eu-west-1', account: '111111111111' });
    expect(storeLocators(stores)).toContainEqual({ storeId: 'dev-params', kind: 'ssm', region: 'eu-west-1', account: null });
    expect(storeLocators(stores).some((s) => s.storeId === 'local')).toBe(false);
  });

  it('audit: entries add sources; one for the same connection as a store replaces the derived one', () => {
    const sources = sourcesOf(`${STORES}audit:
  - { id: prod-lookup, kind: lookup-events, region: eu-west-1, roleArn: "arn:aws:iam::111111111111:role/read" }
  - id: org-trail
    kind: cloudtrail-s3
    bucket: org-cloudtrail-logs
    prefix: /trails/org/
    region: us-east-1
    profile: audit
    accounts: ["111111111111", "222222222222"]
    regions: [eu-west-1]
`);
    expect(sources.map((s) => s.id)).toEqual(['aws-111111111111-us-east-1', 'aws-default-eu-west-1', expect.stringMatching(/^aws-default-eu-west-1-/), 'prod-lookup', 'org-trail']);
    expect(sources.at(-1)).toEqual({
      id: 'org-trail',
      kind: 'cloudtrail-s3',
      connection: { region: 'us-east-1', profile: 'audit' },
      account: null,
      bucket: 'org-cloudtrail-logs',
      prefix: 'trails/org',
      accounts: ['111111111111', '222222222222'],
      regions: ['eu-west-1'],
    });
  });

  it('loads from CONFIG_FILE; without one there are none', () => {
    const file = path.join(temp.dir, 'config.yaml');
    writeFileSync(file, `${STORES}audit:\n  - { id: trail, kind: cloudtrail-s3, bucket: my-trail, region: eu-west-1 }\n`);
    const loaded = loadCloudTrailSources(readEnv({ CONFIG_FILE: file } as unknown as NodeJS.ProcessEnv), awsEnv);
    expect(loaded.sources.map((s) => s.id)).toContain('trail');
    expect(loaded.stores.map((s) => s.storeId)).toEqual(['prod-params', 'prod-secrets', 'us-secrets', 'dev-params', 'dev-sim']);
    expect(loadCloudTrailSources(readEnv({} as unknown as NodeJS.ProcessEnv), awsEnv).sources).toEqual([]);
  });
});

describe('bad audit: entries are rejected naming the line', () => {
  // STORES has 7 lines; "audit:" is line 8, its first entry line 9.
  it.each([
    ['an unknown kind', '  - { id: x, kind: cloudwatch, region: eu-west-1 }\n', /config\.yaml:9: audit\[0\] \(id "x"\): kind must be one of lookup-events, cloudtrail-s3/],
    ['a missing region', '  - { id: x, kind: lookup-events }\n', /config\.yaml:9: audit\[0\] \(id "x"\): region is required/],
    ['a bad region', '  - id: x\n    kind: lookup-events\n    region: Europe\n', /config\.yaml:11: audit\[0\] \(id "x"\): region must be an AWS region/],
    ['an unknown key', '  - { id: x, kind: lookup-events, region: eu-west-1, bucket: b }\n', /config\.yaml:9: audit\[0\] \(id "x"\): unknown key "bucket"; expected id, kind, region/],
    ['a bad bucket', '  - id: t\n    kind: cloudtrail-s3\n    region: eu-west-1\n    bucket: My_Bucket\n', /config\.yaml:12: audit\[0\] \(id "t"\): bucket must be an S3 bucket name/],
    ['a missing bucket', '  - { id: t, kind: cloudtrail-s3, region: eu-west-1 }\n', /config\.yaml:9: audit\[0\] \(id "t"\): bucket is required/],
    ['a bad account', '  - { id: t, kind: cloudtrail-s3, region: eu-west-1, bucket: trail-logs, accounts: ["12345"] }\n', /audit\[0\] \(id "t"\): accounts\.0: accounts are 12-digit AWS account ids/],
    ['a bad role ARN', '  - { id: x, kind: lookup-events, region: eu-west-1, roleArn: "admin" }\n', /config\.yaml:9: audit\[0\] \(id "x"\): roleArn must be an IAM role ARN/],
    ['externalId without a role', '  - { id: x, kind: lookup-events, region: eu-west-1, externalId: abc }\n', /externalId is only used when assuming a role/],
    ['a bad endpoint', '  - { id: x, kind: lookup-events, region: eu-west-1, endpoint: "ftp://x" }\n', /endpoint must be an http\(s\) URL/],
    ['a bad id', '  - { id: "Has Spaces", kind: lookup-events, region: eu-west-1 }\n', /audit\[0\] \(id "Has Spaces"\): id must be 1-63 lowercase/],
    ['a duplicate id', '  - { id: x, kind: lookup-events, region: eu-west-1 }\n  - { id: x, kind: lookup-events, region: us-east-1 }\n', /config\.yaml:10: audit\[1\] \(id "x"\): id "x" is already used by audit\[0\]/],
    ['an unknown profile', '  - { id: x, kind: lookup-events, region: eu-west-1, profile: nope }\n', /config\.yaml:9: audit\[0\] \(id "x"\): profile "nope" is not defined/],
    ['not a list', '  sources: []\n', /config\.yaml:9: audit: audit is a list of CloudTrail sources/],
  ])('%s', (_what, audit, message) => {
    expect(problems(audit)).toMatch(message);
  });

  it('every problem of the section is listed at once', () => {
    const message = problems('  - { id: a, kind: lookup-events }\n  - { id: b, kind: cloudtrail-s3, region: eu-west-1 }\n');
    expect(message).toMatch(/config\.yaml:9: audit\[0\]/);
    expect(message).toMatch(/config\.yaml:10: audit\[1\]/);
  });

  it('the audit section is known to the stores loader (no "unknown section")', () => {
    expect(() => storesFromConfig(parseConfigYaml(`${STORES}audit: []\n`, 'c'), awsEnv)).not.toThrow();
  });
});
