import { beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';

// The two doors every API call and server action goes through (lib/http/item-request.ts,
// lib/actions/authed-action.ts), with the one check (lib/auth/authorize.ts) real behind them. Who
// is asking comes from lib/session (tested with sessions and tokens in tests/auth/authentication
// .test.ts): here it is whoever the test says. The audit log and the logger are spies.
vi.mock('@/lib/session', () => ({ principalFromRequest: vi.fn(), getCurrentUser: vi.fn() }));
vi.mock('@/lib/audit/audit-log', () => ({ appendAudit: vi.fn(async () => undefined) }));
vi.mock('@/lib/logger', () => ({ logger: { error: vi.fn(), warn: vi.fn(), info: vi.fn() } }));

import { authedAction } from '@/lib/actions/authed-action';
import { appendAudit } from '@/lib/audit/audit-log';
import { AuthorizationError } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { Action } from '@/lib/auth/roles';
import { ConflictError } from '@/lib/conflict-error';
import { UNAUTHENTICATED } from '@/lib/http/api-response';
import { authorizeItemRequest, parseItemRouteParams } from '@/lib/http/item-request';
import { logger } from '@/lib/logger';
import { getCurrentUser, principalFromRequest } from '@/lib/session';
import { StoreError } from '@/lib/stores/errors';

const SENTINEL = 'sentinel-value-never-shown';
const operator: Principal = {
  via: 'token',
  userId: 'u1',
  email: 'op@example.com',
  name: null,
  role: null,
  grants: [{ role: 'operator', stores: ['local'], paths: ['/prod/payments/**'] }],
  tokenId: 't1',
};
const params = (store: string, ...name: string[]) => Promise.resolve({ store, name });
const request = () => new Request('http://dashboard.test/api/v1/stores/local/items/x');

beforeEach(() => {
  vi.mocked(principalFromRequest).mockReset();
  vi.mocked(getCurrentUser).mockReset();
  vi.mocked(appendAudit).mockClear();
  vi.mocked(logger.error).mockClear();
});

describe('parseItemRouteParams', () => {
  it.each([
    [['local', 'prod', 'payments', 'k'], { storeId: 'local', name: '/prod/payments/k' }],
    [['prod-params', 'a'], { storeId: 'prod-params', name: '/a' }],
  ])('reads %j', async ([store, ...name], expected) => {
    expect(await parseItemRouteParams(params(store!, ...name))).toEqual(expected);
  });

  it.each([
    [['Local', 'a'], 'A store id is 1-63 lowercase letters, digits and dashes.'],
    [['-x', 'a'], 'A store id is 1-63 lowercase letters, digits and dashes.'],
    [['local', 'a b'], 'Name contains " " (first in level 1); only letters, digits and _ . - / are allowed. (rule: characters)'],
    [['local', 'aws', 'k'], 'Name must not begin with "aws" or "ssm" (reserved by AWS). (rule: reserved-prefix)'],
    [['local'], 'Name must not end with "/": that is a folder. (rule: trailing-slash)'],
  ])('answers 400 to %j, naming the problem', async ([store, ...name], message) => {
    const result = await parseItemRouteParams(params(store!, ...name));
    expect(result.error?.status).toBe(400);
    expect(await result.error?.json()).toEqual({ error: message });
  });
});

describe('authorizeItemRequest', () => {
  it('answers 401 to no one, before reading the address', async () => {
    vi.mocked(principalFromRequest).mockResolvedValue(null);
    const result = await authorizeItemRequest(request(), params('Bad Store', 'x'), 'view-item');
    expect(result.error?.status).toBe(401);
    expect(result.error?.headers.get('www-authenticate')).toBe('Bearer realm="secrets-dashboard"');
    expect(await result.error?.json()).toEqual({ error: UNAUTHENTICATED });
    expect(appendAudit).not.toHaveBeenCalled();
  });

  it('answers 400 to a malformed address, deciding nothing', async () => {
    vi.mocked(principalFromRequest).mockResolvedValue(operator);
    const result = await authorizeItemRequest(request(), params('local', 'a b'), 'view-item');
    expect(result.error?.status).toBe(400);
    expect(appendAudit).not.toHaveBeenCalled();
  });

  it.each<[Action, string, string[]]>([
    ['view-item', 'local', ['prod', 'payments', 'k']],
    ['rotate', 'local', ['prod', 'payments', 'db', 'pw']],
  ])('lets the principal %s %s %j', async (action, store, name) => {
    vi.mocked(principalFromRequest).mockResolvedValue(operator);
    expect(await authorizeItemRequest(request(), params(store, ...name), action)).toEqual({ principal: operator, storeId: store, name: `/${name.join('/')}` });
    expect(appendAudit).not.toHaveBeenCalled();
  });

  it.each<[Action, string, string[], 403 | 404]>([
    ['view-item', 'local', ['prod', 'web', 'k'], 404],
    ['view-item', 'other', ['prod', 'payments', 'k'], 404],
    ['reveal', 'local', ['prod', 'payments', 'k'], 403],
  ])('refuses %s %s %j (%i), audited', async (action, store, name, status) => {
    vi.mocked(principalFromRequest).mockResolvedValue(operator);
    await expect(authorizeItemRequest(request(), params(store, ...name), action)).rejects.toMatchObject({ status });
    expect(appendAudit).toHaveBeenCalledWith(expect.objectContaining({ action, target: `${store}:/${name.join('/')}`, outcome: 'denied' }));
  });
});

describe('authedAction', () => {
  const schema = z.object({ storeId: z.string().min(1, 'storeId is required.'), name: z.string().trim().min(2, 'name is too short.') });
  const handler = vi.fn(async (input: { storeId: string; name: string }, principal: Principal) => ({ did: `${input.storeId}:${input.name}`, by: principal.email }));
  const rotate = authedAction({ schema, permission: 'rotate', resource: (input) => ({ storeId: input.storeId, name: input.name }) }, handler);
  beforeEach(() => {
    handler.mockClear();
  });

  it('answers 401 to no one, before reading the input', async () => {
    vi.mocked(getCurrentUser).mockResolvedValue(null);
    expect(await rotate({})).toEqual({ ok: false, status: 401, error: 'Your session has ended. Sign in again.' });
    expect(handler).not.toHaveBeenCalled();
  });

  it('answers 400 naming every problem of the input, doing nothing', async () => {
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    expect(await rotate({ storeId: '', name: ' x ' })).toEqual({ ok: false, status: 400, error: 'storeId is required. name is too short.' });
    expect(handler).not.toHaveBeenCalled();
    expect(appendAudit).not.toHaveBeenCalled();
  });

  it('runs the handler on the parsed input when the check allows it', async () => {
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    expect(await rotate({ storeId: 'local', name: ' /prod/payments/k ' })).toEqual({ ok: true, data: { did: 'local:/prod/payments/k', by: 'op@example.com' } });
    expect(handler).toHaveBeenCalledExactlyOnceWith({ storeId: 'local', name: '/prod/payments/k' }, operator);
  });

  it.each<[string, { storeId: string; name: string }, 403 | 404, string]>([
    ['outside the grants', { storeId: 'local', name: '/prod/web/k' }, 404, 'There is no item /prod/web/k in store "local".'],
    ['in another store', { storeId: 'aws', name: '/prod/payments/k' }, 404, 'There is no item /prod/payments/k in store "aws".'],
  ])('refuses a resource %s with its status, never running the handler', async (_label, input, status, error) => {
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    expect(await rotate(input)).toEqual({ ok: false, status, error });
    expect(handler).not.toHaveBeenCalled();
    expect(appendAudit).toHaveBeenCalledWith(expect.objectContaining({ action: 'rotate', outcome: 'denied', details: { status } }));
  });

  it('checks a dashboard action with no resource', async () => {
    const manage = authedAction({ schema: z.object({}), permission: 'manage-users' }, async () => 'done');
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    expect(await manage({})).toEqual({ ok: false, status: 403, error: 'Your role does not allow manage-users here; ask an admin for a grant.' });
    expect(appendAudit).toHaveBeenCalledWith(expect.objectContaining({ action: 'manage-users', target: 'dashboard' }));
    vi.mocked(getCurrentUser).mockResolvedValue({ ...operator, grants: [{ role: 'admin', stores: null, paths: ['/**'] }] });
    expect(await manage({})).toEqual({ ok: true, data: 'done' });
  });

  it.each<[string, unknown, 400 | 401 | 403 | 404 | 409 | 500, string]>([
    ['a refusal of its own', new AuthorizationError(403, 'Not yours.'), 403, 'Not yours.'],
    ['a refusal to sign in', new AuthorizationError(401, 'Sign in first.'), 401, 'Sign in first.'],
    ['a conflict', new ConflictError('There is no item /prod/payments/k in store "local".'), 409, 'There is no item /prod/payments/k in store "local".'],
    ['a store refusing the name', new StoreError('invalid-name', 'local', 'Name is reserved.'), 400, 'Name is reserved.'],
    ['a store that is not there', new StoreError('not-found', 'local', 'No store local.'), 404, 'No store local.'],
  ])('answers %s from the handler as it is', async (_label, thrown, status, error) => {
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    handler.mockRejectedValueOnce(thrown);
    expect(await rotate({ storeId: 'local', name: '/prod/payments/k' })).toEqual({ ok: false, status, error });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it.each<[string, unknown, string]>([
    ['any other store failure', new StoreError('throttled', 'local', `throttled reading ${SENTINEL}`), 'StoreError'],
    ['a bug', new TypeError(`cannot read ${SENTINEL}`), 'TypeError'],
    ['something thrown that is not an error', SENTINEL, 'unknown'],
  ])('answers 500 to %s, logging its kind and nothing it says', async (_label, thrown, kind) => {
    vi.mocked(getCurrentUser).mockResolvedValue(operator);
    handler.mockRejectedValueOnce(thrown);
    const result = await rotate({ storeId: 'local', name: '/prod/payments/k' });
    expect(result).toEqual({ ok: false, status: 500, error: 'That did not work; try again, and check the server log if it persists.' });
    expect(logger.error).toHaveBeenCalledExactlyOnceWith({ permission: 'rotate', err: kind }, 'server action failed');
    expect(JSON.stringify(vi.mocked(logger.error).mock.calls)).not.toContain(SENTINEL);
  });
});
