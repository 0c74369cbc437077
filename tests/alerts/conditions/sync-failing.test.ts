import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { syncFailingCondition } from '@/lib/alerts/conditions/sync-failing';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { inventoryDb } from '@/lib/inventory/inventory';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { ACCOUNT, aged, keys, openConditionsDashboard, REGION, walk, type ConditionsDashboard } from './support';

// sync-failing: a store's inventory sync failing with no success for longer than the rule's
// minutes (default 60), a store that never synced counted from when this process first saw it
// fail, a CloudTrail source failing as long (under the stores whose events it brings); quiet
// before the minutes have passed, clearing on the next success, cut by the rule's stores. On
// SQLite and PostgreSQL.

const MIN = 60_000;
const T0 = Date.now();
const at = (minutes: number) => new Date(T0 + minutes * MIN);

describe.each(DATABASES)('sync-failing (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-sync-', database);
    await walk('prod-params', [aged('/prod/a', new Date(), 1)]);
    const db = await inventoryDb();
    // A failure is told from the last success by its later time: not in the same millisecond as the walk.
    await new Promise((resolve) => setTimeout(resolve, 5));
    await db.recordFailure('prod-params', 'throttled', 'ListParameters was throttled (ThrottlingException) 8 times.');
    // prod-secrets never synced: its first walk failed.
    await db.recordFailure('prod-secrets', 'access-denied', 'ListSecrets was refused (AccessDeniedException).');
    const index = await auditEventIndex();
    const where = { account: ACCOUNT, region: REGION };
    await index.ingest('trail-us', 'cloudtrail-s3', where, [], { cursor: { n: 0 }, lastSuccessAt: new Date(T0 - MIN).toISOString() }, []);
    await index.recordSourceError('trail-us', 'S3 GetObject was refused (AccessDenied).');
    await index.ingest('trail-ok', 'cloudtrail-s3', where, [], { cursor: { n: 0 }, lastSuccessAt: new Date(T0).toISOString() }, []);
  });
  afterAll(async () => dashboard.close());

  const failing = async (minutesLater: number, over: Record<string, unknown> = {}) =>
    syncFailingCondition(rule({ events: ['sync-failing'], ...over }), { now: at(minutesLater) });

  it('is quiet before the minutes have passed', async () => {
    // This first look is also when the process first sees prod-secrets failing.
    expect(await failing(30)).toEqual([]);
  });

  it('raises a store and a CloudTrail source failing since their last success for longer than 60 minutes', async () => {
    const subjects = await failing(62);
    expect(keys(subjects)).toEqual(['prod-params CloudTrail source trail-us', 'prod-params prod-params']);
    const store = subjects.find((s) => s.name === 'prod-params')!;
    expect(store).toMatchObject({ storeId: 'prod-params', url: 'http://localhost:3000/browse/prod-params' });
    expect(store.status).toMatch(/^inventory sync failing since \d{4}-.* \(throttled\)$/);
    expect(subjects.find((s) => s.name === 'CloudTrail source trail-us')).toMatchObject({ url: 'http://localhost:3000/audit', status: expect.stringMatching(/^CloudTrail sync failing since /) });
    // Metadata only: the failure's message (which names calls) is not repeated.
    expect(JSON.stringify(subjects)).not.toMatch(/ThrottlingException|GetObject/);
  });

  it('counts a store that never synced from when this process first saw it fail', async () => {
    expect(keys(await failing(62, { selector: { stores: ['prod-secrets'] } }))).toEqual(['prod-secrets CloudTrail source trail-us']);
    expect(keys(await failing(95, { selector: { stores: ['prod-secrets'] } }))).toEqual(['prod-secrets CloudTrail source trail-us', 'prod-secrets prod-secrets']);
  });

  it('takes the rule\'s minutes', async () => {
    expect(keys(await failing(30, { syncFailingMinutes: 20, selector: { stores: ['prod-params'] } }))).toEqual(['prod-params CloudTrail source trail-us', 'prod-params prod-params']);
    expect(await failing(30, { syncFailingMinutes: 45 })).toEqual([]);
  });

  it('clears once the sync succeeds again', async () => {
    await walk('prod-params', [aged('/prod/a', new Date(), 1)]);
    await (await auditEventIndex()).ingest('trail-us', 'cloudtrail-s3', { account: ACCOUNT, region: REGION }, [], { cursor: { n: 1 }, lastSuccessAt: new Date().toISOString() }, []);
    expect(keys(await failing(200, { selector: { stores: ['prod-params'] } }))).toEqual([]);
    expect(keys(await failing(200))).toEqual(['prod-secrets prod-secrets']);
  });
});
