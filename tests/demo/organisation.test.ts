import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { mapRecord } from '@/lib/cloudtrail/event-mapping';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { DEMO_ACCOUNTS, demoOrganisation, type DemoAccount } from '@/simulator/demo/organisation';
import { DELETED_SECRET, PLANTED_PLAIN_TEXT } from '@/simulator/demo/compute';
import { STORIES } from '@/simulator/demo/stories';
import { secretArn } from '@/simulator/simulated-aws';

// The demo organisation's data: deterministic, the size the brief asks for, fake values only, and
// every story there as the dashboard will read it (mapped with the dashboard's own event mapping).

const NOW = Date.parse('2026-12-05T01:30:00Z');
const DAY = 86_400_000;
let org: DemoAccount[];
let prod: DemoAccount;
let staging: DemoAccount;

const STORES: StoreLocator[] = [
  { storeId: 'sim-prod-ssm', kind: 'ssm', region: 'us-east-1', account: null },
  { storeId: 'sim-prod-secrets', kind: 'secretsmanager', region: 'us-east-1', account: null },
  { storeId: 'sim-staging-ssm', kind: 'ssm', region: 'eu-west-1', account: null },
  { storeId: 'sim-staging-secrets', kind: 'secretsmanager', region: 'eu-west-1', account: null },
];
const mapped = (r: CloudTrailRecord) => mapRecord(r, { account: null, region: null, ingestedAt: new Date(NOW).toISOString() }, STORES);
const reads = (account: DemoAccount, itemName: string) =>
  account.events.map(mapped).filter((e) => e.readOnly && e.errorCode === null && e.items.some((i) => i.itemName === itemName));
const ageOf = (date: string | number | undefined) => (NOW - Date.parse(String(date))) / DAY;
const trailRecords = (account: DemoAccount) => account.trailObjects.flatMap((o) => (JSON.parse(gunzipSync(o.body).toString('utf8')) as { Records: CloudTrailRecord[] }).Records);

beforeAll(() => {
  org = demoOrganisation(NOW);
  [prod, staging] = org as [DemoAccount, DemoAccount];
});

describe('demoOrganisation', () => {
  it('is two accounts, prod in us-east-1 and staging in eu-west-1, each with its own key and trail bucket', () => {
    expect(org.map((a) => [a.alias, a.account, a.region, a.label])).toEqual([
      ['prod', '111111111111', 'us-east-1', 'Production (simulated)'],
      ['staging', '222222222222', 'eu-west-1', 'Staging (simulated)'],
    ]);
    expect(org.map((a) => a.accessKeyId)).toEqual(DEMO_ACCOUNTS.map((a) => a.accessKeyId));
    expect(new Set(org.map((a) => a.accessKeyId)).size).toBe(2);
    expect(prod.principalArn).toBe('arn:aws:sts::111111111111:assumed-role/secrets-dashboard/dashboard');
    expect(new Set(org.map((a) => a.trailBucket)).size).toBe(2);
  });

  it('is the same for the same now, and moves with now', () => {
    const again = demoOrganisation(NOW);
    expect(JSON.stringify(again.map(({ trailObjects, ...rest }) => rest))).toBe(JSON.stringify(org.map(({ trailObjects, ...rest }) => rest)));
    expect(again[0]!.trailObjects.map((o) => o.key)).toEqual(prod.trailObjects.map((o) => o.key));
    expect(Buffer.concat(again[1]!.trailObjects.map((o) => o.body)).equals(Buffer.concat(staging.trailObjects.map((o) => o.body)))).toBe(true);
    const later = demoOrganisation(NOW + DAY);
    expect(later[0]!.events.length).toBeGreaterThan(1000);
    expect(later[0]!.events[0]!.eventTime).not.toBe(prod.events[0]!.eventTime);
  });

  it('holds a few thousand parameters and a few hundred secrets under team paths, of every kind, most with owners', () => {
    const parameters = org.flatMap((a) => a.parameters);
    const secrets = org.flatMap((a) => a.secrets);
    expect(parameters.length).toBeGreaterThanOrEqual(2000);
    expect(parameters.length).toBeLessThanOrEqual(5000);
    expect(secrets.length).toBeGreaterThanOrEqual(200);
    expect(secrets.length).toBeLessThanOrEqual(500);
    // Team paths, and /legacy/ (the review story: what nobody reads any more).
    expect(new Set(parameters.map((p) => p.Name.split('/')[1]))).toEqual(new Set(['payments', 'checkout', 'identity', 'data-platform', 'search', 'notifications', 'platform', 'legacy']));
    expect(prod.parameters.some((p) => p.Name.startsWith('/payments/api/'))).toBe(true);
    expect(prod.secrets.every((s) => s.Name.startsWith('prod/'))).toBe(true);
    expect(staging.secrets.every((s) => s.Name.startsWith('staging/'))).toBe(true);
    const kinds = new Set(parameters.map((p) => p.Type));
    expect(kinds).toEqual(new Set(['String', 'StringList', 'SecureString']));
    // Credentials are SecureStrings, configuration is not; the review story's plain-String password aside.
    for (const p of parameters) expect(p.Type === 'SecureString').toBe(/password|key/.test(p.Name) && p.Name !== STORIES.review.plainPassword);
    const owned = parameters.filter((p) => p.Tags?.some((t) => t.Key === 'owner'));
    expect(owned.length / parameters.length).toBeGreaterThan(0.8);
    expect(owned.length).toBeLessThan(parameters.length);
    expect(secrets.some((s) => !s.Tags?.some((t) => t.Key === 'owner'))).toBe(true);
    // Nothing left for the simulator to make up: descriptions, deletion (one only, that compute.ts names), last access.
    for (const p of parameters) expect(p.Description === null || typeof p.Description === 'string').toBe(true);
    for (const s of secrets) {
      expect(s.DeletedDate === null || s.Name === DELETED_SECRET).toBe(true);
      expect(s.LastAccessedDate === null || typeof s.LastAccessedDate === 'string').toBe(true);
    }
  });

  it('spreads the items over every freshness status of the default 90-day policy', () => {
    const ageDays = (date: string | number | undefined) => (NOW - Date.parse(String(date))) / DAY;
    const bands = { fresh: 0, dueSoon: 0, overdue: 0, neverRotated: 0 };
    for (const p of org.flatMap((a) => a.parameters)) {
      const age = ageDays(p.LastModifiedDate);
      if (age < 76) bands.fresh++;
      else if (age < 90) bands.dueSoon++;
      else if (p.Version === 1) bands.neverRotated++;
      else bands.overdue++;
    }
    for (const count of Object.values(bands)) expect(count).toBeGreaterThan(50);
    const secrets = org.flatMap((a) => a.secrets);
    const rotating = secrets.filter((s) => s.RotationEnabled);
    expect(rotating.length).toBeGreaterThan(50);
    // Rotation on schedule: the last one within the schedule (but for the failing one), by the team's function.
    // (the review story's missed schedule aside).
    for (const s of rotating.filter((s) => !s.RotationFails && s.Name !== STORIES.review.missedRotation)) {
      expect(ageDays(s.LastRotatedDate)).toBeLessThan(s.RotationDays!);
      expect(s.RotationLambdaARN).toMatch(/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[a-z-]+-secret-rotation$/);
    }
    expect(secrets.filter((s) => !s.RotationEnabled && s.VersionCount === 1 && ageDays(s.LastChangedDate) > 90).length).toBeGreaterThan(3);
    expect(secrets.filter((s) => !s.RotationEnabled && (s.VersionCount ?? 0) > 1 && ageDays(s.LastChangedDate) > 90).length).toBeGreaterThan(3);
  });

  it("holds the review story's items: a plain-String password and an unowned parameter nobody reads, a missed schedule, open and broken policies", () => {
    const { review } = STORIES;
    const parameter = (name: string) => prod.parameters.find((p) => p.Name === name)!;
    const secret = (name: string) => prod.secrets.find((s) => s.Name === name)!;
    expect(parameter(review.plainPassword)).toMatchObject({ Type: 'String', Tier: 'Advanced' });
    expect(parameter(review.unreadParameter).Tags?.some((t) => t.Key === 'owner' || t.Key === 'team')).toBe(false);
    // Nothing under /legacy/ is read, alone or by path.
    const legacyReads = prod.events.map(mapped).filter((e) => e.readOnly && e.items.some((i) => i.itemName.startsWith('/legacy/') || i.itemName === '/'));
    expect(legacyReads).toEqual([]);
    const missed = secret(review.missedRotation);
    expect(ageOf(missed.LastRotatedDate)).toBeGreaterThan(missed.RotationDays! + 1);
    const policy = JSON.parse(String(secret(review.openPolicy).ResourcePolicy)) as { Statement: { Principal: unknown }[] };
    expect(policy.Statement.map((s) => s.Principal)).toEqual([{ AWS: `arn:aws:iam::${review.partnerAccount}:role/feed-reader` }, '*']);
    expect(JSON.parse(String(secret(review.brokenPolicy).ResourcePolicy))).not.toHaveProperty('Statement');
    expect(staging.parameters.some((p) => p.Name.startsWith('/legacy/'))).toBe(false);
  });

  it('has exactly one rotation that keeps failing, its AWSPENDING left over an hour ago', () => {
    const failing = org.flatMap((a) => a.secrets).filter((s) => s.RotationFails || s.PendingSince !== undefined);
    expect(failing.map((s) => s.Name)).toEqual([STORIES.failingRotation.secret]);
    expect(NOW - Date.parse(String(failing[0]!.PendingSince))).toBeGreaterThanOrEqual(60 * 60_000);
    expect(failing[0]!.RotationEnabled).toBe(true);
  });

  it('uses obviously fake values only, and no event carries one', () => {
    const values = [
      ...org.flatMap((a) => a.parameters.filter((p) => p.Type === 'SecureString').map((p) => p.Value!)),
      ...org.flatMap((a) => a.secrets.map((s) => s.SecretString!)),
    ];
    for (const value of values) expect(value).toMatch(/demo-[a-z0-9]{20}/);
    // The task definitions and functions plant credentials in plain sight on purpose (the next test).
    const everything = JSON.stringify(org.map(({ trailObjects, taskDefinitions, functions, ...rest }) => rest));
    // Nothing a secret scanner would flag: AWS key ids, private keys, provider token prefixes.
    expect(everything).not.toMatch(/(AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}|BEGIN [A-Z ]*PRIVATE KEY|sk_live_|ghp_[A-Za-z0-9]{20}|xox[bp]-/);
    const events = JSON.stringify(org.flatMap((a) => [...a.events, ...trailRecords(a)]));
    expect(events).not.toMatch(/demo-[a-z0-9]{20}/);
  });

  it('has 90 days of LookupEvents history, tens of thousands of events with the trail files, and the trail holding 180 days: the same recent events, delivered once their file closed', () => {
    for (const account of org) {
      for (const e of account.events) {
        const t = Date.parse(e.eventTime!);
        expect(t).toBeLessThanOrEqual(NOW);
        expect(t).toBeGreaterThan(NOW - 90 * DAY - DAY);
        expect(e.recipientAccountId).toBe(account.account);
        expect(e.awsRegion).toBe(account.region);
      }
      expect(new Set(account.events.map((e) => e.eventID)).size).toBe(account.events.length);
      const trail = trailRecords(account);
      // Nothing from a file not yet delivered (a six-hour span, delivered five minutes after it closes).
      for (const e of trail) expect(Date.parse(e.eventTime!)).toBeLessThan(NOW - 5 * 60_000);
      expect(Math.min(...trail.map((e) => Date.parse(e.eventTime!)))).toBeLessThan(NOW - 170 * DAY);
      // The last 90 days' events in the trail are LookupEvents' own (same ids), so the dashboard stores each once.
      const lookupIds = new Set(account.events.map((e) => e.eventID));
      const recentInTrail = trail.filter((e) => Date.parse(e.eventTime!) > NOW - 89 * DAY);
      expect(recentInTrail.length).toBeGreaterThan(account.events.length / 2);
      for (const e of recentInTrail) expect(lookupIds.has(e.eventID)).toBe(true);
      for (const o of account.trailObjects) {
        expect(o.bucket).toBe(account.trailBucket);
        expect(o.key).toMatch(new RegExp(`^AWSLogs/${account.account}/CloudTrail/${account.region}/\\d{4}/\\d{2}/\\d{2}/${account.account}_CloudTrail_${account.region}_\\d{8}T\\d{4}Z_[0-9a-f]{16}\\.json\\.gz$`));
      }
    }
    const total = new Set(org.flatMap((a) => [...a.events, ...trailRecords(a)].map((e) => e.eventID))).size;
    expect(total).toBeGreaterThan(20_000);
    const names = new Set(org.flatMap((a) => a.events.map((e) => e.eventName)));
    for (const name of ['GetParameter', 'GetParametersByPath', 'PutParameter', 'GetSecretValue', 'PutSecretValue', 'RotateSecret', 'DescribeSecret', 'Decrypt']) expect(names).toContain(name);
  });

  it('maps every recent event to an item of the demo stores', () => {
    for (const account of org) {
      const unmapped = account.events.map(mapped).filter((e) => e.items.length === 0 || e.items.some((i) => i.storeId === null));
      expect(unmapped).toEqual([]);
    }
  });

  it('story: a role started reading the production database password a few days ago (a new reader)', () => {
    const { newReader } = STORIES;
    const byRole = (role: string) => reads(prod, `/${newReader.secret}`).filter((e) => e.principal === role);
    const etl = byRole(newReader.role);
    expect(etl.length).toBeGreaterThan(10);
    const first = Math.min(...etl.map((e) => Date.parse(e.time)));
    expect(NOW - first).toBeGreaterThan((newReader.startedDaysAgo - 1) * DAY);
    expect(NOW - first).toBeLessThan(7 * DAY);
    for (const role of newReader.regularReaders) expect(Math.min(...byRole(role).map((e) => Date.parse(e.time)))).toBeLessThan(NOW - 80 * DAY);
  });

  it('story: a job still reads the previous version (AWSPREVIOUS) weeks after a rotation, beside a reader of the current one', () => {
    const { oldVersionReader } = STORIES;
    const secret = prod.secrets.find((x) => x.Name === oldVersionReader.secret)!;
    const rotatedAt = Date.parse(String(secret.LastRotatedDate));
    expect(ageOf(secret.LastRotatedDate)).toBeGreaterThan(oldVersionReader.rotatedDaysAgo - 1);
    const all = reads(prod, `/${oldVersionReader.secret}`);
    const pinned = all.filter((e) => e.principal === oldVersionReader.role);
    expect(pinned.length).toBeGreaterThan(30);
    for (const e of pinned) expect(e.items[0]!.version).toBe('label:AWSPREVIOUS');
    expect(pinned.filter((e) => Date.parse(e.time) > rotatedAt + 8 * DAY).length).toBeGreaterThan(5);
    const current = all.filter((e) => e.principal === oldVersionReader.regularReader);
    expect(current.length).toBeGreaterThan(30);
    for (const e of current) expect(e.items[0]!.version).toBeUndefined();
  });

  it("names each secret in its events by the ARN its simulated account answers (the simulator's suffix)", () => {
    for (const account of org) {
      const arns = account.events.flatMap((e) => JSON.stringify(e).match(/arn:aws:secretsmanager:[^"]+/g) ?? []);
      expect(arns.length).toBeGreaterThan(0);
      for (const arn of arns) {
        const name = arn.replace(/^arn:aws:secretsmanager:[^:]+:\d{12}:secret:/, '').replace(/-[A-Za-z0-9]{6}$/, '');
        expect(arn).toBe(secretArn(name, account.account, account.region));
      }
    }
  });

  it('story: a CI role denied again and again on a staging secret', () => {
    const { deniedCi } = STORIES;
    const denied = staging.events.map(mapped).filter((e) => e.errorCode === 'AccessDenied' && e.items.some((i) => i.itemName === `/${deniedCi.secret}`));
    expect(denied.length).toBeGreaterThanOrEqual(deniedCi.days * deniedCi.perDay - deniedCi.perDay);
    expect(new Set(denied.map((e) => e.principal))).toEqual(new Set([deniedCi.role]));
    expect(staging.secrets.some((s) => s.Name === deniedCi.secret)).toBe(true);
  });

  it('story: secrets no one has read in months', () => {
    for (const name of STORIES.unread.secrets) {
      const secret = prod.secrets.find((s) => s.Name === name)!;
      expect(NOW - Date.parse(String(secret.LastAccessedDate))).toBeGreaterThan(120 * DAY);
      expect(prod.events.map(mapped).filter((e) => e.items.some((i) => i.itemName === `/${name}`))).toEqual([]);
    }
  });

  it('story: a person read a secret\'s value in the middle of the night', () => {
    const { nightReveal } = STORIES;
    const atNight = reads(prod, `/${nightReveal.secret}`).filter((e) => e.eventName === 'GetSecretValue' && new Date(e.time).getUTCHours() < 5);
    expect(atNight).toHaveLength(1);
    expect(atNight[0]!.actorArn).toMatch(new RegExp(`assumed-role/AWSReservedSSO_AdministratorAccess_[0-9a-f]+/${nightReveal.person}$`));
    expect(atNight[0]!.time.slice(11, 16)).toBe(nightReveal.at);
  });

  it('runs task definitions and functions that name real items in every form AWS takes, one item of the other account, and one secret scheduled for deletion', () => {
    for (const account of org) {
      const other = org.find((a) => a !== account)!;
      const parameters = new Set(account.parameters.map((p) => p.Name));
      const secrets = new Map(account.secrets.map((s) => [s.Name, s]));
      const secretByArn = (arn: string) => {
        const name = arn.replace(/^arn:aws:secretsmanager:[^:]+:\d{12}:secret:/, '').split(':')[0]!;
        return [...secrets.keys()].find((n) => n === name || secretArn(n, account.account, account.region).endsWith(`:secret:${name}`));
      };
      const valueFroms = account.taskDefinitions!.flatMap((t) => t.containerDefinitions.flatMap((c) => (c.secrets ?? []).map((s) => s.valueFrom)));
      const forms = { parameterName: 0, parameterArn: 0, fullSecretArn: 0, partialSecretArn: 0, jsonKey: 0, otherAccount: 0 };
      for (const valueFrom of valueFroms) {
        if (valueFrom.includes(`:${other.account}:`)) {
          forms.otherAccount++;
          expect(other.parameters.map((p) => p.Name)).toContain(valueFrom.replace(/^arn:aws:ssm:[^:]+:\d{12}:parameter/, ''));
        } else if (valueFrom.startsWith('/')) {
          forms.parameterName++;
          expect(parameters).toContain(valueFrom);
        } else if (valueFrom.startsWith('arn:aws:ssm:')) {
          forms.parameterArn++;
          expect(parameters).toContain(valueFrom.replace(`arn:aws:ssm:${account.region}:${account.account}:parameter`, ''));
        } else {
          const name = secretByArn(valueFrom);
          expect(name, valueFrom).toBeDefined();
          if (valueFrom.startsWith(secretArn(name!, account.account, account.region))) forms.fullSecretArn++;
          else forms.partialSecretArn++;
          if (/:[A-Za-z]+:[A-Z]*:$/.test(valueFrom)) forms.jsonKey++;
        }
      }
      expect(Object.values(forms).every((n) => n > 0), JSON.stringify(forms)).toBe(true);

      const variables = account.functions!.flatMap((f) => Object.values(f.Environment?.Variables ?? {}));
      expect(variables.filter((v) => parameters.has(v))).not.toEqual([]);
      expect(variables.filter((v) => secrets.has(v))).not.toEqual([]);
      const extensionPaths = variables.filter((v) => v.startsWith('http://localhost:2773/'));
      expect(extensionPaths).toHaveLength(2);
      for (const path of extensionPaths) {
        const query = new URL(path).searchParams;
        expect(query.get('secretId') ? secrets.has(query.get('secretId')!) : parameters.has(query.get('name')!)).toBe(true);
      }
      expect(account.functions!.some((f) => f.Layers?.some((l) => l.includes(':layer:AWS-Parameters-and-Secrets-Lambda-Extension:')))).toBe(true);
    }
    // The secret scheduled for deletion is still named by a task definition.
    const deleted = prod.secrets.find((s) => s.Name === DELETED_SECRET)!;
    expect(Date.parse(String(deleted.DeletedDate))).toBeLessThan(NOW);
    expect(JSON.stringify(prod.taskDefinitions)).toContain(secretArn(DELETED_SECRET, prod.account, prod.region));
  });

  it('plants obviously fake credentials in plain sight in prod only: an ECS environment and a Lambda environment', () => {
    expect(PLANTED_PLAIN_TEXT.awsAccessKeyId).toMatch(/^AKIA[A-Z0-9]{16}$/);
    expect(PLANTED_PLAIN_TEXT.githubToken).toMatch(/^ghp_[A-Za-z0-9]{36}$/);
    expect(PLANTED_PLAIN_TEXT.highEntropy).toMatch(/^[A-Za-z0-9+/]{40}$/);
    expect(new Set(PLANTED_PLAIN_TEXT.highEntropy).size).toBeGreaterThan(20);
    const ecsValues = prod.taskDefinitions!.flatMap((t) => t.containerDefinitions.flatMap((c) => (c.environment ?? []).map((e) => e.value)));
    const lambdaValues = prod.functions!.flatMap((f) => Object.values(f.Environment?.Variables ?? {}));
    expect(ecsValues).toEqual(expect.arrayContaining([PLANTED_PLAIN_TEXT.awsAccessKeyId, PLANTED_PLAIN_TEXT.highEntropy]));
    expect(lambdaValues).toContain(PLANTED_PLAIN_TEXT.githubToken);
    expect(JSON.stringify([staging.taskDefinitions, staging.functions])).not.toMatch(/AKIA|ghp_/);
    expect(demoOrganisation(NOW).map((a) => [a.taskDefinitions, a.functions])).toEqual(org.map((a) => [a.taskDefinitions, a.functions]));
  });
});
