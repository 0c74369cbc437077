import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { vaultHttp } from './vault-http';

// KV v2 (and a KV v1 mount) as Vault's API docs describe it: LIST on metadata/, metadata and data
// with versions, check-and-set, cas_required, max_versions, soft delete / undelete / destroy, the
// 404 that carries a deleted version's metadata, the mount preflight clients use to tell v1 from v2,
// and namespaces by header or path prefix.

const NOW = Date.parse('2026-06-01T12:00:00Z');
let sim: SimulatedVault;
let v: ReturnType<typeof vaultHttp>;

beforeAll(async () => {
  sim = await startSimulatedVault({
    latencyMs: 0,
    now: NOW,
    namespaces: ['team-a'],
    mounts: [
      {
        path: 'secret',
        secrets: [
          { path: 'apps/web/db', versions: [{ password: 'one' }, { password: 'two' }], customMetadata: { owner: 'alice@example.com', team: 'web' } },
          { path: 'apps/web/api-key', versions: [{ key: 'k1' }] },
          { path: 'apps/worker/token', versions: [{ token: 't1' }] },
          { path: 'top', versions: [{ a: 'b' }] },
        ],
      },
      { path: 'kv-strict', casRequired: true, maxVersions: 3 },
      { path: 'legacy', version: 1, secrets: [{ path: 'team/db', versions: [{ password: 'v1-value' }] }] },
      { path: 'secret', namespace: 'team-a', secrets: [{ path: 'only-in-a', versions: [{ x: 'y' }] }] },
    ],
  });
  v = vaultHttp(sim.url, { token: sim.rootToken });
});
afterAll(() => sim.close());

describe('LIST metadata/', () => {
  it('lists a folder with LIST and with GET ?list=true: folders end in "/", sorted', async () => {
    const root = await v.list('secret/metadata/');
    expect(root.status).toBe(200);
    expect(root.body).toMatchObject({ data: { keys: ['apps/', 'top'] }, lease_id: '', renewable: false, lease_duration: 0, wrap_info: null });
    expect(typeof root.body.request_id).toBe('string');
    const apps = await v.get('secret/metadata/apps?list=true');
    expect(apps.body.data.keys).toEqual(['web/', 'worker/']);
    expect((await v.list('secret/metadata/apps/web')).body.data.keys).toEqual(['api-key', 'db']);
  });

  it('answers 404 with an empty errors list where nothing is, and 405 for LIST on data/', async () => {
    const none = await v.list('secret/metadata/nothing/here');
    expect(none).toMatchObject({ status: 404, body: { errors: [] } });
    expect((await v.list('secret/data/apps')).status).toBe(405);
  });
});

describe('metadata and data', () => {
  it('reads a key’s metadata as Vault shapes it', async () => {
    const meta = await v.get('secret/metadata/apps/web/db');
    expect(meta.status).toBe(200);
    expect(meta.body.data).toEqual({
      cas_required: false,
      created_time: expect.stringMatching(/^2026-06-01T\d\d:00:00\.000Z$/),
      current_version: 2,
      custom_metadata: { owner: 'alice@example.com', team: 'web' },
      delete_version_after: '0s',
      max_versions: 0,
      oldest_version: 0,
      updated_time: expect.any(String),
      versions: {
        '1': { created_time: expect.any(String), deletion_time: '', destroyed: false },
        '2': { created_time: expect.any(String), deletion_time: '', destroyed: false },
      },
    });
    expect((await v.get('secret/metadata/apps/web/nope')).status).toBe(404);
  });

  it('reads the latest version, or one asked for, with its metadata', async () => {
    const latest = await v.get('secret/data/apps/web/db');
    expect(latest.status).toBe(200);
    expect(latest.body.data).toEqual({ data: { password: 'two' }, metadata: { created_time: expect.any(String), custom_metadata: { owner: 'alice@example.com', team: 'web' }, deletion_time: '', destroyed: false, version: 2 } });
    expect((await v.get('secret/data/apps/web/db?version=1')).body.data.data).toEqual({ password: 'one' });
    expect((await v.get('secret/data/apps/web/db?version=9')).body).toEqual({ errors: [] });
  });

  it('writes new versions with check-and-set: cas 0 only when absent, a mismatch is 400 with Vault’s message', async () => {
    const created = await v.post('secret/data/cas/one', { options: { cas: 0 }, data: { v: '1' } });
    expect(created.status).toBe(200);
    expect(created.body.data).toEqual({ created_time: expect.any(String), custom_metadata: null, deletion_time: '', destroyed: false, version: 1 });
    const again = await v.post('secret/data/cas/one', { options: { cas: 0 }, data: { v: 'x' } });
    expect(again).toMatchObject({ status: 400, body: { errors: ['check-and-set parameter did not match the current version'] } });
    expect((await v.put('secret/data/cas/one', { options: { cas: 1 }, data: { v: '2' } })).body.data.version).toBe(2);
    expect((await v.post('secret/data/cas/one', { options: { cas: 1 }, data: { v: 'stale' } })).status).toBe(400);
    expect((await v.post('secret/data/cas/one', { data: { v: '3' } })).body.data.version).toBe(3);
    expect((await v.get('secret/data/cas/one')).body.data.data).toEqual({ v: '3' });
  });

  it('requires cas when the mount or the key says cas_required, and prunes beyond max_versions', async () => {
    expect((await v.post('kv-strict/data/k', { data: { a: '1' } })).body).toEqual({ errors: ['check-and-set parameter required for this call'] });
    for (let i = 0; i < 5; i++) expect((await v.post('kv-strict/data/k', { options: { cas: i }, data: { a: String(i) } })).status).toBe(200);
    const meta = (await v.get('kv-strict/metadata/k')).body.data;
    expect(meta).toMatchObject({ current_version: 5, oldest_version: 3 });
    expect(Object.keys(meta.versions)).toEqual(['3', '4', '5']);
    expect((await v.get('kv-strict/data/k?version=1')).status).toBe(404);
    expect((await v.get('kv-strict/config')).body.data).toEqual({ cas_required: true, delete_version_after: '0s', max_versions: 3 });

    expect((await v.post('secret/metadata/strict-key', { cas_required: true, max_versions: 2, custom_metadata: { owner: 'bob' }, delete_version_after: '1h30m' })).status).toBe(204);
    expect((await v.post('secret/data/strict-key', { data: { a: '1' } })).body.errors).toEqual(['check-and-set parameter required for this call']);
    expect((await v.post('secret/data/strict-key', { options: { cas: 0 }, data: { a: '1' } })).status).toBe(200);
    const strict = (await v.get('secret/metadata/strict-key')).body.data;
    expect(strict).toMatchObject({ cas_required: true, max_versions: 2, custom_metadata: { owner: 'bob' }, delete_version_after: '1h30m0s', current_version: 1 });
    // delete_version_after: the version's deletion_time is set when it is written.
    expect(strict.versions['1'].deletion_time).not.toBe('');
  });

  it('soft-deletes the latest version (404 carrying its metadata), undeletes it, destroys versions', async () => {
    await v.post('secret/data/life', { data: { n: '1' } });
    await v.post('secret/data/life', { data: { n: '2' } });
    expect((await v.del('secret/data/life')).status).toBe(204);
    const deleted = await v.get('secret/data/life');
    expect(deleted.status).toBe(404);
    expect(deleted.body.data).toEqual({ data: null, metadata: { created_time: expect.any(String), custom_metadata: null, deletion_time: expect.stringMatching(/Z$/), destroyed: false, version: 2 } });
    expect(deleted.body.errors).toBeUndefined();
    expect((await v.get('secret/data/life?version=1')).body.data.data).toEqual({ n: '1' });

    expect((await v.post('secret/undelete/life', { versions: [2] })).status).toBe(204);
    expect((await v.get('secret/data/life')).body.data.data).toEqual({ n: '2' });
    expect((await v.post('secret/delete/life', { versions: [1] })).status).toBe(204);
    expect((await v.get('secret/data/life?version=1')).status).toBe(404);

    expect((await v.post('secret/destroy/life', { versions: [2] })).status).toBe(204);
    const destroyed = await v.get('secret/data/life');
    expect(destroyed.status).toBe(404);
    expect(destroyed.body.data.metadata).toMatchObject({ destroyed: true, version: 2 });
    expect((await v.post('secret/undelete/life', { versions: [2] })).status).toBe(204);
    expect((await v.get('secret/data/life')).status).toBe(404);
    expect((await v.post('secret/destroy/life', {})).body).toEqual({ errors: ['no version number provided'] });

    const meta = (await v.get('secret/metadata/life')).body.data.versions;
    expect(meta['2']).toMatchObject({ destroyed: true });
    expect(meta['1'].deletion_time).not.toBe('');
    expect((await v.del('secret/metadata/life')).status).toBe(204);
    expect((await v.get('secret/metadata/life')).status).toBe(404);
    expect((await v.list('secret/metadata/')).body.data.keys).not.toContain('life');
  });

  it('refuses a body that is not JSON and a write without data', async () => {
    const bad = await fetch(`${sim.url}/v1/secret/data/x`, { method: 'POST', headers: { 'x-vault-token': sim.rootToken }, body: '{nope' });
    expect(bad.status).toBe(400);
    expect((await v.post('secret/data/x', { options: {} })).body).toEqual({ errors: ['no data provided'] });
  });
});

describe('mounts: KV v1 and the preflight', () => {
  it('answers a KV v1 mount as v1 does: the value at data, LIST on the mount, 204 on writes', async () => {
    const read = await v.get('legacy/team/db');
    expect(read.status).toBe(200);
    expect(read.body).toMatchObject({ data: { password: 'v1-value' }, lease_duration: 2764800 });
    expect((await v.list('legacy/')).body.data.keys).toEqual(['team/']);
    expect((await v.list('legacy/team')).body.data.keys).toEqual(['db']);
    expect((await v.post('legacy/team/api', { key: 'k' })).status).toBe(204);
    expect((await v.get('legacy/team/api')).body.data).toEqual({ key: 'k' });
    // A v2-shaped path on a v1 mount is just a key that is not there.
    expect((await v.get('legacy/data/team/db')).status).toBe(404);
    expect((await v.list('legacy/metadata/')).status).toBe(404);
  });

  it('tells v1 from v2 as Vault’s own clients ask (sys/internal/ui/mounts/<path>), and lists mounts', async () => {
    const v2 = await v.get('sys/internal/ui/mounts/secret/apps/web');
    expect(v2.body.data).toMatchObject({ path: 'secret/', type: 'kv', options: { version: '2' } });
    const v1 = await v.get('sys/internal/ui/mounts/legacy');
    expect(v1.body.data).toMatchObject({ path: 'legacy/', type: 'kv', options: { version: '1' } });
    const mounts = await v.get('sys/mounts');
    expect(mounts.body.data['secret/']).toMatchObject({ type: 'kv', options: { version: '2' } });
    expect(mounts.body.data['legacy/']).toMatchObject({ type: 'kv', options: { version: '1' } });
    expect(mounts.body['secret/']).toBeDefined();
    expect((await v.get('nomount/foo')).body.errors[0]).toMatch(/no handler for route/);
  });
});

describe('namespaces', () => {
  it('routes by X-Vault-Namespace or by the path prefix, each namespace with its own mounts', async () => {
    expect((await v.list('secret/metadata/', { namespace: 'team-a' })).body.data.keys).toEqual(['only-in-a']);
    expect((await v.list('team-a/secret/metadata/')).body.data.keys).toEqual(['only-in-a']);
    expect((await v.get('team-a/secret/data/only-in-a')).body.data.data).toEqual({ x: 'y' });
    expect((await v.get('secret/data/only-in-a')).status).toBe(404);
    expect((await v.get('secret/data/x', { namespace: 'no-such' })).status).toBe(404);
  });
});
