import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { parseDurationDays } from '@/lib/freshness/duration';
import { DEFAULT_POLICY, freshnessPolicies, policiesFromConfig, policySet, resetFreshnessPolicies, resolvePolicy } from '@/lib/freshness/policies';
import { makeTempDir } from '../support/temp-dir';

// CONFIG_FILE's `freshness:` section: durations, every bad entry named with its line and field,
// the longest matching prefix wins, a store's own policy beats every store's, and the default.

const parse = (yaml: string, stores = ['local', 'prod-params', 'prod-secrets']) => policiesFromConfig(parseConfigYaml(yaml, 'dashboard.yaml'), stores);
const problemOf = (yaml: string, stores?: string[]) => {
  try {
    parse(yaml, stores);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

describe('durations', () => {
  it.each([
    ['90d', 90],
    ['12w', 84],
    ['36h', 1.5],
    [30, 30],
    [' 7d', 7],
  ])('%j is %d days', (value, days) => {
    expect(parseDurationDays(value)).toEqual({ days });
  });

  it.each([['90'], ['10m'], ['-3d'], ['d'], [0], [1.5], ['0d'], [true], ['99999d']])('refuses %j', (value) => {
    expect(parseDurationDays(value)).toHaveProperty('problem');
  });
});

describe('parsing', () => {
  it('reads paths, durations, stores and the warnBefore default', () => {
    const policies = parse(`
stores:
  - { id: local, kind: local }
freshness:
  - path: /prod/payments/
    maxAge: 30d
    warnBefore: 7d
    stores: [prod-secrets, local]
  - path: /prod/
    maxAge: 8w
  - path: /dev/
    maxAge: 10
`);
    expect(policies).toEqual([
      { path: '/prod/payments/', maxAgeDays: 30, warnBeforeDays: 7, stores: ['local', 'prod-secrets'] },
      { path: '/prod/', maxAgeDays: 56, warnBeforeDays: 14 },
      // Half of maxAge when 14 days would not leave room.
      { path: '/dev/', maxAgeDays: 10, warnBeforeDays: 5 },
    ]);
  });

  it('has no policies without the section, or with an empty one', () => {
    expect(parse('stores:\n  - { id: local, kind: local }\n')).toEqual([]);
    expect(parse('freshness:\n')).toEqual([]);
  });

  it.each([
    ['path: prod/\n    maxAge: 30d', 2, 'path "prod/"'],
    ['path: /prod\n    maxAge: 30d', 2, 'starts and ends with "/"'],
    ['path: /prod/\n    maxAge: 30 days', 3, 'maxAge must be a duration'],
    ['path: /prod/\n    warnBefore: 7d', 2, 'maxAge is required'],
    ['path: /prod/\n    maxAge: 7d\n    warnBefore: 7d', 4, 'warnBefore must be shorter than maxAge'],
    ['path: /prod/\n    maxAge: 30d\n    warnBefore: 2x', 4, 'warnBefore must be a duration'],
    ['path: /prod/\n    maxAge: 30d\n    owner: me', 2, 'unknown key owner'],
    ['path: /prod/\n    maxAge: 30d\n    stores: []', 4, 'stores must list at least one store'],
  ])('refuses %j naming line %d and the field', (entry, line, message) => {
    const text = problemOf(`freshness:\n  - ${entry}\n`);
    expect(text).toContain(`dashboard.yaml:${line}: freshness[0]:`);
    expect(text).toContain(message);
  });

  it('names every bad entry, not only the first', () => {
    const text = problemOf('freshness:\n  - { path: /a/, maxAge: 1y }\n  - { path: /b/, maxAge: 5d, warnBefore: 9d }\n');
    expect(text).toMatch(/dashboard\.yaml:2: freshness\[0\]: maxAge must be a duration/);
    expect(text).toMatch(/dashboard\.yaml:3: freshness\[1\]: warnBefore must be shorter than maxAge/);
  });

  it('refuses a section that is not a list', () => {
    expect(problemOf('freshness:\n  path: /prod/\n')).toContain('dashboard.yaml:2: freshness: freshness must be a list');
  });

  it('refuses the same path twice for the same store, and accepts it for different stores', () => {
    expect(problemOf('freshness:\n  - { path: /prod/, maxAge: 30d }\n  - { path: /prod/, maxAge: 40d }\n')).toMatch(
      /dashboard\.yaml:3: freshness\[1\]: path \/prod\/ for every store is already set by freshness\[0\]/,
    );
    expect(problemOf('freshness:\n  - { path: /prod/, maxAge: 30d, stores: [local, prod-params] }\n  - { path: /prod/, maxAge: 40d, stores: [prod-params] }\n')).toContain(
      'for store "prod-params" is already set by freshness[0]',
    );
    expect(parse('freshness:\n  - { path: /prod/, maxAge: 30d }\n  - { path: /prod/, maxAge: 40d, stores: [local] }\n')).toHaveLength(2);
  });

  it('refuses a store that is not configured', () => {
    expect(problemOf('freshness:\n  - { path: /prod/, maxAge: 30d, stores: [nowhere] }\n')).toMatch(
      /dashboard\.yaml:2: freshness\[0\]: store "nowhere" is not configured \(known: local, prod-params, prod-secrets\)/,
    );
  });
});

describe('resolving', () => {
  const set = policySet([
    { path: '/prod/', maxAgeDays: 60, warnBeforeDays: 10 },
    { path: '/prod/payments/', maxAgeDays: 30, warnBeforeDays: 7 },
    { path: '/prod/payments/', maxAgeDays: 14, warnBeforeDays: 3, stores: ['prod-secrets'] },
    { path: '/prod/payments/card/', maxAgeDays: 7, warnBeforeDays: 2 },
  ]);

  it('takes the longest matching prefix', () => {
    expect(resolvePolicy(set, 'local', '/prod/payments/card/pan-key').maxAgeDays).toBe(7);
    expect(resolvePolicy(set, 'local', '/prod/payments/stripe').maxAgeDays).toBe(30);
    expect(resolvePolicy(set, 'local', '/prod/web/session').maxAgeDays).toBe(60);
    // A prefix is a folder: /prod/paymentsX is not under /prod/payments/.
    expect(resolvePolicy(set, 'local', '/prod/paymentsX/key').maxAgeDays).toBe(60);
  });

  it("prefers the store's own policy at the same path, and only for that store", () => {
    expect(resolvePolicy(set, 'prod-secrets', '/prod/payments/stripe').maxAgeDays).toBe(14);
    expect(resolvePolicy(set, 'prod-params', '/prod/payments/stripe').maxAgeDays).toBe(30);
    // A longer every-store path still beats a shorter store-specific one.
    expect(resolvePolicy(set, 'prod-secrets', '/prod/payments/card/pan-key').maxAgeDays).toBe(7);
  });

  it('falls back to 90 days warned 14 ahead, unless "/" is configured', () => {
    expect(resolvePolicy(set, 'local', '/staging/x')).toEqual(DEFAULT_POLICY);
    expect(DEFAULT_POLICY).toEqual({ path: '/', maxAgeDays: 90, warnBeforeDays: 14 });
    const own = policySet([{ path: '/', maxAgeDays: 180, warnBeforeDays: 30 }]);
    expect(resolvePolicy(own, 'local', '/staging/x').maxAgeDays).toBe(180);
    expect(own.policies).toHaveLength(1);
  });

  it('hashes the policies: equal sets agree, any change differs', () => {
    const a = policySet([{ path: '/prod/', maxAgeDays: 60, warnBeforeDays: 10 }]);
    expect(policySet([{ path: '/prod/', maxAgeDays: 60, warnBeforeDays: 10 }]).hash).toBe(a.hash);
    expect(policySet([{ path: '/prod/', maxAgeDays: 61, warnBeforeDays: 10 }]).hash).not.toBe(a.hash);
    expect(policySet([]).hash).not.toBe(a.hash);
  });
});

describe('loading once per process', () => {
  const temp = makeTempDir('secrets-freshness-policies-');
  afterEach(() => {
    delete process.env.CONFIG_FILE;
    resetFreshnessPolicies();
  });

  it('reads CONFIG_FILE once, until reset', () => {
    const file = path.join(temp.dir, 'a.yaml');
    writeFileSync(file, 'freshness:\n  - { path: /prod/, maxAge: 30d }\n');
    process.env.CONFIG_FILE = file;
    resetFreshnessPolicies();
    const first = freshnessPolicies();
    expect(resolvePolicy(first, 'local', '/prod/a').maxAgeDays).toBe(30);
    writeFileSync(file, 'freshness:\n  - { path: /prod/, maxAge: 45d }\n');
    expect(freshnessPolicies()).toBe(first);
    resetFreshnessPolicies();
    expect(resolvePolicy(freshnessPolicies(), 'local', '/prod/a').maxAgeDays).toBe(45);
  });

  it('stops on a bad entry with the file and line', () => {
    const file = path.join(temp.dir, 'bad.yaml');
    writeFileSync(file, 'stores:\n  - { id: local, kind: local }\nfreshness:\n  - { path: /prod/, maxAge: soon }\n');
    process.env.CONFIG_FILE = file;
    expect(() => freshnessPolicies()).toThrow(`${file}:4: freshness[0]: maxAge must be a duration`);
  });

  it('checks store names against the stores section', () => {
    const file = path.join(temp.dir, 'stores.yaml');
    writeFileSync(file, 'stores:\n  - { id: local, kind: local }\nfreshness:\n  - { path: /prod/, maxAge: 30d, stores: [prod-params] }\n');
    process.env.CONFIG_FILE = file;
    expect(() => freshnessPolicies()).toThrow('store "prod-params" is not configured (known: local)');
  });
});
