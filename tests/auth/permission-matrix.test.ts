import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { GET as getItemRoute } from '@/app/api/v1/stores/[store]/items/[...name]/route';
import { GET as listItemsRoute } from '@/app/api/v1/stores/[store]/items/route';
import { GET as auditRoute } from '@/app/api/v1/audit/route';
import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { createApiTokenAction } from '@/lib/actions/create-api-token';
import { createUserAction } from '@/lib/actions/create-user';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { silenceAlert } from '@/lib/actions/silence-alert';
import { verifyAuditChainAction } from '@/lib/actions/verify-audit-chain';
import { listAudit } from '@/lib/audit/audit-log';
import { SENTINEL } from '../contract/fixture';
import { DATABASES } from '../support/databases';
import { sessionJar } from '../support/next-headers-mock';
import { bearer, INSIDE, OUTSIDE, startHarness, SUBJECTS, type Harness, type Subject } from './harness';

describe.each(DATABASES)('the permission matrix (%s)', (database) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness({ database });
  });
  afterAll(() => h?.cleanup());
  beforeEach(() => {
    sessionJar.cookie = null;
  });

  type Scope = 'inside' | 'outside';
  const where = (scope: Scope) => (scope === 'inside' ? INSIDE : OUTSIDE);
  const segments = (name: string) => name.split('/').filter(Boolean);
  const url = (path: string) => `http://dashboard.test${path}`;

  /** Each action, performed for real against its route handler or server action; returns the HTTP status. */
  const perform: Record<string, (subject: Subject, scope: Scope) => Promise<{ status: number; body: string }>> = {
    list: async (subject, scope) => {
      const res = await listItemsRoute(new Request(url(`/api/v1/stores/local/items?path=${where(scope).folder}`), bearer(h.tokens[subject])), {
        params: Promise.resolve({ store: 'local' }),
      });
      return { status: res.status, body: await res.text() };
    },
    'view-item': async (subject, scope) => {
      const name = where(scope).name;
      const res = await getItemRoute(new Request(url(`/api/v1/stores/local/items${name}`), bearer(h.tokens[subject])), {
        params: Promise.resolve({ store: 'local', name: segments(name) }),
      });
      return { status: res.status, body: await res.text() };
    },
    reveal: async (subject, scope) => {
      const name = where(scope).name;
      const init = bearer(h.tokens[subject], { method: 'POST', body: JSON.stringify({ reason: `matrix: ${subject} ${scope}` }) });
      const res = await revealRoute(new Request(url(`/api/v1/stores/local/reveal${name}`), init), {
        params: Promise.resolve({ store: 'local', name: segments(name) }),
      });
      return { status: res.status, body: await res.text() };
    },
    'view-audit': async (subject) => {
      const res = await auditRoute(new Request(url('/api/v1/audit'), bearer(h.tokens[subject])));
      return { status: res.status, body: await res.text() };
    },
    'manage-users': async (subject) => {
      sessionJar.cookie = h.cookies[subject];
      const result = await createUserAction({ email: `new-${subject}-${Date.now()}@example.com`, role: 'viewer', password: 'a-long-enough-password' });
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
    // Silencing an item's alerts (admins only, whatever their paths: silences are deployment-wide decisions).
    'manage-alerts': async (subject, scope) => {
      sessionJar.cookie = h.cookies[subject];
      const expiresAt = new Date(Date.now() + 7 * 86_400_000).toISOString();
      const result = await silenceAlert({ storeId: 'local', itemName: where(scope).name, reason: `matrix: ${subject} ${scope}`, expiresAt });
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
    // A full pass of the audit chain on demand (admins only: it spans every entry and costs a replica minutes).
    'verify-audit-chain': async (subject) => {
      sessionJar.cookie = h.cookies[subject];
      const result = await verifyAuditChainAction({});
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
    'create-token': async (subject) => {
      sessionJar.cookie = h.cookies[subject];
      const result = await createApiTokenAction({ userId: h.userIds.viewer, name: 'matrix', expiresInDays: 7 });
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
    rotate: async (subject, scope) => {
      sessionJar.cookie = h.cookies[subject];
      const result = await rotateSecretAction({ storeId: 'local', name: where(scope).written, reason: 'matrix', requestId: randomUUID() });
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
    generate: async (subject, scope) => {
      sessionJar.cookie = h.cookies[subject];
      const result = await generateValueAction({ storeId: 'local', name: where(scope).written, reason: 'matrix', requestId: randomUUID(), preset: 'hex', length: 40 });
      return { status: result.ok ? 200 : result.status, body: JSON.stringify(result) };
    },
  };

  // The expected outcome of every role x action x scope, written out rather than derived from the
  // role table, so a wrong role table fails here. 404 = outside the caller's grants (not even named).
  const A = 200;
  const EXPECTED: Record<string, Record<Subject, [inside: number, outside: number]>> = {
    list: { viewer: [A, 404], auditor: [A, 404], operator: [A, 404], admin: [A, A], 'scoped-admin': [A, 404] },
    'view-item': { viewer: [A, 404], auditor: [A, 404], operator: [A, 404], admin: [A, A], 'scoped-admin': [A, 404] },
    'view-audit': { viewer: [403, 403], auditor: [A, A], operator: [403, 403], admin: [A, A], 'scoped-admin': [A, A] },
    rotate: { viewer: [403, 404], auditor: [403, 404], operator: [A, 404], admin: [A, A], 'scoped-admin': [A, 404] },
    generate: { viewer: [403, 404], auditor: [403, 404], operator: [A, 404], admin: [A, A], 'scoped-admin': [A, 404] },
    reveal: { viewer: [403, 404], auditor: [403, 404], operator: [403, 404], admin: [A, A], 'scoped-admin': [A, 404] },
    'manage-users': { viewer: [403, 403], auditor: [403, 403], operator: [403, 403], admin: [A, A], 'scoped-admin': [403, 403] },
    'create-token': { viewer: [403, 403], auditor: [403, 403], operator: [403, 403], admin: [A, A], 'scoped-admin': [403, 403] },
    'manage-alerts': { viewer: [403, 403], auditor: [403, 403], operator: [403, 403], admin: [A, A], 'scoped-admin': [403, 403] },
    'verify-audit-chain': { viewer: [403, 403], auditor: [403, 403], operator: [403, 403], admin: [A, A], 'scoped-admin': [403, 403] },
  };

  const cases = Object.entries(EXPECTED).flatMap(([action, bySubject]) =>
    SUBJECTS.flatMap((subject) =>
      (['inside', 'outside'] as const).map((scope) => ({ action, subject, scope, expected: bySubject[subject][scope === 'inside' ? 0 : 1] })),
    ),
  );

  describe.each(cases)('$subject: $action $scope its paths', ({ action, subject, scope, expected }) => {
    it(`answers ${expected}`, async () => {
      const { status, body } = await perform[action]!(subject, scope);
      expect(status).toBe(expected);
      if (status !== 200) {
        // A refused caller learns nothing: no value, and no name outside their grants but the one asked for.
        expect(body).not.toContain(SENTINEL);
        for (const other of ['/staging/payments/stripe-key', '/dev/app/feature-flags', '/motd']) expect(body).not.toContain(other);
      }
    });
  });

  describe('what the answers hold', () => {
    it('an item outside the grants answers exactly like one that does not exist', async () => {
      const call = async (name: string) => {
        const res = await getItemRoute(new Request(url(`/api/v1/stores/local/items${name}`), bearer(h.tokens.viewer)), {
          params: Promise.resolve({ store: 'local', name: segments(name) }),
        });
        return { status: res.status, body: (await res.json()).error.replace(name, 'NAME') };
      };
      expect(await call(OUTSIDE.name)).toEqual(await call('/prod/web/does-not-exist'));
    });

    it('a scoped list holds only items inside the grant, and never a value', async () => {
      const { body } = await perform.list!('viewer', 'inside');
      expect(JSON.parse(body).items.map((i: { name: string }) => i.name)).toEqual([INSIDE.name]);
      expect(body).not.toContain(SENTINEL);
    });

    it('a recursive list from the root drops everything outside the grant', async () => {
      const res = await listItemsRoute(new Request(url('/api/v1/stores/local/items?path=/&recursive=true&limit=500'), bearer(h.tokens.viewer)), {
        params: Promise.resolve({ store: 'local' }),
      });
      // The root is a folder on the way to the grant, so it may be listed; only granted items come back.
      const names: string[] = (await res.json()).items.map((i: { name: string }) => i.name);
      expect(names.length).toBeGreaterThan(0);
      expect(names.every((n) => n.startsWith('/prod/payments/'))).toBe(true);
    });

    it('reveal answers the value to an admin and audits it by name and reason only', async () => {
      const { body } = await perform.reveal!('admin', 'inside');
      expect(JSON.parse(body).value).toBe(`${SENTINEL}-stripe-v3`);
      const entry = (await listAudit(20)).find((e) => e.action === 'reveal' && e.outcome === 'success');
      expect(entry?.target).toBe(`local:${INSIDE.name}`);
      expect(entry?.details).toMatchObject({ reason: 'matrix: admin inside' });
      expect(JSON.stringify(entry)).not.toContain(SENTINEL);
    });

    it('an auditor sees audit entries inside their paths only', async () => {
      await perform['view-item']!('viewer', 'outside'); // a denial on /prod/web/ gets audited
      const mineBody = (await perform['view-audit']!('auditor', 'inside')).body;
      const mine = JSON.parse(mineBody).entries as { storeId: string | null; itemName: string | null }[];
      const all = JSON.parse((await perform['view-audit']!('admin', 'inside')).body).entries as { storeId: string | null; itemName: string | null }[];
      expect(all.some((e) => e.storeId === 'local' && e.itemName === OUTSIDE.name)).toBe(true);
      expect(mine.length).toBeGreaterThan(0);
      expect(mine.every((e) => e.itemName?.startsWith('/prod/payments/'))).toBe(true);
      // Nothing of the denial outside their paths reaches them, in any field.
      expect(mineBody).not.toContain('/prod/web/');
    });

    it('rotate and generate write a new version whose value is never returned, and audit it by name', async () => {
      const before = await h.store.getItem(INSIDE.written);
      const oldValue = await h.store.readValue(INSIDE.written);
      sessionJar.cookie = h.cookies.operator;
      const generated = await generateValueAction({ storeId: 'local', name: INSIDE.written, reason: 'matrix', requestId: randomUUID(), preset: 'hex', length: 48 });
      expect(generated).toEqual({ ok: true, data: { version: String(Number(before!.currentVersion) + 1), createdAt: expect.any(String), via: 'built-in' } });
      const value = await h.store.readValue(INSIDE.written);
      expect(value).toMatch(/^[0-9a-f]{48}$/);
      expect(value).not.toBe(oldValue);

      const rotated = await rotateSecretAction({ storeId: 'local', name: INSIDE.written, reason: 'matrix', requestId: randomUUID() });
      expect(rotated).toMatchObject({ ok: true });
      const after = await h.store.getItem(INSIDE.written);
      expect(after!.versions[0]).toMatchObject({ createdBy: 'operator@example.com', labels: ['rotated'] });
      expect(after!.kind).toBe(before!.kind);
      const rotatedValue = await h.store.readValue(INSIDE.written);
      // The default rotation: a 32-character password with every class of character.
      expect(rotatedValue).toHaveLength(32);
      expect(rotatedValue).toMatch(/[a-z]/);
      expect(rotatedValue).toMatch(/[A-Z]/);
      expect(rotatedValue).toMatch(/[0-9]/);

      const audit = await listAudit(20);
      const entries = audit.filter((e) => e.target === `local:${INSIDE.written}` && e.outcome === 'success');
      expect(entries.map((e) => e.action)).toEqual(expect.arrayContaining(['generate', 'rotate']));
      expect(JSON.stringify(audit)).not.toContain(value);
      expect(JSON.stringify(audit)).not.toContain(rotatedValue);
    });

    it('rejects bad generate input with a 400 that names the problem, writing nothing', async () => {
      sessionJar.cookie = h.cookies.operator;
      const before = (await h.store.getItem(INSIDE.written))!.currentVersion;
      const base = { storeId: 'local', name: INSIDE.written, reason: 'matrix', requestId: randomUUID() };
      expect(await generateValueAction({ ...base, preset: 'password', length: 7 })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/from 8 to 4096/) });
      expect(await generateValueAction({ ...base, preset: 'emoji' })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/preset must be one of/) });
      expect(await generateValueAction({ ...base, preset: 'hex', reason: '' })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/Give a reason/) });
      expect(await generateValueAction({ ...base, preset: 'hex', requestId: 'not-a-uuid' })).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/requestId must be a UUID/) });
      expect(await generateValueAction({ ...base, name: '/prod/payments/bad name', preset: 'hex' })).toMatchObject({ ok: false, status: 400 });
      expect(await rotateSecretAction({ ...base, name: '/prod/payments/missing' })).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/There is no item/) });
      expect((await h.store.getItem(INSIDE.written))!.currentVersion).toBe(before);
    });

    it('every denial is in the audit log with who, what and when', async () => {
      await perform.reveal!('operator', 'inside');
      const entry = (await listAudit(50)).find((e) => e.actor.startsWith('operator@example.com') && e.action === 'reveal');
      expect(entry).toMatchObject({ outcome: 'denied', target: `local:${INSIDE.name}`, details: { status: 403 } });
      expect(Date.parse(entry!.at)).toBeGreaterThan(Date.now() - 60_000);
    });
  });
});
