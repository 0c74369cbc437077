import { readEnv } from './env';

// Which stores the dashboard shows. Without CONFIG_FILE only the embedded store is configured.
export type StoreConfig = { id: string; kind: 'local'; label?: string };

export function loadStoreConfigs(env = readEnv()): StoreConfig[] {
  void env;
  return [{ id: 'local', kind: 'local', label: 'Built-in encrypted store' }];
}
