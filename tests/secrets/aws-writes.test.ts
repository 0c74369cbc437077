import { randomUUID } from 'node:crypto';
import { DescribeParametersCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { setRotationScheduleAction } from '@/lib/actions/set-rotation-schedule';
import { listAudit } from '@/lib/audit/audit-log';
import { rotationProgressOf } from '@/lib/data/rotation-state';
import { inventoryDb } from '@/lib/inventory/inventory';
import { getStore } from '@/lib/stores/registry';
import type { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { DB_CREDENTIALS_SECRET, FAILING_ROTATION_SECRET, VALUE_SENTINEL } from '../../e2e/support/aws-fixtures';
import { startBrowserDataAws } from '../aws/support/browser-data-aws';
import { awsStoreYaml, startHarness, useFakeAwsCredentials, type Harness } from '../auth/harness';
import { sessionJar } from '../support/next-headers-mock';

// Rotate and generate against the simulated AWS through the real server actions: what is written, what
// is kept, what is refused (and then nothing is written), what concurrent and repeated requests do,
// and that the audit log has the reason and never a value.

let sim: SimulatedAws;
let h: Harness;

beforeAll(async () => {
  sim = await startBrowserDataAws({ rotationDelayMs: 300 });
  useFakeAwsCredentials();
  const aws = (id: string, kind: 'ssm' | 'secretsmanager', writable: boolean) => awsStoreYaml(id, kind, sim.url, writable);
  h = await startHarness({ extraStores: aws('params', 'ssm', true) + aws('secrets', 'secretsmanager', true) + aws('ro-params', 'ssm', false) });
});
afterAll(async () => {
  await h.cleanup();
  await sim.close();
});
beforeEach(() => {
  sim.reset();
  sessionJar.cookie = h.cookies.admin;
});

const reason = 'quarterly rotation INC-42';
const PARAM = '/prod/payments/stripe/api-key';
const JSON_ITEM = `/${DB_CREDENTIALS_SECRET}`;
const generate = (input: Record<string, unknown>) => generateValueAction({ reason, requestId: randomUUID(), preset: 'password', length: 24, ...input });
const currentValue = (service: 'ssm' | 'secretsmanager', name: string) => sim.values(service, name)!.current!;
const versionCount = (service: 'ssm' | 'secretsmanager', name: string) => sim.values(service, name)!.versions.length;

describe('Parameter Store', () => {
  it('writes a new version with PutParameter, keeping type, KMS key, tier and data type', async () => {
    const client = new SSMClient({ endpoint: sim.url, region: 'us-east-1' });
    const describe = async () => (await client.send(new DescribeParametersCommand({ ParameterFilters: [{ Key: 'Name', Option: 'Equals', Values: [PARAM] }] }))).Parameters![0]!;
    const before = await describe();
    const result = await generate({ storeId: 'params', name: PARAM, preset: 'hex', length: 64 });
    expect(result).toMatchObject({ ok: true, data: { version: String(Number(before.Version) + 1), via: 'PutParameter' } });
    const after = await describe();
    expect({ Type: after.Type, KeyId: after.KeyId, Tier: after.Tier, DataType: after.DataType }).toEqual({ Type: before.Type, KeyId: before.KeyId, Tier: before.Tier, DataType: before.DataType });
    expect(currentValue('ssm', PARAM)).toMatch(/^[0-9a-f]{64}$/);
    // The answer holds the version and time only.
    expect(JSON.stringify(result)).not.toContain(currentValue('ssm', PARAM));
    // The inventory shows the new version before the next walk.
    expect((await (await inventoryDb()).index.getItem('params', PARAM))?.version).toBe(String(Number(before.Version) + 1));
  });

  it('refuses a parameter whose data type is not text, writing nothing', async () => {
    const before = versionCount('ssm', '/prod/payments/ami-id');
    expect(await generate({ storeId: 'params', name: '/prod/payments/ami-id' })).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/aws:ec2:image/) });
    expect(versionCount('ssm', '/prod/payments/ami-id')).toBe(before);
  });

  it('ten concurrent generates give ten versions in order, none lost', async () => {
    const before = versionCount('ssm', PARAM);
    const results = await Promise.all(Array.from({ length: 10 }, () => generate({ storeId: 'params', name: PARAM })));
    expect(results.every((r) => r.ok)).toBe(true);
    const versions = results.map((r) => Number((r as { data: { version: string } }).data.version)).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: 10 }, (_, i) => before + 1 + i));
    const values = sim.values('ssm', PARAM)!.versions.slice(before).map((v) => v.value);
    expect(new Set(values).size).toBe(10);
  });

  it('the same request id twice (a double click) writes once and answers the same', async () => {
    const before = versionCount('ssm', PARAM);
    const requestId = randomUUID();
    const [a, b] = await Promise.all([generate({ storeId: 'params', name: PARAM, requestId }), generate({ storeId: 'params', name: PARAM, requestId })]);
    expect(a).toEqual(b);
    const again = await generate({ storeId: 'params', name: PARAM, requestId });
    expect(again).toEqual(a);
    expect(versionCount('ssm', PARAM)).toBe(before + 1);
  });
});

describe('Secrets Manager', () => {
  it('replaces one key of a JSON secret and keeps the others', async () => {
    const before = JSON.parse(currentValue('secretsmanager', DB_CREDENTIALS_SECRET));
    const result = await generate({ storeId: 'secrets', name: JSON_ITEM, jsonKey: 'password', preset: 'base64url', length: 40 });
    expect(result).toMatchObject({ ok: true, data: { via: 'PutSecretValue' } });
    const after = JSON.parse(currentValue('secretsmanager', DB_CREDENTIALS_SECRET));
    expect(after).toEqual({ ...before, password: expect.stringMatching(/^[A-Za-z0-9_-]{40}$/) });
    expect(after.password).not.toBe(before.password);
    expect(Object.keys(after)).toEqual(Object.keys(before));
  });

  it('concurrent writes to two keys of one JSON secret keep both (never a half-merge)', async () => {
    const [a, b] = await Promise.all([
      generate({ storeId: 'secrets', name: JSON_ITEM, jsonKey: 'password' }),
      generate({ storeId: 'secrets', name: JSON_ITEM, jsonKey: 'username' }),
    ]);
    expect(a.ok && b.ok).toBe(true);
    const after = JSON.parse(currentValue('secretsmanager', DB_CREDENTIALS_SECRET));
    expect(after.password).not.toBe(VALUE_SENTINEL);
    expect(after.username).not.toBe('payments_app');
    expect(after.host).toBe('db.internal');
  });

  it.each([
    [{}, /holds JSON with the keys "username", "password", "host"; name the key/],
    [{ jsonKey: 'pasword' }, /has no JSON key "pasword"; its keys are "username", "password", "host"/],
  ])('refuses a JSON secret without a key it has (%o), writing nothing', async (input, message) => {
    const before = versionCount('secretsmanager', DB_CREDENTIALS_SECRET);
    const result = await generate({ storeId: 'secrets', name: JSON_ITEM, ...input });
    expect(result).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(message) });
    expect(JSON.stringify(result)).not.toContain(VALUE_SENTINEL);
    expect(versionCount('secretsmanager', DB_CREDENTIALS_SECRET)).toBe(before);
  });

  it('refuses a JSON key on a secret that is not JSON', async () => {
    const name = '/prod/payments/webhooks/signing-secret';
    expect(await generate({ storeId: 'secrets', name, jsonKey: 'password' })).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/does not hold a JSON object/) });
  });

  it('a secret with a rotation function rotates through RotateSecret and is followed from AWSPENDING to AWSCURRENT', async () => {
    const name = '/prod/payments/legacy-rotation';
    // This one's function fails, so the version stays AWSPENDING.
    const stuck = await rotateSecretAction({ storeId: 'secrets', name, reason, requestId: randomUUID() });
    expect(stuck).toMatchObject({ ok: true, data: { via: 'RotateSecret', pending: true } });
    const version = (stuck as { data: { version: string } }).data.version;
    expect(await rotationProgressOf('secrets', name, version)).toMatchObject({ state: 'pending', stages: ['AWSPENDING'] });
    await new Promise((r) => setTimeout(r, 600));
    expect((await rotationProgressOf('secrets', name, version))?.state).toBe('pending');
    // A second rotation while that one is pending is refused in the user's terms.
    const second = await rotateSecretAction({ storeId: 'secrets', name, reason, requestId: randomUUID() });
    expect(second).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/still under way/) });
  });

  it('a RotateSecret retried with the same token rotates once (AWS idempotency, below the dashboard’s own guard)', async () => {
    const store = (await getStore('secrets')) as SecretsManagerStore;
    const name = '/staging/app/partner-api-token';
    const before = versionCount('secretsmanager', 'staging/app/partner-api-token');
    const token = randomUUID();
    const first = await store.rotateNow(name, token);
    const retry = await store.rotateNow(name, token);
    expect(retry.version).toBe(first.version);
    expect(versionCount('secretsmanager', 'staging/app/partner-api-token')).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 600));
    expect((await rotationProgressOf('secrets', name, first.version))?.state).toBe('current');
  });

  it('admins set and turn off a rotation schedule; a bad schedule is named and nothing changes', async () => {
    const name = `/${FAILING_ROTATION_SECRET}`;
    expect(await setRotationScheduleAction({ storeId: 'secrets', name, enabled: true, expression: 'rate(5 days)', window: '3h', reason })).toMatchObject({
      ok: true,
      data: { enabled: true, schedule: 'rate(5 days)' },
    });
    expect(await setRotationScheduleAction({ storeId: 'secrets', name, enabled: true, expression: 'rate(2000 days)', reason })).toMatchObject({
      ok: false,
      status: 400,
      error: expect.stringMatching(/from 1 to 1000/),
    });
    expect(await setRotationScheduleAction({ storeId: 'secrets', name, enabled: false, reason })).toMatchObject({ ok: true, data: { enabled: false } });
    expect(await setRotationScheduleAction({ storeId: 'secrets', name: '/prod/payments/webhooks/signing-secret', enabled: true, expression: 'rate(5 days)', reason })).toMatchObject({
      ok: false,
      status: 409,
      error: expect.stringMatching(/no rotation function/),
    });
  });
});

describe('bad input: a clear error and nothing written', () => {
  it.each([
    ['an unknown preset', { preset: 'emoji' }, 400, /preset must be one of password, hex, base64url, uuid, key-256/],
    ['a length under 8', { length: 7 }, 400, /Length must be from 8 to 4096 \(got 7\)/],
    ['a length over 4096', { length: 4097 }, 400, /Length must be from 8 to 4096 \(got 4097\)/],
    ['no reason', { reason: '' }, 400, /Give a reason/],
    ['a reason over 500 characters', { reason: 'x'.repeat(501) }, 400, /at most 500 characters/],
    ['an item that is gone', { name: '/prod/payments/gone' }, 409, /There is no item \/prod\/payments\/gone/],
    ['a store that is not writable', { storeId: 'ro-params' }, 409, /read-only in the dashboard/],
  ])('%s', async (_what, input, status, message) => {
    const before = versionCount('ssm', PARAM);
    const audit = (await listAudit(500)).length;
    const result = await generate({ storeId: 'params', name: PARAM, ...input });
    expect(result).toMatchObject({ ok: false, status, error: expect.stringMatching(message) });
    expect(versionCount('ssm', PARAM)).toBe(before);
    // Refused before anything was tried: no write was attempted, so nothing new was audited as one.
    const newer = (await listAudit(500)).slice(0, (await listAudit(500)).length - audit);
    expect(newer.filter((e) => e.outcome === 'success')).toEqual([]);
  });
});

describe('the audit log', () => {
  it('records each write with its reason, request id and new version, never a value', async () => {
    const requestId = randomUUID();
    const result = await generate({ storeId: 'secrets', name: JSON_ITEM, jsonKey: 'password', requestId });
    const entry = (await listAudit(20)).find((e) => e.details.requestId === requestId);
    expect(entry).toMatchObject({ action: 'generate', outcome: 'success', target: `secrets:${JSON_ITEM}`, details: { reason, jsonKey: 'password', via: 'PutSecretValue', version: (result as { data: { version: string } }).data.version } });
    const audit = JSON.stringify(await listAudit(500));
    expect(audit).not.toContain(JSON.parse(currentValue('secretsmanager', DB_CREDENTIALS_SECRET)).password);
    expect(audit).not.toContain(VALUE_SENTINEL);
  });
});
