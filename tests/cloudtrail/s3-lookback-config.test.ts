import { describe, expect, it } from 'vitest';
import { ConfigError } from '@/lib/config/env';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { auditSourcesFromConfig, MAX_LOOKBACK_HOURS } from '@/lib/cloudtrail/sources-config';

// A cloudtrail-s3 source's lookbackHours: how far back its day prefixes are listed again for
// files CloudTrail delivers late. Whole hours from 0 to a week; absent, the source's default.

const awsEnv = { AWS_CONFIG_FILE: '/nonexistent/aws-config', AWS_SHARED_CREDENTIALS_FILE: '/nonexistent/credentials' };

function parse(extra: string) {
  return auditSourcesFromConfig(parseConfigYaml(`audit:\n  - { id: trail, kind: cloudtrail-s3, bucket: trail-logs, region: eu-west-1${extra} }\n`, 'config.yaml'), awsEnv);
}

function problem(extra: string): string {
  try {
    parse(extra);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a configuration error');
}

describe('cloudtrail-s3 lookbackHours', () => {
  it('is taken when given, absent otherwise', () => {
    expect(parse(', lookbackHours: 26')[0]).toMatchObject({ id: 'trail', lookbackHours: 26 });
    expect(parse(', lookbackHours: 0')[0]).toMatchObject({ lookbackHours: 0 });
    expect(parse('')[0]).not.toHaveProperty('lookbackHours');
  });

  it.each([
    ['a fraction', ', lookbackHours: 1.5', /config\.yaml:2: audit\[0\] \(id "trail"\): lookbackHours must be a whole number of hours/],
    ['a negative number', ', lookbackHours: -1', /lookbackHours must be 0 or more/],
    ['more than a week', `, lookbackHours: ${MAX_LOOKBACK_HOURS + 1}`, /lookbackHours must be at most 168/],
    ['text', ', lookbackHours: "two"', /lookbackHours is a number of hours/],
  ])('refuses %s, naming the line', (_what, extra, message) => {
    expect(problem(extra)).toMatch(message);
  });

  it('is not a key of a lookup-events entry', () => {
    expect(() => auditSourcesFromConfig(parseConfigYaml('audit:\n  - { id: x, kind: lookup-events, region: eu-west-1, lookbackHours: 2 }\n', 'c'), awsEnv)).toThrow(/unknown key "lookbackHours"/);
  });
});
