import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { describeStoreContract } from '../contract/store-contract';
import { loadFixture } from '../support/load-fixture';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir();
let store: EmbeddedStore;

describeStoreContract(
  'embedded',
  async () => {
    store = EmbeddedStore.open('local', 'Built-in', { dataDir: temp.dir }).store;
    await loadFixture(store);
    return store;
  },
  {
    preservesKind: true,
    reportsChangedBy: true,
    teardown: async () => {
      await store.close();
      temp.cleanup();
    },
  },
);
