import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// grantRules() checks the grants' stores against the configured ones; which stores there are is
// the registry's business (tested with the stores), so here it is a fixed list.
vi.mock('@/lib/stores/registry', () => ({ getStores: vi.fn(async () => [{ id: 'local' }, { id: 'prod-params' }]) }));

import { effectiveGrants, grantRules, resetGrantRules } from '@/lib/auth/effective-grants';
import {
  grantCoversName,
  grantCoversStore,
  grantCoversSubtree,
  grantReachesFolder,
  grantsFor,
  grantsFromConfig,
  isUnrestricted,
  loadGrantRules,
  type Grant,
  type GrantRule,
} from '@/lib/auth/grants';
import { ACTIONS, isRole, PATH_ACTIONS, ROLE_ACTIONS, roleAllows, ROLES, STORE_ACTIONS, type Action, type Role } from '@/lib/auth/roles';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { getStores } from '@/lib/stores/registry';
import { makeTempDir } from '../support/temp-dir';

// The grants' parts, table by table: the role table written out, every glob CONFIG_FILE may or may
// not hold (and why not), who a rule applies to, and what a grant covers.

const parse = (yaml: string, stores?: string[]) => grantsFromConfig(parseConfigYaml(yaml, 'dashboard.yaml'), stores);
const oneRule = (fields: string) => `grants:\n  - group: g\n${fields}`;
const withPaths = (...globs: string[]) => oneRule(`    role: viewer\n    paths: [${globs.map((g) => JSON.stringify(g)).join(', ')}]\n`);

describe('roles', () => {
  // Written out rather than derived, so a change to the role table has to change this too.
  const TABLE: Record<Role, Action[]> = {
    viewer: ['list', 'view-item'],
    auditor: ['list', 'view-item', 'view-audit', 'suppress-finding'],
    operator: ['list', 'view-item', 'rotate', 'generate', 'refresh-inventory'],
    admin: ['list', 'view-item', 'view-audit', 'rotate', 'generate', 'schedule-rotation', 'reveal', 'refresh-inventory', 'manage-users', 'create-token', 'suppress-finding', 'manage-alerts', 'verify-audit-chain'],
  };

  it.each(ROLES.flatMap((role) => ACTIONS.map((action) => [role, action, TABLE[role].includes(action)] as const)))('%s may %s: %s', (role, action, allowed) => {
    expect(roleAllows(role, action)).toBe(allowed);
  });

  it('lists the roles, the actions and which are about paths and whole stores', () => {
    expect(ROLES).toEqual(['viewer', 'auditor', 'operator', 'admin']);
    expect(ACTIONS).toEqual(['list', 'view-item', 'view-audit', 'rotate', 'generate', 'schedule-rotation', 'reveal', 'refresh-inventory', 'manage-users', 'create-token', 'suppress-finding', 'manage-alerts', 'verify-audit-chain']);
    expect(PATH_ACTIONS).toEqual(['list', 'view-item', 'view-audit', 'rotate', 'generate', 'schedule-rotation', 'reveal', 'refresh-inventory', 'suppress-finding']);
    expect(STORE_ACTIONS).toEqual(['refresh-inventory']);
    expect(Object.keys(ROLE_ACTIONS)).toEqual([...ROLES]);
  });

  it.each([
    ['viewer', true],
    ['admin', true],
    ['Admin', false],
    ['root', false],
    ['', false],
    [null, false],
    [undefined, false],
    [1, false],
    [['admin'], false],
  ])('isRole(%j) is %s', (value, expected) => expect(isRole(value)).toBe(expected));
});

describe('path globs in CONFIG_FILE', () => {
  it.each([
    ['/prod/payments/**'],
    ['/**'],
    ['/prod/*'],
    ['/prod/pay?ents/*'],
    ['/prod/{web,db}/key'],
    ['/a_b/c-d/e.f/G9'],
    ['/prod/.hidden'],
    ['/x/**/y'],
    ['/{a,b}/{c,d}'],
  ])('accepts %s', (glob) => {
    expect(parse(withPaths(glob))[0]!.paths).toEqual([glob]);
  });

  it.each([
    ['prod/**', 'a path glob starts with "/" and holds only letters, digits, _ . - / and the glob characters * ? { } ,'],
    ['/prod/[ab]', 'a path glob starts with "/"'],
    ['/prod/a b', 'a path glob starts with "/"'],
    ['/prod/a+b', 'a path glob starts with "/"'],
    ['/prod/é', 'a path glob starts with "/"'],
    ['/prod/a\\b', 'a path glob starts with "/"'],
    ['/prod/**\n', 'a path glob starts with "/"'],
    ['x/prod/**', 'a path glob starts with "/"'],
    ['/prod/***', 'a path glob may use * or **, not ***'],
    ['/prod/a****', 'a path glob may use * or **, not ***'],
    ['/prod/{a,{b,c}}', 'a path glob has unbalanced or nested { }'],
    ['/prod/}a{', 'a path glob has unbalanced or nested { }'],
    ['/prod/{a}}', 'a path glob has unbalanced or nested { }'],
    ['/prod/{a,b', 'a path glob has an unclosed {'],
    ['/prod/{a}{b', 'a path glob has an unclosed {'],
    ['/prod//key', 'has an empty level'],
    ['/prod/', 'has an empty level'],
    ['/prod/../key', 'has a ".." level'],
    ['/{a,.}/key', 'has a "." level'],
  ])('refuses %j: %s', (glob, problem) => {
    const error = (() => {
      try {
        parse(withPaths(glob));
      } catch (e) {
        return (e as Error).message;
      }
      return 'accepted';
    })();
    expect(error).toContain(`dashboard.yaml:4: grants[0]: "${glob}": `);
    expect(error).toContain(problem);
  });

  it('names every problem, each with its line and rule', () => {
    expect(() =>
      parse(`grants:
  - group: g
    role: viewer
    paths: [/ok/**, "/a//b"]
  - user: not-an-email
    role: viewer
    paths: [/c/**]
`),
    ).toThrow(
      'The grants in the configuration file have problems:\n  dashboard.yaml:4: grants[0]: "/a//b": "/a//b" has an empty level (a "//" or a trailing "/"); write /prod/** for a folder\n  dashboard.yaml:5: grants[1]: user must be an email address',
    );
  });
});

describe('grant rules in CONFIG_FILE', () => {
  it.each([
    ['no grants section', 'stores: []\n', []],
    ['an empty grants list', 'grants: []\n', []],
    [
      'a user rule, stores absent (every store)',
      'grants:\n  - user: a@example.com\n    role: admin\n    paths: [/**]\n',
      [{ user: 'a@example.com', role: 'admin', paths: ['/**'], stores: null }],
    ],
    [
      'a group rule on two stores',
      'grants:\n  - group: " ops "\n    role: operator\n    paths: [/a/**, /b/k]\n    stores: [local, prod-params]\n',
      [{ group: 'ops', role: 'operator', paths: ['/a/**', '/b/k'], stores: ['local', 'prod-params'] }],
    ],
  ])('reads %s', (_label, yaml, expected) => {
    expect(parse(yaml, ['local', 'prod-params'])).toEqual(expected);
  });

  it.each([
    ['grants that are not a list', 'grants: 5\n', 'dashboard.yaml:1: grants: grants must be a list'],
    ['a rule with both user and group', 'grants:\n  - user: a@example.com\n    group: g\n    role: viewer\n    paths: [/a/**]\n', 'dashboard.yaml:2: grants[0]: give exactly one of user or group'],
    ['an empty group', 'grants:\n  - group: "  "\n    role: viewer\n    paths: [/a/**]\n', 'dashboard.yaml:2: grants[0]: group must not be empty'],
    ['a long group', `grants:\n  - group: ${'g'.repeat(257)}\n    role: viewer\n    paths: [/a/**]\n`, 'dashboard.yaml:2: grants[0]: '],
    ['no paths', 'grants:\n  - group: g\n    role: viewer\n    paths: []\n', 'dashboard.yaml:4: grants[0]: paths must list at least one glob'],
    ['paths that are not a list', 'grants:\n  - group: g\n    role: viewer\n    paths: /a/**\n', 'dashboard.yaml:4: grants[0]: paths must be a list of path globs such as /prod/payments/**'],
    ['an empty stores list', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: []\n', 'dashboard.yaml:5: grants[0]: '],
    ['a bad store id', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: [Local]\n', 'dashboard.yaml:5: grants[0]: stores must list store ids'],
    ['an unknown key', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    roles: [admin]\n', 'grants[0]: unknown key roles; expected user or group, role, paths, stores'],
    ['a store id with other characters', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: [local_2]\n', 'dashboard.yaml:5: grants[0]: stores must list store ids'],
    ['a store id too long', `grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: [${'s'.repeat(64)}]\n`, 'dashboard.yaml:5: grants[0]: stores must list store ids'],
    ['a rule that is not a mapping', 'grants:\n  - viewer\n', 'dashboard.yaml:2: grants[0]: Invalid input: expected object, received string'],
    ['two unknown keys', 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    path: /x\n    store: s\n', 'grants[0]: unknown key path, store; expected'],
    ['a bad role', 'grants:\n  - group: g\n    role: root\n    paths: [/a/**]\n', 'grants[0]: role must be one of viewer, auditor, operator, admin'],
  ])('refuses %s', (_label, yaml, message) => {
    expect(() => parse(yaml, ['local'])).toThrow('The grants in the configuration file have problems:\n  ');
    expect(() => parse(yaml, ['local'])).toThrow(message);
  });

  it('refuses stores that are not configured, naming each with its line and the known ones', () => {
    const yaml = 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n  - group: h\n    role: viewer\n    paths: [/a/**]\n    stores: [local, nope, gone]\n';
    expect(() => parse(yaml, ['local', 'aws'])).toThrow(
      'The grants in the configuration file name unknown stores:\n  dashboard.yaml:8: grants[1]: store "nope" is not configured (known: local, aws)\n  dashboard.yaml:8: grants[1]: store "gone" is not configured (known: local, aws)',
    );
    // Without the configured stores to compare with, store ids are taken as written.
    expect(parse(yaml).map((r) => r.stores)).toEqual([null, ['local', 'nope', 'gone']]);
    expect(parse(yaml, ['local', 'nope', 'gone'])).toHaveLength(2);
  });
});

describe('reading CONFIG_FILE', () => {
  const temp = makeTempDir('grants-unit-');
  const file = path.join(temp.dir, 'dashboard.yaml');
  afterAll(() => temp.cleanup());
  beforeEach(() => resetGrantRules());
  afterEach(() => {
    vi.unstubAllEnvs();
    resetGrantRules();
  });

  it('has no rules without a CONFIG_FILE', async () => {
    vi.stubEnv('CONFIG_FILE', '');
    expect(loadGrantRules()).toEqual([]);
    expect(await grantRules()).toEqual([]);
  });

  it('reads the rules once, against the configured stores, until told to forget them', async () => {
    writeFileSync(file, 'grants:\n  - group: g\n    role: viewer\n    paths: [/a/**]\n    stores: [prod-params]\n');
    vi.stubEnv('CONFIG_FILE', file);
    expect(loadGrantRules(['prod-params'])).toEqual([{ group: 'g', role: 'viewer', paths: ['/a/**'], stores: ['prod-params'] }]);
    const first = await grantRules();
    expect(first).toEqual([{ group: 'g', role: 'viewer', paths: ['/a/**'], stores: ['prod-params'] }]);

    writeFileSync(file, 'grants:\n  - group: g\n    role: admin\n    paths: [/**]\n    stores: [elsewhere]\n');
    expect(await grantRules()).toBe(first);
    resetGrantRules();
    await expect(grantRules()).rejects.toThrow('store "elsewhere" is not configured (known: local, prod-params)');
    expect(getStores).toHaveBeenCalled();
  });
});

describe('who a rule applies to', () => {
  const rules: GrantRule[] = [
    { user: 'Alice@Example.com', role: 'viewer', stores: null, paths: ['/a/**'] },
    { group: 'ops', role: 'operator', stores: ['local'], paths: ['/ops/**'] },
    { group: 'Ops', role: 'admin', stores: null, paths: ['/**'] },
    { user: 'bob@example.com', role: 'auditor', stores: null, paths: ['/b/**'] },
  ];

  it.each<[string, { email: string; groups: string[] }, Grant[]]>([
    ['a user named by email, in any case', { email: 'ALICE@example.COM', groups: [] }, [{ role: 'viewer', stores: null, paths: ['/a/**'] }]],
    ['a member of a group (names are exact)', { email: 'carol@example.com', groups: ['ops'] }, [{ role: 'operator', stores: ['local'], paths: ['/ops/**'] }]],
    [
      'a user with a group',
      { email: 'bob@example.com', groups: ['Ops'] },
      [
        { role: 'admin', stores: null, paths: ['/**'] },
        { role: 'auditor', stores: null, paths: ['/b/**'] },
      ],
    ],
    ['no one named', { email: 'dave@example.com', groups: ['other', 'OPS'] }, []],
  ])('grantsFor: %s', (_label, identity, expected) => {
    expect(grantsFor(rules, identity)).toEqual(expected);
  });

  it.each<[string, { email: string; role: Role | null; groups: string[] }, Grant[]]>([
    ['own role on every path when no rule names them', { email: 'carol@example.com', role: 'operator', groups: [] }, [{ role: 'operator', stores: null, paths: ['/**'] }]],
    ['nothing without a role or a rule', { email: 'carol@example.com', role: null, groups: [] }, []],
    ['their rules replace their own role', { email: 'alice@example.com', role: 'admin', groups: [] }, [{ role: 'viewer', stores: null, paths: ['/a/**'] }]],
    [
      'group rules add to their own role',
      { email: 'carol@example.com', role: 'viewer', groups: ['ops'] },
      [
        { role: 'viewer', stores: null, paths: ['/**'] },
        { role: 'operator', stores: ['local'], paths: ['/ops/**'] },
      ],
    ],
    [
      'group rules add to their rules, each once',
      { email: 'bob@example.com', role: 'admin', groups: ['ops'] },
      [
        { role: 'auditor', stores: null, paths: ['/b/**'] },
        { role: 'operator', stores: ['local'], paths: ['/ops/**'] },
      ],
    ],
    ['group rules alone', { email: 'carol@example.com', role: null, groups: ['Ops'] }, [{ role: 'admin', stores: null, paths: ['/**'] }]],
  ])('effectiveGrants: %s', (_label, user, expected) => {
    expect(effectiveGrants(rules, user)).toEqual(expected);
  });
});

describe('what a grant covers', () => {
  const scoped: Grant = { role: 'viewer', stores: ['local', 'aws'], paths: ['/prod/payments/**', '/dev/*'] };
  const everywhere: Grant = { role: 'viewer', stores: null, paths: ['/dev/k', '/**'] };

  it.each<[Grant, string, boolean]>([
    [scoped, 'local', true],
    [scoped, 'aws', true],
    [scoped, 'other', false],
    [everywhere, 'anything', true],
  ])('store %#: %s covered %s', (g, storeId, expected) => expect(grantCoversStore(g, storeId)).toBe(expected));

  it.each<[string, boolean, boolean]>([
    // [name, covered by scoped, covered by a grant of /dev/k only]
    ['/prod/payments/k', true, false],
    ['/dev/x', true, false],
    ['/dev/k', true, true],
    ['/dev/x/y', false, false],
    ['/prod/web/k', false, false],
  ])('name %s: covered %s (one glob: %s)', (name, expected, byOne) => {
    expect(grantCoversName(scoped, name)).toBe(expected);
    expect(grantCoversName({ ...scoped, paths: ['/dev/k'] }, name)).toBe(byOne);
  });

  it.each<[string, boolean, boolean]>([
    // [folder, reached, whole subtree covered]
    ['/', true, false],
    ['/dev/', true, false],
    ['/prod/payments/', true, true],
    ['/prod/payments/x/', true, true],
    ['/prod/web/', false, false],
  ])('folder %s: reached %s, whole subtree %s', (folder, reached, covered) => {
    expect(grantReachesFolder(scoped, folder)).toBe(reached);
    expect(grantCoversSubtree(scoped, folder)).toBe(covered);
  });

  it.each<[string, Grant, boolean]>([
    ['every path of every store', everywhere, true],
    ['every path of some stores', { ...everywhere, stores: ['local'] }, false],
    ['some paths of every store', { ...everywhere, paths: ['/dev/**'] }, false],
    ['every path by one glob of several', { ...everywhere, paths: ['/a/**', '/**'] }, true],
    ['every name, written roundabout ("/**" is the one way to say it)', { ...everywhere, paths: ['/*/**'] }, false],
  ])('isUnrestricted: %s is %s', (_label, g, expected) => expect(isUnrestricted(g)).toBe(expected));
});
