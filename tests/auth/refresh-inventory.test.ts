import { appendFileSync } from 'node:fs';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions and pages read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));
// The page's client parts ask for the router, which only a running app mounts.
vi.mock('next/navigation', async (original) => ({ ...(await original<object>()), useRouter: () => ({ refresh: () => undefined, push: () => undefined }) }));

import BrowsePage from '@/app/(dashboard)/browse/[store]/[[...path]]/page';
import { POST as syncRoute } from '@/app/api/v1/stores/[store]/sync/route';
import { refreshInventoryAction } from '@/lib/actions/refresh-inventory';
import { listAudit } from '@/lib/audit/audit-log';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { VALUE_SENTINEL } from '../../e2e/support/aws-fixtures';
import { startBrowserDataAws } from '../aws/support/browser-data-aws';
import { SENTINEL } from '../contract/fixture';
import { DATABASES } from '../support/databases';
import { sessionJar } from '../support/next-headers-mock';
import { credentialsFor } from '../support/subject-credentials';
import { awsStoreYaml, bearer, startHarness, useFakeAwsCredentials, type Harness } from './harness';

// Refresh (queue an inventory walk now) is a STORE action: it needs a grant covering the whole
// store ('/' subtree) or admin. The route (POST /api/v1/stores/{store}/sync), the server action
// behind the browse page's Refresh button and the button itself decide it the same way.

const STORES = ['aws-params', 'aws-secrets', 'local', 'nope'] as const;
type StoreId = (typeof STORES)[number];

/** Callers beyond the harness's: an operator held to /staging/** on every store, and one on all of aws-params. */
const EXTRA_GRANTS = `
  - user: staging-operator@example.com
    role: operator
    paths: [/staging/**]
  - user: store-operator@example.com
    role: operator
    paths: ['/**']
    stores: [aws-params]
`;

type Caller = 'nobody' | 'viewer' | 'operator' | 'scoped-admin' | 'staging-operator' | 'store-operator' | 'admin';

const Q = 202;
/** The route's answer per caller and store. 404: a store outside the caller's grants, or none at all. */
const EXPECTED: Record<Caller, Record<StoreId, number>> = {
  nobody: { 'aws-params': 401, 'aws-secrets': 401, local: 401, nope: 401 },
  // Grants on /prod/payments/** reach the store's root folder but do not cover it.
  viewer: { 'aws-params': 403, 'aws-secrets': 403, local: 403, nope: 403 },
  operator: { 'aws-params': 403, 'aws-secrets': 403, local: 403, nope: 403 },
  'scoped-admin': { 'aws-params': 403, 'aws-secrets': 403, local: 403, nope: 403 },
  'staging-operator': { 'aws-params': 403, 'aws-secrets': 403, local: 403, nope: 403 },
  'store-operator': { 'aws-params': Q, 'aws-secrets': 404, local: 404, nope: 404 },
  // The built-in store is its own inventory: nothing to refresh (409).
  admin: { 'aws-params': Q, 'aws-secrets': Q, local: 409, nope: 404 },
};

const rows = (Object.keys(EXPECTED) as Caller[]).flatMap((caller) => STORES.map((store) => ({ caller, store, expected: EXPECTED[caller][store] })));

describe.each(DATABASES)('refresh-inventory (%s)', (database) => {
  let sim: SimulatedAws;
  let h: Harness;
  const cookies = {} as Record<Caller, string | null>;
  const tokens = {} as Record<Caller, string | null>;

  beforeAll(async () => {
    sim = await startBrowserDataAws();
    useFakeAwsCredentials();
    h = await startHarness({ database, extraStores: awsStoreYaml('aws-params', 'ssm', sim.url) + awsStoreYaml('aws-secrets', 'secretsmanager', sim.url) });
    // The harness's grants section ends its CONFIG_FILE: two more callers are added below it.
    appendFileSync(process.env.CONFIG_FILE!, EXTRA_GRANTS);
    resetGrantRules();
    const extra = await credentialsFor(['staging-operator', 'store-operator'] as const, () => 'viewer');
    for (const caller of Object.keys(EXPECTED) as Caller[]) {
      if (caller === 'nobody') {
        cookies[caller] = tokens[caller] = null;
      } else if (caller === 'staging-operator' || caller === 'store-operator') {
        cookies[caller] = extra.cookies[caller];
        tokens[caller] = extra.tokens[caller];
      } else {
        cookies[caller] = h.cookies[caller];
        tokens[caller] = h.tokens[caller];
      }
    }
  });
  afterAll(async () => {
    await h?.cleanup();
    await sim?.close();
  });
  beforeEach(() => {
    sessionJar.cookie = null;
  });

  async function viaRoute(caller: Caller, store: string, credential: 'token' | 'cookie' = 'token') {
    const init: RequestInit = { method: 'POST' };
    const request =
      caller === 'nobody'
        ? new Request(`http://dashboard.test/api/v1/stores/${store}/sync`, init)
        : credential === 'token'
          ? new Request(`http://dashboard.test/api/v1/stores/${store}/sync`, bearer(tokens[caller]!, init))
          : new Request(`http://dashboard.test/api/v1/stores/${store}/sync`, { ...init, headers: { cookie: `next-auth.session-token=${cookies[caller]}` } });
    const res = await syncRoute(request, { params: Promise.resolve({ store }) });
    return { status: res.status, body: await res.text() };
  }

  async function viaAction(caller: Caller, storeId: string) {
    sessionJar.cookie = cookies[caller];
    const result = await refreshInventoryAction({ storeId });
    return { status: result.ok ? Q : result.status, body: JSON.stringify(result) };
  }

  /** Successful refreshes of a store in the audit log: one per walk queued or started. */
  async function refreshesOf(store: string): Promise<number> {
    return (await listAudit(10_000)).filter((e) => e.action === 'refresh-inventory' && e.outcome === 'success' && e.target === `${store}:/`).length;
  }

  describe.each([
    ['POST /api/v1/stores/{store}/sync', viaRoute],
    ['refreshInventoryAction', viaAction],
  ] as const)('%s', (_surface, perform) => {
    it.each(rows)('$caller on $store: $expected', async ({ caller, store, expected }) => {
      const before = await refreshesOf(store);
      const { status, body } = await perform(caller, store);
      expect(status).toBe(expected);
      // Allowed: one walk asked for (and audited). Refused: none.
      expect(await refreshesOf(store)).toBe(before + (status === Q ? 1 : 0));
      if (status === Q) expect(JSON.parse(body)).toMatchObject(perform === viaRoute ? { state: expect.stringMatching(/^(started|queued)$/) } : { ok: true });
      else {
        expect(body).not.toContain(SENTINEL);
        expect(body).not.toContain(VALUE_SENTINEL);
      }
      const error = status === Q ? null : (JSON.parse(body) as { error: string }).error;
      if (status === 403) expect(error).toBe('Your role does not allow refresh-inventory here; ask an admin for a grant.');
      // Worded as a missing store is, whether there is none or it lies outside the caller's grants.
      if (status === 404) expect(error).toMatch(new RegExp(`^There is no (store|folder / in store) "${store}"`));
    });

    it.each(['Bad_Store!', '', 'x'.repeat(64)])('a malformed store id %j: 400 naming it, nothing asked', async (store) => {
      const { status, body } = await perform('admin', store);
      expect(status).toBe(400);
      expect(JSON.parse(body).error).toMatch(/A store id is 1-63 lowercase letters, digits and dashes/);
    });
  });

  it('the route takes a session cookie as well as a token, and refuses without one', async () => {
    expect((await viaRoute('store-operator', 'aws-params', 'cookie')).status).toBe(Q);
    expect((await viaRoute('staging-operator', 'aws-params', 'cookie')).status).toBe(403);
    expect((await viaRoute('nobody', 'aws-params')).status).toBe(401);
  });

  it('every refusal is in the audit log with who and where', async () => {
    await viaRoute('staging-operator', 'aws-secrets');
    const entry = (await listAudit(50)).find((e) => e.actor.startsWith('staging-operator@example.com') && e.action === 'refresh-inventory');
    expect(entry).toMatchObject({ outcome: 'denied', target: 'aws-secrets:/', details: { status: 403 } });
  });

  // The Refresh button is drawn when can() allows the same action on the same resource; callers
  // that cannot browse a store never see its page at all.
  it.each([
    ['admin', 'aws-params', true],
    ['admin', 'aws-secrets', true],
    ['store-operator', 'aws-params', true],
    ['staging-operator', 'aws-params', false],
    ['staging-operator', 'aws-secrets', false],
    ['operator', 'aws-params', false],
    ['viewer', 'aws-secrets', false],
  ] as const)('the browse page shows %s the Refresh button on %s: %s', async (caller, store, shown) => {
    sessionJar.cookie = cookies[caller];
    const html = renderToStaticMarkup(await BrowsePage({ params: Promise.resolve({ store }), searchParams: Promise.resolve({}) }));
    expect(html).toContain('data-testid="inventory-status"');
    expect(html.includes('data-testid="refresh-inventory"')).toBe(shown);
    // Whoever sees the button is allowed by the route, and whoever does not is refused.
    expect((await viaRoute(caller, store)).status).toBe(shown ? Q : 403);
  });
});
