import type { VaultKeySettings } from '@/lib/stores/types';

// A Vault KV v2 secret's own settings from its metadata (never its data), and the Access panel's
// place for a store that no Vault audit log feeds.

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return (
    <div className="grid grid-cols-[10rem_1fr] gap-3 py-1.5 text-sm">
      <dt className="text-slate-500">{label}</dt>
      <dd className="break-all text-slate-900">{children}</dd>
    </div>
  );
}

export function VaultSettingsPanel({ settings, writable = false }: { settings: VaultKeySettings; writable?: boolean }) {
  return (
    <section className="rounded-lg border border-slate-200 bg-white p-4" aria-label="Vault settings" data-testid="vault-settings">
      <h2 className="mb-2 font-semibold">Vault settings</h2>
      {settings.currentDeleted && (
        <p role="status" className="mb-2 rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          The current version is deleted or destroyed in Vault: services reading this secret get no value.
          {writable && ' Rotate and generate keep the secret’s other keys, so they need a readable current version: undelete it in Vault (vault kv undelete) or write a new version there first.'}
        </p>
      )}
      <dl className="divide-y divide-slate-100">
        <Row label="Max versions">{settings.maxVersions === null ? "the mount's setting" : settings.maxVersions}</Row>
        <Row label="Check-and-set required">{settings.casRequired ? 'yes' : 'no'}</Row>
        <Row label="Delete versions after">{settings.deleteVersionAfter ?? 'never'}</Row>
        {/* Vault's oldest_version: 0 until max_versions has removed a version. */}
        <Row label="Versions kept">{settings.oldestVersion > 0 ? `from v${settings.oldestVersion}` : 'all'}</Row>
        <Row label="Current version">{settings.currentDeleted ? 'deleted or destroyed' : 'readable'}</Row>
      </dl>
    </section>
  );
}

/** In the Access panel's place for a Vault store that no vault-file audit source feeds: how to add one. */
export function VaultAccessPlaceholder({ storeId }: { storeId: string }) {
  return (
    <section className="space-y-2 rounded-lg border border-slate-200 bg-white p-4" data-testid="access-panel">
      <h2 className="font-semibold">Access</h2>
      <p className="text-sm text-slate-600">
        Who reads this secret is not known: no Vault audit log is configured for the store <span className="font-mono">{storeId}</span>. Access comes
        from Vault&apos;s file audit device; to see it here, add the file under <code className="font-mono">audit:</code> in CONFIG_FILE and restart:
      </p>
      <pre className="overflow-x-auto rounded bg-slate-50 p-2 font-mono text-xs text-slate-800" data-testid="vault-audit-example">
        {`audit:\n  - { id: ${storeId}-audit, kind: vault-file, store: ${storeId}, path: /var/log/vault/vault_audit.log }`}
      </pre>
    </section>
  );
}
