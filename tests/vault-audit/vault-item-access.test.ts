import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Principal } from '@/lib/auth/principal';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { CloudTrailSync } from '@/lib/cloudtrail/sync';
import { VaultFileSource } from '@/lib/cloudtrail/vault-file-source';
import { itemAccessFor } from '@/lib/data/item-access';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';
import { driveRequests, sourceConfig, startAuditedVault, STORES, VALUE_SENTINEL, type Driven } from './support';

// From Vault's audit file to a Vault item's Access panel: the simulator's device writes the calls,
// the source reads them into the event index under DATA_DIR, and the panel shows the read, the write
// and the denial to a caller allowed to audit the item, and nothing to one who is not. What the
// index stores holds no value, token or HMAC of either.

const temp = makeTempDir('vault-audit-access-');
const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
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
  process.env.DATA_DIR = join(temp.dir, 'data');
  delete process.env.DATABASE_URL;
  sim = await startAuditedVault(join(temp.dir, 'vault'));
  driven = await driveRequests(sim);
  const file = join(temp.dir, 'vault', 'vault_audit.log');
  const sources = [new VaultFileSource(sourceConfig(file, 'vault-kv')), new VaultFileSource(sourceConfig(file, 'vault-apps'))];
  const sync = new CloudTrailSync(await auditEventIndex(), sources, { intervalMs: 60_000, stores: STORES });
  const results = await sync.runOnce();
  for (const result of results.values()) expect(result.error).toBeNull();
  await sync.stop();
});
afterAll(async () => {
  await sim.close();
  await (await auditEventIndex()).close();
  Object.assign(process.env, saved);
  if (saved.DATABASE_URL === undefined) delete process.env.DATABASE_URL;
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
