import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startSimulatedVault, type SimulatedVault } from '@/simulator/vault/simulated-vault';
import { Acl } from '@/simulator/vault/vault-policies';
import { vaultHttp } from './vault-http';

// Tokens (lookup, renewal within the max TTL, expiry answered 403 as Vault does), AppRole and
// Kubernetes login with good and bad credentials, and ACL policies that allow and deny paths.

const DENIED = '1 error occurred:\n\t* permission denied\n\n';
let sim: SimulatedVault;
let root: ReturnType<typeof vaultHttp>;

const browse = { name: 'dashboard-browse', paths: { 'secret/metadata/*': ['read', 'list'] as ('read' | 'list')[] } };
const writer = {
  name: 'dashboard-write',
  paths: { 'secret/metadata/*': ['read', 'list'], 'secret/data/*': ['create', 'update'], 'secret/data/private/*': ['deny'] } as Record<string, ('create' | 'update' | 'read' | 'list' | 'deny')[]>,
};
const teamRead = { name: 'team-read', paths: { 'secret/data/teams/+/shared': ['read'], 'secret/metadata/teams/*': ['list'] } as Record<string, ('read' | 'list')[]> };

beforeAll(async () => {
  sim = await startSimulatedVault({
    latencyMs: 0,
    namespaces: ['team-a'],
    policies: [browse, writer, teamRead],
    mounts: [
      {
        path: 'secret',
        secrets: [
          { path: 'apps/web/db', versions: [{ password: 'pw' }] },
          { path: 'private/root-ca', versions: [{ key: 'ca' }] },
          { path: 'teams/a/shared', versions: [{ s: 'a' }] },
          { path: 'teams/a/own', versions: [{ s: 'own' }] },
        ],
      },
    ],
    approles: [{ roleName: 'dashboard', roleId: 'role-123', secretIds: ['secret-456'], policies: ['dashboard-browse'], tokenTtl: 600, tokenMaxTtl: 1200 }],
    kubernetesRoles: [{ name: 'dashboard', boundServiceAccountNames: ['secrets-dashboard'], boundServiceAccountNamespaces: ['tools'], policies: ['dashboard-browse'] }],
    serviceAccounts: [
      { jwt: 'eyJ.sa-token.good', name: 'secrets-dashboard', namespace: 'tools' },
      { jwt: 'eyJ.sa-token.other', name: 'someone-else', namespace: 'tools' },
      { jwt: 'eyJ.sa-token.wrongns', name: 'secrets-dashboard', namespace: 'default' },
    ],
  });
  root = vaultHttp(sim.url, { token: sim.rootToken });
});
afterAll(() => sim.close());
beforeEach(() => sim.control({ resetStats: true }));

const tokenWith = (policies: string[], extra: Record<string, unknown> = {}) => sim.control({ tokens: [{ policies, ...extra }] }).tokens[0]!.client_token;

describe('tokens', () => {
  it('looks itself up, renews within its max TTL, and is refused once expired (403 permission denied)', async () => {
    const token = tokenWith(['dashboard-browse'], { ttl: '1h', explicitMaxTtl: '2h' });
    const v = vaultHttp(sim.url, { token });
    const self = await v.get('auth/token/lookup-self');
    expect(self.status).toBe(200);
    expect(self.body.data).toMatchObject({ id: token, policies: ['dashboard-browse'], renewable: true, ttl: 3600, creation_ttl: 3600, explicit_max_ttl: 7200, type: 'service' });
    expect(self.body.data.accessor).toMatch(/^[A-Za-z0-9]{24}$/);

    sim.control({ advanceClockMs: 30 * 60_000 });
    expect((await v.get('auth/token/lookup-self')).body.data.ttl).toBe(1800);
    const renewed = await v.post('auth/token/renew-self', { increment: '1h' });
    expect(renewed.status).toBe(200);
    expect(renewed.body.auth).toMatchObject({ client_token: token, lease_duration: 3600, renewable: true, policies: ['dashboard-browse'], token_policies: ['dashboard-browse'] });
    // Past the max TTL the renewal is capped, with Vault's warning.
    const capped = await v.post('auth/token/renew-self', { increment: '3h' });
    expect(capped.body.auth.lease_duration).toBe(5400);
    expect(capped.body.warnings[0]).toMatch(/exceeded the effective max_ttl/);

    sim.control({ advanceClockMs: 90 * 60_000 + 1000 });
    const expired = await v.list('secret/metadata/');
    expect(expired).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    expect((await v.get('auth/token/lookup-self')).status).toBe(403);
  });

  it('refuses an unknown token, no token, and a revoked one; refuses renewing a non-renewable token', async () => {
    expect((await root.list('secret/metadata/', { token: 'hvs.nope' })).status).toBe(403);
    expect((await root.list('secret/metadata/', { token: null })).body).toEqual({ errors: ['permission denied'] });
    const token = tokenWith(['dashboard-browse'], { renewable: false });
    expect((await root.post('auth/token/renew-self', {}, { token })).body).toEqual({ errors: ['lease is not renewable'] });
    sim.control({ revokeTokens: [token] });
    expect((await root.get('auth/token/lookup-self', { token })).status).toBe(403);
    const expiring = tokenWith(['dashboard-browse']);
    sim.control({ expireTokens: [expiring] });
    expect((await root.list('secret/metadata/', { token: expiring })).status).toBe(403);
  });
});

describe('AppRole and Kubernetes login', () => {
  it('logs in with AppRole: a token with the role’s policies; bad credentials are 400 as Vault answers them', async () => {
    const login = await root.post('auth/approle/login', { role_id: 'role-123', secret_id: 'secret-456' }, { token: null });
    expect(login.status).toBe(200);
    expect(login.body.auth).toMatchObject({ policies: ['dashboard-browse', 'default'], token_policies: ['dashboard-browse', 'default'], lease_duration: 600, renewable: true, metadata: { role_name: 'dashboard' }, token_type: 'service' });
    expect(login.body.auth.client_token).toMatch(/^hvs\./);
    const token = login.body.auth.client_token as string;
    expect((await root.list('secret/metadata/', { token })).status).toBe(200);
    expect((await root.post('auth/approle/login', { role_id: 'role-123', secret_id: 'wrong' }, { token: null })).body).toEqual({ errors: ['invalid role or secret ID'] });
    expect((await root.post('auth/approle/login', { role_id: 'nope', secret_id: 'secret-456' }, { token: null })).status).toBe(400);
    expect((await root.post('auth/approle/login', { secret_id: 'secret-456' }, { token: null })).body).toEqual({ errors: ['missing role_id'] });
  });

  it('logs in with Kubernetes for a registered, bound service-account token; others are refused', async () => {
    const login = await root.post('auth/kubernetes/login', { role: 'dashboard', jwt: 'eyJ.sa-token.good' }, { token: null });
    expect(login.status).toBe(200);
    expect(login.body.auth).toMatchObject({ policies: ['dashboard-browse', 'default'], metadata: { role: 'dashboard', service_account_name: 'secrets-dashboard', service_account_namespace: 'tools' } });
    expect((await root.list('secret/metadata/', { token: login.body.auth.client_token })).status).toBe(200);

    const refuse = (body: unknown) => root.post('auth/kubernetes/login', body, { token: null });
    expect(await refuse({ role: 'dashboard', jwt: 'eyJ.not-registered' })).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    expect(await refuse({ role: 'dashboard', jwt: 'eyJ.sa-token.other' })).toMatchObject({ status: 403, body: { errors: ['service account name not authorized'] } });
    expect(await refuse({ role: 'dashboard', jwt: 'eyJ.sa-token.wrongns' })).toMatchObject({ status: 403, body: { errors: ['namespace not authorized'] } });
    expect(await refuse({ role: 'nope', jwt: 'eyJ.sa-token.good' })).toMatchObject({ status: 400, body: { errors: ['invalid role name "nope"'] } });
    expect(await refuse({ role: 'dashboard' })).toMatchObject({ status: 400, body: { errors: ['missing jwt'] } });
  });

  it('registers service accounts and roles through the control API', async () => {
    sim.control({ serviceAccounts: [{ jwt: 'eyJ.late', name: 'late', namespace: 'ci' }], kubernetesRoles: [{ name: 'ci', boundServiceAccountNames: ['*'], boundServiceAccountNamespaces: ['ci'], policies: [] }] });
    expect((await root.post('auth/kubernetes/login', { role: 'ci', jwt: 'eyJ.late' }, { token: null })).status).toBe(200);
  });
});

describe('policies', () => {
  it('lets a browse token list and read metadata/ but not data/ (403), nor write', async () => {
    const v = vaultHttp(sim.url, { token: tokenWith(['dashboard-browse']) });
    expect((await v.list('secret/metadata/')).body.data.keys).toEqual(['apps/', 'private/', 'teams/']);
    expect((await v.get('secret/metadata/apps/web/db')).status).toBe(200);
    expect(await v.get('secret/data/apps/web/db')).toMatchObject({ status: 403, body: { errors: [DENIED] } });
    expect((await v.post('secret/data/apps/web/db', { data: { x: '1' } })).status).toBe(403);
    expect((await v.del('secret/metadata/apps/web/db')).status).toBe(403);
    expect((await root.get('secret/data/apps/web/db')).status).toBe(200);
  });

  it('allows create and update on data/ for a writer, and deny wins under a prefix', async () => {
    const v = vaultHttp(sim.url, { token: tokenWith(['dashboard-write']) });
    expect((await v.post('secret/data/apps/new', { options: { cas: 0 }, data: { a: '1' } })).status).toBe(200);
    expect((await v.post('secret/data/apps/new', { options: { cas: 1 }, data: { a: '2' } })).status).toBe(200);
    expect((await v.get('secret/data/apps/new')).status).toBe(403);
    expect((await v.post('secret/data/private/root-ca', { data: { key: 'x' } })).body).toEqual({ errors: [DENIED] });
    expect((await v.list('secret/metadata/private')).status).toBe(200);
  });

  it('matches + as one segment, and only the most specific rule decides', async () => {
    const v = vaultHttp(sim.url, { token: tokenWith(['team-read']) });
    expect((await v.get('secret/data/teams/a/shared')).status).toBe(200);
    expect((await v.get('secret/data/teams/a/own')).status).toBe(403);
    expect((await v.list('secret/metadata/teams/a')).body.data.keys).toEqual(['own', 'shared']);
    expect((await v.list('secret/metadata/')).status).toBe(403);

    const acl = new Acl(
      [
        { name: 'p1', paths: { 'secret/*': ['read'], 'secret/data/team/*': ['list'], 'secret/data/+/x': ['update'], 'secret/data/team/x': ['delete'] } },
        { name: 'p2', paths: { 'secret/*': ['list'], 'secret/data/*': ['deny'] } },
      ],
      ['p1', 'p2'],
    );
    expect(acl.capabilities('secret/other')).toEqual(['list', 'read']);
    expect(acl.capabilities('secret/data/anything')).toEqual(['deny']);
    expect(acl.capabilities('secret/data/team/y')).toEqual(['list']);
    expect(acl.capabilities('secret/data/other/x')).toEqual(['update']);
    expect(acl.capabilities('secret/data/team/x')).toEqual(['delete']);
    expect(acl.capabilities('kv/x')).toEqual(['deny']);
  });

  it('checks a namespace token’s policies on paths relative to its namespace, and a root-namespace token’s on the full path', async () => {
    sim.control({
      mounts: [{ path: 'secret', namespace: 'team-a', secrets: [{ path: 'svc/key', versions: [{ k: 'v' }] }] }],
      policies: [
        { name: 'ns-browse', paths: { 'secret/metadata/*': ['list', 'read'] } },
        { name: 'root-ns-browse', paths: { 'team-a/secret/metadata/*': ['list'] } },
      ],
    });
    const inA = tokenWith(['ns-browse'], { namespace: 'team-a' });
    expect((await root.list('secret/metadata/', { token: inA, namespace: 'team-a' })).body.data.keys).toEqual(['svc/']);
    expect((await root.list('team-a/secret/metadata/svc', { token: inA })).body.data.keys).toEqual(['key']);
    expect((await root.get('secret/data/svc/key', { token: inA, namespace: 'team-a' })).status).toBe(403);
    // A namespace's token is no token outside it.
    expect(await root.list('secret/metadata/', { token: inA })).toMatchObject({ status: 403, body: { errors: ['permission denied'] } });
    const fromRoot = tokenWith(['root-ns-browse']);
    expect((await root.list('secret/metadata/', { token: fromRoot, namespace: 'team-a' })).status).toBe(200);
    expect((await root.get('team-a/secret/metadata/svc/key', { token: fromRoot })).status).toBe(403);
  });

  it('answers sys/capabilities-self, and the mount preflight only for a token with access under the mount', async () => {
    const token = tokenWith(['dashboard-browse']);
    const caps = await root.post('sys/capabilities-self', { paths: ['secret/metadata/apps', 'secret/data/apps'] }, { token });
    expect(caps.body.data).toMatchObject({ 'secret/metadata/apps': ['list', 'read'], 'secret/data/apps': ['deny'] });
    expect((await root.get('sys/internal/ui/mounts/secret', { token })).body.data.options).toEqual({ version: '2' });
    sim.control({ policies: [{ name: 'elsewhere', paths: { 'other/*': ['read'] } }] });
    expect((await root.get('sys/internal/ui/mounts/secret', { token: tokenWith(['elsewhere']) })).status).toBe(403);
    expect((await root.get('sys/mounts', { token })).status).toBe(403);
  });
});
