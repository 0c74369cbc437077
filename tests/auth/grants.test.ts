import { describe, expect, it } from 'vitest';
import { listableNamePattern, listableNamePatternBelow } from '@/lib/auth/authorize';
import { effectiveGrants } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import { grantCoversName, grantReachesFolder, grantsFromConfig, type Grant } from '@/lib/auth/grants';
import { parseConfigYaml } from '@/lib/config/yaml-file';

const parse = (yaml: string, stores?: string[]) => grantsFromConfig(parseConfigYaml(yaml, 'dashboard.yaml'), stores);

describe('grants in CONFIG_FILE', () => {
  it('reads users and groups with roles on path globs per store', () => {
    const rules = parse(`
grants:
  - group: payments-leads
    role: operator
    paths: [/prod/payments/**]
    stores: [prod-params]
  - user: alice@example.com
    role: auditor
    paths: ['/**']
`, ['prod-params']);
    expect(rules).toEqual([
      { group: 'payments-leads', role: 'operator', paths: ['/prod/payments/**'], stores: ['prod-params'] },
      { user: 'alice@example.com', role: 'auditor', paths: ['/**'], stores: null },
    ]);
  });

  it.each([
    ['an unknown role', 'grants:\n  - group: g\n    role: superuser\n    paths: [/a/**]\n', /dashboard\.yaml:3: grants\[0\]: role must be one of viewer, auditor, operator, admin/],
    ['a bad glob', 'grants:\n  - group: g\n    role: viewer\n    paths: ["/a/[b"]\n', /dashboard\.yaml:4: grants\[0\]: "\/a\/\[b": a path glob starts with/],
    ['an unclosed brace', 'grants:\n  - group: g\n    role: viewer\n    paths: ["/a/{b,c"]\n', /unclosed \{/],
    ['a missing field', 'grants:\n  - group: g\n    paths: [/a/**]\n', /dashboard\.yaml:2: grants\[0\]: role must be one of/],
    ['no subject', 'grants:\n  - role: viewer\n    paths: [/a/**]\n', /dashboard\.yaml:2: grants\[0\]: give exactly one of user or group/],
    ['an unknown key', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    path: /x\n', /unknown key path/],
    ['an unknown store', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: [nope]\n', /dashboard\.yaml:5: grants\[0\]: store "nope" is not configured/],
  ])('stops start-up on %s with a message naming the line', (_label, yaml, message) => {
    expect(() => parse(yaml, ['local'])).toThrow(message);
  });
});

describe('grant matching', () => {
  const grant: Grant = { role: 'viewer', stores: null, paths: ['/prod/payments/**', '/staging/*/db/**'] };

  it.each([
    ['/prod/payments/stripe-key', true],
    ['/prod/payments/db/password', true],
    ['/prod/paymentsx/key', false],
    ['/prod/web/key', false],
    ['/staging/app/db/pw', true],
    ['/staging/app/cache/pw', false],
  ])('%s covered: %s', (name, covered) => expect(grantCoversName(grant, name)).toBe(covered));

  it.each([
    ['/', true],
    ['/prod/', true],
    ['/prod/payments/', true],
    ['/prod/payments/db/', true],
    ['/prod/web/', false],
    ['/dev/', false],
    ['/staging/app/', true],
    ['/staging/app/cache/', false],
  ])('folder %s reachable: %s', (folder, reachable) => expect(grantReachesFolder(grant, folder)).toBe(reachable));

  it('grants naming a user replace their own role; group grants add to it', () => {
    const rules = parse(`
grants:
  - user: bob@example.com
    role: viewer
    paths: [/dev/**]
  - group: oncall
    role: viewer
    paths: [/prod/**]
`);
    expect(effectiveGrants(rules, { email: 'BOB@example.com', role: 'admin', groups: [] })).toEqual([{ role: 'viewer', stores: null, paths: ['/dev/**'] }]);
    expect(effectiveGrants(rules, { email: 'carol@example.com', role: 'admin', groups: ['oncall'] })).toEqual([
      { role: 'admin', stores: null, paths: ['/**'] },
      { role: 'viewer', stores: null, paths: ['/prod/**'] },
    ]);
    expect(effectiveGrants(rules, { email: 'dave@example.com', role: null, groups: ['other'] })).toEqual([]);
  });
});

describe('listable names below a folder', () => {
  const principal = (paths: string[]): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants: [{ role: 'viewer', stores: null, paths }] });

  it.each([
    ['a folder whose whole subtree is granted', ['/prod/payments/**'], '/prod/payments/', null],
    ['a folder below a granted subtree', ['/prod/payments/**'], '/prod/payments/db/', null],
  ])('is every name in %s', (_label, paths, folder, expected) => {
    expect(listableNamePatternBelow(principal(paths), 'local', folder)).toBe(expected);
  });

  it.each([
    ['a folder above the grant', ['/prod/payments/**'], '/prod/'],
    ['a folder granted one level only', ['/prod/payments/*'], '/prod/payments/'],
  ])('keeps the grant pattern in %s', (_label, paths, folder) => {
    const pattern = listableNamePatternBelow(principal(paths), 'local', folder);
    expect(typeof pattern).toBe('string');
    expect(pattern).toBe(listableNamePattern(principal(paths), 'local'));
  });

  it('is nothing for a store outside the grants', () => {
    const p: Principal = { ...principal(['/**']), grants: [{ role: 'viewer', stores: ['other'], paths: ['/**'] }] };
    expect(listableNamePatternBelow(p, 'local', '/')).toBe(false);
  });
});
