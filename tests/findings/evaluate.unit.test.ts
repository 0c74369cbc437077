import { describe, expect, it } from 'vitest';
import type { StoreRead } from '@/lib/cloudtrail/event-queries';
import { CONTROLS, controlOf } from '@/lib/findings/controls';
import {
  accountOf,
  DEFAULT_FINDING_SETTINGS,
  evaluateItem,
  looksSecretLike,
  ownerOf,
  type ItemConsumers,
  type ItemReads,
  type ItemUnderReview,
  type ReadCoverage,
} from '@/lib/findings/evaluate';
import { summariseReads } from '@/lib/findings/evaluate-store';
import { analysePolicy, type PolicyReading } from '@/lib/findings/resource-policy';
import { CONTROL_IDS, isWorkloadControl, type ControlId, type WorkloadControlId } from '@/lib/findings/types';
import type { StoreKind } from '@/lib/stores/types';

// The pure per-item evaluation, control by control: for each one a case that raises it and a close
// case that does not (a day either side of a limit, the AWS managed key against a customer key…),
// every control only on the stores it applies to, and no evidence carrying anything but metadata.

const NOW = new Date('2026-06-15T12:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const S = DEFAULT_FINDING_SETTINGS;
/** Planted in every field a value could leak through (tag values other than owner/team, the rotation function, the pending version). */
const SENTINEL = 'SENTINEL-value-7c1e9a';
const CMK = 'arn:aws:kms:us-east-1:111111111111:key/0b7c5a2e-4f1d-4c3b-9a8e-6d5f4e3c2b1a';
const OWNED = { owner: 'payments-team@example.com', note: SENTINEL };

/** An item that fails nothing in any store: rotated and read yesterday, on a customer key, with an owner, fresh. */
function clean(storeKind: StoreKind, over: Partial<ItemUnderReview> = {}): ItemUnderReview {
  const base: ItemUnderReview = {
    storeKind,
    name: '/app/db-host',
    kind: storeKind === 'secretsmanager' ? 'secret' : storeKind === 'ssm' ? 'SecureString' : 'secret',
    tags: OWNED,
    kmsKeyId: CMK,
    lastChangedAt: ago(200),
    extra:
      storeKind === 'secretsmanager'
        ? {
            arn: 'arn:aws:secretsmanager:us-east-1:111111111111:secret:app/db-host-AbCdEf',
            rotation: { enabled: true, schedule: 'rate(30 days)', lastRotatedAt: ago(1), nextRotationAt: ago(-29), lastAccessedAt: ago(1), lambdaArn: 'arn:aws:lambda:us-east-1:111111111111:function:rotate' },
          }
        : storeKind === 'ssm'
          ? { arn: 'arn:aws:ssm:us-east-1:111111111111:parameter/app/db-host', tier: 'Standard' }
          : storeKind === 'vault'
            ? { vault: { maxVersions: null, casRequired: true, deleteVersionAfter: null, oldestVersion: 0, currentDeleted: false } }
            : {},
    freshness: { status: 'fresh', reason: 'Last changed 1 day ago; policy / allows 90 days.', dueAt: ago(-89) },
  };
  return { ...base, ...over };
}

const readYesterday: ItemReads = { lastReadAt: ago(1), newReaders: [] };
/** Changed 20 days ago (a secret: rotated then), AWSCURRENT version 0bb2-current. */
const stale20: Partial<ItemUnderReview> = { lastChangedAt: ago(20), currentVersion: '0bb2-current', labels: ['AWSCURRENT'] };
/** Reads yesterday, plus one principal's reads naming `version`, the last of them `daysAgo`. */
const versioned = (version: string, daysAgo: number): ItemReads => ({
  ...readYesterday,
  versioned: [{ itemName: '/app/db-host', principal: 'arn:aws:iam::111111111111:role/reporting', version, firstAt: ago(60), lastAt: ago(daysAgo), reads: 40 }],
});
const longCoverage: ReadCoverage = { since: ago(200) };

interface Case {
  name: string;
  item: ItemUnderReview;
  reads?: ItemReads | null;
  coverage?: ReadCoverage | null;
  settings?: typeof S;
  /** Its resource policy as last read (default: none read yet). */
  policy?: (PolicyReading & { readAt: string }) | null;
  /** What the consumer scan says of it (default: its connection never scanned). */
  consumers?: ItemConsumers | null;
}

function evaluate(c: Case) {
  return evaluateItem(c.item, c.reads === undefined ? readYesterday : c.reads, c.coverage === undefined ? longCoverage : c.coverage, c.settings ?? S, NOW, c.policy ?? null, c.consumers ?? null);
}

/** Controls about store items (the workload controls are asked of Lambda and ECS, tests/consumers). */
type ItemControlId = Exclude<ControlId, WorkloadControlId>;
const ITEM_CONTROL_IDS = CONTROL_IDS.filter((c): c is ItemControlId => !isWorkloadControl(c));

const TASK = { kind: 'ecs-task-definition' as const, name: 'payments-api:7', arn: 'arn:aws:ecs:us-east-1:111111111111:task-definition/payments-api:7', via: 'api DB_PASSWORD' };
/** A complete scan that found no workload naming the item. */
const nobody: ItemConsumers = { consumers: [], scanComplete: true, scannedAt: ago(0.1) };
const namedByTask: ItemConsumers = { ...nobody, consumers: [TASK] };

function raised(c: Case): ControlId[] {
  return evaluate(c).map((f) => f.control);
}

/** A resource policy as the background reader keeps it (read with the secret's own account, 111111111111). */
const policy = (statements: object[]) => ({ ...analysePolicy(JSON.stringify({ Version: '2012-10-17', Statement: statements }), '111111111111'), readAt: ago(1) });
const allow = (principal: unknown, condition?: object) => ({ Effect: 'Allow', Principal: principal, Action: 'secretsmanager:GetSecretValue', Resource: '*', ...(condition ? { Condition: condition } : {}) });

const sm = (over: Partial<ItemUnderReview> = {}) => clean('secretsmanager', over);
const rotation = (over: Partial<NonNullable<ItemUnderReview['extra']['rotation']>>) => ({ ...sm().extra, rotation: { ...sm().extra.rotation!, ...over } });
const ssm = (over: Partial<ItemUnderReview> = {}) => clean('ssm', over);
const smStale = (over: Partial<ItemUnderReview> = {}) => sm({ ...stale20, extra: rotation({ lastRotatedAt: ago(20) }), ...over });
/** A Vault KV v2 secret: custom_metadata as tags, no key, the key's settings in extra.vault. */
const vault = (over: Partial<ItemUnderReview> = {}) => clean('vault', { kmsKeyId: null, currentVersion: '4', labels: [], ...over });
const vaultSettings = (over: Partial<NonNullable<ItemUnderReview['extra']['vault']>>) => ({ vault: { ...vault().extra.vault!, ...over } });

/** Per control: items that raise it, and close items that do not. */
const TABLE: Record<ItemControlId, { raises: Case[]; clears: Case[] }> = {
  'sm-rotation-enabled': {
    raises: [
      { name: 'rotation off', item: sm({ extra: rotation({ enabled: false, nextRotationAt: null }) }) },
      { name: 'no rotation fields at all (changed 10 days ago)', item: sm({ lastChangedAt: ago(10), extra: { arn: sm().extra.arn } }) },
    ],
    clears: [{ name: 'rotation on', item: sm() }],
  },
  'sm-rotation-succeeded': {
    raises: [{ name: 'an AWSPENDING version left behind', item: sm({ extra: { ...sm().extra, pendingVersion: 'a1b2c3d4-pending' } }) }],
    clears: [{ name: 'no pending version', item: sm() }],
  },
  'sm-scheduled-rotation': {
    raises: [{ name: 'next rotation 2 days ago', item: sm({ extra: rotation({ nextRotationAt: ago(2) }) }) }],
    clears: [
      { name: 'next rotation 12 hours ago (within the grace day)', item: sm({ extra: rotation({ nextRotationAt: ago(0.5) }) }) },
      { name: 'next rotation in the future', item: sm() },
      { name: 'a past next rotation date while rotation is off', item: sm({ extra: rotation({ enabled: false, nextRotationAt: ago(20) }) }) },
    ],
  },
  'sm-rotated-periodically': {
    raises: [
      { name: 'rotated 91 days ago (limit 90)', item: sm({ extra: rotation({ lastRotatedAt: ago(91) }) }) },
      { name: 'never rotated, changed 91 days ago', item: sm({ lastChangedAt: ago(91), extra: rotation({ lastRotatedAt: null }) }) },
      { name: 'rotated 31 days ago with a 30-day limit', item: sm({ extra: rotation({ lastRotatedAt: ago(31) }) }), settings: { ...S, maxRotationDays: 30 } },
    ],
    clears: [
      { name: 'rotated 89 days ago', item: sm({ extra: rotation({ lastRotatedAt: ago(89) }) }) },
      { name: 'never rotated, changed 89 days ago', item: sm({ lastChangedAt: ago(89), extra: rotation({ lastRotatedAt: null }) }) },
      { name: 'rotated 91 days ago with a 120-day limit', item: sm({ extra: rotation({ lastRotatedAt: ago(91) }) }), settings: { ...S, maxRotationDays: 120 } },
    ],
  },
  'sm-unused': {
    raises: [
      { name: 'last accessed 91 days ago', item: sm({ extra: rotation({ lastAccessedAt: ago(91) }) }) },
      { name: 'never accessed, changed 200 days ago', item: sm({ extra: rotation({ lastAccessedAt: null }) }) },
    ],
    clears: [
      { name: 'last accessed 89 days ago', item: sm({ extra: rotation({ lastAccessedAt: ago(89) }) }) },
      { name: 'never accessed, changed 10 days ago', item: sm({ lastChangedAt: ago(10), extra: rotation({ lastAccessedAt: null }) }) },
      { name: 'last accessed 91 days ago with a 120-day limit', item: sm({ extra: rotation({ lastAccessedAt: ago(91) }) }), settings: { ...S, unusedDays: 120 } },
    ],
  },
  'sm-using-cmk': {
    raises: [
      { name: 'no key (the default)', item: sm({ kmsKeyId: null }) },
      { name: 'alias/aws/secretsmanager', item: sm({ kmsKeyId: 'alias/aws/secretsmanager' }) },
      { name: 'the alias ARN of aws/secretsmanager', item: sm({ kmsKeyId: 'arn:aws:kms:eu-west-1:222222222222:alias/aws/secretsmanager' }) },
    ],
    clears: [
      { name: 'a customer key ARN', item: sm() },
      { name: 'a customer key alias', item: sm({ kmsKeyId: 'alias/payments-prod' }) },
    ],
  },
  'sm-not-public': {
    raises: [
      { name: 'Allow to "*" without a condition', item: sm(), policy: policy([allow('*')]) },
      { name: 'Allow to {AWS: "*"} with a condition that does not narrow it', item: sm(), policy: policy([allow({ AWS: '*' }, { Bool: { 'aws:SecureTransport': 'true' } })]) },
    ],
    clears: [
      { name: '"*" narrowed to the organisation', item: sm(), policy: policy([allow('*', { StringEquals: { 'aws:PrincipalOrgID': 'o-a1b2c3d4e5' } })]) },
      { name: 'Deny to "*"', item: sm(), policy: policy([{ Effect: 'Deny', Principal: '*', Action: 'secretsmanager:DeleteSecret', Resource: '*' }]) },
      { name: 'a role of its own account', item: sm(), policy: policy([allow({ AWS: 'arn:aws:iam::111111111111:role/payments-api' })]) },
      { name: 'no policy', item: sm(), policy: { outcome: 'none', readAt: ago(1) } },
    ],
  },
  'sm-cross-account': {
    raises: [
      { name: 'a role of another account', item: sm(), policy: policy([allow({ AWS: 'arn:aws:iam::333333333333:role/reader' })]) },
      { name: 'another account by id', item: sm(), policy: policy([allow({ AWS: ['333333333333'] })]) },
    ],
    clears: [
      { name: 'a role of its own account', item: sm(), policy: policy([allow({ AWS: 'arn:aws:iam::111111111111:role/payments-api' })]) },
      { name: 'a service principal', item: sm(), policy: policy([allow({ Service: 'lambda.amazonaws.com' })]) },
      { name: 'policy not read yet', item: sm(), policy: null },
    ],
  },
  'policy-unreadable': {
    raises: [
      { name: 'GetResourcePolicy refused', item: sm(), policy: { outcome: 'error', problem: 'GetResourcePolicy was refused (access denied).', readAt: ago(1) } },
      { name: 'a policy that is not JSON', item: sm(), policy: { ...analysePolicy('{"Statement": [', '111111111111'), readAt: ago(1) } },
      { name: 'a policy without statements', item: sm(), policy: { ...analysePolicy('{"Version": "2012-10-17"}', '111111111111'), readAt: ago(1) } },
    ],
    clears: [
      { name: 'no policy', item: sm(), policy: { outcome: 'none', readAt: ago(1) } },
      { name: 'a readable policy', item: sm(), policy: policy([allow({ AWS: 'arn:aws:iam::111111111111:role/payments-api' })]) },
      { name: 'not read yet', item: sm(), policy: null },
    ],
  },
  'ssm-secure-string-default-key': {
    raises: [
      { name: 'SecureString on alias/aws/ssm', item: ssm({ kmsKeyId: 'alias/aws/ssm' }) },
      { name: 'SecureString without a key id', item: ssm({ kmsKeyId: null }) },
      { name: 'SecureString on the alias ARN of aws/ssm', item: ssm({ kmsKeyId: 'arn:aws:kms:us-east-1:111111111111:alias/aws/ssm' }) },
    ],
    clears: [
      { name: 'SecureString on a customer key', item: ssm() },
      { name: 'a String (no key at all)', item: ssm({ kind: 'String', kmsKeyId: null }) },
    ],
  },
  'ssm-secret-like-string': {
    raises: [
      { name: '/app/db-password as String', item: ssm({ name: '/app/db-password', kind: 'String', kmsKeyId: null }) },
      { name: '/app/apiTokens as StringList', item: ssm({ name: '/app/apiTokens', kind: 'StringList', kmsKeyId: null }) },
    ],
    clears: [
      { name: '/app/db-host as String', item: ssm({ name: '/app/db-host', kind: 'String', kmsKeyId: null }) },
      { name: '/app/db-password as SecureString', item: ssm({ name: '/app/db-password', kind: 'SecureString' }) },
      { name: '/app/public-key as String', item: ssm({ name: '/app/public-key', kind: 'String', kmsKeyId: null }) },
    ],
  },
  'not-rotated-within-policy': {
    raises: [
      { name: 'ssm, overdue', item: ssm({ freshness: { status: 'overdue', reason: 'Last changed 120 days ago; policy / allows 90 days.', dueAt: ago(30) } }) },
      { name: 'ssm, rotation failing', item: ssm({ freshness: { status: 'rotation-failing', reason: 'Rotation failing.', dueAt: ago(1) } }) },
      { name: 'local, overdue', item: clean('local', { freshness: { status: 'overdue', reason: 'Last changed 120 days ago; policy / allows 90 days.', dueAt: ago(30) } }) },
      { name: 'vault, overdue (current version created 120 days ago)', item: vault({ lastChangedAt: ago(120), freshness: { status: 'overdue', reason: 'Last changed 120 days ago; policy / allows 90 days.', dueAt: ago(30) } }) },
      { name: 'vault, never rotated (version 1, past its policy)', item: vault({ currentVersion: '1', lastChangedAt: ago(120), freshness: { status: 'never-rotated', reason: 'Never rotated.', dueAt: ago(30) } }) },
    ],
    clears: [
      { name: 'ssm, fresh', item: ssm() },
      { name: 'vault, fresh', item: vault() },
      { name: 'vault, due soon', item: vault({ freshness: { status: 'due-soon', reason: 'Due in 5 days.', dueAt: ago(-5) } }) },
      { name: 'ssm, due soon', item: ssm({ freshness: { status: 'due-soon', reason: 'Due in 5 days.', dueAt: ago(-5) } }) },
      { name: 'local, fresh', item: clean('local') },
    ],
  },
  'not-read-recently': {
    raises: [
      { name: 'last read 100 days ago', item: ssm(), reads: { lastReadAt: ago(100), newReaders: [] } },
      { name: 'no read in 200 days of coverage', item: ssm(), reads: { lastReadAt: null, newReaders: [] } },
      { name: 'vault: last read 100 days ago (audit log)', item: vault(), reads: { lastReadAt: ago(100), newReaders: [] } },
      { name: 'vault: no read in 200 days of audit log', item: vault(), reads: { lastReadAt: null, newReaders: [] } },
    ],
    clears: [
      { name: 'read yesterday', item: ssm() },
      { name: 'vault: read yesterday', item: vault() },
      { name: 'vault: no audit source covers the store (reads unknown)', item: vault(), reads: null, coverage: null },
      { name: 'vault: audit log shorter than the window', item: vault(), reads: { lastReadAt: null, newReaders: [] }, coverage: { since: ago(30) } },
      { name: 'vault: current version created 10 days ago, never read', item: vault({ lastChangedAt: ago(10) }), reads: { lastReadAt: null, newReaders: [] } },
      { name: 'no coverage (the index cannot tell)', item: ssm(), reads: null, coverage: null },
      { name: 'coverage shorter than the window', item: ssm(), reads: { lastReadAt: null, newReaders: [] }, coverage: { since: ago(30) } },
      { name: 'changed 10 days ago, never read', item: ssm({ lastChangedAt: ago(10) }), reads: { lastReadAt: null, newReaders: [] } },
      { name: 'last read 100 days ago with a 120-day limit', item: ssm(), reads: { lastReadAt: ago(100), newReaders: [] }, settings: { ...S, unusedDays: 120 } },
    ],
  },
  'unreferenced-and-unread': {
    raises: [
      { name: 'named by no workload, last read 91 days ago', item: sm(), reads: { lastReadAt: ago(91), newReaders: [] }, consumers: nobody },
      { name: 'named by no workload, no read since the index began 200 days ago', item: sm(), reads: { lastReadAt: null, newReaders: [] }, consumers: nobody },
      { name: 'named by nothing, read 31 days ago with a 30-day limit', item: sm(), reads: { lastReadAt: ago(31), newReaders: [] }, consumers: nobody, settings: { ...S, unusedDays: 30 } },
    ],
    clears: [
      { name: 'named by an ECS task definition, never read', item: sm(), reads: { lastReadAt: null, newReaders: [] }, consumers: namedByTask },
      { name: 'named by nothing, read 89 days ago', item: sm(), reads: { lastReadAt: ago(89), newReaders: [] }, consumers: nobody },
      { name: 'the scan of its connection did not read everything', item: sm(), reads: { lastReadAt: null, newReaders: [] }, consumers: { ...nobody, scanComplete: false } },
      { name: 'its connection never scanned', item: sm(), reads: { lastReadAt: null, newReaders: [] }, consumers: null },
      { name: 'reads unknown (CloudTrail does not cover the store)', item: sm(), reads: null, consumers: nobody },
      { name: 'reads known for 60 days only', item: sm(), reads: { lastReadAt: null, newReaders: [] }, coverage: { since: ago(60) }, consumers: nobody },
      { name: 'changed 30 days ago (newer than the window)', item: sm({ lastChangedAt: ago(30) }), reads: { lastReadAt: null, newReaders: [] }, consumers: nobody },
    ],
  },
  'referenced-after-deletion': {
    raises: [
      { name: 'scheduled for deletion 3 days ago, named by an ECS task definition', item: sm(), consumers: { ...namedByTask, deletedAt: ago(3) } },
      {
        name: 'scheduled for deletion, named by a Lambda function and a task definition',
        item: sm(),
        consumers: { ...namedByTask, consumers: [TASK, { kind: 'lambda-function', name: 'ledger-export', arn: 'arn:aws:lambda:us-east-1:111111111111:function:ledger-export', via: 'DB_SECRET_ARN' }], deletedAt: ago(3) },
      },
    ],
    clears: [
      { name: 'scheduled for deletion, named by nothing', item: sm(), consumers: { ...nobody, deletedAt: ago(3) } },
      { name: 'named by a task definition, not scheduled for deletion', item: sm(), consumers: namedByTask },
    ],
  },
  'new-reader': {
    raises: [
      { name: 'a principal first seen 2 days ago (ssm)', item: ssm(), reads: { lastReadAt: ago(1), newReaders: [{ principal: 'arn:aws:iam::111111111111:role/etl', firstReadAt: ago(2) }] } },
      { name: 'a principal first seen 2 days ago (secretsmanager)', item: sm(), reads: { lastReadAt: ago(1), newReaders: [{ principal: 'arn:aws:iam::111111111111:role/etl', firstReadAt: ago(2) }] } },
      { name: 'a Vault role first seen 2 days ago (vault)', item: vault(), reads: { lastReadAt: ago(1), newReaders: [{ principal: 'approle/etl', firstReadAt: ago(2) }] } },
    ],
    clears: [
      { name: 'no new principal', item: ssm() },
      { name: 'no reads known', item: ssm(), reads: null, coverage: null },
      { name: 'vault: no new principal', item: vault() },
      { name: 'vault: no audit source covers the store', item: vault(), reads: null, coverage: null },
    ],
  },
  'old-version-read-after-rotation': {
    raises: [
      { name: 'AWSPREVIOUS read 10 days after a rotation 20 days ago', item: smStale(), reads: versioned('label:AWSPREVIOUS', 10) },
      { name: 'an old version id read yesterday', item: smStale(), reads: versioned('version:0aa1-old', 1) },
      { name: 'parameter version 3 of 4 read yesterday, changed 20 days ago', item: ssm({ ...stale20, currentVersion: '4' }), reads: versioned('version:3', 1) },
      { name: 'a parameter label left on an old version', item: ssm({ ...stale20, currentVersion: '4', labels: ['live'] }), reads: versioned('label:blue', 1) },
      { name: 'a 2-day grace', item: smStale(), reads: versioned('label:AWSPREVIOUS', 17), settings: { ...S, oldVersionGraceDays: 2 } },
      { name: 'vault: ?version=3 read yesterday, version 4 created 20 days ago', item: vault({ lastChangedAt: ago(20) }), reads: versioned('version:3', 1) },
    ],
    clears: [
      { name: 'AWSPREVIOUS read within the grace days after the rotation', item: smStale(), reads: versioned('label:AWSPREVIOUS', 15) },
      { name: 'AWSCURRENT named explicitly', item: smStale(), reads: versioned('label:AWSCURRENT', 1) },
      { name: 'AWSPENDING (a rotation at work)', item: smStale(), reads: versioned('label:AWSPENDING', 1) },
      { name: 'the current version id', item: smStale(), reads: versioned('version:0bb2-current', 1) },
      { name: 'the current parameter version by number', item: ssm({ ...stale20, currentVersion: '4' }), reads: versioned('version:4', 1) },
      { name: 'a label on the current parameter version', item: ssm({ ...stale20, currentVersion: '4', labels: ['live'] }), reads: versioned('label:live', 1) },
      { name: 'AWSPREVIOUS read yesterday, but a new value put by hand 5 days ago', item: smStale({ lastChangedAt: ago(5) }), reads: versioned('label:AWSPREVIOUS', 1) },
      { name: 'AWSPREVIOUS read yesterday, but rotated 3 days ago', item: smStale({ lastChangedAt: ago(3), extra: rotation({ lastRotatedAt: ago(3) }) }), reads: versioned('label:AWSPREVIOUS', 1) },
      { name: 'a 30-day grace', item: smStale(), reads: versioned('label:AWSPREVIOUS', 1), settings: { ...S, oldVersionGraceDays: 30 } },
      { name: 'no versioned reads', item: smStale() },
      { name: 'vault: ?version=4, the current one', item: vault({ lastChangedAt: ago(20) }), reads: versioned('version:4', 1) },
      { name: 'vault: ?version=3 read within the grace days after version 4', item: vault({ lastChangedAt: ago(5) }), reads: versioned('version:3', 1) },
    ],
  },
  'no-owner': {
    raises: [
      { name: 'no tags', item: ssm({ tags: {} }) },
      { name: 'only a service tag', item: sm({ tags: { service: 'api', note: SENTINEL } }) },
      { name: 'an empty owner tag', item: clean('local', { tags: { owner: '' } }) },
      { name: 'vault: no custom_metadata', item: vault({ tags: {} }) },
      { name: 'vault: custom_metadata without owner or team', item: vault({ tags: { service: 'api' } }) },
    ],
    clears: [
      { name: 'owner tag', item: ssm() },
      { name: 'vault: owner in custom_metadata', item: vault({ tags: { owner: 'payments@example.com' } }) },
      { name: 'vault: team in custom_metadata', item: vault({ tags: { team: 'payments' } }) },
      { name: 'Owner tag', item: sm({ tags: { Owner: 'a@example.com' } }) },
      { name: 'team tag', item: clean('local', { tags: { team: 'payments' } }) },
      { name: 'Team tag', item: ssm({ tags: { Team: 'payments' } }) },
    ],
  },
  'vault-current-version-deleted': {
    raises: [
      { name: 'current version soft-deleted (vault kv delete)', item: vault({ extra: vaultSettings({ currentDeleted: true }) }) },
      { name: 'current version deleted by delete_version_after', item: vault({ extra: vaultSettings({ currentDeleted: true, deleteVersionAfter: '720h0m0s' }) }) },
    ],
    clears: [
      { name: 'current version readable', item: vault() },
      { name: 'current version readable, older versions pruned by max_versions', item: vault({ extra: vaultSettings({ oldestVersion: 2, maxVersions: 3 }) }) },
      { name: 'a Vault item synced before the settings were kept', item: vault({ extra: {} }) },
    ],
  },
};

describe('the catalogue', () => {
  it('has exactly one control per id, in CONTROL_IDS order, each with a reference, a remediation and a store it applies to (none for a workload control)', () => {
    expect(CONTROLS.map((c) => c.id)).toEqual([...CONTROL_IDS]);
    for (const c of CONTROLS) {
      expect(controlOf(c.id)).toBe(c);
      expect(c.references.length, c.id).toBeGreaterThan(0);
      expect(c.remediation.length, c.id).toBeGreaterThan(10);
      if (isWorkloadControl(c.id)) expect(c.appliesTo, c.id).toEqual([]);
      else expect(c.appliesTo.length, c.id).toBeGreaterThan(0);
    }
  });
  it('has a raising and a clearing case for every item control in this table', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...ITEM_CONTROL_IDS].sort());
    for (const id of ITEM_CONTROL_IDS) {
      expect(TABLE[id].raises.length, id).toBeGreaterThan(0);
      expect(TABLE[id].clears.length, id).toBeGreaterThan(0);
    }
  });
});

describe.each([...ITEM_CONTROL_IDS])('%s', (control) => {
  const { raises, clears } = TABLE[control];
  it.each(raises.map((c) => [c.name, c] as const))('raised: %s', (_name, c) => {
    const found = evaluate(c);
    const finding = found.find((f) => f.control === control);
    expect(finding, `${control} on ${c.name}`).toBeDefined();
    expect(finding!.evidence.summary.length).toBeGreaterThan(5);
    // Each item here fails only this control (the fixture is clean in every other respect).
    expect(found.map((f) => f.control)).toEqual([control]);
  });
  it.each(clears.map((c) => [c.name, c] as const))('not raised: %s', (_name, c) => {
    expect(raised(c)).not.toContain(control);
  });
});

describe('a clean item', () => {
  it.each(['ssm', 'secretsmanager', 'local', 'vault'] as const)('raises nothing in a %s store', (kind) => {
    expect(raised({ name: 'clean', item: clean(kind) })).toEqual([]);
  });
});

describe('evidence', () => {
  it('names the dates, principals and facts a finding rests on', () => {
    const [rotated] = evaluateItem(sm({ extra: rotation({ lastRotatedAt: ago(212) }) }), readYesterday, longCoverage, S, NOW);
    expect(rotated).toMatchObject({ control: 'sm-rotated-periodically', evidence: { summary: `Last rotated on ${ago(212).slice(0, 10)}; the limit is 90 days.`, dates: { lastRotatedAt: ago(212) }, facts: { limitDays: 90 } } });
    const [reader] = evaluateItem(ssm(), { lastReadAt: ago(1), newReaders: [{ principal: 'arn:aws:iam::111111111111:role/etl', firstReadAt: ago(2) }] }, longCoverage, S, NOW);
    expect(reader!.evidence.principals).toEqual([{ principal: 'arn:aws:iam::111111111111:role/etl', firstSeenAt: ago(2) }]);
    const [unread] = evaluateItem(ssm({ extra: { tier: 'Advanced' } }), { lastReadAt: null, newReaders: [] }, longCoverage, S, NOW);
    expect(unread).toMatchObject({ control: 'not-read-recently', evidence: { facts: { tier: 'Advanced', limitDays: 90 }, dates: { lastReadAt: null, readsKnownSince: ago(200) } } });
  });

  it('never carries a tag value, a description or anything else but metadata (sentinel planted everywhere)', () => {
    const all = Object.values(TABLE).flatMap((t) => [...t.raises, ...t.clears]);
    // The worst item of each kind too: everything at once.
    const worst = (['ssm', 'secretsmanager', 'local'] as const).map((kind) =>
      clean(kind, {
        name: '/app/db-password',
        kind: kind === 'ssm' ? 'String' : 'secret',
        tags: { service: SENTINEL, [SENTINEL]: 'x' },
        kmsKeyId: null,
        lastChangedAt: ago(400),
        extra: { rotation: { enabled: false, schedule: null, lastRotatedAt: null, nextRotationAt: null, lastAccessedAt: null, lambdaArn: null }, pendingVersion: 'v-pending' },
        freshness: { status: 'overdue', reason: 'Last changed 400 days ago; policy / allows 90 days.', dueAt: ago(310) },
      }),
    );
    let findings = 0;
    for (const item of [...all.map((c) => c.item), ...worst]) {
      for (const f of evaluateItem(item, { lastReadAt: ago(150), newReaders: [{ principal: 'arn:aws:iam::111111111111:role/x', firstReadAt: ago(1) }] }, longCoverage, S, NOW, policy([allow('*')]))) {
        findings++;
        expect(JSON.stringify(f)).not.toContain(SENTINEL);
      }
    }
    expect(findings).toBeGreaterThan(30);
  });
});

describe('appliesTo', () => {
  /** Everything wrong at once, so every control that could be asked of the kind is raised. */
  const worst = (storeKind: StoreKind): ItemUnderReview => ({
    storeKind,
    name: '/app/db-password',
    kind: storeKind === 'ssm' ? 'String' : 'secret',
    tags: {},
    kmsKeyId: null,
    lastChangedAt: ago(400),
    currentVersion: 'v-current',
    labels: ['AWSCURRENT'],
    extra: {
      rotation: { enabled: true, schedule: 'rate(30 days)', lastRotatedAt: ago(300), nextRotationAt: ago(270), lastAccessedAt: ago(300), lambdaArn: null },
      pendingVersion: 'v-pending',
      vault: { maxVersions: 0, casRequired: false, deleteVersionAfter: '1h0m0s', oldestVersion: 0, currentDeleted: true },
    },
    freshness: { status: 'overdue', reason: 'Overdue.', dueAt: ago(310) },
  });
  const reads: ItemReads = {
    lastReadAt: ago(150),
    newReaders: [{ principal: 'arn:aws:iam::111111111111:role/x', firstReadAt: ago(1) }],
    versioned: [{ itemName: '/app/db-password', principal: 'arn:aws:iam::111111111111:role/x', version: 'label:AWSPREVIOUS', firstAt: ago(200), lastAt: ago(150), reads: 3 }],
  };

  const openPolicy = policy([allow('*'), allow({ AWS: 'arn:aws:iam::333333333333:root' })]);
  const brokenPolicy = { outcome: 'error' as const, problem: 'GetResourcePolicy was refused (access denied).', readAt: ago(1) };
  /** Every control the kind's worst items raise: a String, a SecureString, rotation on and off, with an open and with an unreadable policy. */
  const everything = (kind: StoreKind) =>
    new Set(
      [
        worst(kind),
        { ...worst(kind), kind: kind === 'ssm' ? 'SecureString' : 'secret' },
        { ...worst(kind), extra: { ...worst(kind).extra, rotation: { ...worst(kind).extra.rotation!, enabled: false } } },
      ].flatMap((item) =>
        [openPolicy, brokenPolicy].flatMap((p) =>
          // Named by nothing, and (a secret scheduled for deletion) still named by a task definition.
          [nobody, { ...namedByTask, deletedAt: ago(3) }].flatMap((consumers) => evaluateItem(item, reads, longCoverage, S, NOW, p, consumers).map((f) => f.control)),
        ),
      ),
    );

  it.each(['ssm', 'secretsmanager', 'local', 'vault'] as const)('a %s item raises only controls that apply to its store kind', (kind) => {
    const found = everything(kind);
    for (const c of found) expect(controlOf(c).appliesTo, `${c} on ${kind}`).toContain(kind);
    expect(found.size).toBeGreaterThan(0);
  });

  it('raises every control on each kind it applies to, and on no other', () => {
    const kinds = ['ssm', 'secretsmanager', 'local', 'vault'] as const;
    const byKind = new Map(kinds.map((k) => [k, everything(k)]));
    for (const c of CONTROLS) {
      for (const kind of kinds) expect(byKind.get(kind)!.has(c.id), `${c.id} on ${kind}`).toBe(c.appliesTo.includes(kind));
    }
    // The workload controls are never asked of an item.
    for (const kind of kinds) for (const c of byKind.get(kind)!) expect(isWorkloadControl(c), c).toBe(false);
  });

  it('asks the Secrets Manager controls of no parameter, and the Parameter Store ones of no secret', () => {
    // A secret named like a password on the AWS managed key is not a "String" nor a SecureString.
    const secret = evaluateItem(sm({ name: '/app/db-password', kmsKeyId: null }), { lastReadAt: ago(150), newReaders: [] }, longCoverage, S, NOW).map((f) => f.control);
    expect(secret).toEqual(['sm-using-cmk']);
    const parameter = evaluateItem(
      ssm({ extra: { pendingVersion: 'v', rotation: { enabled: false, schedule: null, lastRotatedAt: null, nextRotationAt: ago(5), lastAccessedAt: ago(300), lambdaArn: null } } }),
      readYesterday,
      longCoverage,
      S,
      NOW,
      policy([allow('*')]),
    ).map((f) => f.control);
    expect(parameter).toEqual([]);
  });

  it('never asks a built-in (local) item about CloudTrail reads', () => {
    const found = evaluateItem(clean('local'), { lastReadAt: ago(150), newReaders: [{ principal: 'arn:aws:iam::111111111111:role/x', firstReadAt: ago(1) }] }, longCoverage, S, NOW, policy([allow('*')]));
    expect(found).toEqual([]);
  });
});

describe('not-rotated-within-policy and the never-rotated status', () => {
  // A parameter past its policy's age that still holds its first value is the freshness status
  // 'never-rotated' (lib/freshness/status.ts statusAt: past due and firstVersion): not rotated
  // within its policy either, and worse than 'overdue'.
  it('is raised on an ssm parameter past its policy that was never rotated (status never-rotated)', () => {
    const item = ssm({ lastChangedAt: ago(700), freshness: { status: 'never-rotated', reason: 'Never rotated; last changed 700 days ago; policy / allows 90 days.', dueAt: ago(610) } });
    expect(raised({ name: 'never rotated', item })).toContain('not-rotated-within-policy');
  });
});

describe('looksSecretLike', () => {
  it.each([
    ['/app/db-password', true],
    ['/app/DB_PASSWORD', true],
    ['/app/stripeApiKey', true],
    ['/app/stripeAPIKey', true],
    ['/app/APIKey', true],
    ['/app/signing_token', true],
    ['/app/private-key', true],
    ['/app/aws_secret_access_key', true],
    ['/app/github-credentials', true],
    ['/app/jwtSecret', true],
    ['/app/db-host', false],
    ['/app/public-key', false],
    ['/app/key-id', false],
    ['/app/awsAccessKeyId', false],
    ['/app/kms-key-arn', false],
    ['/app/partition-key', false],
    ['/app/monkey-count', false],
    ['/app/author', false],
    ['/app/timeouts/connect-ms', false],
    // Only the last level counts: a folder called secrets holds a host name here.
    ['/secrets/db-host', false],
    ['/app/password/rotation-days', false],
  ])('%s → %s', (name, expected) => {
    expect(looksSecretLike(name)).toBe(expected);
  });
});

describe('ownerOf and accountOf', () => {
  it.each([
    [{ owner: 'a@x' }, 'a@x'],
    [{ Owner: 'b@x' }, 'b@x'],
    [{ team: 'pay' }, 'pay'],
    [{ Team: 'pay' }, 'pay'],
    [{ owner: 'a@x', team: 'pay' }, 'a@x'],
    [{ service: 'api' }, null],
    [{}, null],
  ])('%j → %s', (tags, expected) => {
    expect(ownerOf(tags as Record<string, string>)).toBe(expected);
  });
  it.each([
    [{ arn: 'arn:aws:ssm:us-east-1:111111111111:parameter/app/x' }, '111111111111'],
    [{ arn: 'arn:aws:secretsmanager:eu-west-1:222222222222:secret:app/x-AbCdEf' }, '222222222222'],
    [{ arn: 'arn:aws:ssm:us-east-1::parameter/app/x' }, null],
    [{ arn: 'not-an-arn' }, null],
    [{}, null],
  ])('%j → %s', (extra, expected) => {
    expect(accountOf(extra)).toBe(expected);
  });
});

describe('summariseReads', () => {
  const windowStart = NOW.getTime() - 7 * DAY;
  const read = (principal: string | null, firstDays: number, lastDays: number, itemName = '/app/x', recursive = false): StoreRead => ({ itemName, recursive, principal, firstAt: ago(firstDays), lastAt: ago(lastDays) });

  it('takes the newest read as the last read, whoever read it', () => {
    expect(summariseReads([read('a', 50, 40), read(null, 3, 2), read('b', 30, 20)], windowStart).lastReadAt).toBe(ago(2));
    expect(summariseReads([], windowStart)).toEqual({ lastReadAt: null, newReaders: [] });
  });

  it('names a principal first seen inside the window, oldest first, and not one seen before it (by another route, e.g. a folder read)', () => {
    const reads = [read('etl', 5, 1), read('api', 60, 1), read('api', 2, 1, '/app/', true), read('ci', 3, 3), read(null, 1, 1)];
    expect(summariseReads(reads, windowStart).newReaders).toEqual([
      { principal: 'etl', firstReadAt: ago(5) },
      { principal: 'ci', firstReadAt: ago(3) },
    ]);
  });

  it('a first read just outside the window is not new', () => {
    expect(summariseReads([read('etl', 7.01, 1)], windowStart).newReaders).toEqual([]);
    expect(summariseReads([read('etl', 6.99, 1)], windowStart).newReaders.map((r) => r.principal)).toEqual(['etl']);
  });
});
