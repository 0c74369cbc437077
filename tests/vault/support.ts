// The Vault store's tests: the Vault simulator in process, loaded with the store contract's FIXTURE
// (each version's value as {"value": …}, versions written in time order; tags and description as
// custom_metadata), and Vault stores made from CONFIG_FILE-shaped entries.
import { VaultStore } from '@/lib/stores/vault/store';
import type { VaultStoreConfig } from '@/lib/config/stores';
import { startSimulatedVault, type SimulatedVaultOptions, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { FIXTURE } from '../contract/fixture';
import { vaultHttp } from '../vault-sim/vault-http';

type Capability = 'read' | 'list' | 'create' | 'update' | 'deny';
export const READ_POLICY: { name: string; paths: Record<string, Capability[]> } = { name: 'dashboard-read', paths: { 'secret/metadata/*': ['read', 'list'] } };
export const WRITE_POLICY: { name: string; paths: Record<string, Capability[]> } = {
  name: 'dashboard-write',
  paths: { 'secret/metadata/*': ['read', 'list'], 'secret/data/*': ['read', 'create', 'update'] },
};

/** A simulator holding FIXTURE in the KV v2 mount `secret` (plus whatever `options` add). */
export async function startFixtureVault(options: SimulatedVaultOptions = {}): Promise<SimulatedVault> {
  const sim = await startSimulatedVault({
    latencyMs: 0,
    ...options,
    policies: [
      READ_POLICY,
      WRITE_POLICY,
      ...(options.policies ?? []),
    ],
  });
  const writes = FIXTURE.flatMap((item) => item.versions.map((v) => ({ item, v }))).sort((a, b) => a.v.createdAt.localeCompare(b.v.createdAt));
  let last = '';
  for (const { item, v } of writes) {
    if (v.createdAt !== last) sim.control({ advanceClockMs: 1000 });
    last = v.createdAt;
    sim.control({ writeSecrets: [{ mount: 'secret', path: item.name.slice(1), data: { value: v.value } }] });
  }
  const root = vaultHttp(sim.url, { token: sim.rootToken });
  for (const item of FIXTURE) {
    const custom = { ...item.tags, ...(item.description ? { description: item.description } : {}) };
    if (Object.keys(custom).length === 0) continue;
    const answer = await root.post(`secret/metadata/${item.name.slice(1)}`, { custom_metadata: custom });
    if (answer.status !== 204 && answer.status !== 200) throw new Error(`custom_metadata for ${item.name}: HTTP ${answer.status}`);
  }
  sim.control({ resetStats: true });
  return sim;
}

/** A token with the given policies (the simulator issues it). */
export function tokenFor(sim: SimulatedVault, policies: string[], extra: Record<string, unknown> = {}): string {
  return sim.control({ tokens: [{ policies, ...extra }] }).tokens[0]!.client_token;
}

export function vaultConfig(sim: SimulatedVault, overrides: Partial<VaultStoreConfig> = {}): VaultStoreConfig {
  return {
    id: 'vault-kv',
    kind: 'vault',
    address: sim.url,
    mount: 'secret',
    auth: { method: 'token', tokenEnv: 'VAULT_TEST_TOKEN' },
    rate: 500,
    concurrency: 8,
    ...overrides,
  };
}

/** A store reading its token from a private env (never process.env). */
export function vaultStore(sim: SimulatedVault, env: Record<string, string>, overrides: Partial<VaultStoreConfig> = {}, now?: () => number): VaultStore {
  return VaultStore.fromConfig(vaultConfig(sim, overrides), { env, ...(now ? { now } : {}) });
}
