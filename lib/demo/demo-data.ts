// Demo data for the embedded store: about 60 items across /prod, /staging and /dev with 1 to 12
// versions spread over the last 18 months. Deterministic (a seeded PRNG), so the browser tests can
// recompute every plaintext value and prove that none of them reaches the browser.
import type { ItemKind } from '@/lib/stores/types';
import { seededRandom } from '@/lib/random/seeded-random';

export interface DemoVersion {
  value: string;
  at: Date;
  actor: string;
  labels: string[];
  /** The item's description and tags as this version was written, where they differ from the item's. */
  description?: string | null;
  tags?: Record<string, string>;
}
export interface DemoItem {
  name: string;
  kind: ItemKind;
  description: string | null;
  tags: Record<string, string>;
  versions: DemoVersion[];
  /** A failed rotation the seeder records (the item then reads "rotation failing"). Never a value. */
  rotationFailure?: string;
}

const DAY = 86_400_000;
const SPAN_DAYS = 548; // ~18 months

const mulberry32 = seededRandom;

const ACTORS = ['alice@example.com', 'bob@example.com', 'carol@example.com', 'deploy-bot', 'rotation-lambda'];
const SERVICES: Record<string, { team: string; secrets: [string, ItemKind, string | null][] }> = {
  payments: {
    team: 'payments',
    secrets: [
      ['stripe/secret-key', 'SecureString', 'Stripe API secret key'],
      ['stripe/webhook-secret', 'SecureString', 'Signing secret for Stripe webhooks'],
      ['db/password', 'SecureString', 'PostgreSQL password for the payments service'],
      ['db/host', 'String', 'PostgreSQL primary host'],
      ['db/username', 'String', null],
      ['signing-key', 'SecureString', 'HMAC key for payment receipts'],
    ],
  },
  web: {
    team: 'frontend',
    secrets: [
      ['session-secret', 'SecureString', 'Cookie session secret'],
      ['allowed-origins', 'StringList', 'CORS origins'],
      ['sentry-dsn', 'SecureString', null],
      ['feature-flags', 'String', 'JSON feature flags'],
    ],
  },
  auth: {
    team: 'identity',
    secrets: [
      ['jwt/private-key', 'SecureString', 'RS256 private key for access tokens'],
      ['oidc/client-secret', 'SecureString', 'Okta client secret'],
      ['oidc/client-id', 'String', null],
    ],
  },
  notifications: {
    team: 'growth',
    secrets: [
      ['twilio/auth-token', 'SecureString', 'Twilio auth token'],
      ['twilio/account-sid', 'String', null],
      ['sendgrid/api-key', 'SecureString', 'SendGrid API key'],
    ],
  },
  search: {
    team: 'search',
    secrets: [
      ['elastic/api-key', 'SecureString', 'Elasticsearch API key'],
      ['elastic/endpoint', 'String', null],
    ],
  },
};
const SHARED: [string, ItemKind, string | null][] = [
  ['shared/smtp/password', 'SecureString', 'SMTP relay password'],
  ['shared/slack/webhook-url', 'SecureString', 'Alerts channel webhook'],
  ['shared/datadog/api-key', 'SecureString', 'Datadog API key'],
];

function plainValue(rand: () => number, kind: ItemKind, leaf: string): string {
  const token = (n: number) =>
    Array.from({ length: n }, () => 'abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789'[Math.floor(rand() * 57)]).join('');
  if (kind === 'StringList') return `https://app-${token(6)}.example.com,https://admin-${token(6)}.example.com`;
  if (leaf === 'host' || leaf === 'endpoint') return `db-${token(8).toLowerCase()}.internal.example.com`;
  return `demo-${token(28)}`;
}

export function buildDemoItems(now: Date = new Date()): DemoItem[] {
  const rand = mulberry32(0x5ec2e7);
  const items: DemoItem[] = [];
  const add = (name: string, kind: ItemKind, description: string | null, tags: Record<string, string>, env: string) => {
    const count = 1 + Math.floor(rand() * 12);
    // Spread versions over up to 18 months; about a fifth of the items stop changing long ago (stale).
    const stale = rand() < 0.2;
    const newestAgo = stale ? 200 + Math.floor(rand() * 300) : Math.floor(rand() * 60);
    const oldestAgo = Math.min(SPAN_DAYS, newestAgo + Math.floor(rand() * (SPAN_DAYS - newestAgo)));
    const versions: DemoVersion[] = Array.from({ length: count }, (_, i) => {
      const ago = count === 1 ? newestAgo : oldestAgo - ((oldestAgo - newestAgo) * i) / (count - 1);
      return {
        value: plainValue(rand, kind, name.slice(name.lastIndexOf('/') + 1)),
        at: new Date(now.getTime() - Math.round(ago * DAY) - Math.floor(rand() * 3_600_000)),
        actor: ACTORS[Math.floor(rand() * ACTORS.length)]!,
        labels: [],
      };
    });
    versions.at(-1)!.labels = env === 'prod' ? ['live'] : [];
    if (count > 2) versions.at(-2)!.labels = ['previous'];
    items.push({ name, kind, description, tags: { ...tags, env }, versions });
  };

  for (const env of ['prod', 'staging', 'dev']) {
    for (const [service, { team, secrets }] of Object.entries(SERVICES)) {
      for (const [leaf, kind, description] of secrets) {
        if (env === 'dev' && rand() < 0.25) continue;
        add(`/${env}/${service}/${leaf}`, kind, description, { team }, env);
      }
    }
    for (const [leaf, kind, description] of SHARED) add(`/${env}/${leaf}`, kind, description, { team: 'platform' }, env);
  }
  shapeForFreshness(items, now);
  shapeMetadataHistory(items.find((i) => i.name === DEMO_METADATA_HISTORY.name)!);
  return items;
}

/**
 * A few items shaped so the demo shows every freshness status under the default policy (90 days,
 * warned 14 ahead) on any date: most items are fresh and about a fifth overdue by chance; these
 * make sure of one due soon, one overdue, one never rotated and one whose rotation failed.
 */
export const DEMO_FRESHNESS_EXAMPLES = {
  'due-soon': '/prod/payments/signing-key',
  overdue: '/prod/search/elastic/api-key',
  'never-rotated': '/prod/notifications/sendgrid/api-key',
  'rotation-failing': '/prod/auth/jwt/private-key',
  fresh: '/prod/web/session-secret',
} as const;

const ROTATION_FAILURE = 'rotation-lambda: the identity provider refused the new signing key (HTTP 403); the current key stays in use';

function retime(item: DemoItem, now: Date, newestAgoDays: number, spacingDays: number): void {
  const last = item.versions.length - 1;
  item.versions.forEach((v, i) => {
    v.at = new Date(now.getTime() - Math.round((newestAgoDays + (last - i) * spacingDays) * DAY));
  });
}

function shapeForFreshness(items: DemoItem[], now: Date): void {
  const byName = new Map(items.map((i) => [i.name, i]));
  const example = (name: string) => byName.get(name)!;
  retime(example(DEMO_FRESHNESS_EXAMPLES['due-soon']), now, 82, 85);
  retime(example(DEMO_FRESHNESS_EXAMPLES.overdue), now, 130, 90);
  const first = example(DEMO_FRESHNESS_EXAMPLES['never-rotated']);
  first.versions = [{ ...first.versions[0]!, labels: ['live'] }];
  retime(first, now, 140, 0);
  const failing = example(DEMO_FRESHNESS_EXAMPLES['rotation-failing']);
  retime(failing, now, 20, 30);
  failing.rotationFailure = ROTATION_FAILURE;
  retime(example(DEMO_FRESHNESS_EXAMPLES.fresh), now, 3, 30);
}

/**
 * An item whose metadata changed over its versions, for "what changed": versions 1 and 2 had an
 * older description and one more tag; version 3 changed only them, keeping version 2's value.
 */
export const DEMO_METADATA_HISTORY = {
  name: '/staging/search/elastic/api-key',
  olderDescription: 'Elasticsearch API key (read-only)',
  droppedTag: { key: 'scope', value: 'read-only' },
} as const;

function shapeMetadataHistory(item: DemoItem): void {
  const older = { description: DEMO_METADATA_HISTORY.olderDescription, tags: { ...item.tags, [DEMO_METADATA_HISTORY.droppedTag.key]: DEMO_METADATA_HISTORY.droppedTag.value } };
  Object.assign(item.versions[0]!, older);
  Object.assign(item.versions[1]!, older);
  item.versions[2]!.value = item.versions[1]!.value;
}
