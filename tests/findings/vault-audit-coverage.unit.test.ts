import { describe, expect, it } from 'vitest';
import type { SourceState } from '@/lib/cloudtrail/types';
import { auditedVaultStores } from '@/lib/findings/vault-audit-coverage';

// Which Vault stores' reads are known: a vault-file source configured for the store that has read
// its files at least once. A source left in the index but no longer configured covers nothing.

const state = (sourceId: string, over: Partial<SourceState> = {}): SourceState => ({
  sourceId,
  kind: 'vault-file',
  account: null,
  region: 'vault-kv',
  cursor: null,
  lastEventTime: '2026-12-01T00:00:00.000Z',
  lastSuccessAt: '2026-12-01T00:05:00.000Z',
  eventsIndexed: 10,
  lastError: null,
  ...over,
});

describe('auditedVaultStores', () => {
  it.each([
    ['a configured source that has read its files', [{ id: 'kv-audit', storeId: 'vault-kv' }], [state('kv-audit')], ['vault-kv']],
    ['a configured source that has read its files, though failing since', [{ id: 'kv-audit', storeId: 'vault-kv' }], [state('kv-audit', { lastError: { message: 'gone', at: '2026-12-02T00:00:00.000Z' } })], ['vault-kv']],
    ['a configured source that has not read yet', [{ id: 'kv-audit', storeId: 'vault-kv' }], [state('kv-audit', { lastSuccessAt: null })], []],
    ['a configured source never run', [{ id: 'kv-audit', storeId: 'vault-kv' }], [], []],
    ['a source no longer configured (its state and events left in the index)', [], [state('kv-audit')], []],
    ['a CloudTrail source of the same id', [{ id: 'kv-audit', storeId: 'vault-kv' }], [state('kv-audit', { kind: 'lookup-events' })], []],
    [
      'two stores, one covered',
      [
        { id: 'kv-audit', storeId: 'vault-kv' },
        { id: 'apps-audit', storeId: 'vault-apps' },
      ],
      [state('kv-audit'), state('apps-audit', { lastSuccessAt: null })],
      ['vault-kv'],
    ],
  ] as const)('%s', (_name, configured, states, expected) => {
    expect([...auditedVaultStores(configured, states as readonly SourceState[])]).toEqual(expected);
  });
});
