// The people of the local OpenID Connect provider the 'oidc' browser project signs in through,
// and the grants CONFIG_FILE gives their groups.
export const OIDC_CLIENT = { id: 'secrets-dashboard', secret: 'e2e-oidc-client-secret' } as const;

export interface OidcAccount {
  name: string;
  groups: readonly string[];
  /** The email claim; the login when absent. */
  email?: string;
  /** The email_verified claim; true when absent. */
  emailVerified?: boolean;
}

/** Keyed by login, which is also the subject (`sub`). */
export const OIDC_ACCOUNTS = {
  'lead@example.com': { name: 'Pat Lead', groups: ['payments-leads'] },
  'security@example.com': { name: 'Sam Security', groups: ['security', 'everyone'] },
  'stranger@example.com': { name: 'Sid Stranger', groups: ['everyone'] },
  'payments-auditor@example.com': { name: 'Pia Auditor', groups: ['payments-audit'] },
  // Refused (e2e/oidc-identities.spec.ts; linking by email is off on this server): the seeded
  // admin's email, unverified, from an identity bound to no account; and the lead's email under
  // another subject.
  'admin-lookalike': { name: 'Not The Admin', groups: ['security'], email: 'admin@example.com', emailVerified: false },
  'lead-second-account': { name: 'Pat Lead Again', groups: ['payments-leads'], email: 'lead@example.com' },
} as const satisfies Record<string, OidcAccount>;

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
