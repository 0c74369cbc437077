// The Vault simulator with its file audit device, driven by real requests: a login, reads, a list,
// a CAS write, a read of an older version, a denied path and a refused token. The audit lines the
// tests read are the ones Vault's device wrote for them.
import { join } from 'node:path';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import type { VaultFileSourceConfig } from '@/lib/cloudtrail/sources-config';
import type { StoreLocator } from '@/lib/cloudtrail/types';
import { vaultHttp } from '../vault-sim/vault-http';

/** A value the audit file only ever holds HMAC'd; it must be nowhere in what the index stores. */
export const VALUE_SENTINEL = 'vault-audit-sentinel-value-4e1d';
export const ROOT_TOKEN = 'hvs.vault-audit-root-token-77aa';
export const APPROLE_SECRET_ID = 'vault-audit-secret-id-31c0';

/** Two Vault stores on one mount: the whole mount, and apps/prod/ only (its items named without the prefix). */
export const STORES: StoreLocator[] = [
  { storeId: 'vault-kv', kind: 'vault', prefix: '' },
  { storeId: 'vault-apps', kind: 'vault', prefix: 'apps/prod/' },
];

export function sourceConfig(path: string, storeId: 'vault-kv' | 'vault-apps' = 'vault-kv', id = `${storeId}-audit`): VaultFileSourceConfig {
  return { id, kind: 'vault-file', storeId, mount: 'secret', namespace: '', prefix: storeId === 'vault-apps' ? 'apps/prod/' : '', path };
}

export async function startAuditedVault(dir: string): Promise<SimulatedVault> {
  return startSimulatedVault({
    latencyMs: 0,
    rootToken: ROOT_TOKEN,
    policies: [
      { name: 'browse', paths: { 'secret/metadata/*': ['read', 'list'] } },
      { name: 'api-reader', paths: { 'secret/data/apps/prod/*': ['read'] } },
    ],
    approles: [
      { roleName: 'dash', roleId: 'role-dash', secretIds: [APPROLE_SECRET_ID], policies: ['browse'] },
      { roleName: 'api', roleId: 'role-api', secretIds: [APPROLE_SECRET_ID], policies: ['api-reader'] },
    ],
    namespaces: ['team-a'],
    mounts: [
      // The same mount path in a namespace: its calls are no events of the root namespace's stores.
      { path: 'secret', namespace: 'team-a', secrets: [{ path: 'app/db', versions: [{ password: `${VALUE_SENTINEL}-team-a` }] }] },
      {
        path: 'secret',
        secrets: [
          { path: 'app/db', versions: [{ password: VALUE_SENTINEL }] },
          { path: 'apps/prod/api-key', versions: [{ key: `${VALUE_SENTINEL}-api` }] },
        ],
      },
    ],
    audit: { path: join(dir, 'vault_audit.log'), salt: 'vault-audit-test-salt' },
  });
}

export interface Driven {
  /** The tokens and accessors Vault handed out (never to be found stored). */
  secrets: string[];
}

/** The calls whose audit lines the tests read. */
export async function driveRequests(sim: SimulatedVault): Promise<Driven> {
  const root = vaultHttp(sim.url, { token: ROOT_TOKEN });
  const login = async (roleId: string) => {
    const answer = await root.post('auth/approle/login', { role_id: roleId, secret_id: APPROLE_SECRET_ID }, { token: null });
    if (answer.status !== 200) throw new Error(`login: HTTP ${answer.status}`);
    return { token: answer.body.auth.client_token as string, accessor: answer.body.auth.accessor as string };
  };
  const dash = await login('role-dash');
  const api = await login('role-api');
  const expect = (what: string, status: number, wanted: number) => {
    if (status !== wanted) throw new Error(`${what}: HTTP ${status}, expected ${wanted}`);
  };
  expect('read', (await root.get('secret/data/app/db')).status, 200);
  expect('list', (await root.list('secret/metadata/app')).status, 200);
  expect('cas write', (await root.post('secret/data/app/db', { options: { cas: 1 }, data: { password: `${VALUE_SENTINEL}-2` } })).status, 200);
  expect('stale cas write', (await root.post('secret/data/app/db', { options: { cas: 1 }, data: { password: `${VALUE_SENTINEL}-3` } })).status, 400);
  expect('old version', (await root.get('secret/data/app/db?version=1')).status, 200);
  expect('denied', (await root.get('secret/data/app/db', { token: dash.token })).status, 403);
  expect('metadata', (await root.get('secret/metadata/app/db', { token: dash.token })).status, 200);
  expect('api read', (await root.get('secret/data/apps/prod/api-key', { token: api.token })).status, 200);
  expect('bad token', (await root.get('secret/data/app/db', { token: 'hvs.not-a-token' })).status, 403);
  expect('namespace read', (await root.get('secret/data/app/db', { namespace: 'team-a' })).status, 200);
  return { secrets: [ROOT_TOKEN, APPROLE_SECRET_ID, dash.token, dash.accessor, api.token, api.accessor] };
}
