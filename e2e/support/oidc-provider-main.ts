// A real OpenID Connect provider (panva/oidc-provider) on loopback, for the 'oidc' browser project.
// Usage: node --import tsx e2e/support/oidc-provider-main.ts PORT APP_URL
// Its built-in development login form accepts any password for the accounts in oidc-accounts.ts.
import Provider from 'oidc-provider';
import { OIDC_ACCOUNTS, OIDC_CLIENT, type OidcAccount, type OidcLogin } from './oidc-accounts';

const port = Number(process.argv[2] ?? 3297);
const appUrl = process.argv[3] ?? 'http://127.0.0.1:3212';
const issuer = `http://127.0.0.1:${port}`;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: OIDC_CLIENT.id,
      client_secret: OIDC_CLIENT.secret,
      redirect_uris: [`${appUrl}/api/auth/callback/oidc`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  scopes: ['openid', 'email', 'profile', 'groups'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'], groups: ['groups'] },
  // Put the scope's claims into the ID token, as IdPs configured for group claims do.
  conformIdTokenClaims: false,
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['e2e-oidc-cookie-key'] },
  async findAccount(_ctx, id) {
    const account: OidcAccount | undefined = OIDC_ACCOUNTS[id as OidcLogin];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, email: account.email ?? id, email_verified: account.emailVerified ?? true, name: account.name, groups: [...account.groups] };
      },
    };
  },
});
provider.proxy = false;
provider.listen(port, '127.0.0.1', () => console.log(`OIDC provider at ${issuer}`));
