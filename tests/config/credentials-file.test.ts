import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditSourcesFromConfig, cloudTrailSources } from '@/lib/cloudtrail/sources-config';
import { ConfigError } from '@/lib/config/env';
import { parseStoreConfig, storesFromConfig, type AwsStoreConfig } from '@/lib/config/stores';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { awsCredentials } from '@/lib/stores/aws-clients';
import { makeTempDir } from '../support/temp-dir';

// A store's (or audit source's) `credentialsFile`: the shared-credentials file its profile is read
// from instead of ~/.aws/credentials. Relative paths are taken from CONFIG_FILE's folder; the
// start-up profile check looks in that file; the SDK's fromIni reads the keys from it.

const temp = makeTempDir('credentials-file-');
let configDir: string;
let configPath: string;
/** The user's own AWS files: a profile "mine" that the credentials file does not have. */
let awsEnv: Record<string, string | undefined>;

beforeAll(() => {
  const home = path.join(temp.dir, 'home');
  mkdirSync(path.join(home, '.aws'), { recursive: true });
  writeFileSync(path.join(home, '.aws', 'credentials'), '[mine]\naws_access_key_id = AKIDUSERSOWN\naws_secret_access_key = users-own\n');
  configDir = path.join(temp.dir, 'conf');
  mkdirSync(path.join(configDir, 'keys'), { recursive: true });
  configPath = path.join(configDir, 'dashboard.yaml');
  writeFileSync(path.join(configDir, 'keys', 'demo-credentials'), '[demo-prod]\naws_access_key_id = AKIDDEMOPROD\naws_secret_access_key = demo-secret-prod\n');
  awsEnv = { HOME: home };
});
afterAll(() => temp.cleanup());

const store = (fields: string) => `stores:\n  - id: sim-prod-ssm\n    kind: ssm\n    region: us-east-1\n${fields}`;

function failure(text: string): string {
  try {
    parseStoreConfig(text, configPath, awsEnv);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
}

describe('stores: credentialsFile', () => {
  it('takes a relative path from the config file\'s folder and finds the profile in that file only', () => {
    const [entry] = parseStoreConfig(store('    profile: demo-prod\n    credentialsFile: keys/demo-credentials\n'), configPath, awsEnv) as AwsStoreConfig[];
    expect(entry!.credentialsFile).toBe(path.join(configDir, 'keys', 'demo-credentials'));
    expect(entry!.profile).toBe('demo-prod');
  });

  it('keeps an absolute path as it is', () => {
    const absolute = path.join(configDir, 'keys', 'demo-credentials');
    const [entry] = parseStoreConfig(store(`    profile: demo-prod\n    credentialsFile: ${absolute}\n`), '/elsewhere/x.yaml', awsEnv) as AwsStoreConfig[];
    expect(entry!.credentialsFile).toBe(absolute);
  });

  it('refuses a profile the credentials file does not define, even when ~/.aws has it', () => {
    const message = failure(store('    profile: mine\n    credentialsFile: keys/demo-credentials\n'));
    expect(message).toContain('stores[0] (id "sim-prod-ssm")');
    expect(message).toContain('profile "mine" is not defined in');
    expect(message).toContain(path.join(configDir, 'keys', 'demo-credentials'));
    expect(message).toContain('add a [mine] section to it');
    // Without credentialsFile the user's own file is where "mine" is found.
    expect(parseStoreConfig(store('    profile: mine\n'), configPath, awsEnv)).toHaveLength(1);
  });

  it('refuses a credentials file that does not exist, naming the line and the resolved path', () => {
    const message = failure(store('    profile: demo-prod\n    credentialsFile: keys/missing\n'));
    expect(message).toMatch(/dashboard\.yaml:6: stores\[0\] \(id "sim-prod-ssm"\): credentialsFile .*keys\/missing does not exist; fix the path\./);
  });

  it('refuses credentialsFile without profile, and an empty one', () => {
    expect(failure(store('    credentialsFile: keys/demo-credentials\n'))).toContain('credentialsFile is read for a profile: add profile or remove credentialsFile');
    expect(failure(store('    profile: demo-prod\n    credentialsFile: ""\n'))).toContain('credentialsFile must not be empty');
  });

  it('reaches the SDK: fromIni reads the keys from that file, not from ~/.aws/credentials', async () => {
    const [entry] = storesFromConfig(parseConfigYaml(store('    profile: demo-prod\n    credentialsFile: keys/demo-credentials\n'), configPath), awsEnv) as AwsStoreConfig[];
    const provider = awsCredentials(entry!);
    const credentials = await provider!();
    expect(credentials.accessKeyId).toBe('AKIDDEMOPROD');
    // The same profile name without the file is not found (the SDK reads the real HOME's files, which lack it).
    await expect(awsCredentials({ region: 'us-east-1', profile: 'demo-prod', credentialsFile: path.join(temp.dir, 'nowhere') })!()).rejects.toThrow();
  });
});

describe('audit sources: credentialsFile', () => {
  const audit = (fields: string) =>
    parseConfigYaml(`audit:\n  - id: sim-prod-trail\n    kind: cloudtrail-s3\n    region: us-east-1\n    bucket: demo-trail\n${fields}`, configPath);

  it('resolves it like a store\'s and carries it into the connection', () => {
    const [source] = auditSourcesFromConfig(audit('    profile: demo-prod\n    credentialsFile: keys/demo-credentials\n'), awsEnv);
    expect(source!.connection).toEqual({ region: 'us-east-1', profile: 'demo-prod', credentialsFile: path.join(configDir, 'keys', 'demo-credentials') });
  });

  it('refuses a profile missing from it, and a missing file', () => {
    expect(() => auditSourcesFromConfig(audit('    profile: mine\n    credentialsFile: keys/demo-credentials\n'), awsEnv)).toThrow(/audit\[0\] \(id "sim-prod-trail"\): profile "mine" is not defined/);
    expect(() => auditSourcesFromConfig(audit('    profile: demo-prod\n    credentialsFile: keys/none\n'), awsEnv)).toThrow(/credentialsFile .*keys\/none does not exist/);
    expect(() => auditSourcesFromConfig(audit('    credentialsFile: keys/demo-credentials\n'), awsEnv)).toThrow(/credentialsFile is read for a profile/);
  });

  it('stores with the same profile but different credentials files are different LookupEvents sources', () => {
    const base = { kind: 'ssm' as const, region: 'us-east-1', profile: 'demo', endpoint: 'http://127.0.0.1:9' };
    const sources = cloudTrailSources(
      [
        { ...base, id: 'a', credentialsFile: '/x/one' },
        { ...base, id: 'b', credentialsFile: '/x/two' },
        { ...base, id: 'c', credentialsFile: '/x/one' },
      ],
      [],
    );
    expect(sources.map((s) => (s.kind === 'lookup-events' ? s.stores : []))).toEqual([['a', 'c'], ['b']]);
  });
});
