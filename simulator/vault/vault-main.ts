import { readFileSync } from 'node:fs';
import type { GeneratedSet } from './vault-data-set';
import { startSimulatedVault, type SimulatedVaultOptions, type VaultMountInput } from './simulated-vault';

// `simulator/main.ts --vault`: the simulated Vault as a process (for the browser tests, the benchmark
// and the demo). Options are checked by main.ts; this builds the simulator from them.

export const VAULT_USAGE = `--vault:
  --vault-data SET         data of the KV v2 mount "secret", repeatable: demo (default; 300 secrets under team
                           folders) or generated:N (N secrets under teams/<team>/<service>/<env>/)
  --vault-token T          the root token (default "root")
  --vault-audit FILE       the file audit device writes to FILE (JSON lines, values HMAC'd)
  --vault-rate N           a global rate limit quota: N requests a second (429 beyond it)
  --vault-config FILE      a JSON object of SimulatedVaultOptions (mounts, namespaces, policies, tokens,
                           approles, kubernetesRoles, serviceAccounts, rateLimits, audit, …), under the flags
  (--seed N sets the generated data's seed, --latency MS every answer's latency)`;

export interface VaultArgs {
  data?: string[];
  token?: string;
  audit?: string;
  rate?: number;
  config?: string;
  seed?: number;
  latencyMs?: number;
}

/** A data set flag (demo, generated:N) as a GeneratedSet, or an error message. */
export function vaultDataSet(spec: string): GeneratedSet | string {
  if (spec === 'demo') return { kind: 'demo' };
  const m = /^generated:(\d+)$/.exec(spec);
  if (m && Number(m[1]) <= 10_000_000) return { kind: 'generated', count: Number(m[1]) };
  return `--vault-data is demo or generated:N (N up to 10,000,000), not "${spec}"`;
}

export async function startVault(args: VaultArgs, port: number, host: string) {
  const config = args.config ? (JSON.parse(readFileSync(args.config, 'utf8')) as SimulatedVaultOptions) : {};
  const sets = (args.data ?? (config.mounts ? [] : ['demo'])).map((s) => vaultDataSet(s) as GeneratedSet);
  const mounts: VaultMountInput[] = [...(config.mounts ?? [])];
  if (sets.length > 0) {
    const at = mounts.findIndex((m) => m.path === 'secret' && !m.namespace);
    if (at >= 0) mounts[at] = { ...mounts[at]!, data: [...(mounts[at]!.data ?? []), ...sets] };
    else mounts.push({ path: 'secret', version: 2, data: sets });
  }
  const sim = await startSimulatedVault({
    ...config,
    port,
    host,
    mounts,
    ...(args.token ? { rootToken: args.token } : {}),
    ...(args.audit ? { audit: { path: args.audit } } : {}),
    ...(args.rate !== undefined ? { rateLimits: [...(config.rateLimits ?? []), { name: 'global', path: '', rate: args.rate }] } : {}),
    ...(args.seed !== undefined ? { seed: args.seed } : {}),
    ...(args.latencyMs !== undefined ? { latencyMs: args.latencyMs } : {}),
  });
  const s = sim.stats();
  return {
    ...sim,
    summary: [
      `simulated Vault listening on ${sim.url} (${Object.entries(s.secrets).map(([m, n]) => `${m}: ${n} secrets`).join(', ')})`,
      `root token ${args.token ? 'as given (--vault-token; not printed)' : '"root" (the default)'}; latency ${s.latencyMs} ms${args.audit ? `; audit file ${args.audit}` : ''}${args.rate !== undefined ? `; rate limit ${args.rate}/s` : ''}`,
      'control: GET /__health, GET /__stats, POST /__stats/reset, POST /__control, GET /__requests',
    ],
  };
}
