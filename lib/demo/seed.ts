import 'server-only';
import type { EmbeddedStore } from '@/lib/stores/embedded/store';
import { buildDemoItems } from './demo-data';

/**
 * Fills an empty embedded store with the demo data set in one transaction; returns the item count,
 * or 0 when the store already held items (another replica seeded it first) and nothing was written.
 */
export async function seedDemoData(store: EmbeddedStore, now = new Date()): Promise<number> {
  const items = buildDemoItems(now);
  const written = await store.putManyIntoEmptyStore(
    items.flatMap((item) =>
      item.versions.map((v) => ({
        name: item.name,
        value: v.value,
        kind: item.kind,
        description: v.description !== undefined ? v.description : item.description,
        tags: v.tags ?? item.tags,
        actor: v.actor,
        labels: v.labels,
        at: v.at,
      })),
    ),
  );
  if (!written) return 0;
  // After the values: a successful write clears an item's recorded failure.
  for (const item of items) if (item.rotationFailure) await store.recordRotationFailure(item.name, item.rotationFailure, now);
  return items.length;
}
