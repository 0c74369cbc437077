// The people of the local OpenID Connect provider the 'oidc' browser project signs in through,
// and the grants CONFIG_FILE gives their groups.
export const OIDC_CLIENT = { id: 'secrets-dashboard', secret: 'e2e-oidc-client-secret' } as const;

export const OIDC_ACCOUNTS = {
  'lead@example.com': { name: 'Pat Lead', groups: ['payments-leads'] },
  'security@example.com': { name: 'Sam Security', groups: ['security', 'everyone'] },
  'stranger@example.com': { name: 'Sid Stranger', groups: ['everyone'] },
  'payments-auditor@example.com': { name: 'Pia Auditor', groups: ['payments-audit'] },
} as const;

export type OidcLogin = keyof typeof OIDC_ACCOUNTS;

export const OIDC_GRANTS_YAML = `
grants:
  - group: payments-leads
    role: operator
    paths: [/prod/payments/**]
  - group: security
    role: auditor
    paths: ['/**']
  - group: payments-audit
    role: auditor
    paths: [/prod/payments/**]
`;
