// The demo project's CONFIG_FILE (playwright.config.ts): no stores of its own (the launcher adds the
// built-in store and the simulated organisation's), only a grant holding a reviewer to one team's
// paths in every store, for the findings walk (e2e/demo-findings.spec.ts; the spec creates the account).

export const FINDINGS_AUDITOR = { email: 'payments-reviewer@example.com', password: 'e2e-payments-reviewer-42', paths: '/prod/payments/**' } as const;

export function demoGrantsYaml(): string {
  return ['grants:', `  - user: ${FINDINGS_AUDITOR.email}`, '    role: auditor', `    paths: ['${FINDINGS_AUDITOR.paths}']`, ''].join('\n');
}
