import type { VaultFileSourceConfig } from '@/lib/cloudtrail/sources-config';
import type { SourceState } from '@/lib/cloudtrail/types';

// Whether a Vault store's reads are known: only Vault's audit log records them, so the controls
// that rest on reads (not read recently, new reader, old version read) are asked of a Vault store
// only while a vault-file audit source configured for it has read its files. Without one, every
// secret would look unread; with one no longer configured, its old events would go stale in the
// index and every secret would drift into "not read" too.

/** The Vault stores a configured vault-file source covers and has read at least once. */
export function auditedVaultStores(configured: readonly Pick<VaultFileSourceConfig, 'id' | 'storeId'>[], states: readonly SourceState[]): Set<string> {
  const read = new Set(states.filter((s) => s.kind === 'vault-file' && s.lastSuccessAt !== null).map((s) => s.sourceId));
  return new Set(configured.filter((c) => read.has(c.id)).map((c) => c.storeId));
}
