import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

vi.mock('next/navigation', () => ({ useRouter: () => ({ refresh: () => undefined }) }));

import { AccessPanel } from '@/components/access-panel';
import { InventoryStatusStrip } from '@/components/inventory-status';
import { StoreErrorBanner, withoutStoreHead } from '@/components/store-error-banner';
import { VaultAccessPlaceholder, VaultSettingsPanel } from '@/components/vault-settings-panel';
import type { InventoryStatus } from '@/lib/inventory/status-types';

// Vault stores in the UI's server-rendered parts: the store banner names the cause in words, the
// inventory strip speaks of Vault (not AWS), a secret's own settings, and the Access panel's place.

const status = (kind: InventoryStatus['kind'], error: InventoryStatus['error']): InventoryStatus => ({
  storeId: 'vault-prod',
  label: 'vault-prod',
  kind,
  live: false,
  scope: 'store',
  syncedAt: '2026-12-01T10:00:00.000Z',
  items: 12,
  walking: null,
  queued: false,
  error,
  unreadable: { items: 2, tags: 0 },
  tags: null,
  lastWalk: null,
});
const strip = (s: InventoryStatus) =>
  renderToStaticMarkup(createElement(InventoryStatusStrip, { status: s, canRefresh: false, refresh: async () => ({ ok: true as const, data: { state: 'started' as const } }) }));

describe('Vault stores in the UI', () => {
  it('a sealed Vault: the banner names the store, the cause in words and what to do', () => {
    const html = renderToStaticMarkup(
      createElement(StoreErrorBanner, { storeId: 'vault-prod', code: 'unavailable', message: 'Vault at http://127.0.0.1:8200 is sealed; unseal it (vault operator unseal).' }),
    );
    // The code beside the words only where they differ: not "unavailable (unavailable)".
    expect(html).toContain('Store “vault-prod” could not be read: unavailable.');
    expect(html).toContain('is sealed; unseal it');
    const token = renderToStaticMarkup(createElement(StoreErrorBanner, { storeId: 'vault-prod', code: 'credentials-expired', message: 'expired' }));
    expect(token).toContain('could not be read: credentials refused or expired (credentials-expired)');
  });

  it('the banner does not name the store twice: a message starting with it starts with the cause', () => {
    const message = 'Store "vault-prod": the mount "legacy/" is KV version 1, which keeps no versions or metadata.';
    const html = renderToStaticMarkup(createElement(StoreErrorBanner, { storeId: 'vault-prod', code: 'unavailable', message }));
    expect(html).toContain('>The mount &quot;legacy/&quot; is KV version 1');
    expect(html).not.toContain('Store &quot;vault-prod&quot;');
    expect(withoutStoreHead('vault-prod', message)).toBe('The mount "legacy/" is KV version 1, which keeps no versions or metadata.');
    // Another store's name, or none, is kept as it is.
    expect(withoutStoreHead('vault-dev', message)).toBe(message);
    expect(withoutStoreHead('vault-prod', 'Vault is sealed.')).toBe('Vault is sealed.');
  });

  it('paths the policy refused: the strip says the Vault sync completed except there; an AWS store keeps its wording', () => {
    const refused = { code: 'access-denied', message: 'Vault refused LIST on secret/metadata/hr/', at: '2026-12-01T10:00:00.000Z', partial: true as const };
    const vault = strip(status('vault', refused));
    expect(vault).toContain("completed, except under paths Vault&#x27;s policy refused (access-denied)");
    expect(vault).toContain('secret/metadata/hr/');
    expect(vault).not.toContain('AWS');
    expect(vault).toContain('2 items could not be read (Vault&#x27;s policy refused their metadata');
    expect(strip(status('ssm', refused))).toContain('completed, except under name prefixes AWS refused (access-denied)');
  });

  it("a secret's settings: max versions, check-and-set, deletion after, and a current version that is deleted", () => {
    const html = renderToStaticMarkup(
      createElement(VaultSettingsPanel, { settings: { maxVersions: 5, casRequired: true, deleteVersionAfter: '768h0m0s', oldestVersion: 2, currentDeleted: true } }),
    );
    expect(html).toMatch(/Max versions<\/dt><dd[^>]*>5</);
    expect(html).toMatch(/Check-and-set required<\/dt><dd[^>]*>yes</);
    expect(html).toMatch(/Delete versions after<\/dt><dd[^>]*>768h0m0s</);
    expect(html).toMatch(/Versions kept<\/dt><dd[^>]*>from v2</);
    expect(html).toContain('The current version is deleted or destroyed in Vault');
    expect(html).not.toContain('vault kv undelete');
    const writable = renderToStaticMarkup(
      createElement(VaultSettingsPanel, { settings: { maxVersions: 5, casRequired: true, deleteVersionAfter: null, oldestVersion: 2, currentDeleted: true }, writable: true }),
    );
    expect(writable).toContain('undelete it in Vault (vault kv undelete)');
    const plain = renderToStaticMarkup(
      createElement(VaultSettingsPanel, { settings: { maxVersions: null, casRequired: false, deleteVersionAfter: null, oldestVersion: 0, currentDeleted: false } }),
    );
    expect(plain).toMatch(/Max versions<\/dt><dd[^>]*>the mount&#x27;s setting</);
    expect(plain).toMatch(/Delete versions after<\/dt><dd[^>]*>never</);
    expect(plain).toMatch(/Versions kept<\/dt><dd[^>]*>all</);
    expect(plain).not.toContain('deleted or destroyed in Vault:');
  });

  it('the Access panel’s place names where Vault access comes from; the panel itself names its source', () => {
    const placeholder = renderToStaticMarkup(createElement(VaultAccessPlaceholder, { storeId: 'vault-ro' }));
    expect(placeholder).toMatch(/no Vault audit log is configured for the store <span[^>]*>vault-ro<\/span>/);
    expect(placeholder).toMatch(/under <code[^>]*>audit:<\/code> in CONFIG_FILE/);
    expect(placeholder).toContain('- { id: vault-ro-audit, kind: vault-file, store: vault-ro, path: /var/log/vault/vault_audit.log }');
    const access = { lastRead: null, readers30: [], readers90: [], newReaderDays: 30, recent: [] };
    const vault = renderToStaticMarkup(createElement(AccessPanel, { access, auditHref: '/audit', source: "Vault's audit log" }));
    expect(vault).toContain('never, as far as Vault&#x27;s audit log tells');
    expect(vault).not.toContain('CloudTrail');
    expect(renderToStaticMarkup(createElement(AccessPanel, { access, auditHref: '/audit' }))).toContain('never, as far as CloudTrail tells');
  });
});
