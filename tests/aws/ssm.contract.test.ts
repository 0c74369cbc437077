import { afterAll, beforeAll } from 'vitest';
import { SsmStore } from '@/lib/stores/ssm';
import type { SimulatedAws } from '@/simulator/simulated-aws';
import { describeStoreContract } from '../contract/store-contract';
import { FIXTURE_REGION, startFixtureAws } from './support/fixture-aws';
import { recordedSsmClient } from './support/recorded-clients';

// The shared store contract against the Parameter Store adapter, with AWS played by the project's
// simulated AWS holding FIXTURE, reached over the wire by the real SDK client.
let sim: SimulatedAws;
beforeAll(async () => {
  sim = await startFixtureAws();
});
afterAll(() => sim.close());

describeStoreContract('aws ssm (simulated)', () => new SsmStore('prod-params', `prod-params (${FIXTURE_REGION})`, () => recordedSsmClient(sim.url, { region: FIXTURE_REGION })), {
  preservesKind: true,
  reportsChangedBy: true,
});
