// The data set every store backend is loaded with before the contract suite runs (the AWS
// adapters' simulated AWS is started with it: tests/aws/support/fixture-aws.ts).
import type { ItemKind } from '@/lib/stores/types';

export interface FixtureVersion {
  value: string;
  createdAt: string;
  createdBy: string;
  labels: string[];
}

export interface FixtureItem {
  name: string;
  kind: ItemKind;
  description: string | null;
  tags: Record<string, string>;
  /** Oldest first, as they were written. */
  versions: FixtureVersion[];
}

const day = (n: number) => new Date(Date.UTC(2026, 0, 1) + n * 86_400_000).toISOString();

/** Every value carries this marker so a test can prove none leaked into metadata. */
export const SENTINEL = 'SENTINEL-7f3a9c';

function versions(name: string, count: number, firstDay: number, labelsOnLast: string[] = []): FixtureVersion[] {
  return Array.from({ length: count }, (_, i) => ({
    value: `${SENTINEL}-${name}-v${i + 1}`,
    createdAt: day(firstDay + i * 10),
    createdBy: i % 2 === 0 ? 'alice@example.com' : 'bob@example.com',
    labels: i === count - 1 ? labelsOnLast : [],
  }));
}

export const BULK_COUNT = 120;

export const FIXTURE: FixtureItem[] = [
  { name: '/motd', kind: 'String', description: 'Message of the day', tags: {}, versions: versions('motd', 1, 0) },
  {
    name: '/prod/payments/stripe-key',
    kind: 'SecureString',
    description: 'Stripe live secret key',
    tags: { team: 'payments', env: 'prod' },
    versions: versions('stripe', 3, 1, ['live']),
  },
  { name: '/prod/payments/db/password', kind: 'SecureString', description: null, tags: { team: 'payments' }, versions: versions('dbpw', 2, 2) },
  { name: '/prod/payments/db/host', kind: 'String', description: 'Primary host', tags: {}, versions: versions('dbhost', 1, 3) },
  { name: '/prod/web/allowed-origins', kind: 'StringList', description: null, tags: {}, versions: versions('origins', 1, 4) },
  { name: '/staging/payments/stripe-key', kind: 'SecureString', description: 'Stripe test key', tags: { env: 'staging' }, versions: versions('stg-stripe', 1, 5) },
  { name: '/dev/app/feature-flags', kind: 'String', description: null, tags: {}, versions: versions('flags', 2, 6) },
  ...Array.from({ length: BULK_COUNT }, (_, i) => ({
    name: `/bulk/item-${String(i).padStart(3, '0')}`,
    kind: 'String' as const,
    description: null,
    tags: {},
    versions: versions(`bulk${i}`, 1, 7),
  })),
];

export function allFixtureValues(): string[] {
  return FIXTURE.flatMap((item) => item.versions.map((v) => v.value));
}
