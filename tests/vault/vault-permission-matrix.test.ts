import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { SENTINEL } from '../contract/fixture';
import { bearer, startHarness, type Harness, type Subject } from '../auth/harness';
import { A, ADMIN_ONLY, asAction, matrixCases, READ_ONLY, WRITE, type Expected } from '../auth/support/write-matrix';
import { sessionJar } from '../support/next-headers-mock';
import { vaultHttp } from '../vault-sim/vault-http';
import { startFixtureVault, tokenFor, WRITE_POLICY } from './support';

// The permission matrix on Vault stores: rotate, generate and reveal, performed for real through the
// server actions and the reveal route against the Vault simulator, on a writable store and on one
// that is not. A refused call writes nothing, and no value reaches the caller except reveal's.

let sim: SimulatedVault;
let h: Harness;

beforeAll(async () => {
  sim = await startFixtureVault();
  process.env.VAULT_MATRIX_TOKEN = tokenFor(sim, [WRITE_POLICY.name]);
  const entry = (id: string, writable: boolean) =>
    `  - id: ${id}\n    kind: vault\n    address: ${sim.url}\n    auth: { method: token, tokenEnv: VAULT_MATRIX_TOKEN }\n    rate: 500\n${writable ? '    writable: true\n' : ''}`;
  h = await startHarness({ extraStores: entry('rw-vault', true) + entry('ro-vault', false) });
});
afterAll(async () => {
  await h.cleanup();
  sim.close();
  delete process.env.VAULT_MATRIX_TOKEN;
});
beforeEach(() => {
  sessionJar.cookie = null;
});

type Scope = 'inside' | 'outside';
const ITEM = { inside: '/prod/payments/stripe-key', outside: '/prod/web/allowed-origins' } as const;
const segments = (name: string) => name.split('/').filter(Boolean);
const root = () => vaultHttp(sim.url, { token: sim.rootToken });
const versionOf = async (item: string): Promise<number> => (await root().get(`secret/metadata${item}`)).body?.data?.current_version ?? -1;

const reason = 'permission matrix';
const perform: Record<string, (subject: Subject, scope: Scope, store: 'rw' | 'ro') => Promise<{ status: number; body: string }>> = {
  rotate: (subject, scope, store) => asAction(h, subject, () => rotateSecretAction({ storeId: `${store}-vault`, name: ITEM[scope], reason, requestId: randomUUID() })),
  generate: (subject, scope, store) =>
    asAction(h, subject, () => generateValueAction({ storeId: `${store}-vault`, name: ITEM[scope], reason, requestId: randomUUID(), preset: 'hex', length: 40 })),
  reveal: async (subject, scope, store) => {
    const name = ITEM[scope];
    const res = await revealRoute(
      new Request(`http://dashboard.test/api/v1/stores/${store}-vault/reveal${name}`, bearer(h.tokens[subject], { method: 'POST', body: JSON.stringify({ reason }), headers: { 'content-type': 'application/json' } })),
      { params: Promise.resolve({ store: `${store}-vault`, name: segments(name) }) },
    );
    return { status: res.status, body: await res.text() };
  },
};

const EXPECTED: Expected = {
  rotate: { rw: WRITE, ro: READ_ONLY(WRITE) },
  generate: { rw: WRITE, ro: READ_ONLY(WRITE) },
  reveal: { rw: ADMIN_ONLY, ro: ADMIN_ONLY },
};

const cases = matrixCases(EXPECTED);

describe.each(cases)('$subject: $action on a $store Vault store, $scope its paths', ({ action, store, subject, scope, expected }) => {
  it(`answers ${expected}`, async () => {
    const item = ITEM[scope];
    const before = await versionOf(item);
    const { status, body } = await perform[action]!(subject, scope, store);
    expect(status).toBe(expected);
    // Reveal's success reads that version's data (earlier cases may have written new values); nothing else carries a value.
    if (action === 'reveal' && status === A) expect(JSON.parse(body).value).toBe(JSON.stringify((await root().get(`secret/data${item}`)).body.data.data));
    else expect(body).not.toContain(SENTINEL);
    if (status === A && action !== 'reveal') expect(await versionOf(item)).toBe(before + 1);
    else expect(await versionOf(item)).toBe(before);
    if (status === 409) expect(body).toMatch(/read-only in the dashboard/);
  });
});
