import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// authorize() records each denial; the audit log itself is tested elsewhere (tests/audit), so here
// it is a spy and the tests read what was recorded.
vi.mock('@/lib/audit/audit-log', () => ({ appendAudit: vi.fn(async () => undefined) }));

import { appendAudit } from '@/lib/audit/audit-log';
import {
  auditScope,
  AuthorizationError,
  authorize,
  can,
  canAuditSubtree,
  canEverywhere,
  canListSubtree,
  canSee,
  listableNamePattern,
  listableNamePatternBelow,
  listableNameRanges,
  notFoundMessage,
  revealEnabled,
  type Resource,
} from '@/lib/auth/authorize';
import type { Grant } from '@/lib/auth/grants';
import { globsPattern, nameRanges, type NameRanges } from '@/lib/auth/path-glob';
import type { Principal } from '@/lib/auth/principal';
import { ACTIONS, type Action, type Role } from '@/lib/auth/roles';
import { FULL_SCOPE } from '@/lib/cloudtrail/event-scope';

// The one check, decision by decision, as tables: every row says who, what, where and the answer, so
// a denied case sits next to each allowed one (the permission matrix, tests/auth/permission-matrix
// .test.ts, runs the same decisions through the real route handlers and server actions).

const grant = (role: Role, paths: string[], stores: string[] | null = null): Grant => ({ role, stores, paths });
const principal = (...grants: Grant[]): Principal => ({ via: 'session', userId: 'u1', email: 'u1@example.com', name: null, role: null, grants });

const P = {
  nobody: null,
  noGrants: principal(),
  viewer: principal(grant('viewer', ['/prod/payments/**'])),
  auditor: principal(grant('auditor', ['/prod/payments/**'])),
  operator: principal(grant('operator', ['/prod/payments/**'])),
  localOperator: principal(grant('operator', ['/prod/payments/**'], ['local'])),
  storeOperator: principal(grant('operator', ['/**'], ['local'])),
  admin: principal(grant('admin', ['/**'])),
  scopedAdmin: principal(grant('admin', ['/prod/**'])),
  localAdmin: principal(grant('admin', ['/**'], ['local'])),
  // A wide viewer grant and a narrow operator grant: each action is allowed by a grant whose role allows it.
  mixed: principal(grant('viewer', ['/**']), grant('operator', ['/prod/payments/**'])),
  // "/*/**" matches every name, but only "/**" is read as a grant on the whole store (path-glob.ts
  // globCoversSubtree): store actions and the unfiltered shortcuts need it written so.
  roundabout: principal(grant('admin', ['/*/**'])),
  twoStores: principal(grant('viewer', ['/prod/**'], ['aws']), grant('viewer', ['/dev/**'], ['local'])),
} satisfies Record<string, Principal | null>;
type Who = keyof typeof P;

const item = (name: string, storeId = 'local'): Resource => ({ storeId, name });
const folder = (path: string, storeId = 'local'): Resource => ({ storeId, folder: path });

beforeEach(() => {
  vi.stubEnv('ALLOW_REVEAL', '1');
  vi.mocked(appendAudit).mockClear();
});
afterEach(() => vi.unstubAllEnvs());

describe('can', () => {
  it.each<[Who, Action, Resource, boolean]>([
    // No one signed in: nothing.
    ['nobody', 'list', undefined, false],
    ['nobody', 'list', item('/prod/payments/k'), false],
    ['nobody', 'manage-users', undefined, false],
    // Grants hold names inside their globs, of their stores.
    ['viewer', 'view-item', item('/prod/payments/k'), true],
    ['viewer', 'view-item', item('/prod/paymentsx/k'), false],
    ['viewer', 'view-item', item('/prod/payments/k', 'aws'), true],
    ['localOperator', 'view-item', item('/prod/payments/k', 'local'), true],
    ['localOperator', 'view-item', item('/prod/payments/k', 'aws'), false],
    ['twoStores', 'list', item('/prod/k', 'aws'), true],
    ['twoStores', 'list', item('/prod/k', 'local'), false],
    ['twoStores', 'list', item('/dev/k', 'local'), true],
    ['twoStores', 'list', item('/dev/k', 'aws'), false],
    // Folders are reached on the way to a grant; names are matched, not reached.
    ['viewer', 'list', folder('/prod/'), true],
    ['viewer', 'list', folder('/prod/payments/db/'), true],
    ['viewer', 'list', folder('/prod/web/'), false],
    ['viewer', 'list', item('/prod'), false],
    ['viewer', 'list', item('/prod/payments'), true],
    ['localOperator', 'list', folder('/prod/', 'aws'), false],
    // Roles: each action needs a grant whose role allows it.
    ['viewer', 'rotate', item('/prod/payments/k'), false],
    ['operator', 'rotate', item('/prod/payments/k'), true],
    ['operator', 'rotate', item('/prod/web/k'), false],
    ['mixed', 'list', item('/dev/k'), true],
    ['mixed', 'rotate', item('/dev/k'), false],
    ['mixed', 'rotate', item('/prod/payments/k'), true],
    ['auditor', 'view-audit', item('/prod/payments/k'), true],
    ['operator', 'view-audit', item('/prod/payments/k'), false],
    ['operator', 'generate', folder('/prod/payments/'), true],
    ['viewer', 'generate', folder('/prod/payments/'), false],
    ['operator', 'reveal', item('/prod/payments/k'), false],
    ['admin', 'reveal', item('/any/k'), true],
    ['scopedAdmin', 'reveal', item('/prod/k'), true],
    ['scopedAdmin', 'reveal', item('/dev/k'), false],
    // A path action asked of no resource: whether any grant allows it somewhere.
    ['viewer', 'list', undefined, true],
    ['viewer', 'rotate', undefined, false],
    ['operator', 'rotate', undefined, true],
    ['noGrants', 'list', undefined, false],
    ['noGrants', 'list', folder('/'), false],
    // Store actions need a grant on the whole store.
    ['storeOperator', 'refresh-inventory', folder('/'), true],
    ['storeOperator', 'refresh-inventory', folder('/', 'aws'), false],
    ['operator', 'refresh-inventory', folder('/'), false],
    ['operator', 'refresh-inventory', folder('/prod/payments/'), false],
    ['operator', 'refresh-inventory', item('/prod/payments/k'), false],
    ['admin', 'refresh-inventory', folder('/'), true],
    ['mixed', 'refresh-inventory', folder('/'), false],
    ['scopedAdmin', 'refresh-inventory', folder('/'), false],
    ['roundabout', 'refresh-inventory', folder('/'), false],
    ['roundabout', 'rotate', item('/prod/k'), true],
    // Dashboard actions need the role on every path of every store.
    ['admin', 'manage-users', undefined, true],
    ['admin', 'create-token', item('/x'), true],
    ['scopedAdmin', 'manage-users', undefined, false],
    ['localAdmin', 'manage-users', undefined, false],
    ['operator', 'manage-users', undefined, false],
    ['mixed', 'create-token', undefined, false],
  ])('%s may %s %j: %s', (who, action, resource, expected) => {
    expect(can(P[who], action, resource)).toBe(expected);
  });

  it.each<[Who, Resource, boolean]>([
    ['admin', item('/any/k'), false],
    ['admin', undefined, false],
    ['viewer', item('/prod/payments/k'), false],
  ])('with reveal turned off, %s may not reveal %j', (who, resource) => {
    vi.stubEnv('ALLOW_REVEAL', '0');
    expect(revealEnabled()).toBe(false);
    expect(can(P[who], 'reveal', resource)).toBe(false);
    // Only revealing is turned off.
    expect(can(P.admin, 'view-item', item('/any/k'))).toBe(true);
  });

  it('reveal follows ALLOW_REVEAL', () => {
    vi.stubEnv('ALLOW_REVEAL', '1');
    expect(revealEnabled()).toBe(true);
    expect(can(P.admin, 'reveal', undefined)).toBe(true);
  });
});

describe('canSee (404 rather than 403 outside the grants)', () => {
  it.each<[Who, Resource, boolean]>([
    ['nobody', item('/prod/payments/k'), false],
    ['viewer', item('/prod/payments/k'), true],
    ['viewer', item('/prod/web/k'), false],
    ['viewer', folder('/prod/'), true],
    ['viewer', folder('/dev/'), false],
    ['localOperator', item('/prod/payments/k', 'aws'), false],
  ])('%s sees %j: %s', (who, resource, expected) => {
    expect(canSee(P[who], resource)).toBe(expected);
  });
});

describe('canEverywhere', () => {
  it.each<[Who, Action, boolean]>([
    ['nobody', 'list', false],
    ['noGrants', 'list', false],
    ['admin', 'manage-users', true],
    ['admin', 'view-audit', true],
    ['localAdmin', 'view-audit', false],
    ['scopedAdmin', 'view-audit', false],
    ['roundabout', 'view-audit', false],
    ['mixed', 'list', true],
    ['mixed', 'rotate', false],
    ['auditor', 'view-audit', false],
  ])('%s may %s everywhere: %s', (who, action, expected) => {
    expect(canEverywhere(P[who], action)).toBe(expected);
  });
});

describe('canListSubtree and canAuditSubtree', () => {
  it.each<[Who, string, string, boolean, boolean]>([
    // [who, store, folder, may list all of it, may audit all of it]
    ['nobody', 'local', '/', false, false],
    ['viewer', 'local', '/prod/payments/', true, false],
    ['viewer', 'local', '/prod/payments/db/', true, false],
    ['viewer', 'local', '/prod/', false, false],
    ['auditor', 'local', '/prod/payments/', true, true],
    ['auditor', 'local', '/prod/', false, false],
    ['auditor', 'aws', '/prod/payments/', true, true],
    ['localOperator', 'aws', '/prod/payments/', false, false],
    ['localOperator', 'local', '/prod/payments/', true, false],
    ['localAdmin', 'local', '/', true, true],
    ['localAdmin', 'aws', '/', false, false],
    ['mixed', 'local', '/dev/', true, false],
  ])('%s on %s %s: list %s, audit %s', (who, storeId, path, list, audit) => {
    expect(canListSubtree(P[who], storeId, path)).toBe(list);
    expect(canAuditSubtree(P[who], storeId, path)).toBe(audit);
  });
});

describe('listableNamePattern', () => {
  it.each<[Who, string, string | null | false]>([
    ['nobody', 'local', false],
    ['noGrants', 'local', false],
    ['admin', 'local', null],
    ['localAdmin', 'local', null],
    ['localAdmin', 'aws', false],
    ['viewer', 'local', globsPattern(['/prod/payments/**'])],
    ['localOperator', 'aws', false],
    ['mixed', 'local', null],
    ['roundabout', 'local', globsPattern(['/*/**'])],
    ['twoStores', 'aws', globsPattern(['/prod/**'])],
    ['twoStores', 'local', globsPattern(['/dev/**'])],
  ])('%s in %s: %j', (who, storeId, expected) => {
    expect(listableNamePattern(P[who], storeId)).toBe(expected);
  });

  it('joins the paths of every grant that allows listing the store', () => {
    const p = principal(grant('viewer', ['/a/**', '/b/k']), grant('operator', ['/c/*'], ['local']), grant('auditor', ['/d/**'], ['aws']));
    expect(listableNamePattern(p, 'local')).toBe(globsPattern(['/a/**', '/b/k', '/c/*']));
  });

  it.each<[Who, string, string | null | false]>([
    ['nobody', '/', false],
    ['viewer', '/prod/payments/', null],
    ['viewer', '/prod/payments/db/', null],
    ['viewer', '/prod/', globsPattern(['/prod/payments/**'])],
    ['viewer', '/', globsPattern(['/prod/payments/**'])],
    ['admin', '/', null],
    ['localOperator', '/prod/payments/', null],
  ])('%s below %s: %j', (who, path, expected) => {
    expect(listableNamePatternBelow(P[who], 'local', path)).toBe(expected);
  });

  it.each<[string, Principal | null, string, NameRanges | null]>([
    ['no one', null, 'local', { prefixes: [], names: [], exact: true }],
    ['a store outside the grants', P.localOperator, 'aws', { prefixes: [], names: [], exact: true }],
    ['one subtree', P.viewer, 'local', { prefixes: ['/prod/payments/'], names: ['/prod/payments'], exact: true }],
    ['the grants of the store only', P.twoStores, 'local', { prefixes: ['/dev/'], names: ['/dev'], exact: true }],
    ['every grant that allows listing', principal(grant('viewer', ['/a/k']), grant('operator', ['/b/**'], ['local'])), 'local', { prefixes: ['/b/'], names: ['/a/k', '/b'], exact: true }],
    ['everything', P.admin, 'local', null],
  ])('listableNameRanges: %s', (_label, who, storeId, expected) => {
    expect(listableNameRanges(who, storeId)).toEqual(expected);
  });

  it('below a folder is nothing in a store outside the grants', () => {
    expect(listableNamePatternBelow(P.localOperator, 'aws', '/prod/payments/')).toBe(false);
  });
});

describe('auditScope', () => {
  it('is the whole index for auditors of everything', () => {
    expect(auditScope(P.admin, ['local', 'aws'])).toBe(FULL_SCOPE);
  });

  // Each store's pattern, with the name ranges it lies in (the index's faster way to the same rows).
  const cut = (storeId: string, globs: string[] | null) => ({ storeId, namePattern: globs && globsPattern(globs), ranges: globs && nameRanges(globs) });
  it.each<[Who, { storeId: string; namePattern: string | null }[]]>([
    ['nobody', []],
    ['noGrants', []],
    ['viewer', []],
    ['operator', []],
    ['auditor', [cut('local', ['/prod/payments/**']), cut('aws', ['/prod/payments/**'])]],
    ['localAdmin', [cut('local', null)]],
    ['scopedAdmin', [cut('local', ['/prod/**']), cut('aws', ['/prod/**'])]],
  ])('%s audits per store %j, and no unmapped events', (who, stores) => {
    expect(auditScope(P[who], ['local', 'aws'])).toEqual({ stores, includeUnmapped: false });
  });
});

describe('authorize', () => {
  it.each<[Who, Action, Resource]>([
    ['viewer', 'view-item', item('/prod/payments/k')],
    ['admin', 'manage-users', undefined],
    ['storeOperator', 'refresh-inventory', folder('/')],
  ])('lets %s %s %j through, recording nothing', async (who, action, resource) => {
    await expect(authorize(P[who], action, resource)).resolves.toBeUndefined();
    expect(appendAudit).not.toHaveBeenCalled();
  });

  it.each<[Who, Action, Resource, 401 | 403 | 404, string, string]>([
    ['nobody', 'view-item', item('/prod/payments/k'), 401, 'Sign in first.', 'anonymous'],
    ['nobody', 'manage-users', undefined, 401, 'Sign in first.', 'anonymous'],
    ['viewer', 'view-item', item('/prod/web/k'), 404, 'There is no item /prod/web/k in store "local".', 'u1@example.com'],
    ['viewer', 'list', folder('/dev/'), 404, 'There is no folder /dev/ in store "local".', 'u1@example.com'],
    ['localOperator', 'rotate', item('/prod/payments/k', 'aws'), 404, 'There is no item /prod/payments/k in store "aws".', 'u1@example.com'],
    ['viewer', 'rotate', item('/prod/payments/k'), 403, 'Your role does not allow rotate here; ask an admin for a grant.', 'u1@example.com'],
    ['operator', 'manage-users', undefined, 403, 'Your role does not allow manage-users here; ask an admin for a grant.', 'u1@example.com'],
    ['operator', 'refresh-inventory', folder('/'), 403, 'Your role does not allow refresh-inventory here; ask an admin for a grant.', 'u1@example.com'],
    ['operator', 'reveal', item('/prod/payments/k'), 403, 'Your role does not allow reveal here; ask an admin for a grant.', 'u1@example.com'],
  ])('refuses %s %s %j with %i, and records the denial', async (who, action, resource, status, message, actor) => {
    const refusal = await authorize(P[who], action, resource).catch((e: unknown) => e);
    expect(refusal).toBeInstanceOf(AuthorizationError);
    expect(refusal).toMatchObject({ name: 'AuthorizationError', status, message });
    const target = !resource ? 'dashboard' : `${resource.storeId}:${'name' in resource ? resource.name : resource.folder}`;
    expect(appendAudit).toHaveBeenCalledExactlyOnceWith({ actor, action, target, outcome: 'denied', details: { status } });
  });

  it('names the token in the denial it records', async () => {
    const viaToken: Principal = { ...P.viewer, via: 'token', tokenId: 't9' };
    await expect(authorize(viaToken, 'rotate', item('/prod/payments/k'))).rejects.toMatchObject({ status: 403 });
    expect(appendAudit).toHaveBeenCalledWith(expect.objectContaining({ actor: 'u1@example.com (token t9)' }));
  });

  it('says revealing is turned off when it is, to someone who could otherwise reveal', async () => {
    vi.stubEnv('ALLOW_REVEAL', '0');
    await expect(authorize(P.admin, 'reveal', item('/prod/payments/k'))).rejects.toMatchObject({
      status: 403,
      message: 'Revealing values is turned off on this dashboard.',
    });
    // Outside the grants it is still a 404, so the refusal confirms nothing.
    await expect(authorize(P.viewer, 'reveal', item('/prod/web/k'))).rejects.toMatchObject({ status: 404 });
  });

  it('words a refusal outside the grants exactly as a missing item or folder', () => {
    expect(notFoundMessage(item('/a/b', 's1')!)).toBe('There is no item /a/b in store "s1".');
    expect(notFoundMessage(folder('/a/', 's1')!)).toBe('There is no folder /a/ in store "s1".');
  });

  it('knows every action it is asked about', () => {
    // Every action is decided (none throws or is allowed to a principal without grants).
    for (const action of ACTIONS) expect(can(P.noGrants, action, item('/x'))).toBe(false);
  });
});
