import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { loadCloudTrailSources } from '@/lib/cloudtrail/sources-config';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import { VaultFileSource } from '@/lib/cloudtrail/vault-file-source';
import { timelinePage } from '@/lib/data/audit-timeline';
import { itemAccessFor } from '@/lib/data/item-access';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';
import { driveRequests, startAuditedVault, STORES, VALUE_SENTINEL, type Driven } from './support';

// From Vault's audit file to a Vault item's Access panel: the simulator's device writes the calls,
// the source reads them into the event index under DATA_DIR, and the panel shows the read, the write
// and the denial to a caller allowed to audit the item, and nothing to one who is not. What the
// index stores holds no value, token or HMAC of either.

const temp = makeTempDir('vault-audit-access-');
const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL, CONFIG_FILE: process.env.CONFIG_FILE };
let sim: SimulatedVault;
let driven: Driven;

const auditor = (stores: string[] | null, paths: string[], role: Principal['grants'][number]['role'] = 'auditor'): Principal => ({
  via: 'session',
  userId: 'u-1',
  email: 'auditor@example.com',
  name: null,
  role: null,
  grants: [{ role, stores, paths }],
});

beforeAll(async () => {
  sim = await startAuditedVault(join(temp.dir, 'vault'));
  driven = await driveRequests(sim);
  // Two Vault stores on the simulator's mount, each with the audit file as its source (the path relative to CONFIG_FILE).
  const configFile = join(temp.dir, 'dashboard.yaml');
  const auth = '{ method: token, tokenEnv: VAULT_AUDIT_TEST_TOKEN }';
  writeFileSync(
    configFile,
    [
      'stores:',
      `  - { id: vault-kv, kind: vault, address: "${sim.url}", auth: ${auth} }`,
      `  - { id: vault-apps, kind: vault, address: "${sim.url}", pathPrefix: apps/prod, auth: ${auth} }`,
      'audit:',
      '  - { id: vault-kv-audit, kind: vault-file, store: vault-kv, path: vault/vault_audit.log }',
      '  - { id: vault-apps-audit, kind: vault-file, store: vault-apps, path: vault }',
      '',
    ].join('\n'),
  );
  Object.assign(process.env, { DATA_DIR: join(temp.dir, 'data'), CONFIG_FILE: configFile });
  delete process.env.DATABASE_URL;
  const { vaultSources, stores } = loadCloudTrailSources();
  expect(stores).toEqual(STORES);
  expect(vaultSources.map((c) => [c.id, c.storeId, c.prefix])).toEqual([
    ['vault-kv-audit', 'vault-kv', ''],
    ['vault-apps-audit', 'vault-apps', 'apps/prod/'],
  ]);
  const sync = new CloudTrailSync(await auditEventIndex(), vaultSources.map((c) => new VaultFileSource(c)), { intervalMs: 60_000, stores });
  const results = await sync.runOnce();
  for (const result of results.values()) expect(result.error).toBeNull();
  await sync.stop();
});
afterAll(async () => {
  await sim.close();
  await (await auditEventIndex()).close();
  for (const [key, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  temp.cleanup();
});

describe('a Vault item’s Access panel from the audit log', () => {
  it('shows the reads, the CAS writes and the denial to an auditor of the item', async () => {
    const access = (await itemAccessFor(auditor(['vault-kv'], ['/app/**']), 'vault-kv', '/app/db'))!;
    expect(access).not.toBeNull();
    // The newest successful value read: root's read of version 1.
    expect(access.lastRead).toMatchObject({ eventName: 'ReadSecretVersion', access: 'read', actor: 'root', sourceIp: '127.0.0.1', errorCode: null });
    expect(access.readers30).toEqual([expect.objectContaining({ principal: 'root', reads: 2 })]);
    const recent = access.recent.map((e) => [e.eventName, e.access, e.actor, e.errorCode, e.viaFolder]);
    expect(recent).toEqual([
      ['ReadSecretVersion', 'read', null, 'PermissionDenied', null],
      ['ReadSecretMetadata', 'read', 'approle/dash', null, null],
      ['ReadSecretVersion', 'read', 'approle/dash', 'PermissionDenied', null],
      ['ReadSecretVersion', 'read', 'root', null, null],
      ['UpdateSecret', 'write', 'root', 'CheckAndSetMismatch', null],
      ['UpdateSecret', 'write', 'root', null, null],
      ['ListSecrets', 'read', 'root', null, '/app/'],
      ['ReadSecretVersion', 'read', 'root', null, null],
    ]);
  });

  it('maps the same calls to the store with a pathPrefix, by its names', async () => {
    const access = (await itemAccessFor(auditor(['vault-apps'], ['/**']), 'vault-apps', '/api-key'))!;
    expect(access.lastRead).toMatchObject({ eventName: 'ReadSecretVersion', actor: 'approle/api' });
    expect(access.recent).toHaveLength(1);
    expect(await itemAccessFor(auditor(['vault-apps'], ['/**']), 'vault-apps', '/app/db')).toMatchObject({ lastRead: null, recent: [] });
  });

  it('gives nothing to a caller without the grant: another path, another store, or a role that may not audit', async () => {
    expect(await itemAccessFor(auditor(['vault-kv'], ['/other/**']), 'vault-kv', '/app/db')).toBeNull();
    expect(await itemAccessFor(auditor(['vault-apps'], ['/**']), 'vault-kv', '/app/db')).toBeNull();
    expect(await itemAccessFor(auditor(['vault-kv'], ['/app/**'], 'viewer'), 'vault-kv', '/app/db')).toBeNull();
  });

  it('puts the reads, writes and denials on the audit timeline, cut to the caller’s grants', async () => {
    const page = await timelinePage(auditor(['vault-kv'], ['/app/**']), {}, { limit: 50 });
    const vault = page.entries.filter((e) => e.via === 'vault-kv-audit');
    expect(vault.map((e) => `${e.action} ${e.storeId}:${e.itemName} ${e.outcome}`)).toEqual([
      'ReadSecretVersion vault-kv:/app/db error',
      'ReadSecretMetadata vault-kv:/app/db success',
      'ReadSecretVersion vault-kv:/app/db error',
      'ReadSecretVersion vault-kv:/app/db success',
      'UpdateSecret vault-kv:/app/db error',
      'UpdateSecret vault-kv:/app/db success',
      'ListSecrets vault-kv:/app/ success',
      'ReadSecretVersion vault-kv:/app/db success',
    ]);
    // The other store's events and the key outside the caller's paths are not theirs to see.
    expect(page.entries.some((e) => e.storeId === 'vault-apps' || e.itemName === '/apps/prod/api-key')).toBe(false);
    const other = await timelinePage(auditor(['vault-kv'], ['/other/**']), {}, { limit: 50 });
    expect(other.entries.filter((e) => e.source === 'cloudtrail')).toEqual([]);
  });

  it('stores no value, token, accessor or HMAC of them in the database files', async () => {
    await (await auditEventIndex()).optimize();
    const dir = process.env.DATA_DIR!;
    const files = readdirSync(dir).filter((f) => f.startsWith('audit-events.db'));
    expect(files).toContain('audit-events.db');
    const stored = files.map((f) => readFileSync(join(dir, f)).toString('latin1')).join('\n');
    // Something was stored: the events' names and the caller.
    expect(stored).toContain('ReadSecretVersion');
    expect(stored).toContain('approle/dash');
    for (const secret of [VALUE_SENTINEL, ...driven.secrets]) {
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(sim.auditHash(secret)!.slice('hmac-sha256:'.length));
    }
    expect(stored).not.toContain(sim.auditHash(`${VALUE_SENTINEL}-2`)!.slice('hmac-sha256:'.length));
    expect(stored).not.toContain('hmac-sha256');
  });
});
