import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DescribeSecretCommand, GetSecretValueCommand, ListSecretsCommand, RotateSecretCommand, SecretsManagerClient, UpdateSecretVersionStageCommand } from '@aws-sdk/client-secrets-manager';
import { PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { can } from '@/lib/auth/authorize';
import type { Grant } from '@/lib/auth/grants';
import type { Principal } from '@/lib/auth/principal';
import { getFindingSummary, listFindings } from '@/lib/data/findings';
import { inventoryIndexOf } from '@/lib/data/inventory-status';
import { evaluateFindings, findingsDb } from '@/lib/findings/findings';
import { isPolicySource, PolicyReader } from '@/lib/findings/policy-reader';
import type { FindingDto, FindingFilters } from '@/lib/findings/queries';
import { CONTROL_IDS, FINDING_STATUSES, SEVERITIES, type ControlId, type FindingStatus } from '@/lib/findings/types';
import { inventoryDb } from '@/lib/inventory/inventory';
import { InventorySync } from '@/lib/inventory/sync';
import { seededRandom } from '@/lib/random/seeded-random';
import { isInventoryWalkable } from '@/lib/stores/inventory-walk';
import { getStores } from '@/lib/stores/registry';
import { demoOrganisation, type DemoAccount } from '@/simulator/demo/organisation';
import { STORIES } from '@/simulator/demo/stories';
import type { ParameterInput, SecretInput } from '@/simulator/simulated-aws';
import type { SimulatedOrganisation } from '@/simulator/simulated-organisation';
import { DATABASES } from '../support/databases';
import { DEMO_STORE_IDS, openDemoDashboard, recentTrail, type DemoDashboard } from '../support/demo-dashboard';
import { makeTempDir } from '../support/temp-dir';

// The logger reads LOG_LEVEL when it is first imported.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

// The findings engine on the simulator's data: the demo organisation (two accounts, four stores, two
// trail buckets) served in-process and reached through the real SDK exactly as scripts/demo-aws.mjs
// configures the dashboard, its inventory walked and its trail indexed, then evaluated. Checked
// against an oracle computed straight from the demo's input (not through lib/findings), the demo's
// stories, findings cleared by changing the simulator's data, and every filter and caller's cut of
// the findings list and summary against the same filter applied in JS to everything.
//
// The demo's own items raise every item control (its review story: simulator/demo/stories.ts); a few
// planted items below (PLANTED) add one more of some, to change and clear in the test.

const DAY = 86_400_000;
/** The organisation's "now": its data and trail are generated for it, and the first evaluation runs at it. */
const NOW = Date.now();
const SENTINEL = 'SENTINEL-planted-value-5d0e';
/** What a demo value looks like (catalogue.ts demoValue): none may appear in a finding. */
const DEMO_VALUE = /demo-[a-z0-9]{20}/;
const iso = (ms: number) => new Date(ms).toISOString();
const OWNER = [
  { Key: 'owner', Value: 'legacy-team@example.com' },
  { Key: 'team', Value: 'legacy' },
];
const CMK = 'arn:aws:kms:us-east-1:111111111111:key/1f2e3d4c-0000-4000-8000-sim000000001';
const ROTATION_FN = 'arn:aws:lambda:us-east-1:111111111111:function:legacy-secret-rotation';

/** Items the demo lacks, planted in prod: each raises the controls named beside it and (otherwise) nothing. */
const PLANTED = {
  /** ssm-secret-like-string, not-read-recently (no service reads /legacy/), not-rotated-within-policy (version 3, 200 days). */
  plainPassword: { Name: '/legacy/reports/ftp-password', Type: 'String', Value: SENTINEL, Version: 3, LastModifiedDate: iso(NOW - 200 * DAY), Tier: 'Advanced', Description: null, Tags: OWNER } satisfies ParameterInput,
  /** not-read-recently, no-owner and not-rotated-within-policy (version 1 for 300 days: "never rotated"). */
  unreadBucket: { Name: '/legacy/reports/export-bucket', Type: 'String', Value: 'reports-export', Version: 1, LastModifiedDate: iso(NOW - 300 * DAY), Description: null, Tags: [{ Key: 'service', Value: 'reports' }] } satisfies ParameterInput,
  /** sm-scheduled-rotation: rotation on every 30 days, last rotated 40 days ago, so NextRotationDate passed 10 days ago. */
  missedRotation: secret('prod/legacy/report-signing-key', { RotationEnabled: true, RotationDays: 30, RotationLambdaARN: ROTATION_FN, LastRotatedDate: iso(NOW - 40 * DAY), LastChangedDate: iso(NOW - 40 * DAY) }),
  /** sm-not-public and sm-cross-account. */
  openPolicy: secret('prod/legacy/partner-feed-token', {
    ResourcePolicy: JSON.stringify({
      Version: '2012-10-17',
      Statement: [
        { Sid: 'Anyone', Effect: 'Allow', Principal: '*', Action: 'secretsmanager:GetSecretValue', Resource: '*' },
        { Sid: 'Partner', Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::333333333333:role/partner-feed' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' },
      ],
    }),
  }),
  /** policy-unreadable: JSON, but not an IAM policy. */
  brokenPolicy: secret('prod/legacy/odd-policy-token', { ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statements: [] }) }),
};

/** A clean secret (rotated 5 days ago on schedule, read today, customer key, owner) under the overrides. */
function secret(name: string, over: Partial<SecretInput>): SecretInput {
  return {
    Name: name,
    Description: null,
    KmsKeyId: CMK,
    SecretString: SENTINEL,
    RotationEnabled: true,
    RotationDays: 30,
    RotationLambdaARN: ROTATION_FN,
    LastRotatedDate: iso(NOW - 5 * DAY),
    LastChangedDate: iso(NOW - 5 * DAY),
    CreatedDate: iso(NOW - 400 * DAY),
    LastAccessedDate: iso(Math.floor(NOW / DAY) * DAY),
    DeletedDate: null,
    VersionCount: 4,
    Tags: OWNER,
    ...over,
  };
}

/** Trail files back this far are kept: the findings read 97 days back (90 before the 7-day new-reader window). */
const TRAIL_DAYS_KEPT = 110;

/** The demo's accounts with the planted items in prod. */
function organisation(): DemoAccount[] {
  const [prod, staging] = demoOrganisation(NOW) as [DemoAccount, DemoAccount];
  return [
    {
      ...prod,
      parameters: [...prod.parameters, PLANTED.plainPassword, PLANTED.unreadBucket],
      secrets: [...prod.secrets, PLANTED.missedRotation, PLANTED.openPolicy, PLANTED.brokenPolicy],
      trailObjects: recentTrail(prod, NOW, TRAIL_DAYS_KEPT),
    },
    { ...staging, trailObjects: recentTrail(staging, NOW, TRAIL_DAYS_KEPT) },
  ];
}

// ---------------------------------------------------------------------------------------------
// The oracle: the metadata-only controls computed from the input arrays, as the controls' own
// definitions (controls.ts descriptions, Prowler's checks) say, without lib/findings.

type Key = string;
const keyOf = (storeId: string, itemName: string, control: string): Key => `${storeId} ${itemName} ${control}`;
const secretItem = (name: string) => (name.startsWith('/') ? name : `/${name}`);
const ms = (v: string | number | undefined | null) => (v === undefined || v === null ? null : typeof v === 'number' ? v : Date.parse(v));
const hasOwner = (tags: { Key: string; Value: string }[] | undefined) => (tags ?? []).some((t) => ['owner', 'Owner', 'team', 'Team'].includes(t.Key) && t.Value !== '');
const AWS_SECRETS_KEY = /^(alias\/aws\/secretsmanager|arn:aws:kms:[^:]+:\d+:alias\/aws\/secretsmanager)$/;

/** The metadata controls the oracle covers. */
const ORACLE_CONTROLS = [
  'sm-rotation-enabled',
  'sm-using-cmk',
  'no-owner',
  'ssm-secure-string-default-key',
  'sm-rotated-periodically',
  'sm-unused',
  'not-rotated-within-policy',
] as const satisfies readonly ControlId[];

/**
 * `kmsKeys`: each secret's KmsKeyId as ListSecrets answers it (the demo leaves KmsKeyId out and the
 * simulator picks a customer key for some from a hash of the name: the only field not in the input).
 */
function oracle(accounts: DemoAccount[], kmsKeys: Map<string, string | undefined>, now: number): Set<Key> {
  const out = new Set<Key>();
  const limit = 90 * DAY;
  for (const a of accounts) {
    const ssmId = `sim-${a.alias}-ssm`;
    const smId = `sim-${a.alias}-secrets`;
    for (const p of a.parameters) {
      const add = (c: ControlId) => out.add(keyOf(ssmId, p.Name, c));
      if (!hasOwner(p.Tags)) add('no-owner');
      if (p.Type === 'SecureString' && (p.KeyId ?? 'alias/aws/ssm') === 'alias/aws/ssm') add('ssm-secure-string-default-key');
      // The default freshness policy (90 days): past it, whether rotated since (overdue) or not (never rotated).
      if (now - ms(p.LastModifiedDate)! >= limit) add('not-rotated-within-policy');
    }
    for (const s of a.secrets) {
      // Scheduled for deletion: ListSecrets leaves it out, and so does the inventory.
      if (s.DeletedDate) continue;
      const item = secretItem(s.Name);
      const add = (c: ControlId) => out.add(keyOf(smId, item, c));
      const changed = ms(s.LastChangedDate)!;
      if (!s.RotationEnabled) add('sm-rotation-enabled');
      const key = kmsKeys.get(`${smId} ${item}`);
      if (key === undefined || AWS_SECRETS_KEY.test(key)) add('sm-using-cmk');
      if (!hasOwner(s.Tags)) add('no-owner');
      if (now - (ms(s.LastRotatedDate) ?? changed) > limit) add('sm-rotated-periodically');
      if (now - (ms(s.LastAccessedDate) ?? changed) > limit) add('sm-unused');
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Callers for the brute force: grants given directly (the grant machinery has its own tests).

const grant = (role: Grant['role'], paths: string[], stores: string[] | null = null): Grant => ({ role, paths, stores });
const who = (email: string, ...grants: Grant[]): Principal => ({ via: 'session', userId: email, email, name: null, role: null, grants });
const PRINCIPALS = {
  admin: who('admin@example.com', grant('admin', ['/**'])),
  // One glob of one store.
  'payments-auditor': who('payments-auditor@example.com', grant('auditor', ['/payments/**'], ['sim-prod-ssm'])),
  // Two globs of one store and one of another, and a viewer grant everywhere (which adds nothing to findings).
  'mixed-auditor': who('mixed@example.com', grant('auditor', ['/prod/identity/**', '/legacy/**'], ['sim-prod-secrets']), grant('auditor', ['/checkout/*/db/**'], ['sim-staging-ssm']), grant('viewer', ['/**'])),
  viewer: who('viewer@example.com', grant('viewer', ['/**'])),
  operator: who('operator@example.com', grant('operator', ['/**'])),
} satisfies Record<string, Principal>;

const STORE_IDS = DEMO_STORE_IDS;
const ACCOUNTS = ['111111111111', '222222222222'];

/** Every page of a query, with a small page size; fails on a repeated row. */
async function everyPage(principal: Principal, filters: FindingFilters, now: Date, limit: number): Promise<FindingDto[]> {
  const rows: FindingDto[] = [];
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    expect(pages).toBeLessThan(10_000);
    const page = await listFindings(principal, { ...filters, limit, ...(cursor ? { cursor } : {}) }, now);
    expect(page.items.length).toBeLessThanOrEqual(limit);
    rows.push(...page.items);
    if (!page.nextCursor) break;
    // A cursor only with a full page behind it.
    expect(page.items).toHaveLength(limit);
    cursor = page.nextCursor;
  }
  const keys = rows.map((f) => keyOf(f.storeId, f.itemName, f.control));
  expect(new Set(keys).size, 'a row repeated across pages').toBe(keys.length);
  return rows;
}

const matches = (f: FindingDto, filters: FindingFilters, principal: Principal) =>
  can(principal, 'view-audit', { storeId: f.storeId, name: f.itemName }) &&
  (!filters.controls || filters.controls.includes(f.control)) &&
  (!filters.severities || filters.severities.includes(f.severity)) &&
  (!filters.storeIds || filters.storeIds.includes(f.storeId)) &&
  (!filters.accounts || (f.account !== null && filters.accounts.includes(f.account))) &&
  (!filters.owners || (f.owner !== null && filters.owners.includes(f.owner)));

const byStatus = (f: FindingDto, statuses: readonly FindingStatus[] | undefined) => (statuses?.length ? statuses : ['open']).includes(f.status);

describe.each(DATABASES)('findings on the demo organisation (%s)', (database) => {
  const temp = makeTempDir('findings-demo-');
  let accounts: DemoAccount[];
  let org: SimulatedOrganisation;
  let demo: DemoDashboard;
  let policyReader: PolicyReader;
  const first = new Date(NOW);
  let firstRun: FindingDto[];

  const sdkConfig = (alias: 'prod' | 'staging') => demo.sdkConfig(alias);
  /** Walks every AWS store and waits for Parameter Store's tags too. */
  const walkAll = () => demo.walkAll();

  /** One run of the background resource-policy reader over both Secrets Manager stores. */
  async function readPolicies(): Promise<void> {
    for (const store of await getStores()) if (isPolicySource(store)) await policyReader.runOnce(store, await inventoryIndexOf(store));
  }

  /** Everything raised or resolved, as an admin sees it (every status, no filter), paged 1000 at a time. */
  const everything = (now: Date) => everyPage(PRINCIPALS.admin, { statuses: [...FINDING_STATUSES] }, now, 1000);

  beforeAll(async () => {
    accounts = organisation();
    demo = await openDemoDashboard({
      dir: temp.dir,
      database,
      accounts,
      now: NOW,
      awsOptions: { rotationDelayMs: 20, quotas: { 'ssm:DescribeParameters': null, 'ssm:ListTagsForResource': null, 'secretsmanager:GetResourcePolicy': null, 'ssm:PutParameter': null } },
    });
    org = demo.org;
    expect([...demo.trail.values()].reduce((n, r) => n + r.inserted, 0)).toBeGreaterThan(10_000);
    expect(accounts.every((a) => a.trailObjects.length > 4 * (TRAIL_DAYS_KEPT - 2))).toBe(true);

    policyReader = new PolicyReader(await findingsDb(), { ratePerSecond: 1000, refreshHours: 0, runBudgetMs: 120_000 });
    await readPolicies();
    const evaluated = await evaluateFindings({ force: true, now: first });
    expect([...evaluated.keys()].sort()).toEqual([...STORE_IDS, 'local'].filter((id) => evaluated.has(id)).sort());
    for (const id of STORE_IDS) expect(evaluated.has(id), id).toBe(true);
    firstRun = await everything(first);
  }, 240_000);

  afterAll(async () => {
    await demo?.close();
    temp.cleanup();
  });

  it('matches an oracle computed from the demo input for every metadata control', async () => {
    const kmsKeys = new Map<string, string | undefined>();
    for (const alias of ['prod', 'staging'] as const) {
      const client = new SecretsManagerClient(sdkConfig(alias));
      let token: string | undefined;
      do {
        const out = await client.send(new ListSecretsCommand({ MaxResults: 100, NextToken: token }));
        for (const s of out.SecretList ?? []) kmsKeys.set(`sim-${alias}-secrets ${secretItem(s.Name!)}`, s.KmsKeyId);
        token = out.NextToken;
      } while (token);
    }
    expect(kmsKeys.size).toBe(accounts.reduce((n, a) => n + a.secrets.filter((x) => !x.DeletedDate).length, 0));

    const expected = oracle(accounts, kmsKeys, NOW);
    const actual = new Set(firstRun.filter((f) => (ORACLE_CONTROLS as readonly string[]).includes(f.control)).map((f) => keyOf(f.storeId, f.itemName, f.control)));
    // Compared per control, so a difference names its control.
    for (const control of ORACLE_CONTROLS) {
      const of = (set: Set<Key>) => [...set].filter((k) => k.endsWith(` ${control}`)).sort();
      expect(of(actual), control).toEqual(of(expected));
    }
    // Each of them is in the demo (a control with nothing to find would compare empty to empty).
    for (const control of ORACLE_CONTROLS) expect([...expected].some((k) => k.endsWith(` ${control}`)), control).toBe(true);
    // Every finding of the first run is open, first seen at that run.
    for (const f of firstRun) expect([f.status, f.firstSeenAt, f.resolvedAt]).toEqual(['open', first.toISOString(), null]);
  });

  it("raises the review story's controls on the demo's own items and on the planted ones, and on nothing else", () => {
    const on = (control: ControlId) => firstRun.filter((f) => f.control === control).map((f) => `${f.storeId} ${f.itemName}`).sort();
    const { review } = STORIES;
    const sm = (name: string) => `sim-prod-secrets /${name}`;
    expect(on('ssm-secret-like-string')).toEqual([`sim-prod-ssm ${review.plainPassword}`, 'sim-prod-ssm /legacy/reports/ftp-password']);
    // Every other demo parameter lies under a /team/service/ path its service reads recursively every day.
    expect(on('not-read-recently')).toEqual(
      [`sim-prod-ssm ${review.unreadParameter}`, `sim-prod-ssm ${review.plainPassword}`, 'sim-prod-ssm /legacy/reports/export-bucket', 'sim-prod-ssm /legacy/reports/ftp-password'].sort(),
    );
    expect(on('sm-scheduled-rotation')).toEqual([sm(review.missedRotation), 'sim-prod-secrets /prod/legacy/report-signing-key'].sort());
    expect(on('sm-not-public')).toEqual(['sim-prod-secrets /prod/legacy/partner-feed-token', sm(review.openPolicy)].sort());
    expect(on('sm-cross-account')).toEqual(['sim-prod-secrets /prod/legacy/partner-feed-token', sm(review.openPolicy)].sort());
    expect(on('policy-unreadable')).toEqual(['sim-prod-secrets /prod/legacy/odd-policy-token', sm(review.brokenPolicy)].sort());
    const planted = (name: string) => firstRun.filter((f) => f.itemName === name).map((f) => f.control).sort();
    expect(planted('/legacy/reports/ftp-password')).toEqual(['not-read-recently', 'not-rotated-within-policy', 'ssm-secret-like-string']);
    expect(planted('/legacy/reports/export-bucket')).toEqual(['no-owner', 'not-read-recently', 'not-rotated-within-policy']);
    expect(planted('/prod/legacy/report-signing-key')).toEqual(['sm-scheduled-rotation']);
    expect(planted('/prod/legacy/partner-feed-token')).toEqual(['sm-cross-account', 'sm-not-public']);
    expect(planted('/prod/legacy/odd-policy-token')).toEqual(['policy-unreadable']);

    const cross = firstRun.find((f) => f.control === 'sm-cross-account' && f.itemName === '/prod/legacy/partner-feed-token')!;
    expect(cross.evidence.facts?.accounts).toBe('333333333333');
    const unread = firstRun.find((f) => f.control === 'not-read-recently' && f.itemName === '/legacy/reports/ftp-password')!;
    expect(unread.evidence.dates?.lastReadAt).toBeNull();
    expect(Date.parse(unread.evidence.dates!.readsKnownSince!)).toBeLessThan(NOW - (TRAIL_DAYS_KEPT - 1) * DAY);
    expect(unread.evidence.facts).toMatchObject({ tier: 'Advanced' });
  });

  it("tells the demo's stories: a new reader of the production database password, the failing rotation, the secrets no one reads", () => {
    const find = (storeId: string, itemName: string, control: ControlId) => firstRun.find((f) => f.storeId === storeId && f.itemName === itemName && f.control === control);
    const reader = find('sim-prod-secrets', `/${STORIES.newReader.secret}`, 'new-reader');
    expect(reader, 'new-reader on the payments database password').toBeDefined();
    const named = reader!.evidence.principals!.map((p) => p.principal);
    expect(named).toContain(STORIES.newReader.role);
    for (const regular of STORIES.newReader.regularReaders) expect(named).not.toContain(regular);
    const since = Date.parse(reader!.evidence.principals!.find((p) => p.principal === STORIES.newReader.role)!.firstSeenAt!);
    expect(NOW - since).toBeGreaterThan((STORIES.newReader.startedDaysAgo - 1) * DAY);
    expect(NOW - since).toBeLessThanOrEqual((STORIES.newReader.startedDaysAgo + 1) * DAY);

    expect(find('sim-prod-secrets', `/${STORIES.failingRotation.secret}`, 'sm-rotation-succeeded')).toMatchObject({ severity: 'high', status: 'open', account: STORIES.failingRotation.account });
    expect(firstRun.filter((f) => f.control === 'sm-rotation-succeeded').map((f) => f.itemName)).toEqual([`/${STORIES.failingRotation.secret}`]);
    const [redshift, elastic] = STORIES.unread.secrets;
    expect(find('sim-prod-secrets', `/${redshift}`, 'sm-unused')).toMatchObject({ owner: 'data-platform@example.com', evidence: { dates: { lastAccessedAt: expect.any(String) } } });
    // The Elasticsearch password has no owner tag either (only a service tag).
    expect(find('sim-prod-secrets', `/${elastic}`, 'sm-unused')).toMatchObject({ owner: null });
    expect(find('sim-prod-secrets', `/${elastic}`, 'no-owner')).toBeDefined();
    expect(find('sim-prod-secrets', `/${redshift}`, 'no-owner')).toBeUndefined();

    // The tax job still reads AWSPREVIOUS 18 days after the orders password was rotated; the cart, reading the current value, is not named.
    const { oldVersionReader } = STORIES;
    expect(firstRun.filter((f) => f.control === 'old-version-read-after-rotation').map((f) => `${f.storeId} ${f.itemName}`)).toEqual([`sim-prod-secrets /${oldVersionReader.secret}`]);
    const stale = find('sim-prod-secrets', `/${oldVersionReader.secret}`, 'old-version-read-after-rotation')!;
    expect(stale.evidence.principals!.map((p) => p.principal)).toEqual([oldVersionReader.role]);
    expect(stale.evidence.facts).toMatchObject({ versions: 'AWSPREVIOUS', readers: 1, graceDays: 7 });
    expect(NOW - Date.parse(stale.evidence.dates!.changedAt!)).toBeGreaterThan((oldVersionReader.rotatedDaysAgo - 1) * DAY);
    expect(JSON.stringify(stale)).not.toContain(oldVersionReader.regularReader);
  });

  it("holds an example of every item control in the demo's own data, beside the planted items (the consumer controls: tests/consumers; Vault's own: tests/vault)", () => {
    const planted = new Set([...Object.values(PLANTED).map((p) => secretItem(p.Name))]);
    const elsewhere: readonly ControlId[] = ['unreferenced-and-unread', 'referenced-after-deletion', 'plaintext-in-lambda', 'plaintext-in-ecs', 'vault-current-version-deleted'];
    for (const control of CONTROL_IDS.filter((c) => !elsewhere.includes(c))) {
      expect(firstRun.filter((f) => f.control === control && !planted.has(f.itemName)).length, control).toBeGreaterThan(0);
    }
  });

  it('carries no value in any finding, summary or evidence', async () => {
    const text = JSON.stringify([firstRun, await getFindingSummary(PRINCIPALS.admin, {}, first)]);
    expect(text).not.toMatch(DEMO_VALUE);
    expect(text).not.toContain(SENTINEL);
    expect(text).not.toContain('reports-export');
    // Owners and accounts come from tags and ARNs.
    expect(firstRun.find((f) => f.itemName === '/legacy/reports/ftp-password')).toMatchObject({ owner: 'legacy-team@example.com', account: '111111111111', kind: 'String' });
  });

  describe('after the data changes in AWS', () => {
    let second: Date;
    let again: FindingDto[];
    /** The findings each change should clear. */
    const cleared: { storeId: string; itemName: string; controls: ControlId[]; how: string }[] = [];

    beforeAll(async () => {
      const sm = new SecretsManagerClient(sdkConfig('prod'));
      const ssm = new SSMClient(sdkConfig('prod'));
      const stagingSsm = new SSMClient(sdkConfig('staging'));
      const prod = accounts[0]!;
      const open = (control: ControlId, storeId: string) => firstRun.filter((f) => f.control === control && f.storeId === storeId);

      // A secret without rotation that also aged past the limit: RotateSecret turns rotation on and rotates it now.
      const unrotated = firstRun.find(
        (f) => f.storeId === 'sim-prod-secrets' && f.control === 'sm-rotation-enabled' && firstRun.some((g) => g.itemName === f.itemName && g.storeId === f.storeId && g.control === 'sm-rotated-periodically'),
      )!;
      expect(unrotated).toBeDefined();
      await sm.send(new RotateSecretCommand({ SecretId: unrotated.itemName.slice(1), RotationLambdaARN: ROTATION_FN, RotationRules: { AutomaticallyAfterDays: 30 } }));
      cleared.push({ storeId: unrotated.storeId, itemName: unrotated.itemName, controls: ['sm-rotation-enabled', 'sm-rotated-periodically'], how: 'RotateSecret' });

      // The missed scheduled rotation: rotated now.
      await sm.send(new RotateSecretCommand({ SecretId: PLANTED.missedRotation.Name }));
      cleared.push({ storeId: 'sim-prod-secrets', itemName: `/${PLANTED.missedRotation.Name}`, controls: ['sm-scheduled-rotation'], how: 'RotateSecret' });

      // The secret an old reader still reads at AWSPREVIOUS: rotated now, so its reads of the old version fall inside the grace days again.
      await sm.send(new RotateSecretCommand({ SecretId: STORIES.oldVersionReader.secret }));
      cleared.push({ storeId: 'sim-prod-secrets', itemName: `/${STORIES.oldVersionReader.secret}`, controls: ['old-version-read-after-rotation'], how: 'RotateSecret' });

      // The failing rotation: its AWSPENDING label removed (UpdateSecretVersionStage).
      const ldap = await sm.send(new DescribeSecretCommand({ SecretId: STORIES.failingRotation.secret }));
      const pending = Object.entries(ldap.VersionIdsToStages ?? {}).find(([, stages]) => stages.includes('AWSPENDING') && !stages.includes('AWSCURRENT'))![0];
      await sm.send(new UpdateSecretVersionStageCommand({ SecretId: STORIES.failingRotation.secret, VersionStage: 'AWSPENDING', RemoveFromVersionId: pending }));
      cleared.push({ storeId: 'sim-prod-secrets', itemName: `/${STORIES.failingRotation.secret}`, controls: ['sm-rotation-succeeded'], how: 'UpdateSecretVersionStage' });

      // A SecureString on aws/ssm written again under a customer key; one overdue parameter written anew.
      const defaultKey = open('ssm-secure-string-default-key', 'sim-prod-ssm')[0]!;
      await ssm.send(new PutParameterCommand({ Name: defaultKey.itemName, Value: 'rewritten-under-cmk', Type: 'SecureString', KeyId: 'alias/payments-prod', Overwrite: true }));
      cleared.push({ storeId: 'sim-prod-ssm', itemName: defaultKey.itemName, controls: ['ssm-secure-string-default-key'], how: 'PutParameter --key-id' });
      const overdue = open('not-rotated-within-policy', 'sim-staging-ssm').find((f) => !firstRun.some((g) => g.itemName === f.itemName && g.storeId === f.storeId && g.control !== f.control))!;
      expect(overdue).toBeDefined();
      await stagingSsm.send(new PutParameterCommand({ Name: overdue.itemName, Value: 'rotated-value', Overwrite: true }));
      cleared.push({ storeId: 'sim-staging-ssm', itemName: overdue.itemName, controls: ['not-rotated-within-policy'], how: 'PutParameter' });

      // The plain-text password written again as a SecureString on a customer key (and so changed now: not unread any more).
      await ssm.send(new PutParameterCommand({ Name: PLANTED.plainPassword.Name, Value: 'rewritten-secure', Type: 'SecureString', KeyId: 'alias/legacy-prod', Overwrite: true }));
      cleared.push({ storeId: 'sim-prod-ssm', itemName: PLANTED.plainPassword.Name, controls: ['ssm-secret-like-string', 'not-read-recently', 'not-rotated-within-policy'], how: 'PutParameter --type SecureString' });

      // A secret no one used in months: read now (Secrets Manager dates LastAccessedDate to the day).
      const unused = open('sm-unused', 'sim-prod-secrets').find((f) => f.itemName !== unrotated.itemName)!;
      expect(unused).toBeDefined();
      await sm.send(new GetSecretValueCommand({ SecretId: unused.itemName.slice(1) }));
      cleared.push({ storeId: 'sim-prod-secrets', itemName: unused.itemName, controls: ['sm-unused'], how: 'GetSecretValue' });

      // What the simulator's API cannot do (TagResource, UpdateSecret --kms-key-id, PutResourcePolicy) is
      // changed through its control channel, as someone would in the console: the secret is replaced
      // with the same input but for the field.
      const noOwner = open('no-owner', 'sim-prod-secrets').find((f) => f.itemName !== unrotated.itemName)!;
      const onDefaultKey = open('sm-using-cmk', 'sim-prod-secrets').find((f) => f.itemName !== unrotated.itemName && f.itemName !== noOwner.itemName)!;
      const input = (item: string) => prod.secrets.find((s) => secretItem(s.Name) === item)!;
      org.aws('prod').control({
        addSecrets: [
          { ...input(noOwner.itemName), Tags: [...(input(noOwner.itemName).Tags ?? []), { Key: 'owner', Value: 'someone@example.com' }] },
          { ...input(onDefaultKey.itemName), KmsKeyId: CMK },
          { ...PLANTED.openPolicy, ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:role/partner-feed' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }) },
          { ...PLANTED.brokenPolicy, ResourcePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::111111111111:role/legacy-reports' }, Action: 'secretsmanager:GetSecretValue', Resource: '*' }] }) },
        ],
      });
      cleared.push(
        { storeId: 'sim-prod-secrets', itemName: noOwner.itemName, controls: ['no-owner'], how: 'an owner tag' },
        { storeId: 'sim-prod-secrets', itemName: onDefaultKey.itemName, controls: ['sm-using-cmk'], how: 'a customer managed key' },
        { storeId: 'sim-prod-secrets', itemName: `/${PLANTED.openPolicy.Name}`, controls: ['sm-not-public', 'sm-cross-account'], how: 'a policy naming its own account only' },
        { storeId: 'sim-prod-secrets', itemName: `/${PLANTED.brokenPolicy.Name}`, controls: ['policy-unreadable'], how: 'a policy that parses' },
      );

      // The rotations finish after rotationDelayMs.
      await new Promise((resolve) => setTimeout(resolve, 300));
      await walkAll();
      await readPolicies();
      second = new Date();
      await evaluateFindings({ force: true, now: second });
      again = await everything(second);
    }, 120_000);

    it('resolves each cleared finding at the second evaluation, keeping when it was first seen', () => {
      const at = (storeId: string, itemName: string, control: ControlId) => again.find((f) => f.storeId === storeId && f.itemName === itemName && f.control === control);
      for (const change of cleared) {
        for (const control of change.controls) {
          const f = at(change.storeId, change.itemName, control);
          expect(f, `${control} on ${change.itemName} (${change.how})`).toBeDefined();
          expect({ status: f!.status, resolvedAt: f!.resolvedAt, lastSeenAt: f!.lastSeenAt, firstSeenAt: f!.firstSeenAt }, `${control} on ${change.itemName} (${change.how})`).toEqual({
            status: 'resolved',
            resolvedAt: second.toISOString(),
            lastSeenAt: second.toISOString(),
            firstSeenAt: first.toISOString(),
          });
        }
      }
      expect(cleared.flatMap((c) => c.controls)).toHaveLength(16);
    });

    it('keeps what is still raised open with its first-seen date, and resolves nothing that was not changed', () => {
      const changed = new Set(cleared.flatMap((c) => c.controls.map((control) => keyOf(c.storeId, c.itemName, control))));
      const before = new Map(firstRun.map((f) => [keyOf(f.storeId, f.itemName, f.control), f]));
      // The items the changes touched may raise or clear other controls too (a rotation moves last-accessed…); the rest must not move.
      const touched = new Set(cleared.map((c) => `${c.storeId} ${c.itemName}`));
      for (const f of again) {
        const key = keyOf(f.storeId, f.itemName, f.control);
        if (changed.has(key) || touched.has(`${f.storeId} ${f.itemName}`)) continue;
        const old = before.get(key);
        // Nothing new appears on untouched items: the second evaluation runs seconds after the first,
        // but the new-reader window and the ages may move an item across a limit exactly then; allow none.
        expect(old, `${key} appeared`).toBeDefined();
        expect({ status: f.status, firstSeenAt: f.firstSeenAt, resolvedAt: f.resolvedAt }, key).toEqual({ status: 'open', firstSeenAt: first.toISOString(), resolvedAt: null });
        expect(f.lastSeenAt, key).toBe(second.toISOString());
      }
      expect(again.length).toBe(firstRun.length);
      // The secret whose rotation was turned on keeps its other findings (no owner tag, last accessed long ago) as they were.
      const unrotated = cleared[0]!;
      const still = again.filter((f) => f.storeId === unrotated.storeId && f.itemName === unrotated.itemName && f.status === 'open');
      expect(still.length).toBeGreaterThan(0);
      for (const f of still) expect(f.firstSeenAt).toBe(first.toISOString());
    });

    describe('every caller, every filter: pages and counts equal the same filter applied to everything', () => {
      const FILTER_CASES = 30;
      const statusesOf = (r: () => number): FindingStatus[] | undefined => {
        const x = r();
        return x < 0.3 ? undefined : FINDING_STATUSES.filter(() => r() < 0.5);
      };
      const subset = <T>(r: () => number, values: readonly T[], p: number): T[] | undefined => {
        if (r() > p) return undefined;
        const picked = values.filter(() => r() < 0.35);
        return picked.length ? picked : [values[Math.floor(r() * values.length)]!];
      };

      /** Random filter combinations (seeded), with a suppression in force so every status has rows. */
      function filterCases(owners: string[]): FindingFilters[] {
        const r = seededRandom(0xf1d5 + (database === 'postgres' ? 1 : 0));
        const cases: FindingFilters[] = [{}, { statuses: [...FINDING_STATUSES] }];
        while (cases.length < FILTER_CASES) {
          const f: FindingFilters = {};
          const controls = subset(r, CONTROL_IDS, 0.5);
          const severities = subset(r, SEVERITIES, 0.3);
          const storeIds = subset(r, STORE_IDS, 0.4);
          const accounts = subset(r, ACCOUNTS, 0.3);
          const chosenOwners = subset(r, owners, 0.3);
          const statuses = statusesOf(r);
          if (controls) f.controls = controls;
          if (severities) f.severities = severities;
          if (storeIds) f.storeIds = storeIds;
          if (accounts) f.accounts = accounts;
          if (chosenOwners) f.owners = chosenOwners;
          if (statuses && statuses.length) f.statuses = statuses;
          cases.push(f);
        }
        return cases;
      }

      let all: FindingDto[];
      let cases: FindingFilters[];
      beforeAll(async () => {
        // Two suppressions in force and one expired, so "suppressed" has rows and an expired one counts as open.
        const db = await findingsDb();
        const open = again.filter((f) => f.status === 'open');
        const pick = (storeId: string, control: ControlId) => open.find((f) => f.storeId === storeId && f.control === control);
        const suppress = (f: FindingDto, expiresAt: string) =>
          db.addSuppression({ storeId: f.storeId, itemName: f.itemName, control: f.control, reason: 'accepted in the test', expiresAt, createdBy: 'test', createdAt: iso(Date.now()) });
        await suppress(pick('sim-prod-ssm', 'no-owner')!, iso(Date.now() + 30 * DAY));
        await suppress((pick('sim-staging-secrets', 'sm-unused') ?? pick('sim-staging-secrets', 'no-owner'))!, iso(Date.now() + 30 * DAY));
        await suppress(pick('sim-prod-secrets', 'no-owner')!, iso(second.getTime() - DAY));
        all = await everything(second);
        expect(all.filter((f) => f.status === 'suppressed')).toHaveLength(2);
        expect(all.filter((f) => f.status === 'resolved').length).toBeGreaterThanOrEqual(13);
        const owners = [...new Set(all.map((f) => f.owner).filter((o): o is string => o !== null))].sort();
        expect(owners.length).toBeGreaterThan(5);
        cases = filterCases(owners);
      });

      it.each(Object.keys(PRINCIPALS) as (keyof typeof PRINCIPALS)[])('%s', async (name) => {
        const principal = PRINCIPALS[name];
        let seen = 0;
        for (const filters of cases) {
          const label = `${name} ${JSON.stringify(filters)}`;
          const expected = all.filter((f) => matches(f, filters, principal) && byStatus(f, filters.statuses));
          const paged = await everyPage(principal, filters, second, 7);
          // The same rows in the same order (the admin's listing keeps the database's order).
          expect(paged.map((f) => keyOf(f.storeId, f.itemName, f.control)), label).toEqual(expected.map((f) => keyOf(f.storeId, f.itemName, f.control)));
          seen += paged.length;

          const summary = await getFindingSummary(principal, filters, second);
          const counted = all.filter((f) => matches(f, filters, principal));
          for (const row of summary.byControl) {
            for (const status of FINDING_STATUSES) {
              expect(row[status], `${label} ${row.control} ${status}`).toBe(counted.filter((f) => f.control === row.control && f.status === status).length);
            }
          }
          expect(summary.byControl.map((r) => r.control)).toEqual(CONTROL_IDS.filter((c) => !filters.controls || filters.controls.includes(c)));
          for (const status of FINDING_STATUSES) expect(summary[status], `${label} ${status}`).toBe(counted.filter((f) => f.status === status).length);
          for (const severity of SEVERITIES)
            expect(summary.bySeverity[severity], `${label} ${severity}`).toBe(counted.filter((f) => f.status === 'open' && f.severity === severity).length);
        }
        if (name === 'viewer' || name === 'operator') expect(seen).toBe(0);
        else expect(seen).toBeGreaterThan(0);
      }, 120_000);

      it('an auditor held to one glob of one store sees only that glob, and an admin sees every store', async () => {
        const scoped = await everyPage(PRINCIPALS['payments-auditor'], { statuses: [...FINDING_STATUSES] }, second, 500);
        expect(scoped.length).toBeGreaterThan(0);
        for (const f of scoped) {
          expect(f.storeId).toBe('sim-prod-ssm');
          expect(f.itemName.startsWith('/payments/')).toBe(true);
        }
        expect(new Set(all.map((f) => f.storeId))).toEqual(new Set(STORE_IDS));
      });
    });
  });

  // The new-reader window (7 days) passes: the ETL role that started reading the payments database
  // password 5 days ago is a regular reader 8 days from now. It moves prod Secrets Manager's clock: the tests after it look at Parameter Store only.
  describe('eight days on', () => {
    it('resolves the new-reader finding on the payments database password, and keeps the reader out of any new one', async () => {
      const later = new Date(NOW + 8 * DAY);
      await evaluateFindings({ force: true, now: later, storeIds: ['sim-prod-secrets'] });
      const rows = await listFindings(PRINCIPALS.admin, { item: { storeId: 'sim-prod-secrets', name: `/${STORIES.newReader.secret}` }, statuses: [...FINDING_STATUSES], limit: 100 }, later).then((p) => p.items);
      expect(rows.find((f) => f.control === 'new-reader')).toMatchObject({ status: 'resolved', resolvedAt: later.toISOString() });
      const stillNew = await listFindings(PRINCIPALS.admin, { controls: ['new-reader'], limit: 500 }, later).then((p) => p.items);
      for (const f of stillNew) expect(f.evidence.principals!.map((p) => p.principal)).not.toContain(STORIES.newReader.role);
    });
  });

  // Parameter Store lists carry no tags: a walk takes a parameter in with none, and the sync reads
  // them afterwards (ListTagsForResource, one call each, at its own lower rate: minutes for a few
  // thousand). Until then the inventory holds {} for a parameter whose owner tag is unknown.
  describe('a parameter whose tags have not been read yet', () => {
    const NAME = '/legacy/reports/owned-after-walk';
    let before: FindingDto[];
    let after: FindingDto[];
    let atWalk: Date;
    beforeAll(async () => {
      await new SSMClient(sdkConfig('prod')).send(new PutParameterCommand({ Name: NAME, Value: 'reports', Type: 'String', Tags: [{ Key: 'owner', Value: 'legacy-team@example.com' }] }));
      // A walk without the tag fetch: the state between a walk and its tag loop.
      const bare = new InventorySync(await inventoryDb(), (await getStores()).filter(isInventoryWalkable).filter((s) => s.id === 'sim-prod-ssm'), {
        intervalMs: 3_600_000,
        rates: { 'sim-prod-ssm': { DescribeParameters: 1000 } },
        fetchTags: false,
      });
      expect(bare.request('sim-prod-ssm')).toBe('started');
      await bare.idle('sim-prod-ssm');
      await bare.stop();
      atWalk = new Date();
      await evaluateFindings({ force: true, now: atWalk, storeIds: ['sim-prod-ssm'] });
      before = await listFindings(PRINCIPALS.admin, { item: { storeId: 'sim-prod-ssm', name: NAME }, statuses: [...FINDING_STATUSES], limit: 100 }, atWalk).then((p) => p.items);
      // The sync's next walk reads its tags.
      await walkAll();
      const later = new Date();
      await evaluateFindings({ force: true, now: later, storeIds: ['sim-prod-ssm'] });
      after = await listFindings(PRINCIPALS.admin, { item: { storeId: 'sim-prod-ssm', name: NAME }, statuses: [...FINDING_STATUSES], limit: 100 }, later).then((p) => p.items);
    }, 60_000);

    // Parameter Store's tags arrive after the walk: until then no owner is unknown, not missing.
    it('raises no no-owner finding on it before its tags are read', () => {
      expect(before.map((f) => f.control)).not.toContain('no-owner');
    });

    it('raises none after its tags are read either (it has an owner)', () => {
      expect(after.filter((f) => f.control === 'no-owner')).toEqual([]);
      expect(after.filter((f) => f.status !== 'resolved')).toEqual([]);
    });
  });
});
