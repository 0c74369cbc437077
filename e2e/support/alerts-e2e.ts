import { DEMO_FRESHNESS_EXAMPLES } from '../../lib/demo/demo-data';

// The 'alerts' browser-test server: its CONFIG_FILE (the built-in store with the demo items, one
// signed webhook channel whose URL and secret come from the environment, one rule on three demo
// items that are overdue or failing rotation on any date), and the receiver standing in for the
// webhook (e2e/support/alerts-receiver-main.ts), started before the server so nothing is missed.

export const ALERTS_RECEIVER_PORT = Number(process.env.E2E_ALERTS_RECEIVER_PORT ?? 3294);
export const ALERTS_RECEIVER_URL = `http://127.0.0.1:${ALERTS_RECEIVER_PORT}`;
/** In the environment only: the page must never show them. The path carries a token, as Slack's do. */
export const ALERTS_HOOK_PATH = '/hooks/e2e-hook-url-token-7q2';
export const ALERTS_HOOK_URL = `${ALERTS_RECEIVER_URL}${ALERTS_HOOK_PATH}`;
export const ALERTS_HOOK_SECRET = 'e2e-alerts-hook-secret-0123456789abcdef0123456789';
export const ALERTS_RULE = 'e2e-stale';

/** The receiver answers 200 for the first, 404 for the second (dead at once); the spec silences the third. */
export const DELIVERED_ITEM = DEMO_FRESHNESS_EXAMPLES.overdue;
export const DEAD_ITEM = DEMO_FRESHNESS_EXAMPLES['rotation-failing'];
export const SILENCED_ITEM = DEMO_FRESHNESS_EXAMPLES['never-rotated'];

export const ALERTS_ENV = {
  E2E_ALERTS_HOOK_URL: ALERTS_HOOK_URL,
  E2E_ALERTS_HOOK_SECRET: ALERTS_HOOK_SECRET,
  // The conditions evaluated every 5 s (the least allowed), so a silence shows on the page within seconds.
  ALERTS_EVALUATE_SECONDS: '5',
};

export function alertsConfigYaml(): string {
  return `stores:
  - id: local
    kind: local
alerts:
  channels:
    - { id: e2e-hook, kind: webhook, urlEnv: E2E_ALERTS_HOOK_URL, secretEnv: E2E_ALERTS_HOOK_SECRET, timeoutSeconds: 5 }
  rules:
    - id: ${ALERTS_RULE}
      description: Stale demo items to the test webhook
      events: [overdue, rotation-failing]
      channel: e2e-hook
      selector: { paths: [${[DELIVERED_ITEM, DEAD_ITEM, SILENCED_ITEM].join(', ')}] }
`;
}

/** What the receiver kept of one POST. */
export interface ReceivedAlert {
  path: string;
  /** The signature header is HMAC-SHA-256 of "<t>.<raw body>" under the channel's secret (README, "Alert channels"). */
  signed: boolean;
  status: number;
  body: { action: string; event: string; subjects: { name: string }[] };
}
