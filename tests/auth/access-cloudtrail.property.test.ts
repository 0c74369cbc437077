import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditScope, can, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { EventIndex } from '@/lib/cloudtrail/event-index';
import { EventQueries, type AuditEntry } from '@/lib/cloudtrail/event-queries';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { seededRandom } from '@/lib/random/seeded-random';
import { dropIndexPlaces, newIndexPlace } from '../cloudtrail/support/index-databases';
import { DATABASES } from '../support/databases';
import { FC_PARAMS, FC_SEED, grantsArb, NAME_LEVELS } from './support/access-arbitraries';

// The CloudTrail timeline and its raw events against the one check: random grants over events that
// name random items (several at once in GetParameters and BatchGetSecretValue, folders in
// GetParametersByPath, KMS Decrypt by ARN). Every entry a caller gets must be one can(…'view-audit'…)
// allows, every allowed entry must be there, and no raw event may name an item outside the grants.

const ACCOUNT = '111122223333';
const REGION = 'eu-west-1';
const STORES: StoreLocator[] = [
  { storeId: 'params', kind: 'ssm', region: REGION, account: ACCOUNT },
  { storeId: 'secrets', kind: 'secretsmanager', region: REGION, account: ACCOUNT },
];
const STORE_IDS = STORES.map((s) => s.storeId);
const principalOf = (grants: Principal['grants']): Principal => ({ via: 'session', userId: 'u', email: 'u@example.com', name: null, role: null, grants });

/** Names for the events, from the run's seed: SSM names begin with "/", secret names need not. */
function namesFrom(seed: number): string[] {
  const random = seededRandom(seed);
  const levels = NAME_LEVELS.filter((l) => l !== '' && !l.includes('\n') && !l.includes('*') && !l.includes('?'));
  const pick = <T,>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const names = new Set<string>();
  while (names.size < 60) names.add(`/${Array.from({ length: 1 + Math.floor(random() * 4) }, () => pick(random() < 0.5 ? ['prod', 'payments', 'paymentsx', 'db'] : levels)).join('/')}`);
  return [...names];
}

function recordsFrom(seed: number, names: string[]): CloudTrailRecord[] {
  const random = seededRandom(seed + 1);
  const pick = <T,>(list: readonly T[]) => list[Math.floor(random() * list.length)]!;
  const secretId = (name: string) => (random() < 0.5 ? name.slice(1) : `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name.slice(1)}-AbCdEf`);
  return Array.from({ length: 600 }, (_, i) => {
    const roll = random();
    const name = pick(names);
    const base: Partial<CloudTrailRecord> =
      roll < 0.2
        ? { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter', requestParameters: { name, withDecryption: true }, readOnly: true }
        : roll < 0.35
          ? { eventSource: 'ssm.amazonaws.com', eventName: 'GetParameters', requestParameters: { names: [name, pick(names), pick(names)] }, readOnly: true }
          : roll < 0.45
            ? { eventSource: 'ssm.amazonaws.com', eventName: 'GetParametersByPath', requestParameters: { path: name.slice(0, name.lastIndexOf('/') + 1), recursive: random() < 0.5 }, readOnly: true }
            : roll < 0.6
              ? { eventSource: 'secretsmanager.amazonaws.com', eventName: 'GetSecretValue', requestParameters: { secretId: secretId(name) }, readOnly: true }
              : roll < 0.8
                ? {
                    eventSource: 'secretsmanager.amazonaws.com',
                    eventName: 'BatchGetSecretValue',
                    requestParameters: { secretIdList: [secretId(name), secretId(pick(names)), secretId(pick(names))] },
                    resources: [name, pick(names)].map((n) => ({ ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n.slice(1)}-XyZ123`, accountId: ACCOUNT })),
                    readOnly: true,
                  }
                : roll < 0.9
                  ? { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', requestParameters: { encryptionContext: { PARAMETER_ARN: `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${name}` } }, readOnly: true }
                  : { eventSource: 'ssm.amazonaws.com', eventName: 'DescribeParameters', requestParameters: {}, readOnly: true };
    return {
      eventID: `prop-${i}`,
      eventTime: new Date(Date.parse('2026-11-01T00:00:00Z') + i * 60_000).toISOString().replace('.000', ''),
      awsRegion: REGION,
      recipientAccountId: ACCOUNT,
      userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/u${i % 5}` },
      sourceIPAddress: '203.0.113.7',
      ...base,
    } as CloudTrailRecord;
  });
}

/** The JSON spellings of an item's name in a raw event: as a parameter name, a secret id or inside an ARN. */
function spellings(storeId: string, name: string): string[] {
  return storeId === 'params' ? [`"${name}"`, `parameter${name}"`] : [`"${name.slice(1)}"`, `secret:${name.slice(1)}-`];
}

describe.each(DATABASES)('the CloudTrail timeline against the one check (%s)', (kind) => {
  let index: EventIndex;
  let queries: EventQueries;
  let all: AuditEntry[];
  const names = namesFrom(FC_SEED);

  beforeAll(async () => {
    index = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => new Date('2026-12-01T00:00:00Z') });
    const records = recordsFrom(FC_SEED, names);
    for (let i = 0; i < records.length; i += 200) await index.ingest('le', 'lookup-events', { account: ACCOUNT, region: REGION }, records.slice(i, i + 200), { cursor: { i } }, STORES);
    queries = new EventQueries(index.db);
    all = [];
    for await (const entry of queries.exportEntries({}, auditScope(principalOf([{ role: 'admin', stores: null, paths: ['/**'] }]), STORE_IDS))) all.push(entry);
    expect(all.length).toBeGreaterThan(600);
  }, 120_000);
  afterAll(async () => {
    await index?.close();
    await dropIndexPlaces();
  });

  const entryKey = (e: AuditEntry) => `${e.eventId} ${e.storeId ?? '-'} ${e.itemName ?? '-'}`;

  it('lists exactly the entries the caller may audit, with no other item named in a raw event', async () => {
    await fc.assert(
      fc.asyncProperty(grantsArb(['local', ...STORE_IDS]), async (grants) => {
        const p = principalOf(grants);
        const got: AuditEntry[] = [];
        for await (const entry of queries.exportEntries({}, auditScope(p, STORE_IDS), 250)) got.push(entry);
        const allowed = (e: AuditEntry) =>
          e.storeId === null || e.itemName === null ? canEverywhere(p, 'view-audit') : can(p, 'view-audit', { storeId: e.storeId, name: e.itemName });
        expect(got.map(entryKey).sort()).toEqual(all.filter(allowed).map(entryKey).sort());
        if (canEverywhere(p, 'view-audit')) return;
        // The Access panel's view: one item's entries (its own and its folders' reads).
        const item = names.find((n) => can(p, 'view-audit', { storeId: 'secrets', name: n }));
        if (item) for await (const entry of queries.exportEntries({ item, store: 'secrets' }, auditScope(p, STORE_IDS), 250)) got.push(entry);
        for (const entry of got) {
          const raw = JSON.stringify(entry.raw);
          for (const store of STORES)
            for (const name of names) {
              if (can(p, 'view-audit', { storeId: store.storeId, name })) continue;
              for (const spelled of spellings(store.storeId, name)) expect(raw.includes(spelled), `${entry.eventName} ${entry.eventId} names ${store.storeId}:${name} (${spelled})`).toBe(false);
            }
        }
      }),
      { ...FC_PARAMS, numRuns: Math.min(FC_PARAMS.numRuns, 300) },
    );
  }, 900_000);
});
