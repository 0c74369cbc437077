import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { VaultStoreConfig } from '@/lib/config/stores';
import { VaultStore } from '@/lib/stores/vault/store';
import type { SimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';
import { READ_POLICY, startFixtureVault, tokenFor, vaultConfig } from './support';

// How the Vault store gets and keeps a token: a token from the environment, AppRole and Kubernetes
// logins, renewal (renew-self) before expiry, a new login once renewal reaches the max TTL or the
// token is refused, and named errors for bad credentials. No token, secret id or service-account
// token appears in an error or a log line.

const ROLE_ID = 'role-id-7c1e';
const SECRET_ID = 'secret-id-do-not-log-91f2';
const JWT = 'eyJ.service-account.do-not-log';
const temp = makeTempDir('vault-auth-');
let sim: SimulatedVault;
const made: VaultStore[] = [];
let logged = '';

beforeAll(async () => {
  sim = await startFixtureVault({
    approles: [{ roleName: 'dashboard', roleId: ROLE_ID, secretIds: [SECRET_ID], policies: [READ_POLICY.name], tokenTtl: 600, tokenMaxTtl: 1200 }],
    kubernetesRoles: [{ name: 'dashboard', boundServiceAccountNames: ['secrets-dashboard'], boundServiceAccountNamespaces: ['tools'], policies: [READ_POLICY.name], tokenTtl: 600 }],
    serviceAccounts: [
      { jwt: JWT, name: 'secrets-dashboard', namespace: 'tools' },
      { jwt: 'eyJ.someone-else', name: 'someone-else', namespace: 'tools' },
    ],
  });
});
afterAll(() => {
  for (const s of made) s.client.close();
  sim.close();
  temp.cleanup();
});
beforeEach(() => {
  sim.control({ resetStats: true });
  logged = '';
  const write = process.stdout.write.bind(process.stdout);
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array, ...rest: unknown[]) => {
    logged += String(chunk);
    return write(chunk as string, ...(rest as []));
  });
});
afterEach(() => {
  vi.restoreAllMocks();
  expect(logged).not.toContain(SECRET_ID);
  expect(logged).not.toContain(JWT);
});

/** A store with its own clocks: `shift` moves both the token-expiry clock and the client's monotonic one. */
function store(auth: VaultStoreConfig['auth'], env: Record<string, string>) {
  const clocks = { shift: 0 };
  const s = VaultStore.fromConfig(vaultConfig(sim, { auth }), {
    env,
    now: () => Date.now() + clocks.shift,
    clock: { now: () => performance.now() + clocks.shift, sleep: (ms) => new Promise((r) => setTimeout(r, ms)) },
  });
  made.push(s);
  return { s, clocks };
}

const count = (p: string) => sim.requests().filter((r) => r.path === p).length;

describe('token from the environment', () => {
  it('looks the token up once, then browses with it', async () => {
    const { s } = store({ method: 'token', tokenEnv: 'VAULT_TOKEN_X' }, { VAULT_TOKEN_X: tokenFor(sim, [READ_POLICY.name], { ttl: '1h' }) });
    expect(await s.listFolders('/')).toContain('/prod/');
    expect(await s.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
    expect(count('auth/token/lookup-self')).toBe(1);
    expect(s.client.tokenInfo()).toMatchObject({ renewable: true, fromLogin: false });
  });

  it('a missing variable or a refused token: credentials-expired naming the variable', async () => {
    await expect(store({ method: 'token', tokenEnv: 'NOT_SET' }, {}).s.listFolders('/')).rejects.toMatchObject({ code: 'credentials-expired', message: expect.stringContaining('NOT_SET') });
    await expect(store({ method: 'token', tokenEnv: 'BAD' }, { BAD: 'hvs.not-a-token' }).s.listFolders('/')).rejects.toMatchObject({
      code: 'credentials-expired',
      message: expect.stringMatching(/refused the token in BAD/),
    });
  });

  it('renews itself before expiry (renew-self)', async () => {
    const token = tokenFor(sim, [READ_POLICY.name], { ttl: 600, explicitMaxTtl: 3600 });
    const { s, clocks } = store({ method: 'token', tokenEnv: 'T' }, { T: token });
    await s.listFolders('/');
    clocks.shift = 450_000;
    sim.control({ advanceClockMs: 450_000 });
    await s.listFolders('/');
    expect(count('auth/token/renew-self')).toBe(1);
    expect(s.client.tokenInfo()!.expiresAt! - (Date.now() + clocks.shift)).toBeGreaterThan(500_000);
  });
});

describe('AppRole', () => {
  it('logs in with the role id and secret id from the environment', async () => {
    const { s } = store({ method: 'approle', roleIdEnv: 'ROLE', secretIdEnv: 'SECRET' }, { ROLE: ROLE_ID, SECRET: SECRET_ID });
    expect((await s.getItem('/motd'))?.name).toBe('/motd');
    expect(count('auth/approle/login')).toBe(1);
    expect(s.client.tokenInfo()).toMatchObject({ fromLogin: true, renewable: true });
  });

  it('renews before expiry, and logs in again once renewal reaches the max TTL', async () => {
    const { s, clocks } = store({ method: 'approle', roleIdEnv: 'ROLE', secretIdEnv: 'SECRET' }, { ROLE: ROLE_ID, SECRET: SECRET_ID });
    await s.listFolders('/');
    const step = async (ms: number) => {
      clocks.shift += ms;
      sim.control({ advanceClockMs: ms });
      await s.listFolders('/');
    };
    await step(450_000); // 150 s left of 600: renewed to 600 s
    expect(count('auth/token/renew-self')).toBe(1);
    await step(450_000); // renewal capped at the 1200 s max TTL: 300 s
    expect(count('auth/token/renew-self')).toBe(2);
    expect(s.client.tokenInfo()?.capped).toBe(true);
    expect(count('auth/approle/login')).toBe(1);
    await step(150_000); // 150 s left, no renewal can help: a new login
    expect(count('auth/approle/login')).toBe(2);
    expect(count('auth/token/renew-self')).toBe(2);
    expect(s.client.tokenInfo()?.capped).toBe(false);
  });

  it('a token Vault no longer accepts (expired early, revoked): logs in again and the request succeeds', async () => {
    const { s, clocks } = store({ method: 'approle', roleIdEnv: 'ROLE', secretIdEnv: 'SECRET' }, { ROLE: ROLE_ID, SECRET: SECRET_ID });
    await s.listFolders('/');
    // Vault's clock runs past the TTL while ours does not (the store would otherwise renew first).
    sim.control({ advanceClockMs: 700_000 });
    clocks.shift += 6_000;
    expect(await s.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
    expect(count('auth/approle/login')).toBe(2);
  });

  it('bad credentials: credentials-expired naming the variables, never the secret id', async () => {
    const error = await store({ method: 'approle', roleIdEnv: 'ROLE', secretIdEnv: 'SECRET' }, { ROLE: ROLE_ID, SECRET: 'wrong-secret-id' }).s.listFolders('/').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'credentials-expired', message: expect.stringMatching(/AppRole login \(role id from ROLE, secret id from SECRET\) failed: Vault refused the credentials/) });
    expect((error as Error).message).not.toContain('wrong-secret-id');
  });
});

describe('Kubernetes', () => {
  it('logs in with the service-account token file', async () => {
    const file = path.join(temp.dir, 'token');
    writeFileSync(file, `${JWT}\n`);
    const { s } = store({ method: 'kubernetes', role: 'dashboard', tokenFile: file }, {});
    expect(await s.listFolders('/prod/')).toEqual(['/prod/payments/', '/prod/web/']);
    expect(count('auth/kubernetes/login')).toBe(1);
  });

  it('a service account the role does not bind, or no token file: named errors without the token', async () => {
    const file = path.join(temp.dir, 'other-token');
    writeFileSync(file, 'eyJ.someone-else');
    const refused = await store({ method: 'kubernetes', role: 'dashboard', tokenFile: file }, {}).s.listFolders('/').catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: 'credentials-expired', message: expect.stringContaining('Kubernetes login as role "dashboard" failed') });
    expect((refused as Error).message).not.toContain('eyJ');
    await expect(store({ method: 'kubernetes', role: 'dashboard', tokenFile: path.join(temp.dir, 'missing') }, {}).s.listFolders('/')).rejects.toMatchObject({
      code: 'credentials-expired',
      message: expect.stringContaining('cannot be read'),
    });
  });
});

describe('rate limit quotas', () => {
  it('waits out Retry-After within the store and succeeds', async () => {
    const { s } = store({ method: 'token', tokenEnv: 'T' }, { T: tokenFor(sim, [READ_POLICY.name]) });
    await s.listFolders('/');
    sim.control({ rateLimits: [{ name: 'tight', path: 'secret/', rate: 2, interval: 1 }] });
    try {
      const answers = await Promise.all(['/prod/payments/', '/staging/payments/', '/dev/app/', '/'].map((p) => s.list({ path: p })));
      expect(answers.every((a) => Array.isArray(a.items))).toBe(true);
      expect(sim.stats().operations['list throttled']?.throttled ?? sim.stats().operations['read throttled']?.throttled ?? 0).toBeGreaterThan(0);
    } finally {
      sim.control({ rateLimits: [] });
    }
  }, 20_000);
});
