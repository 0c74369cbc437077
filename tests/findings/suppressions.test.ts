import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { liftSuppression } from '@/lib/actions/lift-suppression';
import { suppressFinding } from '@/lib/actions/suppress-finding';
import { listAudit, type AuditEntry } from '@/lib/audit/audit-log';
import { AuthorizationError } from '@/lib/auth/authorize';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { Principal } from '@/lib/auth/principal';
import { ConflictError } from '@/lib/conflict-error';
import { createSuppression, getFindingSummary, liftSuppressionById, listFindings, listSuppressions } from '@/lib/data/findings';
import { closeFindingsDb, evaluateFindings } from '@/lib/findings/findings';
import { FINDING_STATUSES, type ControlId } from '@/lib/findings/types';
import { RequestError } from '@/lib/request-error';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { getStore } from '@/lib/stores/registry';
import { principalForUser } from '@/lib/session';
import { DATABASES } from '../support/databases';
import { openInventoryDashboard } from '../support/inventory-dashboard';
import { sessionJar } from '../support/next-headers-mock';
import { credentialsFor } from '../support/subject-credentials';
import { makeTempDir } from '../support/temp-dir';

// Suppressing a finding and lifting the suppression, through the data layer and the server actions,
// on both dialects: every bad input a 400 naming its problem with nothing written, a finding outside
// the caller's grant or not raised a 404 with nothing written, a caller without suppress-finding
// refused; a suppression in force makes the finding "suppressed" in the list, the counts and the
// suppressions list, and is audited; lifting opens it again (once: twice is a conflict); an expired
// one suppresses nothing. No value reaches any answer or the audit log.

const DAY = 86_400_000;
const SENTINEL = 'SENTINEL-suppression-value-3a9f';
/** Inside the auditor's grant (/prod/payments/**): no owner tag, 400 days old (no-owner, not-rotated-within-policy). */
const INSIDE = '/prod/payments/db-password';
/** Inside too, with an owner: no no-owner finding to suppress. */
const OWNED = '/prod/payments/owned-key';
/** Outside the auditor's grant, no owner tag. */
const OUTSIDE = '/prod/web/session-key';

const CONFIG = `
stores:
  - id: local
    kind: local
grants:
  - user: auditor@example.com
    role: auditor
    paths: [/prod/payments/**]
  - user: web-auditor@example.com
    role: auditor
    paths: [/prod/web/**]
  - user: operator@example.com
    role: operator
    paths: ['/**']
  - user: viewer@example.com
    role: viewer
    paths: ['/**']
`;

const SUBJECTS = ['admin', 'auditor', 'web-auditor', 'operator', 'viewer'] as const;
type Subject = (typeof SUBJECTS)[number];

const inDays = (days: number, from = Date.now()) => new Date(from + days * DAY).toISOString();
const valid = (over: Record<string, unknown> = {}) => ({ storeId: 'local', itemName: INSIDE, control: 'no-owner', reason: 'Owned by the payments team; tag coming with the migration.', expiresAt: inDays(30), ...over });

/** Each bad input, and what its 400 says. */
const BAD_INPUTS: [string, unknown, RegExp][] = [
  ['no reason', (({ reason: _r, ...rest }) => rest)(valid()), /a reason is required/],
  ['a reason of 2 characters', valid({ reason: 'ok' }), /give a reason \(at least 3 characters\)/],
  ['a reason of 2 characters and spaces', valid({ reason: '   ok    ' }), /at least 3 characters/],
  ['a reason over 500 characters', valid({ reason: 'x'.repeat(501) }), /at most 500 characters/],
  ['an expiry in the past', valid({ expiresAt: inDays(-1) }), /expiresAt must lie in the future/],
  ['an expiry 400 days ahead', valid({ expiresAt: inDays(400) }), /at most a year ahead/],
  ['an expiry that is not a date', valid({ expiresAt: 'next tuesday' }), /expiresAt must be a date/],
  ['no expiry', (({ expiresAt: _e, ...rest }) => rest)(valid()), /expiresAt is required/],
  ['an unknown control', valid({ control: 'sm-everything' }), /control must be one of/],
  ['an unknown field', valid({ severity: 'low' }), /unknown field severity/],
  ['a bad store id', valid({ storeId: 'Prod_Params' }), /storeId must be a store id/],
  ['an item name without its leading slash', valid({ itemName: 'prod/payments/db-password' }), /itemName/],
  ['not an object', 'suppress everything', /./],
];

describe.each(DATABASES)('finding suppressions (%s)', (database) => {
  const temp = makeTempDir('findings-suppressions-');
  let dashboard: { close(): Promise<void> };
  let store: EmbeddedStore;
  const principals = {} as Record<Subject, Principal>;
  const cookies = {} as Record<Subject, string>;
  let secretBefore: string | undefined;

  /** Every suppression, lifted or not (as an admin lists them). */
  const suppressionRows = async () => (await listSuppressions(principals.admin)).length;
  const auditOf = async (action: string): Promise<AuditEntry[]> => (await listAudit(10_000)).filter((e) => e.action === action);
  const findingOf = async (principal: Principal, itemName: string, control: ControlId, now = new Date()) =>
    (await listFindings(principal, { item: { storeId: 'local', name: itemName }, controls: [control], statuses: [...FINDING_STATUSES], limit: 10 }, now)).items[0];

  /** What the call wrote: suppressions and audit entries of suppressing and lifting. */
  async function written(): Promise<number[]> {
    return [await suppressionRows(), (await auditOf('finding.suppress')).length, (await auditOf('finding.lift-suppression')).length];
  }

  beforeAll(async () => {
    secretBefore = process.env.NEXTAUTH_SECRET;
    dashboard = await openInventoryDashboard(temp.dir, CONFIG, database);
    process.env.NEXTAUTH_SECRET = randomBytes(32).toString('base64');
    resetGrantRules();
    store = (await getStore('local')) as EmbeddedStore;
    const old = new Date(Date.now() - 400 * DAY);
    await store.putValue({ name: INSIDE, value: SENTINEL, kind: 'SecureString', description: null, tags: {}, actor: 'test', labels: [], at: old });
    await store.putValue({ name: OWNED, value: SENTINEL, kind: 'SecureString', description: null, tags: { owner: 'payments-team@example.com' }, actor: 'test', labels: [], at: new Date() });
    await store.putValue({ name: OUTSIDE, value: SENTINEL, kind: 'SecureString', description: null, tags: {}, actor: 'test', labels: [], at: old });
    expect((await evaluateFindings({ force: true })).has('local')).toBe(true);
    const credentials = await credentialsFor(SUBJECTS, (s) => (s === 'admin' ? 'admin' : 'viewer'));
    for (const s of SUBJECTS) {
      principals[s] = (await principalForUser(credentials.userIds[s], 'session'))!;
      cookies[s] = credentials.cookies[s];
    }
    // What the callers are, as CONFIG_FILE and the users' roles make them.
    expect(principals.auditor.grants).toEqual([{ role: 'auditor', stores: null, paths: ['/prod/payments/**'] }]);
    expect((await findingOf(principals.admin, INSIDE, 'no-owner'))?.status).toBe('open');
    expect((await findingOf(principals.admin, OUTSIDE, 'no-owner'))?.status).toBe('open');
    expect(await findingOf(principals.admin, OWNED, 'no-owner')).toBeUndefined();
  });

  afterAll(async () => {
    sessionJar.cookie = null;
    await closeFindingsDb();
    await dashboard?.close();
    if (secretBefore === undefined) delete process.env.NEXTAUTH_SECRET;
    else process.env.NEXTAUTH_SECRET = secretBefore;
    temp.cleanup();
  });

  beforeEach(() => {
    sessionJar.cookie = null;
  });

  describe('bad input: 400 naming the problem, nothing written', () => {
    it.each(BAD_INPUTS)('%s', async (_name, input, message) => {
      const before = await written();
      const error = await createSuppression(principals.auditor, input).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RequestError);
      expect(error).toMatchObject({ status: 400, message: expect.stringMatching(message) });
      expect(await written()).toEqual(before);
      // The server action answers the same.
      sessionJar.cookie = cookies.auditor;
      const result = await suppressFinding(input);
      expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(message) });
      expect(await written()).toEqual(before);
    });
  });

  describe('refused: nothing written', () => {
    const REFUSALS: [string, Subject, Record<string, unknown>, 403 | 404, RegExp][] = [
      ['a finding outside the caller’s grant', 'auditor', { itemName: OUTSIDE }, 404, /There is no item \/prod\/web\/session-key in store "local"/],
      ['an item outside the grant that does not exist (answered alike)', 'auditor', { itemName: '/prod/web/nothing-here' }, 404, /There is no item \/prod\/web\/nothing-here in store "local"/],
      ['a control not raised on the item', 'auditor', { itemName: OWNED }, 404, /There is no finding "no-owner" raised on \/prod\/payments\/owned-key/],
      ['a control not raised on an item with other findings', 'auditor', { control: 'sm-unused' }, 404, /no finding "sm-unused"/],
      ['a store that is not configured', 'admin', { storeId: 'nope' }, 404, /./],
      ['a viewer (no suppress-finding)', 'viewer', {}, 403, /does not allow suppress-finding/],
      ['an operator (no suppress-finding)', 'operator', {}, 403, /does not allow suppress-finding/],
      ['an auditor of another path, on an item they cannot see', 'web-auditor', {}, 404, /There is no item/],
    ];

    it.each(REFUSALS)('%s → %s', async (_name, subject, over, status, message) => {
      const before = await written();
      const error = await createSuppression(principals[subject], valid(over)).catch((e: unknown) => e);
      expect(error instanceof RequestError || error instanceof AuthorizationError, String(error)).toBe(true);
      expect(error).toMatchObject({ status, message: expect.stringMatching(message) });
      sessionJar.cookie = cookies[subject];
      expect(await suppressFinding(valid(over))).toMatchObject({ ok: false, status, error: expect.stringMatching(message) });
      expect(await written()).toEqual(before);
    });

    it('answers a caller with no session 401 through the action', async () => {
      const before = await written();
      expect(await suppressFinding(valid())).toMatchObject({ ok: false, status: 401 });
      expect(await liftSuppression({ id: 1 })).toMatchObject({ ok: false, status: 401 });
      expect(await written()).toEqual(before);
    });
  });

  describe('suppress, list, count, audit, lift', () => {
    let id: number;
    let summaryBefore: Awaited<ReturnType<typeof getFindingSummary>>;

    beforeAll(async () => {
      summaryBefore = await getFindingSummary(principals.auditor);
      const suppression = await createSuppression(principals.auditor, valid());
      id = suppression.id;
      expect(suppression).toMatchObject({ storeId: 'local', itemName: INSIDE, control: 'no-owner', active: true, createdBy: 'auditor@example.com', liftedAt: null, reason: valid().reason });
      expect(Date.parse(suppression.expiresAt)).toBeGreaterThan(Date.now() + 29 * DAY);
    });

    it('shows the finding as suppressed in the list (with its suppression) and not among the open ones', async () => {
      const f = await findingOf(principals.auditor, INSIDE, 'no-owner');
      expect(f).toMatchObject({ status: 'suppressed', suppression: { id, reason: valid().reason, createdBy: 'auditor@example.com' } });
      const open = await listFindings(principals.auditor, { limit: 100 });
      expect(open.items.some((x) => x.itemName === INSIDE && x.control === 'no-owner')).toBe(false);
      // Its other finding stays open.
      expect(open.items.some((x) => x.itemName === INSIDE && x.control === 'not-rotated-within-policy')).toBe(true);
      // The admin sees it suppressed too; the finding outside the grant is untouched.
      expect((await findingOf(principals.admin, INSIDE, 'no-owner'))?.status).toBe('suppressed');
      expect((await findingOf(principals.admin, OUTSIDE, 'no-owner'))?.status).toBe('open');
    });

    it('moves one no-owner finding from open to suppressed in the counts', async () => {
      const after = await getFindingSummary(principals.auditor);
      const row = (s: typeof after) => s.byControl.find((r) => r.control === 'no-owner')!;
      expect(row(after)).toMatchObject({ open: row(summaryBefore).open - 1, suppressed: row(summaryBefore).suppressed + 1 });
      expect(after.open).toBe(summaryBefore.open - 1);
      expect(after.suppressed).toBe(summaryBefore.suppressed + 1);
      expect(after.bySeverity.low).toBe(summaryBefore.bySeverity.low - 1);
    });

    it('lists it, active, to callers who may see its item and to no one else', async () => {
      for (const subject of ['auditor', 'admin'] as const) expect((await listSuppressions(principals[subject], { activeOnly: true })).map((s) => s.id), subject).toContain(id);
      for (const subject of ['web-auditor', 'viewer', 'operator'] as const) expect(await listSuppressions(principals[subject]), subject).toEqual([]);
    });

    it('audits it, naming the store, the item and the control, and no value', async () => {
      const entries = await auditOf('finding.suppress');
      const entry = entries.find((e) => e.details.suppression === id);
      expect(entry).toMatchObject({ actor: 'auditor@example.com', target: `local:${INSIDE}`, outcome: 'success', details: { control: 'no-owner', reason: valid().reason } });
      const everything = JSON.stringify([await listAudit(10_000), await listSuppressions(principals.admin), await listFindings(principals.admin, { statuses: [...FINDING_STATUSES], limit: 1000 })]);
      expect(everything).not.toContain(SENTINEL);
    });

    it('refuses a second suppression of a finding from a caller outside its grant, and lifting by such a caller', async () => {
      const before = await written();
      await expect(liftSuppressionById(principals['web-auditor'], { id })).rejects.toMatchObject({ status: 404, message: `There is no suppression ${id}.` });
      await expect(liftSuppressionById(principals.viewer, { id })).rejects.toMatchObject({ status: 404 });
      await expect(liftSuppressionById(principals.auditor, { id: 'x' })).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/id must be a number/) });
      await expect(liftSuppressionById(principals.auditor, { id: 999_999 })).rejects.toMatchObject({ status: 404 });
      sessionJar.cookie = cookies['web-auditor'];
      expect(await liftSuppression({ id })).toMatchObject({ ok: false, status: 404 });
      sessionJar.cookie = cookies.viewer;
      expect(await liftSuppression({ id })).toMatchObject({ ok: false, status: 403 });
      expect(await written()).toEqual(before);
      expect((await findingOf(principals.auditor, INSIDE, 'no-owner'))?.status).toBe('suppressed');
    });

    it('lifts it: the finding is open again, the lift is audited, and a second lift is a conflict', async () => {
      const lifted = await liftSuppressionById(principals.auditor, { id });
      expect(lifted).toMatchObject({ id, active: false, liftedBy: 'auditor@example.com', liftedAt: expect.any(String) });
      expect((await findingOf(principals.auditor, INSIDE, 'no-owner'))?.status).toBe('open');
      expect((await findingOf(principals.auditor, INSIDE, 'no-owner'))?.suppression).toBeNull();
      const entry = (await auditOf('finding.lift-suppression')).find((e) => e.details.suppression === id);
      expect(entry).toMatchObject({ actor: 'auditor@example.com', target: `local:${INSIDE}`, outcome: 'success', details: { control: 'no-owner' } });
      expect((await listSuppressions(principals.auditor, { activeOnly: true })).map((s) => s.id)).not.toContain(id);
      expect((await listSuppressions(principals.auditor)).find((s) => s.id === id)).toMatchObject({ active: false, liftedBy: 'auditor@example.com' });

      const before = await written();
      await expect(liftSuppressionById(principals.auditor, { id })).rejects.toBeInstanceOf(ConflictError);
      expect(await written()).toEqual(before);
    });
  });

  describe('expiry', () => {
    it('a suppression whose expiry has passed suppresses nothing and is listed as inactive', async () => {
      const tenDaysAgo = new Date(Date.now() - 10 * DAY);
      const expired = await createSuppression(principals.auditor, valid({ control: 'not-rotated-within-policy', expiresAt: inDays(1, tenDaysAgo.getTime()) }), tenDaysAgo);
      expect(expired).toMatchObject({ createdAt: tenDaysAgo.toISOString() });
      // Nine days ago it was in force; now it is not.
      expect((await findingOf(principals.auditor, INSIDE, 'not-rotated-within-policy', new Date(tenDaysAgo.getTime() + DAY / 2)))?.status).toBe('suppressed');
      expect((await findingOf(principals.auditor, INSIDE, 'not-rotated-within-policy'))?.status).toBe('open');
      expect((await listSuppressions(principals.auditor)).find((s) => s.id === expired.id)).toMatchObject({ active: false, liftedAt: null });
      expect((await listSuppressions(principals.auditor, { activeOnly: true })).map((s) => s.id)).not.toContain(expired.id);
      const row = (await getFindingSummary(principals.auditor)).byControl.find((r) => r.control === 'not-rotated-within-policy')!;
      expect(row.suppressed).toBe(0);
      expect(row.open).toBeGreaterThan(0);
    });
  });

  describe('through the server actions', () => {
    it('suppresses as the signed-in auditor, then lifts, then answers 409 to a second lift', async () => {
      sessionJar.cookie = cookies.auditor;
      const before = await written();
      const made = await suppressFinding(valid({ reason: 'Accepted until the migration' }));
      expect(made).toMatchObject({ ok: true, data: { itemName: INSIDE, control: 'no-owner', active: true, createdBy: 'auditor@example.com' } });
      const id = (made as { data: { id: number } }).data.id;
      expect((await findingOf(principals.auditor, INSIDE, 'no-owner'))?.status).toBe('suppressed');
      expect(await written()).toEqual([before[0]! + 1, before[1]! + 1, before[2]]);

      expect(await liftSuppression({ id })).toMatchObject({ ok: true, data: { id, active: false } });
      expect((await findingOf(principals.auditor, INSIDE, 'no-owner'))?.status).toBe('open');
      expect(await liftSuppression({ id })).toMatchObject({ ok: false, status: 409 });
      expect(await written()).toEqual([before[0]! + 1, before[1]! + 1, before[2]! + 1]);
      expect(JSON.stringify(await listAudit(10_000))).not.toContain(SENTINEL);
    });
  });
});
