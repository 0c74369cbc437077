// The 'alerts' browser-test server: its CONFIG_FILE (the built-in store with the demo items, one
// signed webhook channel whose URL and secret come from the environment, one overdue rule), the
// local receiver's port the spec listens on, and the items the spec's alerts are about.

export const ALERTS_RECEIVER_PORT = Number(process.env.E2E_ALERTS_RECEIVER_PORT ?? 3294);
/** In the environment only: the page must never show them. The path carries a token, as Slack's do. */
export const ALERTS_HOOK_URL = `http://127.0.0.1:${ALERTS_RECEIVER_PORT}/hooks/e2e-hook-url-token-7q2`;
export const ALERTS_HOOK_SECRET = 'e2e-alerts-hook-secret-0123456789abcdef0123456789';
export const ALERTS_RULE = 'e2e-overdue';

/** Demo items (DEMO_DATA=1): the receiver answers 200 for the first, 404 for the second; the third is silenced. */
export const DELIVERED_ITEM = '/prod/search/elastic/api-key';
export const DEAD_ITEM = '/prod/auth/jwt/private-key';
export const SILENCED_ITEM = '/prod/notifications/sendgrid/api-key';

export const ALERTS_ENV = { E2E_ALERTS_HOOK_URL: ALERTS_HOOK_URL, E2E_ALERTS_HOOK_SECRET: ALERTS_HOOK_SECRET };

export function alertsConfigYaml(): string {
  return `stores:
  - id: local
    kind: local
alerts:
  channels:
    - { id: e2e-hook, kind: webhook, urlEnv: E2E_ALERTS_HOOK_URL, secretEnv: E2E_ALERTS_HOOK_SECRET, timeoutSeconds: 5 }
  rules:
    - id: ${ALERTS_RULE}
      description: Overdue items to the test webhook
      events: [overdue]
      channel: e2e-hook
`;
}
