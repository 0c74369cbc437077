import { afterAll, afterEach, beforeAll } from 'vitest';
import type { InventorySync } from '@/lib/inventory/sync';

/**
 * The hooks every inventory-sync suite against the simulated AWS needs: the SDK's credentials set
 * to the simulator's (and no instance metadata), each test's syncs stopped after it, and the
 * temporary folders removed at the end. The suite pushes what it opens onto the arrays returned.
 */
export function useSyncHarness(): { temps: { cleanup: () => void }[]; syncs: InventorySync[] } {
  const temps: { cleanup: () => void }[] = [];
  const syncs: InventorySync[] = [];
  beforeAll(() => {
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000',
      AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key',
      AWS_SESSION_TOKEN: '',
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  });
  afterEach(async () => {
    await Promise.all(syncs.splice(0).map((s) => s.stop()));
  });
  afterAll(() => {
    for (const t of temps.splice(0)) t.cleanup();
  });
  return { temps, syncs };
}
