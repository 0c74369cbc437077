import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { resetFreshnessPolicies } from '@/lib/freshness/policies';
import { closeInventoryDb } from '@/lib/inventory/inventory';
import { getStores } from '@/lib/stores/registry';
import { useDatabase, type DatabaseKind } from './databases';

// The data layer of a dashboard on `configYaml` and a database of either kind, for tests that fill its
// inventory themselves (walkInto) and then read what each caller may see: env set as a server's, the
// process's store registry and freshness policies forgotten so they open on it, the stores opened.

/** Opens it under `dir`; `close` closes the stores and the inventory and forgets them. */
export async function openInventoryDashboard(dir: string, configYaml: string, database: DatabaseKind): Promise<{ close(): Promise<void> }> {
  const config = path.join(dir, 'dashboard.yaml');
  writeFileSync(config, configYaml);
  delete process.env.MASTER_KEY;
  Object.assign(process.env, { DATA_DIR: path.join(dir, 'data'), CONFIG_FILE: config, DEMO_DATA: '0', LOG_LEVEL: 'silent' });
  const undoDatabase = (await useDatabase(database)).cleanup;
  forgetStores();
  resetFreshnessPolicies();
  await getStores();
  return {
    close: async () => {
      for (const store of await getStores()) await (store as { close?: () => Promise<void> }).close?.();
      await closeInventoryDb();
      forgetStores();
      await undoDatabase();
    },
  };
}

function forgetStores(): void {
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
}
