import { describe, expect, it } from 'vitest';
import { policySet } from '@/lib/freshness/policies';
import { freshnessSchedule, itemFreshness, statusAt, type FreshnessSubject } from '@/lib/freshness/status';
import type { InventoryExtra } from '@/lib/inventory/records';

// Every rule of the status with a fixed `now`: age under the longest-prefix policy, Secrets Manager's
// NextRotationDate and a stuck AWSPENDING (but not a rotation still under way), Parameter Store's
// Expiration, ExpirationNotification and NoChangeNotification, never rotated, due soon and fresh.

const NOW = new Date('2026-06-01T12:00:00.000Z');
const DAY = 86_400_000;
const ago = (days: number) => new Date(NOW.getTime() - days * DAY).toISOString();
const ahead = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();
const policies = policySet([{ path: '/prod/', maxAgeDays: 30, warnBeforeDays: 7 }]);

function item(name: string, lastChangedDaysAgo: number, extra: InventoryExtra = {}, version = '4'): FreshnessSubject {
  return { storeId: 'local', name, lastChangedAt: ago(lastChangedDaysAgo), version, extra };
}

const rotation = (fields: Partial<NonNullable<InventoryExtra['rotation']>>): NonNullable<InventoryExtra['rotation']> => ({
  enabled: true,
  schedule: 'rate(30 days)',
  lastRotatedAt: null,
  nextRotationAt: null,
  lastAccessedAt: null,
  lambdaArn: 'arn:aws:lambda:us-east-1:123456789012:function:rotate',
  ...fields,
});

const ssmPolicy = (type: string, attributes: Record<string, string>) => ({ type, status: 'Pending', text: JSON.stringify({ Type: type, Version: '1.0', Attributes: attributes }) });

describe('age under the policy', () => {
  it('is fresh inside maxAge less warnBefore, naming the policy', () => {
    const f = itemFreshness(item('/prod/web/key', 10), policies, NOW);
    expect(f.status).toBe('fresh');
    expect(f.reason).toBe('Due in 20 days: last changed 10 days ago; policy /prod/ allows 30 days.');
    expect(f.dueAt).toBe(ahead(20));
    expect(f.warnAt).toBe(ahead(13));
    expect(f.policy.path).toBe('/prod/');
  });

  it('is due soon within warnBefore of the due date', () => {
    const f = itemFreshness(item('/prod/web/key', 25), policies, NOW);
    expect(f.status).toBe('due-soon');
    expect(f.reason).toBe('Due in 5 days: last changed 25 days ago; policy /prod/ allows 30 days.');
  });

  it('is overdue past maxAge, and uses the default 90 days outside any policy', () => {
    expect(itemFreshness(item('/prod/web/key', 31), policies, NOW)).toMatchObject({
      status: 'overdue',
      reason: 'Last changed 31 days ago; policy /prod/ allows 30 days.',
    });
    expect(itemFreshness(item('/staging/web/key', 31), policies, NOW).status).toBe('fresh');
    expect(itemFreshness(item('/staging/web/key', 80), policies, NOW).status).toBe('due-soon');
    expect(itemFreshness(item('/staging/web/key', 120), policies, NOW)).toMatchObject({
      status: 'overdue',
      reason: 'Last changed 120 days ago; policy / allows 90 days.',
    });
  });

  it('is never rotated when overdue and still on its first value', () => {
    const f = itemFreshness(item('/prod/web/key', 45, {}, '1'), policies, NOW);
    expect(f.status).toBe('never-rotated');
    expect(f.reason).toBe('Still holds its first value. Last changed 45 days ago; policy /prod/ allows 30 days.');
    // A first value that is not yet due is simply fresh.
    expect(itemFreshness(item('/prod/web/key', 3, {}, '1'), policies, NOW).status).toBe('fresh');
  });

  it('switches exactly at the due and warn instants', () => {
    const schedule = freshnessSchedule(item('/prod/web/key', 0), policies.policies[0]!);
    expect(statusAt(schedule, new Date(Date.parse(schedule.warnAt) - 1))).toBe('fresh');
    expect(statusAt(schedule, new Date(schedule.warnAt))).toBe('due-soon');
    expect(statusAt(schedule, new Date(Date.parse(schedule.dueAt) - 1))).toBe('due-soon');
    expect(statusAt(schedule, new Date(schedule.dueAt))).toBe('overdue');
  });
});

describe('Secrets Manager', () => {
  it('measures age from LastRotatedDate when it is later than the last change', () => {
    const subject = item('/prod/db', 40, { rotation: rotation({ enabled: false, lastRotatedAt: ago(5) }), stagedVersions: 2 });
    const f = itemFreshness(subject, policies, NOW);
    expect(f).toMatchObject({ status: 'fresh', ageFrom: ago(5) });
    expect(f.reason).toBe('Due in 25 days: last rotated 5 days ago; policy /prod/ allows 30 days.');
  });

  it('is overdue once NextRotationDate passed, even inside maxAge', () => {
    const subject = item('/prod/db', 3, { rotation: rotation({ lastRotatedAt: ago(3), nextRotationAt: ago(2) }), stagedVersions: 2 });
    expect(itemFreshness(subject, policies, NOW)).toMatchObject({ status: 'overdue', reason: 'NextRotationDate passed 2 days ago.', dueAt: ago(2) });
  });

  it('ignores NextRotationDate when rotation is off', () => {
    const subject = item('/prod/db', 3, { rotation: rotation({ enabled: false, lastRotatedAt: ago(3), nextRotationAt: ago(2) }), stagedVersions: 2 });
    expect(itemFreshness(subject, policies, NOW).status).toBe('fresh');
  });

  it('is due soon when NextRotationDate is within warnBefore', () => {
    const subject = item('/prod/db', 3, { rotation: rotation({ lastRotatedAt: ago(3), nextRotationAt: ahead(4) }), stagedVersions: 2 });
    expect(itemFreshness(subject, policies, NOW)).toMatchObject({ status: 'due-soon', reason: 'NextRotationDate is in 4 days.' });
  });

  it('is rotation failing when AWSPENDING sits on another version for more than 15 minutes', () => {
    const stuck: FreshnessSubject = {
      storeId: 'prod-secrets',
      name: '/prod/db',
      lastChangedAt: new Date(NOW.getTime() - 2 * 3_600_000).toISOString(),
      version: 'c0ffee00-aaaa-bbbb-cccc-000000000001',
      extra: { rotation: rotation({ lastRotatedAt: ago(20) }), stagedVersions: 3, pendingVersion: '1a2b3c4d-5e6f-7a8b-9c0d-ef0123456789' },
    };
    expect(itemFreshness(stuck, policies, NOW)).toMatchObject({
      status: 'rotation-failing',
      reason: 'A rotation left AWSPENDING on version 1a2b3c4d… 2 hours ago.',
    });
  });

  it('is not failing while a rotation is still under way (less than 15 minutes)', () => {
    const running: FreshnessSubject = {
      storeId: 'prod-secrets',
      name: '/prod/db',
      lastChangedAt: new Date(NOW.getTime() - 10 * 60_000).toISOString(),
      version: 'v2',
      extra: { rotation: rotation({ lastRotatedAt: ago(20) }), stagedVersions: 3, pendingVersion: 'v3' },
    };
    expect(itemFreshness(running, policies, NOW).status).toBe('fresh');
    expect(itemFreshness(running, policies, new Date(NOW.getTime() + 5 * 60_000)).status).toBe('rotation-failing');
  });

  it('is never rotated when overdue with one staged version and no rotation ever', () => {
    const first = item('/prod/db', 50, { rotation: rotation({ enabled: false }), stagedVersions: 1 }, 'uuid-1');
    expect(itemFreshness(first, policies, NOW).status).toBe('never-rotated');
    const updated = item('/prod/db', 50, { rotation: rotation({ enabled: false }), stagedVersions: 2 }, 'uuid-2');
    expect(itemFreshness(updated, policies, NOW).status).toBe('overdue');
  });
});

describe('Parameter Store policies', () => {
  it('is overdue past an Expiration timestamp, due soon before it', () => {
    const expired = item('/staging/key', 5, { policies: [ssmPolicy('Expiration', { Timestamp: ago(1) })] });
    expect(itemFreshness(expired, policies, NOW)).toMatchObject({ status: 'overdue', reason: 'Its Expiration policy passed 24 hours ago.' });
    const expiring = item('/staging/key', 5, { policies: [ssmPolicy('Expiration', { Timestamp: ahead(10) })] });
    expect(itemFreshness(expiring, policies, NOW).status).toBe('due-soon');
  });

  it('warns from an ExpirationNotification earlier than warnBefore', () => {
    const subject = item('/staging/key', 5, {
      policies: [ssmPolicy('Expiration', { Timestamp: ahead(20) }), ssmPolicy('ExpirationNotification', { Before: '25', Unit: 'Days' })],
    });
    const f = itemFreshness(subject, policies, NOW);
    expect(f.status).toBe('due-soon');
    expect(f.warnAt).toBe(ago(5));
    expect(f.reason).toContain('ExpirationNotification');
    // Without the notification the default 14 days leave it fresh.
    expect(itemFreshness(item('/staging/key', 5, { policies: [ssmPolicy('Expiration', { Timestamp: ahead(20) })] }), policies, NOW).status).toBe('fresh');
  });

  it('is overdue when NoChangeNotification After has passed since the last change', () => {
    const subject = item('/staging/key', 12, { policies: [ssmPolicy('NoChangeNotification', { After: '10', Unit: 'Days' })] });
    expect(itemFreshness(subject, policies, NOW)).toMatchObject({
      status: 'overdue',
      reason: 'Not changed for 12 days; its NoChangeNotification policy expects a change within 10 days.',
      dueAt: ago(2),
    });
    const hours = item('/staging/key', 0.5, { policies: [ssmPolicy('NoChangeNotification', { After: '6', Unit: 'Hours' })] });
    expect(itemFreshness(hours, policies, NOW).status).toBe('overdue');
  });

  it('ignores a policy it cannot read', () => {
    const subject = item('/staging/key', 5, { policies: [{ type: 'Expiration', status: null, text: '{not json' }] });
    expect(itemFreshness(subject, policies, NOW).status).toBe('fresh');
  });
});

describe('the built-in store', () => {
  it('is rotation failing from a recorded failure, whatever its age', () => {
    const subject = item('/prod/web/key', 2, { rotationFailure: { at: new Date(NOW.getTime() - 3 * 3_600_000).toISOString(), message: 'generator refused the length' } });
    expect(itemFreshness(subject, policies, NOW)).toMatchObject({ status: 'rotation-failing', reason: 'The last rotation failed 3 hours ago: generator refused the length.' });
  });
});
