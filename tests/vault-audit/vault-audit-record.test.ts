import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mapRecord, VALUE_READ_EVENTS } from '@/lib/cloudtrail/event-mapping';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { parseVaultAuditLine, vaultAuditRecord, vaultErrorCode, vaultEventName } from '@/lib/cloudtrail/vault-audit-record';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';
import { driveRequests, startAuditedVault, STORES, VALUE_SENTINEL, type Driven } from './support';

// Lines of Vault's file audit device (the simulator's, written for real requests) as the index keeps
// them: one event per call, its item in each Vault store's names, read/write/denial, who and from
// where, and nothing of the request's or response's data.

const temp = makeTempDir('vault-audit-parse-');
let sim: SimulatedVault;
let driven: Driven;
let lines: Record<string, unknown>[];

const TARGET = { storeId: 'vault-kv', mount: 'secret', namespace: '' };
const APPS = { storeId: 'vault-apps', mount: 'secret', namespace: '' };
const CONTEXT = { account: null, region: null, ingestedAt: '2026-01-01T00:00:00.000Z' };

beforeAll(async () => {
  sim = await startAuditedVault(temp.dir);
  driven = await driveRequests(sim);
  lines = readFileSync(join(temp.dir, 'vault_audit.log'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => parseVaultAuditLine(l)!);
});
afterAll(async () => {
  await sim.close();
  temp.cleanup();
});

const recordsFor = (target = TARGET) => lines.map((l) => vaultAuditRecord(l, target)).filter((r): r is CloudTrailRecord => r !== null);
/** As the index stores them: once per event id (the first line of a call wins). */
const mapped = (target = TARGET) =>
  recordsFor(target)
    .filter((r, i, all) => all.findIndex((o) => o.eventID === r.eventID) === i)
    .map((r) => mapRecord(r, CONTEXT, STORES));

describe('a Vault audit line as an event', () => {
  it('one event per call on the store’s mount: logins and request lines followed by a response are not events', () => {
    expect(lines.every((l) => l !== null)).toBe(true);
    const events = mapped();
    expect(events.map((e) => [e.eventName, e.readOnly, e.errorCode])).toEqual([
      ['ReadSecretVersion', true, null],
      ['ListSecrets', true, null],
      ['UpdateSecret', false, null],
      ['UpdateSecret', false, 'CheckAndSetMismatch'],
      ['ReadSecretVersion', true, null],
      ['ReadSecretVersion', true, 'PermissionDenied'],
      ['ReadSecretMetadata', true, null],
      ['ReadSecretVersion', true, null],
      ['ReadSecretVersion', true, 'PermissionDenied'],
    ]);
    // The denied read wrote a request and a response line: one event id for both, so it is stored once.
    const ids = recordsFor().map((r) => r.eventID);
    expect(ids.filter((id, i) => ids.indexOf(id) !== i)).toHaveLength(1);
    expect(new Set(ids).size).toBe(events.length);
    expect(ids.every((id) => /^vault-vault-kv-[0-9a-f-]{36}$/.test(id!))).toBe(true);
  });

  it('maps paths under data/ and metadata/ to the items of both stores, by their names', () => {
    const whole = mapped().map((e) => e.items.map((i) => `${i.storeId}:${i.itemName}${i.version ? `@${i.version}` : ''}`).join(','));
    expect(whole).toEqual([
      'vault-kv:/app/db',
      'vault-kv:/app/',
      'vault-kv:/app/db',
      'vault-kv:/app/db',
      'vault-kv:/app/db@version:1',
      'vault-kv:/app/db',
      'vault-kv:/app/db',
      'vault-kv:/apps/prod/api-key',
      'vault-kv:/app/db',
    ]);
    // The store with pathPrefix apps/prod names the same secret without it; keys outside its prefix are no item of it.
    const apps = mapped(APPS).map((e) => e.items.map((i) => `${i.storeId}:${i.itemName}`).join(','));
    expect(apps).toContain('vault-apps:/api-key');
    expect(apps.filter((n) => n.startsWith('vault-apps:'))).toEqual(['vault-apps:/api-key']);
    expect(apps).toContain('null:/app/db');
  });

  it('who and from where: display name and role, entity, policies, the caller’s address; a refused token has no one', () => {
    const events = mapped();
    const root = events[0]!;
    expect(root).toMatchObject({ actorArn: 'root', principal: 'root', actorType: 'VaultToken', sourceIp: '127.0.0.1', eventSource: 'vault.kv', account: null, region: null });
    const denied = events[5]!;
    expect(denied).toMatchObject({ actorArn: 'approle/dash', principal: 'approle/dash', errorCode: 'PermissionDenied' });
    const identity = recordsFor()[5]!.userIdentity as Record<string, unknown>;
    expect(identity).toMatchObject({ type: 'VaultToken', displayName: 'approle', policies: ['browse', 'default'] });
    expect(identity.principalId).toMatch(/^[0-9a-f-]{36}$/);
    expect(identity.accessorFingerprint).toMatch(/^[0-9a-f]{12}$/);
    expect(events[8]).toMatchObject({ actorArn: null, principal: null, errorCode: 'PermissionDenied' });
    expect(events[7]).toMatchObject({ actorArn: 'approle/api' });
  });

  it('keeps no body, value, token or HMAC: only the operation, path, store and version number', () => {
    const stored = JSON.stringify(recordsFor()) + JSON.stringify(recordsFor(APPS));
    expect(stored).not.toContain(VALUE_SENTINEL);
    for (const secret of driven.secrets) {
      expect(stored).not.toContain(secret);
      expect(stored).not.toContain(sim.auditHash(secret)!.slice('hmac-sha256:'.length));
    }
    expect(stored).not.toContain(sim.auditHash(VALUE_SENTINEL)!.slice('hmac-sha256:'.length));
    expect(stored).not.toContain('hmac-sha256');
    for (const record of recordsFor()) expect(Object.keys(record.requestParameters!).sort()).toEqual(expect.arrayContaining(['operation', 'path', 'store']));
    expect(recordsFor()[4]!.requestParameters).toEqual({ store: 'vault-kv', operation: 'read', path: 'data/app/db', version: 1 });
  });

  it('names Vault’s operations like its API docs, and reads of data/ count as value reads', () => {
    expect(vaultEventName('delete', 'data/a')).toBe('DeleteLatestSecretVersion');
    expect(vaultEventName('update', 'destroy/a')).toBe('DestroySecretVersions');
    expect(vaultEventName('delete', 'metadata/a')).toBe('DeleteSecretMetadata');
    expect(vaultEventName('read', 'weird/a')).toBe('ReadWeird');
    expect(VALUE_READ_EVENTS).toContain('ReadSecretVersion');
    expect(VALUE_READ_EVENTS).not.toContain('ReadSecretMetadata');
    expect(vaultErrorCode('1 error occurred:\n\t* permission denied\n\n')).toBe('PermissionDenied');
    expect(vaultErrorCode('Vault is sealed')).toBe('VaultSealed');
  });

  it('keeps a namespace’s calls for its own store only, ignores other mounts and lines that are not JSON objects', () => {
    const teamA = recordsFor({ ...TARGET, namespace: 'team-a' }).map((r) => mapRecord(r, CONTEXT, STORES));
    expect(teamA.map((e) => [e.eventName, e.items.map((i) => `${i.storeId}:${i.itemName}`)])).toEqual([['ReadSecretVersion', ['vault-kv:/app/db']]]);
    expect(recordsFor({ ...TARGET, mount: 'kv' })).toEqual([]);
    expect(parseVaultAuditLine('{"time":"2026-01-01T00:00:00Z","type":"resp')).toBeNull();
    expect(parseVaultAuditLine('[1,2]')).toBeNull();
    expect(parseVaultAuditLine('not json')).toBeNull();
  });
});
