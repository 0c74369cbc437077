import { describe, expect, it } from 'vitest';
import { parseStoreConfig, type VaultStoreConfig } from '@/lib/config/stores';

// CONFIG_FILE's `kind: vault` entries: the fields and their defaults, several Vault stores beside the
// others, and a message naming the entry, the line and the field for each kind of mistake.

const parse = (yaml: string) => parseStoreConfig(yaml, '/etc/dashboard/dashboard.yaml', { HOME: '/nonexistent' });
const problems = (yaml: string) => {
  try {
    parse(yaml);
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the configuration to be refused');
};

const GOOD = `stores:
  - id: local
    kind: local
  - id: vault-prod
    kind: vault
    address: https://vault.internal:8200/
    namespace: admin/team-a
    pathPrefix: apps/prod/
    auth: { method: approle, roleIdEnv: VAULT_ROLE_ID, secretIdEnv: VAULT_SECRET_ID }
    caFile: certs/vault-ca.pem
    writable: true
    rate: 50
    concurrency: 16
  - id: vault-k8s
    kind: vault
    address: http://127.0.0.1:8200
    mount: kv/team-b
    auth: { method: kubernetes, role: dashboard }
  - id: vault-token
    kind: vault
    address: http://127.0.0.1:8200
    auth: { method: token, tokenEnv: VAULT_TOKEN }
`;

describe('kind: vault', () => {
  it('parses every field, with defaults, several Vault stores beside the others', () => {
    const stores = parse(GOOD);
    expect(stores.map((s) => s.kind)).toEqual(['local', 'vault', 'vault', 'vault']);
    const [, prod, k8s, token] = stores as [unknown, VaultStoreConfig, VaultStoreConfig, VaultStoreConfig];
    expect(prod).toEqual({
      id: 'vault-prod',
      kind: 'vault',
      address: 'https://vault.internal:8200',
      namespace: 'admin/team-a',
      mount: 'secret',
      pathPrefix: 'apps/prod',
      auth: { method: 'approle', roleIdEnv: 'VAULT_ROLE_ID', secretIdEnv: 'VAULT_SECRET_ID' },
      caFile: '/etc/dashboard/certs/vault-ca.pem',
      writable: true,
      rate: 50,
      concurrency: 16,
    });
    expect(k8s).toMatchObject({ mount: 'kv/team-b', rate: 20, concurrency: 8, auth: { method: 'kubernetes', role: 'dashboard', tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token' } });
    expect(token.auth).toEqual({ method: 'token', tokenEnv: 'VAULT_TOKEN' });
    expect(token.writable).toBeUndefined();
  });

  it.each([
    ['no address', `auth: { method: token, tokenEnv: T }`, /stores\[0\] \(id "v"\): address/],
    ['an address that is no URL', `address: vault:8200\n    auth: { method: token, tokenEnv: T }`, /address must be the Vault server's http\(s\) URL/],
    ['no auth', `address: http://v:8200`, /auth is required: \{ method: token, tokenEnv \}/],
    ['an unknown auth method', `address: http://v:8200\n    auth: { method: userpass }`, /auth.method must be one of token, approle, kubernetes/],
    ['a token instead of a variable name', `address: http://v:8200\n    auth: { method: token, tokenEnv: "hvs.CAES-abc" }`, /auth.tokenEnv must be the NAME of an environment variable/],
    ['AppRole without secretIdEnv', `address: http://v:8200\n    auth: { method: approle, roleIdEnv: R }`, /auth.secretIdEnv is required/],
    ['Kubernetes without role', `address: http://v:8200\n    auth: { method: kubernetes }`, /auth.role is required/],
    ['an unknown key in auth', `address: http://v:8200\n    auth: { method: token, tokenEnv: T, token: x }`, /unknown key in auth \(method token\) "token"/],
    ['a bad mount', `address: http://v:8200\n    mount: "sec ret"\n    auth: { method: token, tokenEnv: T }`, /mount must be a Vault path/],
    ['a rate of 0', `address: http://v:8200\n    rate: 0\n    auth: { method: token, tokenEnv: T }`, /rate must be above 0/],
    ['a fractional concurrency', `address: http://v:8200\n    concurrency: 1.5\n    auth: { method: token, tokenEnv: T }`, /concurrency must be a whole number/],
    ['an AWS key', `address: http://v:8200\n    region: us-east-1\n    auth: { method: token, tokenEnv: T }`, /unknown key "region"; expected id, kind, label, address/],
  ])('refuses %s, naming the field', (_, body, message) => {
    const text = problems(`stores:\n  - id: v\n    kind: vault\n    ${body}\n`);
    expect(text).toMatch(message);
    expect(text).toMatch(/dashboard\.yaml:\d+: stores\[0\] \(id "v"\)/);
  });

  it('lists vault among the kinds', () => {
    expect(problems(`stores:\n  - id: v\n    kind: consul\n`)).toMatch(/kind must be one of local, ssm, secretsmanager, vault/);
  });
});
