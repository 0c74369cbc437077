import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertsDb } from '@/lib/alerts/alerts';
import { CONDITIONS } from '@/lib/alerts/conditions';
import { evaluateAlertRules } from '@/lib/alerts/evaluate-rules';
import { rule } from '../support/alerts-fixture';
import { aged, openConditionsDashboard, walk, type ConditionsDashboard } from './support';

// evaluateAlertRules: every event of every rule computed and recorded, each rule taking its own
// selector's share; a condition that fails records nothing (its open alerts stay open rather than
// being resolved by an empty set) while the others go on; record: false computes only.

const NOW = new Date();

describe('evaluateAlertRules', () => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-eval-');
    await walk('prod-params', [aged('/prod/payments/db', NOW, 100), aged('/prod/web/session', NOW, 80), aged('/prod/web/old', NOW, 120)]);
  });
  afterAll(async () => dashboard.close());

  const payments = rule({ id: 'payments', events: ['overdue', 'due-soon'], selector: { paths: ['/prod/payments/**'] } });
  const web = rule({ id: 'web', events: ['overdue', 'due-soon'], selector: { paths: ['/prod/web/**'] } });

  it('records each rule\'s events with its own share', async () => {
    const outcomes = await evaluateAlertRules([payments, web], NOW);
    expect(outcomes.map((o) => [o.ruleId, o.event, o.subjects?.map((s) => s.name), o.counts?.opened])).toEqual([
      ['payments', 'overdue', ['/prod/payments/db'], 1],
      ['payments', 'due-soon', [], 0],
      ['web', 'overdue', ['/prod/web/old'], 1],
      ['web', 'due-soon', ['/prod/web/session'], 1],
    ]);
    const open = await (await alertsDb()).alerts({ limit: 10, status: 'open' });
    expect(open.map((a) => `${a.ruleId} ${a.event}`).sort()).toEqual(['payments overdue', 'web due-soon', 'web overdue']);
  });

  it('leaves a failing condition\'s alerts open and goes on with the others', async () => {
    const spy = vi.spyOn(CONDITIONS, 'overdue').mockRejectedValue(new Error('inventory unreadable'));
    try {
      const outcomes = await evaluateAlertRules([web], NOW);
      expect(outcomes[0]).toMatchObject({ ruleId: 'web', event: 'overdue', subjects: null, error: 'inventory unreadable' });
      expect(outcomes[0]!.counts).toBeUndefined();
      expect(outcomes[1]).toMatchObject({ event: 'due-soon', counts: { unchanged: 1, resolved: 0 } });
    } finally {
      spy.mockRestore();
    }
    const open = await (await alertsDb()).alerts({ limit: 10, status: 'open', ruleId: 'web' });
    expect(open.map((a) => a.event).sort()).toEqual(['due-soon', 'overdue']);
  });

  it('computes without recording when asked', async () => {
    const outcomes = await evaluateAlertRules([rule({ id: 'dry', events: ['overdue'] })], NOW, { record: false });
    expect(outcomes[0]!.subjects?.map((s) => s.name).sort()).toEqual(['/prod/payments/db', '/prod/web/old']);
    expect(outcomes[0]!.counts).toBeUndefined();
    expect(await (await alertsDb()).alerts({ limit: 10, ruleId: 'dry' })).toEqual([]);
  });
});
