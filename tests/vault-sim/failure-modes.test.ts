import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { vaultHttp } from './vault-http';

// sys/health with Vault's status codes, a sealed node (503), a standby that does not forward (307 to
// the active node's address, or 500 when none is known), an uninitialised node (501 from health), and
// rate limit quotas answered 429 with Retry-After, per mount or globally.

let sim: SimulatedVault;
let v: ReturnType<typeof vaultHttp>;

beforeAll(async () => {
  sim = await startSimulatedVault({ latencyMs: 0, mounts: [{ path: 'secret', secrets: [{ path: 'a', versions: [{ x: '1' }] }] }, { path: 'other', secrets: [{ path: 'b', versions: [{ y: '1' }] }] }] });
  v = vaultHttp(sim.url, { token: sim.rootToken });
});
afterAll(() => sim.close());
beforeEach(() => sim.control({ sealed: false, standby: false, initialized: true, activeAddress: null, rateLimits: [], resetStats: true }));

describe('sys/health', () => {
  it('answers 200 active, 429 standby (200 with standbyok), 503 sealed, 501 not initialised, without a token', async () => {
    const active = await v.get('sys/health', { token: null });
    expect(active.status).toBe(200);
    expect(active.body).toMatchObject({ initialized: true, sealed: false, standby: false, performance_standby: false, version: expect.any(String), cluster_id: expect.any(String) });
    sim.control({ standby: true });
    expect((await v.get('sys/health')).status).toBe(429);
    expect((await v.get('sys/health?standbyok=true')).status).toBe(200);
    expect((await v.get('sys/health')).body.standby).toBe(true);
    sim.control({ standby: false, sealed: true });
    const sealed = await v.get('sys/health');
    expect(sealed).toMatchObject({ status: 503, body: { sealed: true } });
    expect((await v.get('sys/health?sealedcode=200')).status).toBe(200);
    sim.control({ sealed: false, initialized: false });
    expect(await v.get('sys/health')).toMatchObject({ status: 501, body: { initialized: false } });
    const head = await fetch(`${sim.url}/v1/sys/health`, { method: 'HEAD' });
    expect(head.status).toBe(501);
  });
});

describe('sealed and standby', () => {
  it('answers every other request 503 "Vault is sealed" while sealed, and serves again once unsealed', async () => {
    sim.control({ sealed: true });
    expect(await v.list('secret/metadata/')).toMatchObject({ status: 503, body: { errors: ['Vault is sealed'] } });
    expect((await v.post('auth/approle/login', { role_id: 'x', secret_id: 'y' }, { token: null })).status).toBe(503);
    expect((await v.get('sys/seal-status')).body).toMatchObject({ sealed: true, type: 'shamir' });
    sim.control({ sealed: false });
    expect((await v.list('secret/metadata/')).status).toBe(200);
  });

  it('as a standby without request forwarding: 307 to the active node, or 500 when none is known', async () => {
    sim.control({ standby: true, activeAddress: 'http://vault-active.internal:8200' });
    const redirected = await v.get('secret/data/a?version=1');
    expect(redirected.status).toBe(307);
    expect(redirected.headers.get('location')).toBe('http://vault-active.internal:8200/v1/secret/data/a?version=1');
    expect((await v.get('sys/leader')).body).toMatchObject({ ha_enabled: true, is_self: false, leader_address: 'http://vault-active.internal:8200' });
    sim.control({ activeAddress: null });
    expect(await v.list('secret/metadata/')).toMatchObject({ status: 500, body: { errors: ['local node not active but active cluster node not found'] } });
    expect(sim.stats().operations['list standby']?.calls).toBe(1);
    // Refused requests are in the request log too, with the path as sent.
    expect(sim.requests().map((r) => [r.method, r.path, r.status])).toEqual([
      ['GET', 'secret/data/a', 307],
      ['LIST', 'secret/metadata/', 500],
    ]);
  });
});

describe('rate limit quotas', () => {
  it('answers 429 with Vault’s message and Retry-After beyond a mount’s rate, and leaves other mounts alone', async () => {
    // Per minute, so the bucket does not refill while a loaded machine sends the twelve.
    sim.control({ rateLimits: [{ name: 'secret-mount', path: 'secret/', rate: 5, interval: 60 }] });
    const answers = await Promise.all(Array.from({ length: 12 }, () => v.get('secret/data/a')));
    const limited = answers.filter((a) => a.status === 429);
    expect(answers.filter((a) => a.status === 200).length).toBe(5);
    expect(limited.length).toBe(7);
    expect(limited[0]!.body).toEqual({ errors: ['request path "secret/data/a": rate limit quota exceeded'] });
    expect(limited[0]!.headers.get('retry-after')).toBe('60');
    expect(limited[0]!.headers.get('x-ratelimit-limit')).toBe('5');
    expect((await v.get('other/data/b')).status).toBe(200);
    expect(sim.stats().operations['read throttled']?.throttled).toBe(7);
  });

  it('applies a global quota to every path but sys/health, and the most specific quota wins', async () => {
    sim.control({ rateLimits: [{ name: 'global', rate: 2, interval: 60 }, { name: 'other', path: 'other/', rate: 100, interval: 60 }] });
    const global = await Promise.all(Array.from({ length: 4 }, () => v.get('secret/data/a')));
    expect(global.map((a) => a.status).sort()).toEqual([200, 200, 429, 429]);
    const other = await Promise.all(Array.from({ length: 10 }, () => v.get('other/data/b')));
    expect(other.every((a) => a.status === 200)).toBe(true);
    expect((await v.get('sys/health')).status).toBe(200);
    expect((await v.get('secret/data/a')).status).toBe(429);
    sim.control({ rateLimits: [{ name: 'global', rate: 2, interval: 60 }] });
    expect((await v.get('secret/data/a')).status).toBe(200);
  });
});
