import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { VaultStore } from '@/lib/stores/vault/store';
import { serveOn } from '@/simulator/sim-http';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { vaultHttp } from '../vault-sim/vault-http';

// The Vault adapter and the Vault simulator, each held against the request and response shapes
// Vault's API documentation gives (KV v2: https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2;
// tokens: https://developer.hashicorp.com/vault/api-docs/auth/token). The samples below have the
// documented fields, types and nesting (values are our own). Two checks, so that the simulator
// cannot drift from Vault with the adapter drifting along with it:
//  - the adapter, pointed at a stub that answers with nothing but the documented samples, browses,
//    maps and writes correctly, and sends requests of the documented method, path, headers and payload;
//  - the simulator answers the same requests with every documented field, of the documented type.

const DOCS_KV2 = 'https://developer.hashicorp.com/vault/api-docs/secret/kv/kv-v2';
const DOCS_TOKEN = 'https://developer.hashicorp.com/vault/api-docs/auth/token';

const VERSION_1 = '2026-03-22T02:24:06.945319214Z';
const VERSION_2 = '2026-03-22T02:36:33.954880664Z';
const VERSION_3 = '2026-03-22T02:36:43.986212308Z';

/** The documented answers, by request (method and path under /v1). */
const DOCUMENTED = {
  /** Token: Lookup a Token (Self). */
  lookupSelf: {
    docs: `${DOCS_TOKEN}#lookup-a-token-self`,
    body: {
      data: {
        accessor: '8609694a-cdbc-db9b-d345-e782dbb562ed',
        creation_time: 1523979354,
        creation_ttl: 2764800,
        display_name: 'ldap2-tesla',
        entity_id: '7d2e3179-f69b-450c-7179-ac8ee8bd8ca9',
        expire_time: '2026-05-19T11:35:54.466476215-04:00',
        explicit_max_ttl: 0,
        id: 'cf64a70f-3a12-3f6c-791d-6cef6d390eed',
        identity_policies: ['dev-group-policy'],
        issue_time: '2026-04-17T11:35:54.466476078-04:00',
        meta: { username: 'tesla' },
        num_uses: 0,
        orphan: true,
        path: 'auth/ldap2/login/tesla',
        policies: ['default', 'testgroup2-policy'],
        renewable: true,
        ttl: 2763902,
      },
    },
  },
  /** KV v2: List Secrets (LIST metadata/; folders end with '/'). */
  list: { docs: `${DOCS_KV2}#list-secrets`, body: { data: { keys: ['my-secret', 'team/'] } } },
  listTeam: { docs: `${DOCS_KV2}#list-secrets`, body: { data: { keys: ['api-key'] } } },
  /** KV v2: Read Secret Metadata. */
  metadata: {
    docs: `${DOCS_KV2}#read-secret-metadata`,
    body: {
      data: {
        cas_required: false,
        created_time: VERSION_1,
        current_version: 3,
        delete_version_after: '3h25m19s',
        max_versions: 0,
        oldest_version: 0,
        updated_time: VERSION_3,
        custom_metadata: { owner: 'jdoe', team: 'payments', mission_critical: 'false' },
        versions: {
          '1': { created_time: VERSION_1, deletion_time: '', destroyed: false },
          '2': { created_time: VERSION_2, deletion_time: '', destroyed: false },
          '3': { created_time: VERSION_3, deletion_time: '', destroyed: false },
        },
      },
    },
  },
  /** KV v2: Read Secret Version. */
  readVersion: {
    docs: `${DOCS_KV2}#read-secret-version`,
    body: {
      data: {
        data: { username: 'app', password: 'documented-sample-value' },
        metadata: { created_time: VERSION_3, custom_metadata: { owner: 'jdoe' }, deletion_time: '', destroyed: false, version: 3 },
      },
    },
  },
  /** KV v2: Create/Update Secret (the answer). */
  write: {
    docs: `${DOCS_KV2}#create-update-secret`,
    body: { data: { created_time: '2026-03-23T09:00:00.123456789Z', custom_metadata: { owner: 'jdoe' }, deletion_time: '', destroyed: false, version: 4 } },
  },
} as const;

// ---- the shape of a JSON value ----------------------------------------------------------------

/** Objects whose keys are data (version numbers, metadata keys, a secret's keys), not fields. */
const MAPS = new Set(['versions', 'custom_metadata', 'meta']);

/**
 * Fields Vault documents with a value that it answers as null when there is none (a root token's
 * expire_time and meta, a key without custom_metadata: the subkeys sample shows `custom_metadata: null`),
 * and fields it answers only in some cases (identity_policies: only for a token with an entity).
 */
const NULLABLE = new Set(['expire_time', 'meta', 'custom_metadata']);
const OPTIONAL = new Set(['identity_policies']);

/** Where `actual` lacks a field of `documented` or has it with another JSON type ('' when it matches). */
function shapeMismatches(documented: unknown, actual: unknown, at = '$'): string[] {
  const type = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  if (actual === null && NULLABLE.has(at.split('.').at(-1)!)) return [];
  if (type(documented) !== type(actual)) return [`${at}: documented ${type(documented)}, answered ${type(actual)}`];
  if (Array.isArray(documented)) {
    const first = documented[0];
    return first === undefined ? [] : (actual as unknown[]).flatMap((v, i) => shapeMismatches(first, v, `${at}[${i}]`));
  }
  if (type(documented) !== 'object') return [];
  const doc = documented as Record<string, unknown>;
  const got = actual as Record<string, unknown>;
  const key = at.split('.').at(-1)!;
  if (MAPS.has(key)) {
    // Every entry answered has the documented entries' shape (strings for metadata, the version record for versions).
    const sample = Object.values(doc)[0];
    return sample === undefined ? [] : Object.entries(got).flatMap(([k, v]) => shapeMismatches(sample, v, `${at}.${k}`));
  }
  if (key === 'data' && at.endsWith('.data.data')) return []; // a secret's own keys
  return Object.keys(doc).flatMap((k) =>
    k in got ? shapeMismatches(doc[k], got[k], `${at}.${k}`) : OPTIONAL.has(k) ? [] : [`${at}.${k}: documented, not answered`],
  );
}

describe('the shape check itself', () => {
  it('passes an answer with every documented field (and more), and names a missing field or a changed type', () => {
    expect(shapeMismatches(DOCUMENTED.metadata.body, { ...DOCUMENTED.metadata.body, request_id: 'x' })).toEqual([]);
    const { current_version: _dropped, ...rest } = DOCUMENTED.metadata.body.data;
    expect(shapeMismatches(DOCUMENTED.metadata.body, { data: rest })).toEqual(['$.data.current_version: documented, not answered']);
    const stringVersion = { data: { ...DOCUMENTED.metadata.body.data, versions: { '1': { created_time: VERSION_1, deletion_time: '', destroyed: 'no' } } } };
    expect(shapeMismatches(DOCUMENTED.metadata.body, stringVersion)).toEqual(['$.data.versions.1.destroyed: documented boolean, answered string']);
  });
});

// ---- the adapter against the documented answers ----------------------------------------------

interface StubRequest {
  method: string;
  path: string;
  token: string | undefined;
  body: unknown;
}

const TOKEN = 'documented-shapes-token';
let stub: { url: string; close(): Promise<void> };
const received: StubRequest[] = [];

/** A Vault that answers only the documented samples (anything else: 404 with Vault's empty errors). */
function answerDocumented(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
  const url = new URL(req.url ?? '/', 'http://stub');
  // Vault takes a list as the LIST method or as GET with ?list=true (https://developer.hashicorp.com/vault/api-docs#api-operations).
  const method = req.method === 'GET' && url.searchParams.get('list') === 'true' ? 'LIST' : String(req.method);
  const path = url.pathname.replace(/^\/v1\//, '');
  received.push({ method, path, token: req.headers['x-vault-token'] as string | undefined, body: raw.length ? JSON.parse(raw.toString('utf8')) : undefined });
  const routes: Record<string, { status: number; body: unknown }> = {
    'GET auth/token/lookup-self': { status: 200, body: DOCUMENTED.lookupSelf.body },
    // Not in the API docs (Vault's CLI asks it to tell KV v1 from v2); the answer's fields as Vault's CLI reads them.
    'GET sys/internal/ui/mounts/secret': { status: 200, body: { data: { type: 'kv', path: 'secret/', options: { version: '2' } } } },
    'LIST secret/metadata/': { status: 200, body: DOCUMENTED.list.body },
    'LIST secret/metadata/team/': { status: 200, body: DOCUMENTED.listTeam.body },
    'GET secret/metadata/my-secret': { status: 200, body: DOCUMENTED.metadata.body },
    'GET secret/metadata/team/api-key': { status: 200, body: DOCUMENTED.metadata.body },
    'GET secret/data/my-secret': { status: 200, body: DOCUMENTED.readVersion.body },
    'POST secret/data/my-secret': { status: 200, body: DOCUMENTED.write.body },
  };
  const answer = routes[`${method} ${path}`] ?? { status: 404, body: { errors: [] } };
  res.writeHead(answer.status, { 'content-type': 'application/json' }).end(JSON.stringify(answer.body));
}

beforeAll(async () => {
  stub = await serveOn(answerDocumented, 0, '127.0.0.1');
});
afterAll(async () => {
  await stub.close();
});

function documentedStore(): VaultStore {
  return VaultStore.fromConfig(
    { id: 'vault-docs', kind: 'vault', address: stub.url, mount: 'secret', auth: { method: 'token', tokenEnv: 'VAULT_DOCS_TOKEN' }, rate: 500, concurrency: 4, writable: true },
    { env: { VAULT_DOCS_TOKEN: TOKEN } },
  );
}

describe('the adapter on the documented answers', () => {
  it('lists folders and keys as documented (a key and a folder of the same name apart), metadata only', async () => {
    received.length = 0;
    const store = documentedStore();
    try {
      expect(await store.listFolders('/')).toEqual(['/team/']);
      const page = await store.list({ path: '/' });
      expect(page.items.map((i) => i.name)).toEqual(['/my-secret']);
      const all = await store.list({ path: '/', recursive: true });
      expect(all.items.map((i) => i.name)).toEqual(['/my-secret', '/team/api-key']);
      expect(received.filter((r) => r.path.startsWith('secret/metadata/')).map((r) => `${r.method} ${r.path}`)).toContain('LIST secret/metadata/');
      expect(received.every((r) => !r.path.startsWith('secret/data/'))).toBe(true);
      // Every request carries the token the documentation's samples send, in X-Vault-Token.
      expect(received.every((r) => r.token === TOKEN)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('maps the documented metadata: versions newest first with their times, custom_metadata as tags, the settings', async () => {
    const store = documentedStore();
    try {
      const item = (await store.getItem('/my-secret'))!;
      expect(item.currentVersion).toBe('3');
      expect(item.versions.map((v) => [v.id, v.createdAt])).toEqual([
        ['3', new Date(VERSION_3).toISOString()],
        ['2', new Date(VERSION_2).toISOString()],
        ['1', new Date(VERSION_1).toISOString()],
      ]);
      expect(item.lastChangedAt).toBe(new Date(VERSION_3).toISOString());
      expect(item.tags).toMatchObject({ owner: 'jdoe', team: 'payments', mission_critical: 'false' });
      // max_versions 0 is Vault's default (10 kept), not "none": shown as no limit of the key's own.
      expect(item.details.vault).toEqual({ maxVersions: null, casRequired: false, deleteVersionAfter: '3h25m19s', oldestVersion: 0, currentDeleted: false });
    } finally {
      await store.close();
    }
  });

  it('reads a version as documented and writes the next one with the documented check-and-set payload', async () => {
    received.length = 0;
    const store = documentedStore();
    try {
      const current = await store.readCurrentValue('/my-secret');
      expect(current.version).toBe('3');
      expect(JSON.parse(current.value)).toEqual(DOCUMENTED.readVersion.body.data.data);
      const written = await store.writeValue({ name: '/my-secret', value: JSON.stringify({ username: 'app', password: 'next' }), actor: 'alice', requestId: 'r1', basedOnVersion: current.version });
      expect(written).toEqual({ version: '4', createdAt: '2026-03-23T09:00:00.123Z' });
      const post = received.find((r) => r.method === 'POST')!;
      expect(post.path).toBe('secret/data/my-secret');
      expect(post.body).toEqual({ options: { cas: 3 }, data: { username: 'app', password: 'next' } });
    } finally {
      await store.close();
    }
  });
});

// ---- the simulator against the documented answers --------------------------------------------

describe('the simulator answers with the documented fields and types', () => {
  let sim: SimulatedVault;
  let v: ReturnType<typeof vaultHttp>;

  beforeAll(async () => {
    sim = await startSimulatedVault({
      latencyMs: 0,
      mounts: [{ path: 'secret', secrets: [{ path: 'my-secret', versions: [{ a: '1' }, { a: '2' }, { a: '3' }], customMetadata: { owner: 'jdoe' } }, { path: 'team/api-key', versions: [{ key: 'k' }] }] }],
    });
    v = vaultHttp(sim.url, { token: sim.rootToken });
  });
  afterAll(() => sim.close());

  it.each([
    ['lookup-self', DOCUMENTED.lookupSelf, () => v.get('auth/token/lookup-self')],
    ['LIST metadata/', DOCUMENTED.list, () => v.list('secret/metadata/')],
    ['GET metadata/<key>', DOCUMENTED.metadata, () => v.get('secret/metadata/my-secret')],
    ['GET data/<key>', DOCUMENTED.readVersion, () => v.get('secret/data/my-secret?version=2')],
    ['POST data/<key> with cas', DOCUMENTED.write, () => v.post('secret/data/team/api-key', { options: { cas: 1 }, data: { key: 'k2' } })],
  ] as const)('%s (%s)', async (_name, documented, ask) => {
    const answer = await ask();
    expect(answer.status, documented.docs).toBe(200);
    expect(shapeMismatches(documented.body, answer.body), documented.docs).toEqual([]);
  });

  it('LIST names keys and folders as documented (a folder ends with "/")', async () => {
    const answer = await v.list('secret/metadata/');
    expect(answer.body.data.keys).toEqual(['my-secret', 'team/']);
  });
});
