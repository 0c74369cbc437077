import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findingOpenedCondition } from '@/lib/alerts/conditions/finding-opened';
import { findingsDb } from '@/lib/findings/findings';
import type { RaisedRow } from '@/lib/findings/findings-db';
import type { ControlId } from '@/lib/findings/types';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { aged, DAY, keys, openConditionsDashboard, walk, type ConditionsDashboard } from './support';

// finding-opened: open findings (not resolved, not suppressed) at or above the rule's
// minSeverity, one subject per item at its worst finding's severity; what stays quiet (suppressed,
// resolved, below the minimum), the selector's cuts, and clearing when the evaluation stops
// raising it. On SQLite and PostgreSQL.

const NOW = new Date();

const raised = (itemName: string, control: ControlId): RaisedRow => ({
  itemName,
  control,
  kind: 'SecureString',
  arn: null,
  account: null,
  owner: null,
  evidence: { summary: 'A finding for the test.' },
});

async function evaluation(storeId: string, rows: RaisedRow[]): Promise<void> {
  await (await findingsDb()).applyEvaluation({ storeId, evaluatedAt: NOW.toISOString(), inputs: `t-${Math.random()}`, items: rows.length, durationMs: 1, raised: rows });
}

describe.each(DATABASES)('finding-opened (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-find-', database);
    await walk('prod-params', [
      aged('/prod/payments/db', NOW, 10, { tags: { owner: 'alice' } }),
      aged('/prod/payments/token', NOW, 10, { tags: { team: 'payments' } }),
      aged('/prod/web/key', NOW, 10),
      aged('/prod/web/quiet', NOW, 10),
    ]);
    await walk('prod-secrets', [aged('/prod/public', NOW, 10)]);
    await evaluation('prod-params', [
      // high + medium on one item: one subject, at high.
      raised('/prod/payments/db', 'ssm-secret-like-string'),
      raised('/prod/payments/db', 'not-rotated-within-policy'),
      raised('/prod/payments/token', 'ssm-secure-string-default-key'),
      raised('/prod/web/key', 'not-read-recently'),
      raised('/prod/web/quiet', 'ssm-secret-like-string'),
    ]);
    await evaluation('prod-secrets', [raised('/prod/public', 'sm-not-public')]);
    // Suppressed: not open.
    await (await findingsDb()).addSuppression({
      storeId: 'prod-params',
      itemName: '/prod/web/quiet',
      control: 'ssm-secret-like-string',
      reason: 'a test value',
      expiresAt: new Date(NOW.getTime() + 30 * DAY).toISOString(),
      createdBy: 'admin@example.com',
      createdAt: NOW.toISOString(),
    });
  });
  afterAll(async () => dashboard.close());

  it('raises each item with an open finding, at its worst severity, named by its controls', async () => {
    const subjects = await findingOpenedCondition(rule({ events: ['finding-opened'] }), { now: NOW });
    expect(keys(subjects)).toEqual(['prod-params /prod/payments/db', 'prod-params /prod/payments/token', 'prod-params /prod/web/key', 'prod-secrets /prod/public']);
    const byName = new Map(subjects.map((s) => [s.name, s]));
    expect(byName.get('/prod/payments/db')).toEqual({
      storeId: 'prod-params',
      name: '/prod/payments/db',
      url: 'http://localhost:3000/items/prod-params/prod/payments/db',
      status: 'not-rotated-within-policy, ssm-secret-like-string',
      severity: 'high',
      owner: 'alice',
      team: null,
    });
    expect(byName.get('/prod/public')).toMatchObject({ severity: 'critical', status: 'sm-not-public' });
    expect(byName.get('/prod/payments/token')).toMatchObject({ severity: 'low', team: 'payments' });
  });

  it('keeps to minSeverity and the selector', async () => {
    const cut = async (selector: Record<string, unknown>) => keys(await findingOpenedCondition(rule({ events: ['finding-opened'], selector }), { now: NOW }));
    expect(await cut({ minSeverity: 'high' })).toEqual(['prod-params /prod/payments/db', 'prod-secrets /prod/public']);
    expect(await cut({ minSeverity: 'critical' })).toEqual(['prod-secrets /prod/public']);
    expect(await cut({ minSeverity: 'medium', stores: ['prod-params'] })).toEqual(['prod-params /prod/payments/db', 'prod-params /prod/web/key']);
    expect(await cut({ paths: ['/prod/payments/**'] })).toEqual(['prod-params /prod/payments/db', 'prod-params /prod/payments/token']);
    expect(await cut({ paths: ['/prod/*/key', '/prod/public'] })).toEqual(['prod-params /prod/web/key', 'prod-secrets /prod/public']);
    expect(await cut({ owners: ['alice'] })).toEqual(['prod-params /prod/payments/db']);
    expect(await cut({ teams: ['payments'] })).toEqual(['prod-params /prod/payments/token']);
  });

  it('clears when the evaluation no longer raises it', async () => {
    await evaluation('prod-secrets', []);
    expect(keys(await findingOpenedCondition(rule({ events: ['finding-opened'], selector: { stores: ['prod-secrets'] } }), { now: NOW }))).toEqual([]);
  });
});
