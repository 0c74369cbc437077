import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';

vi.mock('next/headers', () => import('../support/next-headers-mock'));

import { generateValueAction } from '@/lib/actions/generate-value';
import { rotateSecretAction } from '@/lib/actions/rotate-secret';
import { listAudit } from '@/lib/audit/audit-log';
import { inventoryDb, inventorySync, startInventorySync } from '@/lib/inventory/inventory';
import { getStore, getStores } from '@/lib/stores/registry';
import type { VaultStore } from '@/lib/stores/vault/store';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { FIXTURE } from '../contract/fixture';
import { startHarness, type Harness } from '../auth/harness';
import { sessionJar } from '../support/next-headers-mock';
import { vaultHttp } from '../vault-sim/vault-http';
import { READ_POLICY, startFixtureVault, tokenFor, WRITE_POLICY } from './support';

// Vault stores in CONFIG_FILE, as a server opens them: two beside the built-in store (one read-only
// over the whole mount, one writable under a path prefix), synced by the inventory sync, rotated and
// generated through the real server actions with check-and-set.

let sim: SimulatedVault;
let h: Harness;
const CREDS = { username: 'app', password: 'old-password', host: 'db.internal' };

beforeAll(async () => {
  sim = await startFixtureVault();
  sim.control({ writeSecrets: [{ mount: 'secret', path: 'prod/payments/db/creds', data: CREDS }] });
  process.env.VAULT_DASHBOARD_READ = tokenFor(sim, [READ_POLICY.name]);
  process.env.VAULT_DASHBOARD_WRITE = tokenFor(sim, [WRITE_POLICY.name]);
  const yaml = [
    `  - id: vault-all`,
    `    kind: vault`,
    `    address: ${sim.url}`,
    `    auth: { method: token, tokenEnv: VAULT_DASHBOARD_READ }`,
    `    rate: 200`,
    `  - id: vault-prod`,
    `    kind: vault`,
    `    address: ${sim.url}`,
    `    pathPrefix: prod`,
    `    auth: { method: token, tokenEnv: VAULT_DASHBOARD_WRITE }`,
    `    writable: true`,
    `    rate: 200`,
    '',
  ].join('\n');
  h = await startHarness({ extraStores: yaml });
});
afterAll(async () => {
  await h.cleanup();
  sim.close();
  delete process.env.VAULT_DASHBOARD_READ;
  delete process.env.VAULT_DASHBOARD_WRITE;
});
beforeEach(() => {
  sessionJar.cookie = h.cookies.admin;
});

const reason = 'vault rotation INC-24';
const current = async (path: string) => (await vaultHttp(sim.url, { token: sim.rootToken }).get(`secret/data/${path}`)).body.data;

describe('Vault stores from CONFIG_FILE', () => {
  it('opens both beside the built-in store, and the inventory sync walks each', async () => {
    const stores = await getStores();
    expect(stores.map((s) => [s.id, s.kind])).toEqual([
      ['local', 'local'],
      ['vault-all', 'vault'],
      ['vault-prod', 'vault'],
    ]);
    await startInventorySync();
    for (let i = 0; i < 100 && !inventorySync(); i++) await new Promise((r) => setTimeout(r, 50));
    const sync = inventorySync()!;
    expect(sync.storeIds.sort()).toEqual(['vault-all', 'vault-prod']);
    await sync.idle('vault-all');
    await sync.idle('vault-prod');
    const db = await inventoryDb();
    expect(await db.index.syncRecord('vault-all')).toMatchObject({ items: FIXTURE.length + 1, error_code: null });
    expect(await db.index.syncRecord('vault-prod')).toMatchObject({ items: 5, error_code: null });
    expect((await db.index.getItem('vault-prod', '/payments/stripe-key'))?.version).toBe('3');
  });

  it('rotates a JSON secret’s named key with check-and-set, keeping the other keys', async () => {
    const result = await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID(), jsonKey: 'password' });
    expect(result).toMatchObject({ ok: true, data: { version: '2', via: 'vault-kv' } });
    const after = await current('prod/payments/db/creds');
    expect(after.metadata.version).toBe(2);
    expect(after.data).toMatchObject({ username: 'app', host: 'db.internal' });
    expect(after.data.password).not.toBe('old-password');
    expect(JSON.stringify(result)).not.toContain(after.data.password);
    // The inventory shows the new version before the next walk.
    expect((await (await inventoryDb()).index.getItem('vault-prod', '/payments/db/creds'))?.version).toBe('2');
    const [entry] = await listAudit(1);
    expect(entry).toMatchObject({ action: 'rotate', target: 'vault-prod:/payments/db/creds', outcome: 'success' });
    expect(JSON.stringify(entry)).not.toContain(after.data.password);
  });

  it('a JSON secret without a key named is refused, writing nothing; a one-key secret needs none', async () => {
    expect(await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID() })).toMatchObject({
      ok: false,
      status: 409,
      error: expect.stringMatching(/keys "username", "password", "host"/),
    });
    expect((await current('prod/payments/db/creds')).metadata.version).toBe(2);
    const generated = await generateValueAction({ storeId: 'vault-prod', name: '/payments/stripe-key', reason, requestId: randomUUID(), preset: 'hex', length: 32 });
    expect(generated).toMatchObject({ ok: true, data: { version: '4' } });
    expect((await current('prod/payments/stripe-key')).data.value).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the read-only Vault store is refused as read-only, and nothing is written', async () => {
    const result = await rotateSecretAction({ storeId: 'vault-all', name: '/motd', reason, requestId: randomUUID() });
    expect(result).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/read-only/) });
    expect((await current('motd')).metadata.version).toBe(1);
  });

  it('a version written by someone else between the read and the write: 409 saying so, and theirs stays', async () => {
    const store = (await getStore('vault-prod')) as VaultStore;
    const read = store.readCurrentValue.bind(store);
    const spy = vi.spyOn(store, 'readCurrentValue').mockImplementation(async (name) => {
      const value = await read(name);
      sim.control({ writeSecrets: [{ mount: 'secret', path: 'prod/payments/db/creds', data: { ...CREDS, password: 'theirs' } }] });
      return value;
    });
    try {
      const result = await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID(), jsonKey: 'password' });
      expect(result).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(/someone else wrote a new version of \/payments\/db\/creds after version 2 was read; nothing was overwritten/) });
      expect(await current('prod/payments/db/creds')).toMatchObject({ data: { password: 'theirs' }, metadata: { version: 3 } });
    } finally {
      spy.mockRestore();
    }
  });

  it('the version the page showed is the check-and-set version: one written since the dialog opened is reported, and theirs stays', async () => {
    const shown = String((await current('prod/payments/db/creds')).metadata.version);
    sim.control({ writeSecrets: [{ mount: 'secret', path: 'prod/payments/db/creds', data: { ...CREDS, password: 'written-after-opening' } }] });
    const result = await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID(), jsonKey: 'password', basedOnVersion: shown });
    expect(result).toMatchObject({ ok: false, status: 409, error: expect.stringMatching(new RegExp(`someone else wrote a new version of /payments/db/creds after version ${shown} was read; nothing was overwritten`)) });
    expect(await current('prod/payments/db/creds')).toMatchObject({ data: { password: 'written-after-opening' }, metadata: { version: Number(shown) + 1 } });
    // The page showing the newest version: the write goes through.
    const again = await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID(), jsonKey: 'password', basedOnVersion: String(Number(shown) + 1) });
    expect(again).toMatchObject({ ok: true, data: { version: String(Number(shown) + 2) } });
  });

  it('a basedOnVersion that is no version number is a clear 400, writing nothing', async () => {
    const before = (await current('prod/payments/db/creds')).metadata.version;
    const result = await rotateSecretAction({ storeId: 'vault-prod', name: '/payments/db/creds', reason, requestId: randomUUID(), jsonKey: 'password', basedOnVersion: 'latest' });
    expect(result).toMatchObject({ ok: false, status: 400, error: expect.stringMatching(/basedOnVersion is the version number the page showed/) });
    expect((await current('prod/payments/db/creds')).metadata.version).toBe(before);
  });
});
