import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { setRotationScheduleAction } from '@/lib/actions/set-rotation-schedule';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { VALUE_SENTINEL } from '../../e2e/support/aws-fixtures';
import { startBrowserDataAws } from '../aws/support/browser-data-aws';
import { sessionJar } from '../support/next-headers-mock';
import { awsStoreYaml, bearer, startHarness, useFakeAwsCredentials, type Harness, type Subject } from './harness';
import { A, ADMIN_ONLY, asAction, matrixCases, READ_ONLY, WRITE, type Expected } from './support/write-matrix';

// The permission matrix on AWS stores: rotate, generate, schedule and reveal, performed for real
// through the server actions and route handlers against the simulated AWS (real SDK, real wire
// protocol), on writable stores and on a store that is not. A refused call writes nothing.

let sim: SimulatedAws;
let h: Harness;

beforeAll(async () => {
  sim = await startBrowserDataAws({ rotationDelayMs: 100 });
  useFakeAwsCredentials();
  const aws = (id: string, kind: 'ssm' | 'secretsmanager', writable: boolean) => awsStoreYaml(id, kind, sim.url, writable);
  h = await startHarness({ extraStores: aws('rw-params', 'ssm', true) + aws('rw-secrets', 'secretsmanager', true) + aws('ro-params', 'ssm', false) + aws('ro-secrets', 'secretsmanager', false) });
});
afterAll(async () => {
  await h.cleanup();
  await sim.close();
});
beforeEach(() => {
  sessionJar.cookie = null;
});

type Scope = 'inside' | 'outside';
const PARAM = { inside: '/prod/payments/stripe/webhook-secret', outside: '/staging/payments/stripe/api-key' } as const;
/** Secrets without a rotation function: rotate writes a new value (PutSecretValue). */
const SECRET = { inside: '/prod/payments/webhooks/signing-secret', outside: '/staging/app/session-key' } as const;
const segments = (name: string) => name.split('/').filter(Boolean);
const secretName = (item: string) => (item === SECRET.inside ? item : item.slice(1));

function versionsOf(service: 'ssm' | 'secretsmanager', item: string): number {
  return sim.values(service, service === 'ssm' ? item : secretName(item))?.versions.length ?? -1;
}

const reason = 'permission matrix';
const perform: Record<string, (subject: Subject, scope: Scope, store: 'rw' | 'ro') => Promise<{ status: number; body: string }>> = {
  'rotate ssm': (subject, scope, store) =>
    asAction(h, subject, () => rotateSecretAction({ storeId: `${store}-params`, name: PARAM[scope], reason, requestId: randomUUID() })),
  'generate ssm': (subject, scope, store) =>
    asAction(h, subject, () => generateValueAction({ storeId: `${store}-params`, name: PARAM[scope], reason, requestId: randomUUID(), preset: 'hex', length: 40 })),
  'rotate secret': (subject, scope, store) =>
    asAction(h, subject, () => rotateSecretAction({ storeId: `${store}-secrets`, name: SECRET[scope], reason, requestId: randomUUID() })),
  'generate secret': (subject, scope, store) =>
    asAction(h, subject, () => generateValueAction({ storeId: `${store}-secrets`, name: SECRET[scope], reason, requestId: randomUUID(), preset: 'uuid' })),
  'schedule secret': (subject, scope, store) =>
    asAction(h, subject, () =>
      setRotationScheduleAction({ storeId: `${store}-secrets`, name: scope === 'inside' ? '/prod/payments/legacy-rotation' : '/staging/app/partner-api-token', enabled: true, expression: 'rate(10 days)', reason }),
    ),
  'reveal ssm': async (subject, scope, store) => {
    const name = PARAM[scope];
    const res = await revealRoute(
      new Request(`http://dashboard.test/api/v1/stores/${store}-params/reveal${name}`, bearer(h.tokens[subject], { method: 'POST', body: JSON.stringify({ reason }), headers: { 'content-type': 'application/json' } })),
      { params: Promise.resolve({ store: `${store}-params`, name: segments(name) }) },
    );
    return { status: res.status, body: await res.text() };
  },
};

const EXPECTED: Expected = {
  'rotate ssm': { rw: WRITE, ro: READ_ONLY(WRITE) },
  'generate ssm': { rw: WRITE, ro: READ_ONLY(WRITE) },
  'rotate secret': { rw: WRITE, ro: READ_ONLY(WRITE) },
  'generate secret': { rw: WRITE, ro: READ_ONLY(WRITE) },
  'schedule secret': { rw: ADMIN_ONLY, ro: READ_ONLY(ADMIN_ONLY) },
  // Reveal does not depend on writable: it reads where an admin turned it on (ALLOW_REVEAL=1 here).
  'reveal ssm': { rw: ADMIN_ONLY, ro: ADMIN_ONLY },
};

const cases = matrixCases(EXPECTED);

describe.each(cases)('$subject: $action on a $store store, $scope its paths', ({ action, store, subject, scope, expected }) => {
  it(`answers ${expected}`, async () => {
    const service = action.endsWith('ssm') ? 'ssm' : 'secretsmanager';
    const item = service === 'ssm' ? PARAM[scope] : SECRET[scope];
    const before = versionsOf(service, item);
    const { status, body } = await perform[action]!(subject, scope, store);
    expect(status).toBe(expected);
    // Whatever the answer, no value reaches the caller (reveal's success is the one exception).
    if (!(action.startsWith('reveal') && status === A)) expect(body).not.toContain(VALUE_SENTINEL);
    // A write that succeeded wrote exactly one version; anything refused wrote none.
    if (status === A && /^(rotate|generate)/.test(action)) expect(versionsOf(service, item)).toBe(before + 1);
    if (status !== A) {
      expect(versionsOf(service, item)).toBe(before);
      if (status === 409) expect(body).toMatch(/read-only in the dashboard/);
    }
  });
});
