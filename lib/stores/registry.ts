import 'server-only';
import { loadStoreConfigs, type StoreConfig } from '@/lib/config/stores';
import { readEnv } from '@/lib/config/env';
import { seedDemoData } from '@/lib/demo/seed';
import { logger } from '@/lib/logger';
import { getKeyring } from '@/lib/crypto/keyring';
import { EmbeddedStore } from './embedded/store';
import { SecretsManagerStore } from './secrets-manager';
import { SsmStore } from './ssm';
import { VaultStore } from './vault/store';
import type { SecretStore } from './types';

// The configured stores, opened once per server process. Pages and route handlers reach stores
// only through here (and, for permissions, through lib/auth once it exists).

const globalForRegistry = globalThis as unknown as { __storeRegistry?: Promise<SecretStore[]> };

async function createStore(config: StoreConfig): Promise<SecretStore> {
  switch (config.kind) {
    case 'local': {
      const env = readEnv();
      // DATABASE_URL: the "builtin" schema of that database (MASTER_KEY required); else DATA_DIR/secrets.db.
      // Opened once per process with the keyring (the master key and the audit chain key live there).
      const opened = await getKeyring();
      const created = opened.created;
      const store = await EmbeddedStore.fromOpened(config.id, config.label ?? 'Built-in encrypted store', opened);
      if (created)
        logger.info({ store: config.id, ...(env.DATABASE_URL ? { database: 'postgres' } : { dataDir: env.DATA_DIR }) }, 'created the embedded store');
      if (env.DEMO_DATA && (await store.count()) === 0) {
        const seeded = await seedDemoData(store);
        if (seeded > 0) logger.info({ store: config.id, items: seeded }, 'seeded demo data');
      }
      return store;
    }
    // AWS stores open lazily: no AWS call until a page asks, so start-up works offline.
    case 'ssm':
      return SsmStore.fromConfig(config);
    case 'secretsmanager':
      return SecretsManagerStore.fromConfig(config);
    // Vault too: the first call logs in.
    case 'vault':
      return VaultStore.fromConfig(config);
  }
}

async function build(): Promise<SecretStore[]> {
  const stores: SecretStore[] = [];
  for (const config of loadStoreConfigs()) stores.push(await createStore(config));
  return stores;
}

/** Every configured store, opened once per process; throws the first failure (start-up, /api/health). */
export function getStores(): Promise<SecretStore[]> {
  if (!globalForRegistry.__storeRegistry) {
    globalForRegistry.__storeRegistry = build();
    // A failed open is not cached, so a fixed configuration works without a restart.
    globalForRegistry.__storeRegistry.catch(() => (globalForRegistry.__storeRegistry = undefined));
  }
  return globalForRegistry.__storeRegistry;
}

export async function getStore(id: string): Promise<SecretStore | null> {
  return (await getStores()).find((s) => s.id === id) ?? null;
}
