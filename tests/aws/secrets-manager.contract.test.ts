import { afterAll, beforeAll } from 'vitest';
import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { FIXTURE } from '../contract/fixture';
import { describeStoreContract } from '../contract/store-contract';
import { FIXTURE_REGION, startFixtureAws, type FixtureAwsOptions } from './support/fixture-aws';
import { recordedSecretsManagerClient } from './support/recorded-clients';

// The shared store contract against the Secrets Manager adapter, with AWS played by the project's
// simulated AWS holding FIXTURE. Fixture names lose their leading '/' there, as real secret names
// usually do; the adapter shows them with it.
const sims: SimulatedAws[] = [];
afterAll(() => Promise.all(sims.map((sim) => sim.close())));

/** A store over its own simulator, started before the contract's tests run. */
function storeOn(id: string, options: FixtureAwsOptions = {}) {
  let store: SecretsManagerStore;
  beforeAll(async () => {
    const sim = await startFixtureAws(options);
    sims.push(sim);
    store = new SecretsManagerStore(id, `${id} (${FIXTURE_REGION})`, () => recordedSecretsManagerClient(sim.url, { region: FIXTURE_REGION }));
  });
  return () => store;
}

const contract = { preservesKind: false, reportsChangedBy: false } as const;

describeStoreContract('aws secrets manager (simulated)', storeOn('prod-secrets'), contract);

// Secrets whose real names begin with '/' map to the same item names (see secrets-manager.ts):
// the contract holds when every secret is named that way, and when the two spellings are mixed.
describeStoreContract('aws secrets manager, names with a leading slash (simulated)', storeOn('slashed-secrets', { keepLeadingSlash: FIXTURE.map((i) => i.name) }), contract);

describeStoreContract(
  'aws secrets manager, both spellings mixed (simulated)',
  storeOn('mixed-secrets', { keepLeadingSlash: FIXTURE.filter((_, i) => i % 2 === 1).map((i) => i.name) }),
  contract,
);
