// A little traffic on the demo's simulated Vault (scripts/demo-aws.mjs), made once at every start
// through Vault's own HTTP API, so its file audit device has something to tell: an AppRole service
// and a batch job with a token of its own read a few secrets, and the batch job is refused one by
// its policy. The dashboard reads the audit file like any other (audit: sim-vault-audit), so those
// secrets' Access panels and the /audit timeline are not empty. The credentials are made for this
// start and kept in memory only.
import { randomBytes } from 'node:crypto';

/** Who calls, what each may read, and what they read (the demo set's secrets; a current version of each is readable). */
export const DEMO_VAULT_CLIENTS = {
  approle: { roleName: 'checkout-api', policy: 'checkout-api-read', allowed: 'secret/data/payments/checkout-api/*', reads: ['payments/checkout-api/api-key', 'payments/checkout-api/db-password'] },
  token: {
    displayName: 'token-payouts-batch',
    policy: 'payouts-batch',
    allowed: 'secret/data/payments/payouts/*',
    denied: 'secret/data/payments/card-vault/*',
    reads: ['payments/payouts/webhook-secret', 'payments/payouts/signing-key'],
    refused: 'payments/card-vault/api-key',
  },
};

/**
 * Sets up the two clients (POST /__control: policies, an AppRole, a token) and makes their calls.
 * Resolves with what Vault answered: the paths read (200) and refused (403); rejects when Vault does
 * not answer as it should (the caller logs it; the demo goes on).
 */
export async function makeDemoVaultTraffic(address) {
  const base = address.replace(/\/+$/, '');
  const call = async (method, path, { token, body } = {}) => {
    const response = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { 'X-Vault-Token': token } : {}), ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
    // The body is read and dropped: it holds the secret's value, which the launcher never keeps.
    const text = await response.text();
    return { status: response.status, json: () => JSON.parse(text) };
  };
  const { approle, token } = DEMO_VAULT_CLIENTS;
  const roleId = `demo-${approle.roleName}-${randomBytes(8).toString('hex')}`;
  const secretId = randomBytes(16).toString('hex');
  const setup = await call('POST', '/__control', {
    body: {
      policies: [
        { name: approle.policy, paths: { [approle.allowed]: ['read'] } },
        { name: token.policy, paths: { [token.allowed]: ['read'], [token.denied]: ['deny'] } },
      ],
      approles: [{ roleName: approle.roleName, roleId, secretIds: [secretId], policies: [approle.policy] }],
      tokens: [{ policies: ['default', token.policy], displayName: token.displayName }],
    },
  });
  if (setup.status !== 200) throw new Error(`setting up the demo clients: HTTP ${setup.status}`);
  const batchToken = setup.json().tokens[0].client_token;
  const login = await call('POST', '/v1/auth/approle/login', { body: { role_id: roleId, secret_id: secretId } });
  if (login.status !== 200) throw new Error(`the AppRole login: HTTP ${login.status}`);
  const serviceToken = login.json().auth.client_token;

  const read = async (clientToken, path, wanted) => {
    const { status } = await call('GET', `/v1/secret/data/${path}`, { token: clientToken });
    if (status !== wanted) throw new Error(`reading ${path}: HTTP ${status}, expected ${wanted}`);
    return path;
  };
  const reads = [];
  for (const path of approle.reads) reads.push(await read(serviceToken, path, 200));
  for (const path of token.reads) reads.push(await read(batchToken, path, 200));
  const refused = [await read(batchToken, token.refused, 403)];
  return { reads, refused };
}
