import { describe } from 'vitest';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { describeStoreContract } from '../contract/store-contract';
import { loadFixture } from '../support/load-fixture';
import { DATABASES } from '../support/databases';
import { builtinTarget, newKey, type BuiltinTarget } from './builtin-target';

describe.each(DATABASES)('built-in store on %s', (kind) => {
  let target: BuiltinTarget;
  let store: EmbeddedStore;

  describeStoreContract(
    `embedded (${kind})`,
    async () => {
      target = await builtinTarget(kind);
      store = (await EmbeddedStore.open('local', 'Built-in', target.options(newKey()))).store;
      await loadFixture(store);
      return store;
    },
    {
      preservesKind: true,
      reportsChangedBy: true,
      teardown: async () => {
        await store?.close();
        await target?.cleanup();
      },
    },
  );
});
