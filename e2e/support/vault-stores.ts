import type { SimulatedVaultOptions } from '../../simulator/vault/simulated-vault';
import { dataSetPaths, generatedEntry, VALUE_SENTINEL } from '../../simulator/vault/vault-data-set';

// The 'vault' browser project's stores (playwright.config.ts writes them to CONFIG_FILE): the
// built-in store and two Vault stores on one simulated Vault holding the simulator's demo set
// (simulator/main.ts --vault --vault-data demo): a writable one over the whole KV v2 mount, whose
// Access comes from the simulator's audit file, and a read-only one under a path prefix. Shared by
// the config and the specs.

/** The simulator's root token, handed to the server in an environment variable (never in the file). */
export const VAULT_TOKEN = 'e2e-vault-root-token';
export const VAULT_TOKEN_ENV = 'E2E_VAULT_TOKEN';

export const VAULT_RW_STORE = 'vault-rw';
/** A signed-in user whose grant covers the built-in store only (the spec creates the account). */
export const LOCAL_ONLY_USER = { email: 'local-only@example.com', password: 'e2e-local-only-password-42' } as const;
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

/**
 * The second simulated Vault (E2E_SIMULATED_VAULT_FAULTS_URL), whose state e2e/vault-errors.spec.ts flips
 * (sealed, standby, an expired token): the demo set again, a KV v1 mount, a token whose policy refuses
 * one folder and a token the spec expires. Each store below reads it one way.
 */
export const FAULT_STORES = {
  /** Root token on the whole demo set; sealed and standby are toggled on the simulator. */
  faults: 'vault-faults',
  /** A policy that refuses the metadata under DENIED_FOLDER. */
  denied: 'vault-denied',
  /** A token the spec expires (and issues again). */
  expiring: 'vault-expiring',
  /** A KV version 1 mount, which the dashboard cannot read. */
  kv1: 'vault-kv1',
} as const;
/** The folder the vault-denied store's policy refuses (its items keep out of the inventory). */
export const DENIED_FOLDER = 'payments';
export const KV1_MOUNT = 'legacy';
export const DENIED_TOKEN = 'e2e-vault-denied-token';
export const DENIED_TOKEN_ENV = 'E2E_VAULT_DENIED_TOKEN';
export const EXPIRING_TOKEN = 'e2e-vault-expiring-token';
export const EXPIRING_TOKEN_ENV = 'E2E_VAULT_EXPIRING_TOKEN';
/** The tokens the faults simulator knows besides the root token (VAULT_TOKEN), as its control endpoint takes them. */
export const FAULT_TOKENS = [
  { id: DENIED_TOKEN, policies: ['default', 'all-but-one-folder'], displayName: 'e2e-denied' },
  { id: EXPIRING_TOKEN, policies: ['default', 'read-metadata'], displayName: 'e2e-expiring' },
];

/** The faults simulator's --vault-config (SimulatedVaultOptions as JSON). */
export function faultsVaultConfig(): SimulatedVaultOptions {
  return {
    rootToken: VAULT_TOKEN,
    latencyMs: 0,
    mounts: [
      { path: 'secret', version: 2, data: [{ kind: 'demo' }] },
      { path: KV1_MOUNT, version: 1, secrets: [{ path: 'billing/invoices/db-password', versions: [{ password: `${VALUE_SENTINEL}-kv1` }] }] },
    ],
    policies: [
      {
        name: 'all-but-one-folder',
        paths: { 'secret/metadata/*': ['list', 'read'], [`secret/metadata/${DENIED_FOLDER}/*`]: ['deny'] },
      },
      { name: 'read-metadata', paths: { 'secret/metadata/*': ['list', 'read'] } },
    ],
    tokens: FAULT_TOKENS,
  };
}

export function vaultStoresYaml(vaultUrl: string, faultsUrl: string): string {
  const faultStore = (id: string, tokenEnv: string, extra: string[] = []) => [
    `  - id: ${id}`,
    '    kind: vault',
    `    address: ${faultsUrl}`,
    `    auth: { method: token, tokenEnv: ${tokenEnv} }`,
    '    rate: 500',
    ...extra,
  ];
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
    ...faultStore(FAULT_STORES.faults, VAULT_TOKEN_ENV, ['    pathPrefix: search']),
    ...faultStore(FAULT_STORES.denied, DENIED_TOKEN_ENV),
    ...faultStore(FAULT_STORES.expiring, EXPIRING_TOKEN_ENV, ['    pathPrefix: mobile']),
    ...faultStore(FAULT_STORES.kv1, VAULT_TOKEN_ENV, [`    mount: ${KV1_MOUNT}`]),
    // The read-only store has no audit source: its items show how to configure one.
    'audit:',
    `  - { id: ${VAULT_AUDIT_SOURCE}, kind: vault-file, store: ${VAULT_RW_STORE}, path: ${VAULT_AUDIT_FILE} }`,
    // A viewer of the built-in store only: the Vault stores' pages and API answers must hold nothing for them.
    'grants:',
    `  - user: ${LOCAL_ONLY_USER.email}`,
    '    role: viewer',
    "    paths: ['/**']",
    '    stores: [local]',
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
