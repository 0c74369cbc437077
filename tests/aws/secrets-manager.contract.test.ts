import { SecretsManagerStore } from '@/lib/stores/secrets-manager';
import { FIXTURE } from '../contract/fixture';
import { describeStoreContract } from '../contract/store-contract';
import { fakeSecretsManagerClient } from './support/fake-secrets-manager';

// The shared store contract against the Secrets Manager adapter. Fixture names lose their
// leading '/' in the fake, as real secret names usually do; the adapter shows them with it.
const { client, mock } = fakeSecretsManagerClient();

describeStoreContract(
  'aws secrets manager (mocked)',
  () => new SecretsManagerStore('prod-secrets', 'prod-secrets (eu-west-1)', () => client),
  {
    preservesKind: false,
    reportsChangedBy: false,
    teardown: () => mock.restore(),
  },
);


// Secrets whose real names begin with '/' map to the same item names (see secrets-manager.ts):
// the contract holds when every secret is named that way, and when the two spellings are mixed.
const slashed = fakeSecretsManagerClient({ keepLeadingSlash: FIXTURE.map((i) => i.name) });
describeStoreContract(
  'aws secrets manager, names with a leading slash (mocked)',
  () => new SecretsManagerStore('slashed-secrets', 'slashed', () => slashed.client),
  { preservesKind: false, reportsChangedBy: false, teardown: () => slashed.mock.restore() },
);

const mixed = fakeSecretsManagerClient({ keepLeadingSlash: FIXTURE.filter((_, i) => i % 2 === 1).map((i) => i.name) });
describeStoreContract(
  'aws secrets manager, both spellings mixed (mocked)',
  () => new SecretsManagerStore('mixed-secrets', 'mixed', () => mixed.client),
  { preservesKind: false, reportsChangedBy: false, teardown: () => mixed.mock.restore() },
);
