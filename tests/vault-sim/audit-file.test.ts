import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { vaultHttp } from './vault-http';

// The file audit device: a request and a response line per call, as Vault writes them, with every
// value, token and accessor HMAC'd with the device's salt (checked against sys/audit-hash), denials
// with their error, and rotation into a folder of rotated files.

const VALUE = 'audit-value-do-not-leak-9f2c';
let dir: string;
let sim: SimulatedVault;
let v: ReturnType<typeof vaultHttp>;

const lines = (file: string) =>
  readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, any>);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'vault-audit-'));
  sim = await startSimulatedVault({
    latencyMs: 0,
    rootToken: 'hvs.root-token-for-the-audit-test',
    policies: [{ name: 'browse', paths: { 'secret/metadata/*': ['read', 'list'] } }],
    approles: [{ roleName: 'dash', roleId: 'role-aud', secretIds: ['sid-aud-secret'], policies: ['browse'] }],
    mounts: [{ path: 'secret', secrets: [{ path: 'app/db', versions: [{ password: VALUE }] }] }],
    audit: { path: join(dir, 'vault_audit.log'), salt: 'fixed-salt-for-test' },
  });
  v = vaultHttp(sim.url, { token: sim.rootToken });
});
afterAll(async () => {
  await sim.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the file audit device', () => {
  it('writes a request and a response line per call, values and tokens HMAC’d, nothing in clear', async () => {
    const login = await v.post('auth/approle/login', { role_id: 'role-aud', secret_id: 'sid-aud-secret' }, { token: null });
    const token = login.body.auth.client_token as string;
    const accessor = login.body.auth.accessor as string;
    await v.get('secret/data/app/db');
    await v.post('secret/data/app/db', { data: { password: `${VALUE}-2` } });
    await v.list('secret/metadata/app', { token });
    await v.get('secret/data/app/db', { token });

    const file = join(dir, 'vault_audit.log');
    const text = readFileSync(file, 'utf8');
    for (const secret of [VALUE, token, accessor, 'sid-aud-secret', sim.rootToken]) expect(text).not.toContain(secret);
    const entries = lines(file);
    expect(entries.length).toBe(10);
    expect(entries.map((e) => e.type)).toEqual(['request', 'response', 'request', 'response', 'request', 'response', 'request', 'response', 'request', 'response']);

    const hash = async (input: string) => (await v.post('sys/audit-hash/file', { input })).body.data.hash as string;
    expect(sim.auditHash('x')).toMatch(/^hmac-sha256:[0-9a-f]{64}$/);

    // The login: the secret id HMAC'd in the request, the new token and accessor in the response.
    const [loginReq, loginRes] = entries;
    expect(loginReq).toMatchObject({ type: 'request', request: { operation: 'update', path: 'auth/approle/login', mount_type: 'approle', namespace: { id: 'root' }, remote_address: '127.0.0.1' } });
    expect(loginReq!.request.data.secret_id).toBe(await hash('sid-aud-secret'));
    expect(loginRes!.response.auth).toMatchObject({ client_token: await hash(token), accessor: await hash(accessor), policies: ['browse', 'default'], display_name: 'approle' });
    expect(typeof loginReq!.time).toBe('string');
    expect(loginReq!.request.id).toBe(loginRes!.request.id);

    // A read of data/: the value HMAC'd in the response; the root token HMAC'd in auth and request.
    const readRes = entries[3]!;
    expect(readRes).toMatchObject({ type: 'response', request: { operation: 'read', path: 'secret/data/app/db', mount_type: 'kv' }, auth: { policies: ['root'] } });
    expect(readRes.response.data.data.password).toBe(await hash(VALUE));
    expect(readRes.response.data.metadata.version).toBe(1);
    expect(readRes.auth.client_token).toBe(await hash(sim.rootToken));
    expect(readRes.request.client_token).toBe(await hash(sim.rootToken));

    // A write: create or update as the existence check decides; the written value HMAC'd.
    expect(entries[4]!.request.operation).toBe('update');
    expect(entries[4]!.request.data.data.password).toBe(await hash(`${VALUE}-2`));

    // The approle token's list, then its denied read: the error on both lines, as Vault writes it.
    expect(entries[6]!.request).toMatchObject({ operation: 'list', path: 'secret/metadata/app/' });
    expect(entries[7]!.response.data.keys).toEqual([await hash('db')]);
    const denied = entries.slice(8);
    expect(denied.map((e) => e.error)).toEqual(['1 error occurred:\n\t* permission denied\n\n', '1 error occurred:\n\t* permission denied\n\n']);
    expect(denied[0]!.auth).toMatchObject({ client_token: await hash(token), policies: ['browse', 'default'], display_name: 'approle', metadata: { role_name: 'dash' } });
  });

  it('rotates the file into its folder by control and goes on writing a new one', async () => {
    const rotated = sim.control({ rotateAudit: true }).rotated!;
    expect(rotated).toMatch(/vault_audit-\d{8}T\d{6}Z(-\d+)?\.log$/);
    await v.get('secret/metadata/app/db');
    const again = sim.control({ rotateAudit: true }).rotated!;
    expect(again).not.toBe(rotated);
    await v.get('secret/metadata/app/db');
    expect(readdirSync(dir).sort()).toEqual(['vault_audit.log', rotated.split('/').at(-1)!, again.split('/').at(-1)!].sort());
    // Everything before the first rotation (sys/audit-hash calls are audited too).
    expect(lines(rotated).length).toBeGreaterThan(10);
    expect(lines(again).length).toBe(2);
    expect(lines(join(dir, 'vault_audit.log')).map((e) => e.request.path)).toEqual(['secret/metadata/app/db', 'secret/metadata/app/db']);
  });
});
