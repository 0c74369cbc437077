import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { FIXTURE } from '../contract/fixture';

/** Writes FIXTURE into a writable store, version by version, as a user would have. */
export async function loadFixture(store: Pick<EmbeddedStore, 'putValue'>): Promise<void> {
  for (const item of FIXTURE) {
    for (const version of item.versions) {
      await store.putValue({
        name: item.name,
        value: version.value,
        kind: item.kind,
        description: item.description,
        tags: item.tags,
        actor: version.createdBy,
        labels: version.labels,
        at: new Date(version.createdAt),
      });
    }
  }
}
