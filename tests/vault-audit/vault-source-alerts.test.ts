import { describe, expect, it } from 'vitest';
import { sourceCoversStore } from '@/lib/alerts/conditions/sync-failing';
import type { StoreLocator } from '@/lib/cloudtrail/types';

// The sync-failing alert raises a failing audit source under the stores whose events it brings: a
// Vault audit file brings its own Vault store's (its status's region is the store's id), never an
// AWS store's, and a CloudTrail source never a Vault store's.

const VAULT: StoreLocator = { storeId: 'vault-kv', kind: 'vault', prefix: '' };
const OTHER_VAULT: StoreLocator = { storeId: 'vault-apps', kind: 'vault', prefix: 'apps/prod/' };
const SSM: StoreLocator = { storeId: 'params', kind: 'ssm', region: 'vault-kv', account: null };

describe('which stores a failing audit source concerns', () => {
  it('a Vault audit file: its own Vault store only', () => {
    const source = { kind: 'vault-file', account: null, region: 'vault-kv' };
    expect(sourceCoversStore(source, VAULT)).toBe(true);
    expect(sourceCoversStore(source, OTHER_VAULT)).toBe(false);
    // Even an AWS store whose region happened to be spelled like the store id.
    expect(sourceCoversStore(source, SSM)).toBe(false);
  });

  it('a CloudTrail source: AWS stores of its region, no Vault store', () => {
    const source = { kind: 'lookup-events', account: null, region: 'vault-kv' };
    expect(sourceCoversStore(source, SSM)).toBe(true);
    expect(sourceCoversStore(source, VAULT)).toBe(false);
  });
});
