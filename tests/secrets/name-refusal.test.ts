import { randomUUID } from 'node:crypto';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

// Server actions read the session through next/headers; the mock hands them the caller's cookie.
vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { GET as getItemRoute } from '@/app/api/v1/stores/[store]/items/[...name]/route';
import { POST as revealRoute } from '@/app/api/v1/stores/[store]/reveal/[...name]/route';
import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { setRotationScheduleAction } from '@/lib/actions/set-rotation-schedule';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { startBrowserDataAws } from '../aws/support/browser-data-aws';
import { awsStoreYaml, bearer, startHarness, useFakeAwsCredentials, type Harness, type Subject } from '../auth/harness';
import { DATABASES } from '../support/databases';
import { sessionJar } from '../support/next-headers-mock';

// Names are taken literally: "/prod/payments/../../staging/KEY" is a name of five levels, not
// /staging/KEY. No write may create or change such a name (nor one with an empty level or a
// control character): every server action that writes answers 400 naming the level, and nothing
// is written. Names AWS already holds with such levels are still read as they are.

/** [label, name, what the 400 must say]. The existing item behind them all is /prod/payments/db/host. */
const BAD_NAMES = [
  ['a ".." level', '/prod/payments/../../staging/KEY', /Name "\/prod\/payments\/\.\.\/\.\.\/staging\/KEY" has a "\.\." level \(level 3\): names are taken literally/],
  ['a ".." level that resolves to an existing item', '/prod/payments/db/../db/host', /has a "\.\." level \(level 4\)/],
  ['a "." level', '/prod/payments/./db/host', /has a "\." level \(level 3\)/],
  ['a last "." level', '/prod/payments/db/.', /has a "\." level \(level 4\)/],
  ['an empty level', '/prod/payments//db/host', /has an empty level \(level 3, a "\/\/"\)/],
  ['a control character', '/prod/payments/db/ho\u0007st', /Name contains "\\u0007" \(first in level 4\)/],
  ['a NUL character', '/prod/payments/db\u0000/host', /Name contains "\\u0000" \(first in level 3\)/],
] as const;

const EXISTING = '/prod/payments/db/host';
const reason = 'name refusal';

const WRITES: Record<string, (storeId: string, name: string) => Promise<unknown>> = {
  rotate: (storeId, name) => rotateSecretAction({ storeId, name, reason, requestId: randomUUID() }),
  generate: (storeId, name) => generateValueAction({ storeId, name, reason, requestId: randomUUID(), preset: 'hex', length: 40 }),
  'schedule rotation': (storeId, name) => setRotationScheduleAction({ storeId, name, enabled: true, expression: 'rate(10 days)', reason }),
};

type ActionAnswer = { ok: true } | { ok: false; status: number; error: string };

describe.each(DATABASES)('names a write may not create (%s)', (database) => {
  let sim: SimulatedAws;
  let h: Harness;
  beforeAll(async () => {
    sim = await startBrowserDataAws();
    useFakeAwsCredentials();
    h = await startHarness({ database, extraStores: awsStoreYaml('rw-params', 'ssm', sim.url, true) });
  });
  afterAll(async () => {
    await h?.cleanup();
    await sim?.close();
  });
  beforeEach(() => {
    sessionJar.cookie = null;
  });

  async function as(subject: Subject, run: () => Promise<unknown>): Promise<ActionAnswer> {
    sessionJar.cookie = h.cookies[subject];
    return (await run()) as ActionAnswer;
  }

  /** Everything the built-in store holds: names and current versions. */
  async function snapshot(): Promise<string> {
    const { items } = await h.store.list({ path: '/', recursive: true, limit: 1000 });
    return JSON.stringify(items.map((i) => [i.name, i.currentVersion]));
  }

  const cases = Object.keys(WRITES).flatMap((action) =>
    BAD_NAMES.flatMap(([label, name, message]) =>
      (['admin', 'operator'] as const).map((subject) => ({ action, label, name, message, subject })),
    ),
  );

  it.each(cases)('$action of a name with $label by $subject: 400 naming it, nothing written', async ({ action, name, message, subject }) => {
    const before = await snapshot();
    const answer = await as(subject, () => WRITES[action]!('local', name));
    expect(answer).toMatchObject({ ok: false, status: 400 });
    expect(answer.ok === false && answer.error).toMatch(message);
    expect(await snapshot()).toBe(before);
    expect(await h.store.getItem(name).catch(() => null)).toBeNull();
  });

  it('the same write of the name without such levels goes through (the refusal is the name, not the caller)', async () => {
    const version = (await h.store.getItem(EXISTING))!.currentVersion;
    expect(await as('operator', () => WRITES.generate!('local', EXISTING))).toMatchObject({ ok: true });
    expect((await h.store.getItem(EXISTING))!.currentVersion).toBe(String(Number(version) + 1));
  });

  describe('a name AWS already holds with a ".." level', () => {
    const LITERAL = '/prod/payments/../legacy/api-key';
    const segments = (name: string) => name.split('/').slice(1);
    beforeAll(async () => {
      const ssm = new SSMClient({ endpoint: sim.url, region: 'us-east-1', credentials: { accessKeyId: 'AKIAFAKETEST00000000', secretAccessKey: 'fake-secret-access-key' }, maxAttempts: 1 });
      try {
        await ssm.send(new PutParameterCommand({ Name: LITERAL, Value: 'literal-dots-VALUE', Type: 'SecureString' }));
      } catch (error) {
        // The second database's run finds it from the first.
        if ((error as { name?: string }).name !== 'ParameterAlreadyExists') throw error;
      }
      ssm.destroy();
    });

    it('is read as it is: GET /api/v1/stores/{store}/items/{name} answers 200 with the literal name', async () => {
      const res = await getItemRoute(new Request(`http://dashboard.test/api/v1/stores/rw-params/items${LITERAL}`, bearer(h.tokens.admin)), {
        params: Promise.resolve({ store: 'rw-params', name: segments(LITERAL) }),
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ store: 'rw-params', name: LITERAL });
    });

    it('is revealed as it is (a read): 200', async () => {
      const res = await revealRoute(
        new Request(`http://dashboard.test/api/v1/stores/rw-params/reveal${LITERAL}`, bearer(h.tokens.admin, { method: 'POST', body: JSON.stringify({ reason }) })),
        { params: Promise.resolve({ store: 'rw-params', name: segments(LITERAL) }) },
      );
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ name: LITERAL, value: 'literal-dots-VALUE' });
    });

    it.each(Object.keys(WRITES))('but %s of it is refused with a 400 naming the level, and AWS keeps its versions', async (action) => {
      const versions = sim.values('ssm', LITERAL)!.versions.length;
      const answer = await as('admin', () => WRITES[action]!('rw-params', LITERAL));
      expect(answer).toMatchObject({ ok: false, status: 400 });
      expect(answer.ok === false && answer.error).toMatch(/has a "\.\." level \(level 3\)/);
      expect(sim.values('ssm', LITERAL)!.versions).toHaveLength(versions);
    });
  });
});
