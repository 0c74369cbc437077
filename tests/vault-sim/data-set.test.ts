import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { dataSetPaths, GENERATED_VALUE, generatedEntry, VALUE_SENTINEL } from '@/simulator/vault/vault-data-set';
import { vaultHttp } from './vault-http';

// The seedable data sets (100,000 generated lazily; the demo's few hundred under team folders, the
// sentinel in every value) and the counters of what the simulator was asked, by operation and path:
// what lets a later test prove that browsing never read data/.

let big: SimulatedVault;
let demo: SimulatedVault;

beforeAll(async () => {
  [big, demo] = await Promise.all([
    startSimulatedVault({ latencyMs: 0, seed: 7, now: Date.parse('2026-06-01T00:00:00Z'), mounts: [{ path: 'secret', data: [{ kind: 'generated', count: 100_000 }] }] }),
    startSimulatedVault({ latencyMs: 0, mounts: [{ path: 'secret', data: [{ kind: 'demo' }] }] }),
  ]);
});
afterAll(async () => {
  await Promise.all([big.close(), demo.close()]);
});

/** Walks every folder under `folder` with LIST and reads every key's metadata; the keys' paths. */
async function walk(v: ReturnType<typeof vaultHttp>, folder = ''): Promise<string[]> {
  const listed = await v.list(`secret/metadata/${folder}`);
  expect(listed.status).toBe(200);
  const keys: string[] = [];
  for (const k of listed.body.data.keys as string[]) {
    if (k.endsWith('/')) keys.push(...(await walk(v, `${folder}${k}`)));
    else keys.push(`${folder}${k}`);
  }
  return keys;
}

describe('the generated set', () => {
  it('holds 100,000 secrets in a tree of folders, generated when touched, the same for the same seed', async () => {
    expect(big.stats().secrets).toEqual({ secret: 100_000 });
    const v = vaultHttp(big.url, { token: big.rootToken });
    expect((await v.list('secret/metadata/')).body.data.keys).toEqual(['teams/']);
    const teams = (await v.list('secret/metadata/teams')).body.data.keys as string[];
    expect(teams.length).toBe(20);
    expect((await v.list('secret/metadata/teams/payments/svc-00')).body.data.keys).toEqual(['dev/', 'prod/', 'staging/']);
    const names = (await v.list('secret/metadata/teams/payments/svc-00/prod')).body.data.keys as string[];
    expect(names.length).toBeGreaterThan(30);

    const metas = await Promise.all(names.map(async (n) => (await v.get(`secret/metadata/teams/payments/svc-00/prod/${n}`)).body.data));
    for (const m of metas) {
      expect(m.custom_metadata).toEqual({ owner: expect.stringMatching(/@example\.com$/), team: 'payments' });
      expect(Object.keys(m.versions).length).toBe(m.current_version);
    }
    expect(new Set(metas.map((m) => m.current_version)).size).toBeGreaterThan(2);
    // Derived from the path and the seed alone: the same secret whenever it is made.
    const again = generatedEntry(`teams/payments/svc-00/prod/${names[0]!}`, 7, Date.parse('2026-06-01T00:00:00Z'));
    expect(again.current).toBe(metas[0]!.current_version);
    expect(new Date(again.created).toISOString()).toBe(metas[0]!.created_time);
    expect(generatedEntry(`teams/payments/svc-00/prod/${names[0]!}`, 8, Date.parse('2026-06-01T00:00:00Z')).created).not.toBe(again.created);

    // Over a few hundred secrets, some latest versions are deleted and some first versions destroyed.
    const all = big.store('secret').paths();
    expect(all.length).toBe(100_000);
    const sample = await Promise.all(Array.from({ length: 400 }, (_, i) => v.get(`secret/metadata/${all[i * 250]}`)));
    const versions = sample.flatMap((s) => Object.values(s.body.data.versions) as { deletion_time: string; destroyed: boolean }[]);
    expect(versions.some((x) => x.deletion_time !== '')).toBe(true);
    expect(versions.some((x) => x.destroyed)).toBe(true);

    // Every value carries the sentinel.
    const read = await v.get(`secret/data/teams/payments/svc-00/prod/${names.find((_, i) => metas[i]!.versions[String(metas[i]!.current_version)].deletion_time === '')!}`);
    expect(read.status).toBe(200);
    expect(JSON.stringify(read.body.data.data)).toContain(VALUE_SENTINEL);
  });
});

describe('the demo set and the counters', () => {
  it('has a few hundred secrets under team folders; a browse walk reads metadata only, as the counters show', async () => {
    const v = vaultHttp(demo.url, { token: demo.rootToken });
    demo.control({ resetStats: true });
    const keys = await walk(v);
    expect(keys.length).toBe(300);
    expect(new Set(keys.map((k) => k.split('/')[0]))).toEqual(new Set(['payments', 'identity', 'platform', 'data', 'search', 'mobile']));
    for (const k of keys.slice(0, 50)) expect((await v.get(`secret/metadata/${k}`)).status).toBe(200);

    const ops = demo.stats().operations;
    expect(Object.keys(ops).sort()).toEqual(['list secret/metadata', 'read secret/metadata']);
    expect(ops['list secret/metadata']!.calls).toBe(1 + 6 + 30);
    expect(ops['read secret/metadata']!.calls).toBe(50);
    const requests = demo.requests();
    expect(requests.length).toBe(87);
    expect(requests.some((r) => r.path.startsWith('secret/data/'))).toBe(false);
    expect(requests[0]).toMatchObject({ method: 'LIST', path: 'secret/metadata/', operation: 'list', status: 200, namespace: '' });

    // One value read shows up at once, by operation and path.
    const value = await v.get(`secret/data/${keys[0]}`);
    expect(JSON.stringify(value.body)).toContain(VALUE_SENTINEL);
    expect(demo.stats().operations['read secret/data']).toMatchObject({ calls: 1, ok: 1 });
    expect(demo.requests().at(-1)).toMatchObject({ method: 'GET', path: `secret/data/${keys[0]}`, operation: 'read' });
    const overHttp = (await (await fetch(`${demo.url}/__requests`)).json()) as { requests: unknown[] };
    expect(overHttp.requests.length).toBe(88);
  });

  it('GENERATED_VALUE recognises every value of both sets, and no path or custom metadata', () => {
    const now = Date.parse('2026-06-01T00:00:00Z');
    const paths = [...dataSetPaths({ kind: 'demo' }), ...dataSetPaths({ kind: 'generated', count: 3_000 })];
    let values = 0;
    for (const path of paths) {
      const entry = generatedEntry(path, 3, now);
      expect(GENERATED_VALUE.test(path), path).toBe(false);
      expect(GENERATED_VALUE.test(JSON.stringify(entry.custom)), path).toBe(false);
      for (const version of entry.versions.values()) {
        for (const value of Object.values(version.data ?? {})) {
          expect(GENERATED_VALUE.exec(String(value))?.[0], `${path}: ${String(value)}`).toBe(String(value).startsWith(VALUE_SENTINEL) ? VALUE_SENTINEL : value);
          values++;
        }
      }
    }
    expect(values).toBeGreaterThan(paths.length * 2);
    // A longer word is not a username.
    expect(GENERATED_VALUE.test('svc-paymentsx svc-00')).toBe(false);
  });

  it('answers after the latency it is given', async () => {
    demo.control({ latencyMs: 120 });
    const started = performance.now();
    await fetch(`${demo.url}/v1/sys/health`);
    expect(performance.now() - started).toBeGreaterThanOrEqual(110);
    demo.control({ latencyMs: 0 });
  });
});
