import { SsmStore } from '@/lib/stores/ssm';
import { describeStoreContract } from '../contract/store-contract';
import { fakeSsmClient } from './support/fake-ssm';

// The shared store contract against the Parameter Store adapter, with AWS answered by an
// in-memory fake built from FIXTURE (including empty pages that still carry a NextToken).
const { client, mock } = fakeSsmClient();

describeStoreContract('aws ssm (mocked)', () => new SsmStore('prod-params', 'prod-params (eu-west-1)', () => client), {
  preservesKind: true,
  reportsChangedBy: true,
  teardown: () => mock.restore(),
});
