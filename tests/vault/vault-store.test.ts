import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConflictError } from '@/lib/conflict-error';
import { InventoryDb } from '@/lib/inventory/inventory-db';
import { InventorySync } from '@/lib/inventory/sync';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { isWritable } from '@/lib/stores/types';
import { VaultStore } from '@/lib/stores/vault/store';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { FIXTURE, SENTINEL } from '../contract/fixture';
import { makeTempDir } from '../support/temp-dir';
import { READ_POLICY, startFixtureVault, tokenFor, vaultConfig, vaultStore, WRITE_POLICY } from './support';

// The Vault store against the Vault simulator: browsing sends no request to data/ (the simulator's
// request log says so), the inventory sync walks it whole, skips and names folders its policy
// refuses, and fails with a named cause when Vault is sealed, a standby, refuses the token or is
// KV v1; rotation writes with check-and-set and never overwrites another writer's version.

let sim: SimulatedVault;
const stores: VaultStore[] = [];
const temps: { cleanup: () => void }[] = [];
const syncs: InventorySync[] = [];

beforeAll(async () => {
  sim = await startFixtureVault({
    recordLimit: 100_000,
    policies: [
      // Everything but /prod/payments/ (refused whole) and /dev/app/feature-flags (its metadata refused).
      { name: 'partial', paths: { 'secret/metadata/*': ['read', 'list'], 'secret/metadata/prod/payments/*': ['deny'], 'secret/metadata/dev/app/feature-flags': ['deny'] } },
    ],
  });
});
afterEach(async () => {
  await Promise.all(syncs.splice(0).map((s) => s.stop()));
  sim.control({ sealed: false, standby: false, activeAddress: null });
});
afterAll(() => {
  for (const s of stores) s.client.close();
  for (const t of temps) t.cleanup();
  sim.close();
});
beforeEach(() => sim.control({ resetStats: true }));

function store(policies: string[], overrides: Parameters<typeof vaultStore>[2] = {}): VaultStore {
  const made = vaultStore(sim, { VAULT_TEST_TOKEN: tokenFor(sim, policies) }, overrides);
  stores.push(made);
  return made;
}

async function syncOnce(s: VaultStore) {
  const temp = makeTempDir('vault-sync-');
  temps.push(temp);
  const db = await InventoryDb.open(temp.dir);
  expect(isInventoryWalkable(s)).toBe(true);
  const sync = new InventorySync(db, [s], { intervalMs: 3_600_000, rates: { [s.id]: { VaultRequests: 1000 } }, maxAttempts: 1 });
  syncs.push(sync);
  expect(sync.request(s.id)).toBe('started');
  await sync.idle(s.id);
  const names = (await db.index.folderPage({ storeId: s.id, folder: '/', recursive: true, limit: 100_000, namePattern: null })).items.map((i) => i.name);
  const record = await db.index.syncRecord(s.id);
  return { db, names, record, close: () => db.close() };
}

const dataRequests = () => sim.requests().filter((r) => /(^|\/)secret\/data\//.test(r.path));

describe('browsing reads metadata only', () => {
  it('lists, opens items and walks the inventory without one request to data/', async () => {
    const s = store([READ_POLICY.name]);
    const seen: unknown[] = [];
    for (const path of ['/', '/prod/', '/prod/payments/', '/bulk/']) {
      seen.push(await s.list({ path }), await s.list({ path, recursive: true }), await s.listFolders(path));
    }
    for (const item of FIXTURE.slice(0, 7)) seen.push(await s.getItem(item.name));
    const synced = await syncOnce(s);
    expect(synced.names.length).toBe(FIXTURE.length);
    await synced.close();
    expect(JSON.stringify(seen)).not.toContain(SENTINEL);
    expect(sim.requests().some((r) => r.path.startsWith('secret/metadata/'))).toBe(true);
    expect(dataRequests()).toEqual([]);
    expect(Object.keys(sim.stats().operations).filter((op) => op.includes('secret/data'))).toEqual([]);
  });

  it('the check notices a read of data/ (readValue, as reveal makes it)', async () => {
    const s = store([WRITE_POLICY.name]);
    expect(JSON.parse(await s.readValue('/motd'))).toEqual({ value: `${SENTINEL}-motd-v1` });
    expect(JSON.parse(await s.readValue('/prod/payments/stripe-key', '1'))).toEqual({ value: `${SENTINEL}-stripe-v1` });
    expect(dataRequests().map((r) => r.path)).toEqual(['secret/data/motd', 'secret/data/prod/payments/stripe-key']);
  });

  it('maps metadata: versions newest first, custom_metadata as tags and description, settings in details, age from the current version', async () => {
    const s = store([READ_POLICY.name]);
    const item = (await s.getItem('/prod/payments/stripe-key'))!;
    expect(item).toMatchObject({ kind: 'secret', currentVersion: '3', description: 'Stripe live secret key', tags: { team: 'payments', env: 'prod' } });
    expect(item.versions.map((v) => v.id)).toEqual(['3', '2', '1']);
    expect(item.lastChangedAt).toBe(item.versions[0]!.createdAt);
    expect(item.details.vault).toEqual({ maxVersions: null, casRequired: false, deleteVersionAfter: null, oldestVersion: 0, currentDeleted: false });
  });
});

describe('the inventory sync', () => {
  it('syncs a Vault store whole, every item with its metadata', async () => {
    const s = store([READ_POLICY.name]);
    const { db, names, record, close } = await syncOnce(s);
    expect(names.sort()).toEqual(FIXTURE.map((f) => f.name).sort());
    expect(record).toMatchObject({ items: FIXTURE.length, error_code: null });
    const page = await db.index.folderPage({ storeId: s.id, folder: '/prod/payments/', recursive: false, limit: 10, namePattern: null });
    expect(page.items[0]).toMatchObject({ name: '/prod/payments/stripe-key', version: '3', kind: 'secret' });
    await close();
  });

  it('skips paths that answer 403, names them in the status, and syncs the rest', async () => {
    const s = store(['partial']);
    const { names, record, close } = await syncOnce(s);
    expect(names).not.toContain('/prod/payments/stripe-key');
    expect(names).not.toContain('/dev/app/feature-flags');
    expect(names).toContain('/prod/web/allowed-origins');
    expect(names.length).toBe(FIXTURE.length - 4);
    expect(record?.error_code).toBe('access-denied');
    expect(record?.error_message).toContain('"/prod/payments/"');
    expect(record?.error_message).toContain('"/dev/app/feature-flags"');
    expect(record?.error_message).toContain('everything else synced');
    await close();
  });

  it('never sends more requests a second than the configured rate', async () => {
    // As a server configures it: the store's `rate` paces every request (logins too), the sync its walk.
    const s = store([READ_POLICY.name], { rate: 40 });
    const temp = makeTempDir('vault-rate-');
    temps.push(temp);
    const db = await InventoryDb.open(temp.dir);
    const sync = new InventorySync(db, [s], { intervalMs: 3_600_000, rates: { [s.id]: { VaultRequests: 40 } }, maxAttempts: 1 });
    syncs.push(sync);
    sim.control({ resetStats: true });
    sync.request(s.id);
    await sync.idle(s.id);
    const stats = sim.stats();
    expect(stats.totals.calls).toBeGreaterThan(FIXTURE.length);
    // Every request of the walk (LIST and GET alike), in any one-second window.
    const times = sim.requests().map((r) => Date.parse(r.time)).sort((a, b) => a - b);
    let busiest = 0;
    for (let i = 0, j = 0; i < times.length; i++) {
      while (times[i]! - times[j]! >= 1000) j++;
      busiest = Math.max(busiest, i - j + 1);
    }
    expect(busiest).toBeLessThanOrEqual(40);
    expect(busiest).toBeGreaterThan(20);
    expect((await db.index.syncRecord(s.id))?.items).toBe(FIXTURE.length);
    await db.close();
  }, 20_000);

  it('records a sealed Vault as the walk’s failure, naming the cause', async () => {
    const s = store([READ_POLICY.name]);
    await s.listFolders('/');
    sim.control({ sealed: true });
    const { record, close } = await syncOnce(s);
    expect(record).toMatchObject({ error_code: 'unavailable' });
    expect(record?.error_message).toMatch(/is sealed/);
    await close();
  });
});

describe('bad input: each gives a named error', () => {
  it('sealed', async () => {
    const s = store([READ_POLICY.name]);
    sim.control({ sealed: true });
    await expect(s.list({ path: '/' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Vault at .* is sealed; unseal it/) });
  });

  it('standby: redirected to the active node, or none known', async () => {
    const s = store([READ_POLICY.name]);
    sim.control({ standby: true, activeAddress: 'http://vault-active.internal:8200' });
    await expect(s.getItem('/motd')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/standby node and redirects to http:\/\/vault-active\.internal:8200/) });
    sim.control({ activeAddress: null });
    await expect(s.getItem('/motd')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/standby node and knows no active node/) });
    expect((await s.client.health()).standby).toBe(true);
  });

  it('403 on a path: access-denied naming the item, while other paths answer', async () => {
    const s = store(['partial']);
    await expect(s.getItem('/prod/payments/stripe-key')).rejects.toMatchObject({ code: 'access-denied', message: expect.stringContaining('/prod/payments/stripe-key') });
    // The Vault path and capability the policy must allow, as the folder listing names them.
    await expect(s.getItem('/prod/payments/stripe-key')).rejects.toMatchObject({
      message: expect.stringContaining('reading the metadata of /prod/payments/stripe-key (read on secret/metadata/prod/payments/stripe-key)'),
    });
    await expect(s.listFolders('/prod/payments/')).rejects.toMatchObject({ code: 'access-denied' });
    expect((await s.getItem('/motd'))?.name).toBe('/motd');
  });

  it('an expired token: credentials-expired, naming the variable and not the token', async () => {
    const token = tokenFor(sim, [READ_POLICY.name]);
    let shift = 0;
    const s = VaultStore.fromConfig(vaultConfig(sim), { env: { VAULT_TEST_TOKEN: token }, clock: { now: () => performance.now() + shift, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) } });
    stores.push(s);
    await s.listFolders('/');
    sim.control({ expireTokens: [token] });
    // Past the store's "token still valid" window of a few seconds.
    shift += 6_000;
    const error = await s.listFolders('/').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'credentials-expired', message: expect.stringContaining('VAULT_TEST_TOKEN') });
    expect(String((error as Error).message)).not.toContain(token);
  });

  it('a KV v1 mount is refused with a clear message', async () => {
    const v1 = await startSimulatedVault({ latencyMs: 0, mounts: [{ path: 'kv', version: 1, secrets: [{ path: 'a', versions: [{ x: '1' }] }] }] });
    try {
      const s = vaultStore(v1, { VAULT_TEST_TOKEN: v1.rootToken }, { mount: 'kv' });
      await expect(s.list({ path: '/' })).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/KV version 1.*vault kv enable-versioning kv\//) });
      s.client.close();
    } finally {
      v1.close();
    }
  });
});

describe('writes', () => {
  it('a read-only store is not writable; writable: true is', () => {
    expect(isWritable(store([READ_POLICY.name]))).toBe(false);
    expect(isWritable(store([WRITE_POLICY.name], { writable: true }))).toBe(true);
  });

  it('writes a new version with check-and-set on the version read', async () => {
    const s = store([WRITE_POLICY.name], { writable: true });
    const current = await s.readCurrentValue('/staging/payments/stripe-key');
    expect(current.version).toBe('1');
    const written = await s.writeValue({ name: '/staging/payments/stripe-key', value: JSON.stringify({ value: 'new-one' }), actor: 'alice', requestId: 'r1', basedOnVersion: current.version });
    expect(written.version).toBe('2');
    expect(JSON.parse(await s.readValue('/staging/payments/stripe-key'))).toEqual({ value: 'new-one' });
    expect((await s.inventoryRecord('/staging/payments/stripe-key'))?.currentVersion).toBe('2');
  });

  it('a concurrent writer: a conflict saying someone else wrote a new version, and nothing overwritten', async () => {
    const s = store([WRITE_POLICY.name], { writable: true });
    const read = await s.readCurrentValue('/dev/app/feature-flags');
    // Someone else writes between our read and our write.
    sim.control({ writeSecrets: [{ mount: 'secret', path: 'dev/app/feature-flags', data: { value: 'theirs' } }] });
    const error = await s.writeValue({ name: '/dev/app/feature-flags', value: JSON.stringify({ value: 'ours' }), actor: 'alice', requestId: 'r2', basedOnVersion: read.version }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect((error as Error).message).toMatch(/someone else wrote a new version of \/dev\/app\/feature-flags after version 2 was read; nothing was overwritten/);
    expect(JSON.parse(await s.readValue('/dev/app/feature-flags'))).toEqual({ value: 'theirs' });
    expect((await s.getItem('/dev/app/feature-flags'))?.currentVersion).toBe('3');
  });

  it('refuses a value that is not a key/value object', async () => {
    const s = store([WRITE_POLICY.name], { writable: true });
    await expect(s.writeValue({ name: '/motd', value: 'plain', actor: 'a', requestId: 'r3' })).rejects.toBeInstanceOf(ConflictError);
  });
});

describe('connection settings', () => {
  it('a namespace: X-Vault-Namespace on every request, the namespace’s own mount', async () => {
    const ns = await startSimulatedVault({ latencyMs: 0, namespaces: ['team-a'], mounts: [{ path: 'kv', namespace: 'team-a', secrets: [{ path: 'apps/db', versions: [{ password: 'x' }], customMetadata: { owner: 'team-a' } }] }] });
    try {
      const token = ns.control({ tokens: [{ policies: ['root'], namespace: 'team-a' }] }).tokens[0]!.client_token;
      const s = vaultStore(ns, { VAULT_TEST_TOKEN: token }, { namespace: 'team-a', mount: 'kv' });
      stores.push(s);
      expect((await s.list({ path: '/apps/' })).items.map((i) => [i.name, i.tags])).toEqual([['/apps/db', { owner: 'team-a' }]]);
      expect(ns.requests().filter((r) => r.path.startsWith('kv/')).every((r) => r.namespace === 'team-a')).toBe(true);
    } finally {
      ns.close();
    }
  });

  it('a path prefix: items below it, named without it', async () => {
    const s = store([READ_POLICY.name], { pathPrefix: 'prod/payments' });
    expect(await s.listFolders('/')).toEqual(['/db/']);
    expect((await s.list({ path: '/', recursive: true })).items.map((i) => i.name)).toEqual(['/db/host', '/db/password', '/stripe-key']);
    expect((await s.getItem('/stripe-key'))?.currentVersion).toBe('3');
  });

  it('a CA file that cannot be read fails the store’s calls, naming it, not the construction', async () => {
    const s = VaultStore.fromConfig(vaultConfig(sim, { address: 'https://127.0.0.1:1', caFile: '/nonexistent/vault-ca.pem' }), { env: { VAULT_TEST_TOKEN: 'x' } });
    await expect(s.listFolders('/')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringContaining('caFile /nonexistent/vault-ca.pem cannot be read') });
  });

  it('Vault that cannot be reached: unavailable, naming the address', async () => {
    const s = VaultStore.fromConfig(vaultConfig(sim, { address: 'http://127.0.0.1:1' }), { env: { VAULT_TEST_TOKEN: 'x' } });
    await expect(s.listFolders('/')).rejects.toMatchObject({ code: 'unavailable', message: expect.stringMatching(/Vault at http:\/\/127\.0\.0\.1:1 cannot be reached/) });
  });
});
