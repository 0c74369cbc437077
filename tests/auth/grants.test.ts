import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listableNamePattern, listableNamePatternBelow } from '@/lib/auth/authorize';
import { effectiveGrants, resetGrantRules } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import { grantCoversName, grantReachesFolder, grantsFromConfig, type Grant } from '@/lib/auth/grants';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { openStoresOrExit } from '@/lib/startup';
import { makeTempDir } from '../support/temp-dir';

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

// Names are taken literally, so a glob with an empty, "." or ".." level matches no name at all: a
// grant holding one would silently grant nothing. It stops start-up instead, naming file, line and glob.
const NEVER_MATCHING = [
  ['an empty level', '/prod//x', /"\/prod\/\/x" has an empty level/],
  ['a trailing "/"', '/prod/', /"\/prod\/" has an empty level \(a "\/\/" or a trailing "\/"\); write \/prod\/\*\* for a folder/],
  ['a ".." level', '/prod/../x', /"\/prod\/\.\.\/x" has a "\.\." level, and no name can: names are taken literally/],
  ['a "." level', '/prod/./x/**', /"\/prod\/\.\/x\/\*\*" has a "\." level/],
  ['an empty level in one brace alternative', '/prod/{a,}/x', /"\/prod\/\/x" has an empty level/],
  ['a ".." level in one brace alternative', '/prod/{payments,..}/**', /"\/prod\/\.\.\/\*\*" has a "\.\." level/],
] as const;

const grantWith = (glob: string) => `stores:\n  - id: local\n    kind: local\ngrants:\n  - group: g\n    role: operator\n    paths:\n      - /ok/**\n      - "${glob}"\n`;

describe('grants that can never match', () => {
  it.each(NEVER_MATCHING)('refuses a glob with %s, naming the file, the line and the glob', (_label, glob, message) => {
    let error: Error | null = null;
    try {
      parse(grantWith(glob), ['local']);
    } catch (e) {
      error = e as Error;
    }
    expect(error?.message).toMatch(message);
    // The glob is on line 9 of the file, the second of the grant's paths.
    expect(error?.message).toContain(`dashboard.yaml:9: grants[0]: "${glob}": `);
  });

  it.each(['/prod/**', '/prod/*/db', '/prod/{payments,web}/**', '/prod/.hidden/**', '/prod/a.b/..x'])('accepts %s', (glob) => {
    expect(parse(grantWith(glob), ['local'])[0]!.paths).toEqual(['/ok/**', glob]);
  });
});

describe('start-up with grants that can never match', () => {
  const saved = { ...process.env };
  const temps: { cleanup: () => void }[] = [];
  afterEach(() => {
    process.env = { ...saved };
    temps.splice(0).forEach((t) => t.cleanup());
    delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
    resetGrantRules();
    vi.restoreAllMocks();
  });

  /** Runs start-up as `npm start` does, on a fresh data directory with this config file; what it exits with and says. */
  async function startWith(yaml: string): Promise<{ exitCode: number | null; errors: string }> {
    const temp = makeTempDir('secrets-grants-startup-');
    temps.push(temp);
    const file = path.join(temp.dir, 'dashboard.yaml');
    writeFileSync(file, yaml);
    delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
    resetGrantRules();
    delete process.env.MASTER_KEY;
    delete process.env.DATABASE_URL;
    Object.assign(process.env, { DATA_DIR: path.join(temp.dir, 'data'), CONFIG_FILE: file, DEMO_DATA: '0', ADMIN_EMAIL: 'admin@example.com', ADMIN_PASSWORD: 'long-enough-password' });
    let exitCode: number | null = null;
    const errors: string[] = [];
    vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
      exitCode = code ?? 0;
      return undefined as never;
    }) as typeof process.exit);
    vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
    vi.spyOn(console, 'log').mockImplementation(() => undefined);
    await openStoresOrExit();
    return { exitCode, errors: errors.join('\n') };
  }

  it.each(NEVER_MATCHING)('stops start-up on a glob with %s, naming the file, the line and the glob', async (_label, glob, message) => {
    const { exitCode, errors } = await startWith(grantWith(glob));
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/Secrets Dashboard cannot start:/);
    expect(errors).toContain(`dashboard.yaml:9: grants[0]: "${glob}": `);
    expect(errors).toMatch(message);
  });

  it('starts with the same grant when its globs can match', async () => {
    expect(await startWith(grantWith('/prod/**'))).toEqual({ exitCode: null, errors: '' });
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
