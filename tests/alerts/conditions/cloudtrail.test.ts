import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsDb } from '@/lib/alerts/alerts';
import { accessDeniedCondition } from '@/lib/alerts/conditions/access-denied';
import { newReaderCondition } from '@/lib/alerts/conditions/new-reader';
import { evaluateAlertRules } from '@/lib/alerts/evaluate-rules';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { EventQueries } from '@/lib/cloudtrail/event-queries';
import type { CloudTrailRecord, StoreLocator } from '@/lib/cloudtrail/types';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { ACCOUNT, aged, DAY, keys, lookupsWalked, openConditionsDashboard, REGION, walk, type ConditionsDashboard } from './support';

// new-reader and access-denied from the CloudTrail index: who started reading an item (alone or
// through a folder read) inside the window and had not read it in the 90 days before, and who was
// refused on one item at least N times within the window; what stays quiet next to each, the
// selector's cuts, and both clearing as time passes. On SQLite and PostgreSQL.

const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const MIN = 60_000;
const LOCATORS: StoreLocator[] = [
  { storeId: 'prod-params', kind: 'ssm', region: REGION, account: ACCOUNT },
  { storeId: 'prod-secrets', kind: 'secretsmanager', region: REGION, account: ACCOUNT },
];
const user = (name: string) => `arn:aws:iam::${ACCOUNT}:user/${name}`;
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/deploy`;

let serial = 0;
function event(ago: number, who: string, eventName: string, requestParameters: Record<string, unknown>, extra: Partial<CloudTrailRecord> = {}): CloudTrailRecord {
  const role = who === DEPLOY_ROLE;
  return {
    eventID: `ev-${serial++}`,
    eventTime: new Date(NOW.getTime() - ago).toISOString().replace('.000', ''),
    eventSource: eventName.includes('Secret') ? 'secretsmanager.amazonaws.com' : 'ssm.amazonaws.com',
    eventName,
    awsRegion: REGION,
    recipientAccountId: ACCOUNT,
    userIdentity: role
      ? { type: 'AssumedRole', arn: `arn:aws:sts::${ACCOUNT}:assumed-role/deploy/i-0abc`, sessionContext: { sessionIssuer: { type: 'Role', arn: DEPLOY_ROLE } } }
      : { type: 'IAMUser', arn: who },
    readOnly: true,
    requestParameters,
    ...extra,
  };
}
const read = (ago: number, who: string, name: string) => event(ago, who, 'GetParameter', { name, withDecryption: true });
const denied = (ago: number, who: string, name: string, errorCode = 'AccessDenied') => event(ago, who, 'GetParameter', { name, withDecryption: true }, { errorCode, errorMessage: 'not authorized' });

const RECORDS: CloudTrailRecord[] = [
  // The store's events reach back past the look-back (120 days), so who is new is knowable.
  read(120 * DAY, user('old-timer'), '/prod/web/session'),
  read(2 * DAY, user('old-timer'), '/prod/web/session'),
  // alice reads the password regularly: not new.
  read(30 * DAY, user('alice'), '/prod/payments/db'),
  read(1 * DAY, user('alice'), '/prod/payments/db'),
  // bob started two days ago: new.
  read(2 * DAY, user('bob'), '/prod/payments/db'),
  read(1 * DAY, user('bob'), '/prod/payments/db'),
  // carol started eight days ago: outside the default 7-day window.
  read(8 * DAY, user('carol'), '/prod/payments/db'),
  // The deploy role read the whole /prod/payments/ folder, recursively, yesterday: new on every item below.
  event(1 * DAY, DEPLOY_ROLE, 'GetParametersByPath', { path: '/prod/payments', recursive: true, withDecryption: true }),
  // A refused read is not a read.
  denied(3 * 3_600_000, user('eve'), '/prod/payments/api'),
  // eve: refused five times in the last hour on one item; mallory four times; frank five times over two hours.
  ...[5, 10, 15, 20, 25].map((m) => denied(m * MIN, user('eve'), '/prod/payments/api')),
  ...[5, 10, 15, 20].map((m) => denied(m * MIN, user('mallory'), '/prod/payments/api')),
  ...[10, 30, 50, 70, 90].map((m) => denied(m * MIN, user('frank'), '/prod/payments/db', m > 50 ? 'AccessDeniedException' : 'AccessDenied')),
  // Other errors are no refusal: six "not found" in the last hour.
  ...[1, 2, 3, 4, 5, 6].map((m) => denied(m * MIN, user('zed'), '/prod/payments/db', 'ParameterNotFound')),
  // eve refused on a secret too (another store), five times.
  ...[1, 2, 3, 4, 5].map((m) => event(m * MIN, user('eve'), 'GetSecretValue', { secretId: 'prod/stripe' }, { errorCode: 'AccessDeniedException', errorMessage: 'no' })),
  // Secrets Manager's events begin yesterday: nobody there is known to be new.
  event(1 * DAY, user('bob'), 'GetSecretValue', { secretId: 'prod/stripe' }),
];

describe.each(DATABASES)('CloudTrail conditions (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-ct-', database);
    await walk('prod-params', [
      aged('/prod/payments/db', NOW, 10, { tags: { owner: 'alice' } }),
      aged('/prod/payments/api', NOW, 10, { tags: { team: 'payments' } }),
      aged('/prod/payments/deep/x', NOW, 10),
      aged('/prod/web/session', NOW, 10),
    ]);
    await walk('prod-secrets', [aged('/prod/stripe', NOW, 10)]);
    const index = await auditEventIndex();
    await index.ingest('trail', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, RECORDS, { cursor: { n: 1 }, lastEventTime: NOW.toISOString(), lastSuccessAt: NOW.toISOString() }, LOCATORS);
    await lookupsWalked(NOW, LOCATORS);
  });
  afterAll(async () => dashboard.close());

  describe('new-reader', () => {
    it('raises first reads inside the window, directly or through a folder, and nothing else', async () => {
      const subjects = await newReaderCondition(rule({ events: ['new-reader'] }), { now: NOW });
      expect(keys(subjects)).toEqual(
        [
          `prod-params /prod/payments/api ${DEPLOY_ROLE}`,
          `prod-params /prod/payments/db ${user('bob')}`,
          `prod-params /prod/payments/db ${DEPLOY_ROLE}`,
          `prod-params /prod/payments/deep/x ${DEPLOY_ROLE}`,
          // Read 120 days ago and not in the 90 days before this week's read: new again.
          `prod-params /prod/web/session ${user('old-timer')}`,
        ].sort(),
      );
      const bob = subjects.find((s) => s.principal === user('bob'))!;
      expect(bob).toMatchObject({ url: 'http://localhost:3000/items/prod-params/prod/payments/db', owner: 'alice' });
      expect(bob.status).toMatch(/^first read \d{4}-/);
    });

    it('agrees with the Access panel of each item', async () => {
      const queries = new EventQueries((await auditEventIndex()).db);
      const subjects = await newReaderCondition(rule({ events: ['new-reader'] }), { now: NOW });
      for (const name of ['/prod/payments/db', '/prod/payments/api', '/prod/web/session']) {
        const panel = await queries.accessPanel('prod-params', name, { now: NOW });
        expect(subjects.filter((s) => s.name === name).map((s) => s.principal).sort(), name).toEqual(panel.newReaders.map((r) => r.principal).sort());
      }
    });

    it('takes the rule\'s window: ten days make carol new, and time passing clears them all', async () => {
      const ten = keys(await newReaderCondition(rule({ events: ['new-reader'], newReaderDays: 10 }), { now: NOW }));
      expect(ten).toContain(`prod-params /prod/payments/db ${user('carol')}`);
      expect(ten).not.toContain(`prod-params /prod/payments/db ${user('alice')}`);
      expect(await newReaderCondition(rule({ events: ['new-reader'] }), { now: new Date(NOW.getTime() + 10 * DAY) })).toEqual([]);
    });

    it('cuts by paths, owners and stores', async () => {
      const cut = async (selector: Record<string, unknown>) => keys(await newReaderCondition(rule({ events: ['new-reader'], selector }), { now: NOW }));
      expect(await cut({ paths: ['/prod/payments/deep/**'] })).toEqual([`prod-params /prod/payments/deep/x ${DEPLOY_ROLE}`]);
      expect(await cut({ owners: ['alice'] })).toEqual([`prod-params /prod/payments/db ${DEPLOY_ROLE}`, `prod-params /prod/payments/db ${user('bob')}`].sort());
      expect(await cut({ teams: ['payments'] })).toEqual([`prod-params /prod/payments/api ${DEPLOY_ROLE}`]);
      // prod-secrets' events do not reach back the look-back: bob is not known to be new there.
      expect(await cut({ stores: ['prod-secrets'] })).toEqual([]);
    });
  });

  describe('access-denied', () => {
    it('raises one principal refused at least 5 times in 60 minutes on one item, not 4, not spread wider, not other errors', async () => {
      const subjects = await accessDeniedCondition(rule({ events: ['access-denied'] }), { now: NOW });
      expect(keys(subjects)).toEqual([`prod-params /prod/payments/api ${user('eve')}`, `prod-secrets /prod/stripe ${user('eve')}`]);
      expect(subjects[0]).toMatchObject({ url: expect.stringMatching(/^http:\/\/localhost:3000\/items\//), status: '5 refusals in 60 minutes' });
    });

    it('takes the rule\'s count and window', async () => {
      expect(keys(await accessDeniedCondition(rule({ events: ['access-denied'], deniedCount: 4 }), { now: NOW }))).toContain(`prod-params /prod/payments/api ${user('mallory')}`);
      const wide = keys(await accessDeniedCondition(rule({ events: ['access-denied'], deniedWindowMinutes: 120 }), { now: NOW }));
      // Both codes count: frank's refusals are AccessDenied and AccessDeniedException.
      expect(wide).toContain(`prod-params /prod/payments/db ${user('frank')}`);
      expect(wide).not.toContain(`prod-params /prod/payments/db ${user('zed')}`);
    });

    it('cuts by stores, paths and teams, and clears once the window has passed', async () => {
      const cut = async (selector: Record<string, unknown>) => keys(await accessDeniedCondition(rule({ events: ['access-denied'], selector }), { now: NOW }));
      expect(await cut({ stores: ['prod-secrets'] })).toEqual([`prod-secrets /prod/stripe ${user('eve')}`]);
      expect(await cut({ paths: ['/prod/payments/**'] })).toEqual([`prod-params /prod/payments/api ${user('eve')}`]);
      expect(await cut({ teams: ['payments'] })).toEqual([`prod-params /prod/payments/api ${user('eve')}`]);
      expect(await cut({ owners: ['alice'] })).toEqual([]);
      expect(await accessDeniedCondition(rule({ events: ['access-denied'] }), { now: new Date(NOW.getTime() + 2 * 3_600_000) })).toEqual([]);
    });

    it('is recorded and resolved through the alerts store', async () => {
      const r = rule({ id: `denied-${database}`, events: ['access-denied', 'new-reader'], selector: { stores: ['prod-params'] } });
      const first = await evaluateAlertRules([r], NOW);
      expect(first.map((o) => [o.event, o.counts?.opened])).toEqual([
        ['access-denied', 1],
        ['new-reader', 5],
      ]);
      const later = await evaluateAlertRules([r], new Date(NOW.getTime() + 10 * DAY));
      expect(later.map((o) => [o.event, o.counts?.resolved])).toEqual([
        ['access-denied', 1],
        ['new-reader', 5],
      ]);
    });
  });

  // Last: it adds a source still on its first walk.
  describe('while CloudTrail history is still coming in', () => {
    it('new-reader is not known (regular readers would look new): nothing is recorded, open alerts stay open', async () => {
      const r = rule({ id: `history-${database}`, events: ['new-reader'], selector: { stores: ['prod-params'] } });
      expect((await evaluateAlertRules([r], NOW))[0]!.counts?.opened).toBe(5);
      const walking = { walk: { start: new Date(NOW.getTime() - 90 * DAY).toISOString(), end: NOW.toISOString(), nextToken: 'p', newest: NOW.toISOString(), oldest: new Date(NOW.getTime() - DAY).toISOString() }, resumeFrom: null, newest: NOW.toISOString() };
      const cursor = { version: 1, lookups: { 'ssm.amazonaws.com': walking, 'secretsmanager.amazonaws.com': walking, 'kms.amazonaws.com': walking } };
      await (await auditEventIndex()).ingest('lookups-new-account', 'lookup-events', { account: ACCOUNT, region: REGION }, [], { cursor, lastSuccessAt: NOW.toISOString() }, LOCATORS);
      await expect(newReaderCondition(rule({ events: ['new-reader'] }), { now: NOW })).rejects.toThrow("CloudTrail's history is still being read");
      // Ten days on, every new reader would have resolved; not known yet, they stay open.
      const outcome = (await evaluateAlertRules([r], new Date(NOW.getTime() + 10 * DAY)))[0]!;
      expect(outcome).toMatchObject({ subjects: null, error: "CloudTrail's history is still being read" });
      expect(outcome.counts).toBeUndefined();
      expect(await (await alertsDb()).alerts({ limit: 10, ruleId: r.id, status: 'open' })).toHaveLength(5);
    });
  });
});
