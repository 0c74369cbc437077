import { afterAll, beforeAll } from 'vitest';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import type { VaultStore } from '@/lib/stores/vault/store';
import { describeStoreContract } from '../contract/store-contract';
import { READ_POLICY, startFixtureVault, tokenFor, vaultStore } from './support';

// The shared store contract against the Vault KV v2 adapter, with Vault played by the Vault
// simulator holding FIXTURE, reached over HTTP with a token that may only list and read metadata/.
// Vault keeps no labels on versions and no author, and every item is of kind 'secret'.
let sim: SimulatedVault;
let store: VaultStore | undefined;
beforeAll(async () => {
  sim = await startFixtureVault();
});
afterAll(() => {
  store?.client.close();
  sim.close();
});

describeStoreContract(
  'vault kv v2 (simulated)',
  () => (store = vaultStore(sim, { VAULT_TEST_TOKEN: tokenFor(sim, [READ_POLICY.name]) })),
  { preservesKind: false, reportsChangedBy: false, versionLabels: false },
);
