import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotationFailedCondition } from '@/lib/alerts/conditions/rotation-failed';
import { appendAudit } from '@/lib/audit/audit-log';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { ACCOUNT, aged, DAY, keys, openConditionsDashboard, REGION, walk, type ConditionsDashboard } from './support';

// rotation-failed: rotations started from the dashboard (the audit log's "rotate" entries) that
// failed within the last day, until a later one of the same item succeeds; a rotation handed to
// the secret's own function that CloudTrail then reports failed; nothing for other actions, other
// outcomes or older failures; the selector's cuts. On SQLite and PostgreSQL.

const actor = 'alice@example.com';
const rotate = (target: string, outcome: 'success' | 'failure', details: Record<string, string> = {}) =>
  appendAudit({ actor, action: 'rotate', target, outcome, details: { reason: 'scheduled', requestId: 'r', ...details } });
const filler = async (n: number) => {
  for (let i = 0; i < n; i++) await appendAudit({ actor, action: 'reveal', target: `prod-params:/prod/web/filler-${i}`, outcome: 'allowed' });
};
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.each(DATABASES)('rotation-failed (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  let cut: Date;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-rot-', database);
    const now = new Date();
    await walk('prod-params', [aged('/prod/payments/early', now, 10), aged('/prod/payments/db', now, 10, { tags: { owner: 'alice' } }), aged('/prod/web/session', now, 10)]);
    await walk('prod-secrets', [aged('/prod/stripe', now, 10), aged('/prod/calm', now, 10)]);
    await filler(30);
    await rotate('prod-params:/prod/payments/early', 'failure', { error: 'throttled' });
    await filler(20);
    await pause(20);
    cut = new Date();
    await pause(20);
    await filler(20);
    await rotate('prod-params:/prod/payments/db', 'failure', { error: 'access-denied' });
    // Failed, then succeeded: resolved.
    await rotate('prod-params:/prod/web/session', 'failure', { error: 'throttled' });
    await rotate('prod-params:/prod/web/session', 'success', { version: '3', via: 'PutParameter' });
    // A failed generate is not a rotation.
    await appendAudit({ actor, action: 'generate', target: 'prod-params:/prod/web/other', outcome: 'failure', details: { error: 'x' } });
    // Two rotations through the secret's function: CloudTrail reports one of them failed afterwards.
    await rotate('prod-secrets:/prod/stripe', 'success', { version: 'v2', via: 'RotateSecret' });
    await rotate('prod-secrets:/prod/calm', 'success', { version: 'v2', via: 'RotateSecret' });
    await filler(10);
    await pause(1100);
    const failedAt = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    await (await auditEventIndex()).ingest(
      'trail',
      'cloudtrail-s3',
      { account: ACCOUNT, region: REGION },
      [
        {
          eventID: 'rot-failed-1',
          eventTime: failedAt,
          eventSource: 'secretsmanager.amazonaws.com',
          eventName: 'RotationFailed',
          eventType: 'AwsServiceEvent',
          awsRegion: REGION,
          recipientAccountId: ACCOUNT,
          userIdentity: { type: 'AWSService', invokedBy: 'secretsmanager.amazonaws.com' },
          errorCode: 'RotationFailed',
          resources: [{ ARN: `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/stripe-AbC123`, accountId: ACCOUNT }],
        },
      ],
      { cursor: { n: 1 }, lastSuccessAt: failedAt },
      [{ storeId: 'prod-secrets', kind: 'secretsmanager', region: REGION, account: ACCOUNT }],
    );
  });
  afterAll(async () => dashboard.close());

  const now = () => new Date(Date.now() + 1000);

  it('raises each item whose latest rotation of the day failed, here or in its own function', async () => {
    const subjects = await rotationFailedCondition(rule({ events: ['rotation-failed'] }), { now: now() });
    expect(keys(subjects)).toEqual(['prod-params /prod/payments/db', 'prod-params /prod/payments/early', 'prod-secrets /prod/stripe']);
    const byName = new Map(subjects.map((s) => [s.name, s]));
    expect(byName.get('/prod/payments/db')).toEqual({
      storeId: 'prod-params',
      name: '/prod/payments/db',
      url: 'http://localhost:3000/items/prod-params/prod/payments/db',
      status: 'rotation failed (access-denied)',
      owner: 'alice',
      team: null,
    });
    expect(byName.get('/prod/stripe')!.status).toBe('rotation function failed (RotationFailed)');
  });

  it('counts only the last day: a failure before it has cleared', async () => {
    // A day after the cut, the first failure lies outside the window (the log is searched by seq from there).
    const later = await rotationFailedCondition(rule({ events: ['rotation-failed'] }), { now: new Date(cut.getTime() + DAY) });
    expect(keys(later)).not.toContain('prod-params /prod/payments/early');
    expect(keys(later)).toContain('prod-params /prod/payments/db');
    expect(await rotationFailedCondition(rule({ events: ['rotation-failed'] }), { now: new Date(Date.now() + 2 * DAY) })).toEqual([]);
  });

  it('clears when a later rotation of the item succeeds', async () => {
    await rotate('prod-params:/prod/payments/early', 'success', { version: '2', via: 'PutParameter' });
    expect(keys(await rotationFailedCondition(rule({ events: ['rotation-failed'] }), { now: now() }))).not.toContain('prod-params /prod/payments/early');
  });

  it('cuts by stores, paths and owners', async () => {
    const cutBy = async (selector: Record<string, unknown>) => keys(await rotationFailedCondition(rule({ events: ['rotation-failed'], selector }), { now: now() }));
    expect(await cutBy({ stores: ['prod-secrets'] })).toEqual(['prod-secrets /prod/stripe']);
    expect(await cutBy({ paths: ['/prod/payments/**'] })).toEqual(['prod-params /prod/payments/db']);
    expect(await cutBy({ owners: ['alice'] })).toEqual(['prod-params /prod/payments/db']);
    expect(await cutBy({ teams: ['web'] })).toEqual([]);
  });
});
