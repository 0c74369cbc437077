import { dataSetPaths, generatedEntry } from '../../simulator/vault/vault-data-set';

// The 'vault' browser project's stores (playwright.config.ts writes them to CONFIG_FILE): the
// built-in store and two Vault stores on one simulated Vault holding the simulator's demo set
// (simulator/main.ts --vault --vault-data demo): a writable one over the whole KV v2 mount, whose
// Access comes from the simulator's audit file, and a read-only one under a path prefix. Shared by
// the config and the specs.

/** The simulator's root token, handed to the server in an environment variable (never in the file). */
export const VAULT_TOKEN = 'e2e-vault-root-token';
export const VAULT_TOKEN_ENV = 'E2E_VAULT_TOKEN';

export const VAULT_RW_STORE = 'vault-rw';
export const VAULT_RO_STORE = 'vault-ro';
/** The read-only store's path prefix: its items show as /<app>/<name>. */
export const VAULT_RO_PREFIX = 'identity';

/**
 * The simulated Vault's file audit device writes here, relative to the folder of CONFIG_FILE (E2E_VAULT_DIR):
 * the config names it relatively, the simulator absolutely. The writable store's Access comes from it.
 */
export const VAULT_AUDIT_FILE = 'vault-audit/vault_audit.log';
export const VAULT_AUDIT_SOURCE = 'vault-rw-audit';

/**
 * A client of the simulated Vault with a token of its own (e2e/vault-access.spec.ts): it reads one
 * secret's data and is refused another's by a policy that denies it. Paths no other spec reads.
 */
export const VAULT_CLIENT = {
  displayName: 'token-e2e-payouts-reader',
  token: 'hvs.e2e-payouts-reader-token-6c1f0a',
  policy: 'e2e-payouts-reader',
  readPath: 'payments/payouts/webhook-secret',
  deniedPath: 'payments/card-vault/api-key',
} as const;

/** A demo secret of two keys (username, password) that the rotate test writes to; no other spec touches it. */
export const VAULT_ROTATED_PATH = 'payments/checkout-api/db-password';

export function vaultStoresYaml(vaultUrl: string): string {
  return [
    'stores:',
    '  - id: local',
    '    kind: local',
    `  - id: ${VAULT_RW_STORE}`,
    '    kind: vault',
    `    address: ${vaultUrl}`,
    `    auth: { method: token, tokenEnv: ${VAULT_TOKEN_ENV} }`,
    '    writable: true',
    '    rate: 500',
    '    concurrency: 8',
    `  - id: ${VAULT_RO_STORE}`,
    '    kind: vault',
    `    address: ${vaultUrl}`,
    `    pathPrefix: ${VAULT_RO_PREFIX}`,
    `    auth: { method: token, tokenEnv: ${VAULT_TOKEN_ENV} }`,
    '    rate: 500',
    // The read-only store has no audit source: its items show how to configure one.
    'audit:',
    `  - { id: ${VAULT_AUDIT_SOURCE}, kind: vault-file, store: ${VAULT_RW_STORE}, path: ${VAULT_AUDIT_FILE} }`,
    '',
  ].join('\n');
}

/**
 * A demo secret under `prefix` whose history has a deleted or destroyed version, as the simulator
 * generates it (its data set is derived from each path and the seed, 1 by default). The simulator
 * deletes only a secret's latest version, so a deleted one is the current version.
 */
export function demoPathWithLabel(prefix: string, label: 'deleted' | 'destroyed'): { path: string; version: number } {
  for (const path of dataSetPaths({ kind: 'demo' })) {
    if (!path.startsWith(prefix)) continue;
    const entry = generatedEntry(path, 1, Date.now());
    for (const [version, v] of entry.versions) {
      if (label === 'destroyed' ? v.destroyed : v.deleted !== null && !v.destroyed) return { path, version };
    }
  }
  throw new Error(`no demo secret under ${prefix} has a ${label} version`);
}
