import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dueSoonCondition, overdueCondition, rotationFailingCondition } from '@/lib/alerts/conditions/freshness';
import { evaluateAlertRules } from '@/lib/alerts/evaluate-rules';
import { DATABASES } from '../../support/databases';
import { rule } from '../support/alerts-fixture';
import { aged, DAY, keys, openConditionsDashboard, walk, type ConditionsDashboard } from './support';

// due-soon, overdue (and never-rotated) and rotation-failing from the inventory's freshness
// columns: which items raise each, which close neighbours do not, the selector's cuts (store list,
// path glob, owner and team tags), links, and the condition clearing after a rotation; on SQLite
// and PostgreSQL.

const NOW = new Date();

const PARAMS = [
  // Default policy: 90 days, due soon from 76.
  aged('/prod/payments/db-password', NOW, 100, { tags: { owner: 'alice' } }),
  aged('/prod/payments/api-key', NOW, 100, { currentVersion: '1', tags: { team: 'payments' } }),
  aged('/prod/payments/due-tomorrow', NOW, 89, { tags: { owner: 'alice' } }),
  aged('/prod/web/session', NOW, 80, { tags: { team: 'web' } }),
  aged('/prod/web/not-yet', NOW, 75),
  aged('/prod/web/fresh', NOW, 10),
  aged('/prod/web/failing', NOW, 5, { extra: { rotationFailure: { at: new Date(NOW.getTime() - 3_600_000).toISOString(), message: 'The dashboard\'s rotation failed (throttled).' } } }),
  aged('/prod/web/fails-later', NOW, 5, { extra: { rotationFailure: { at: new Date(NOW.getTime() + 3_600_000).toISOString(), message: 'x' } } }),
];
const SECRETS = [aged('/prod/payments/stripe', NOW, 120, { tags: { Owner: 'bob' } }), aged('/prod/web/cookie', NOW, 30)];

describe.each(DATABASES)('freshness conditions (%s)', (database) => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-fresh-', database);
    await walk('prod-params', PARAMS);
    await walk('prod-secrets', SECRETS);
  });
  afterAll(async () => dashboard.close());

  it('overdue: past the policy, rotated or never (never-rotated counts), not one a day short of it', async () => {
    const subjects = await overdueCondition(rule({ events: ['overdue'] }), { now: NOW });
    expect(keys(subjects)).toEqual(['prod-params /prod/payments/api-key', 'prod-params /prod/payments/db-password', 'prod-secrets /prod/payments/stripe']);
    const byName = new Map(subjects.map((s) => [s.name, s]));
    expect(byName.get('/prod/payments/db-password')).toEqual({
      storeId: 'prod-params',
      name: '/prod/payments/db-password',
      url: 'http://localhost:3000/items/prod-params/prod/payments/db-password',
      status: 'overdue',
      owner: 'alice',
      team: null,
    });
    expect(byName.get('/prod/payments/api-key')).toMatchObject({ status: 'never rotated', team: 'payments' });
    expect(byName.get('/prod/payments/stripe')).toMatchObject({ url: 'http://localhost:3000/items/prod-secrets/prod/payments/stripe', owner: 'bob', status: 'overdue' });
  });

  it('due-soon: inside the warning, not before it and not once overdue', async () => {
    const subjects = await dueSoonCondition(rule({ events: ['due-soon'] }), { now: NOW });
    expect(keys(subjects)).toEqual(['prod-params /prod/payments/due-tomorrow', 'prod-params /prod/web/session']);
    expect(subjects.every((s) => s.status === 'due soon')).toBe(true);
  });

  it('rotation-failing: a recorded failure that has happened, not one dated after now', async () => {
    const subjects = await rotationFailingCondition(rule({ events: ['rotation-failing'] }), { now: NOW });
    expect(keys(subjects)).toEqual(['prod-params /prod/web/failing']);
    expect(subjects[0]!.status).toBe('rotation failing');
  });

  it('cuts by the selector: a store list, a path glob, owners and teams', async () => {
    const overdue = async (selector: Record<string, unknown>) => keys(await overdueCondition(rule({ events: ['overdue'], selector }), { now: NOW }));
    expect(await overdue({ stores: ['prod-secrets'] })).toEqual(['prod-secrets /prod/payments/stripe']);
    expect(await overdue({ paths: ['/prod/payments/*'] })).toEqual(['prod-params /prod/payments/api-key', 'prod-params /prod/payments/db-password', 'prod-secrets /prod/payments/stripe']);
    // Globs as the grants write them: brace alternatives, "*" within one level.
    expect(await overdue({ paths: ['/nothing/**', '/prod/{payments/stripe,web/**}'] })).toEqual(['prod-secrets /prod/payments/stripe']);
    expect(await overdue({ paths: ['/prod/*/db-*'] })).toEqual(['prod-params /prod/payments/db-password']);
    expect(await overdue({ owners: ['alice'] })).toEqual(['prod-params /prod/payments/db-password']);
    expect(await overdue({ owners: ['bob'] })).toEqual(['prod-secrets /prod/payments/stripe']);
    expect(await overdue({ teams: ['payments'] })).toEqual(['prod-params /prod/payments/api-key']);
    expect(await overdue({ owners: ['nobody'] })).toEqual([]);
    expect(await overdue({ stores: ['prod-params'], paths: ['/prod/web/**'] })).toEqual([]);
  });

  it('cuts due-soon and rotation-failing the same way', async () => {
    const dueSoon = async (selector: Record<string, unknown>) => keys(await dueSoonCondition(rule({ events: ['due-soon'], selector }), { now: NOW }));
    expect(await dueSoon({ paths: ['/prod/web/**'] })).toEqual(['prod-params /prod/web/session']);
    expect(await dueSoon({ owners: ['alice'] })).toEqual(['prod-params /prod/payments/due-tomorrow']);
    expect(await dueSoon({ stores: ['prod-secrets'] })).toEqual([]);
    const failing = async (selector: Record<string, unknown>) => keys(await rotationFailingCondition(rule({ events: ['rotation-failing'], selector }), { now: NOW }));
    expect(await failing({ paths: ['/prod/web/fail*'] })).toEqual(['prod-params /prod/web/failing']);
    expect(await failing({ paths: ['/prod/payments/**'] })).toEqual([]);
    expect(await failing({ teams: ['web'] })).toEqual([]);
  });

  it('clears due-soon and rotation-failing when the next walk shows the item rotated', async () => {
    await walk(
      'prod-params',
      PARAMS.map((r) => (r.name === '/prod/web/session' || r.name === '/prod/web/failing' ? { ...r, lastChangedAt: NOW.toISOString(), currentVersion: '3', extra: {} } : r)),
    );
    expect(keys(await dueSoonCondition(rule({ events: ['due-soon'] }), { now: NOW }))).toEqual(['prod-params /prod/payments/due-tomorrow']);
    expect(await rotationFailingCondition(rule({ events: ['rotation-failing'] }), { now: NOW })).toEqual([]);
    await walk('prod-params', PARAMS);
  });

  it('clears once the item is rotated, and the alert it opened resolves', async () => {
    const overdueRule = rule({ id: `fresh-${database}`, events: ['overdue'], selector: { stores: ['prod-params'] } });
    const first = await evaluateAlertRules([overdueRule], NOW);
    expect(first).toHaveLength(1);
    expect(first[0]).toMatchObject({ ruleId: overdueRule.id, event: 'overdue', counts: { opened: 2, resolved: 0 } });
    // Rotated today: the next walk has a new version.
    await walk('prod-params', PARAMS.map((r) => (r.name === '/prod/payments/db-password' ? { ...r, lastChangedAt: NOW.toISOString(), currentVersion: '3' } : r)));
    expect(keys(await overdueCondition(overdueRule, { now: NOW }))).toEqual(['prod-params /prod/payments/api-key']);
    const second = await evaluateAlertRules([overdueRule], NOW);
    expect(second[0]).toMatchObject({ counts: { opened: 0, resolved: 1, unchanged: 1 } });
    // Time passing alone moves items: a day later due-tomorrow is overdue too.
    expect(keys(await overdueCondition(overdueRule, { now: new Date(NOW.getTime() + 2 * DAY) }))).toContain('prod-params /prod/payments/due-tomorrow');
  });
});
