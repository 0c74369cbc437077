import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { alertsDb } from '@/lib/alerts/alerts';
import { CONDITIONS } from '@/lib/alerts/conditions';
import { evaluateAlertRules } from '@/lib/alerts/evaluate-rules';
import { evaluateEveryMs, startAlertEvaluation, stopAlertEvaluation } from '@/lib/alerts/evaluation';
import { ConfigError } from '@/lib/config/env';
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

  it('evaluates in the background on the replica holding the lease, until stopped', async () => {
    const background = rule({ id: 'background', events: ['overdue'], selector: { paths: ['/prod/payments/**'] } });
    startAlertEvaluation({ rules: [background], everyMs: 100, holder: 'evaluation-test' });
    try {
      const db = await alertsDb();
      for (let i = 0; i < 100 && (await db.alerts({ limit: 10, ruleId: 'background' })).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
      expect((await db.alerts({ limit: 10, ruleId: 'background', status: 'open' })).map((a) => a.itemName)).toEqual(['/prod/payments/db']);
    } finally {
      await stopAlertEvaluation();
    }
  });
});

describe('ALERTS_EVALUATE_SECONDS', () => {
  it.each([
    [undefined, 60_000],
    ['', 60_000],
    ['15', 15_000],
  ])('%s gives %i ms', (value, ms) => {
    expect(evaluateEveryMs({ ALERTS_EVALUATE_SECONDS: value })).toBe(ms);
  });
  it.each(['2', '7200', 'soon'])('refuses %s, naming the variable', (value) => {
    expect(() => evaluateEveryMs({ ALERTS_EVALUATE_SECONDS: value })).toThrow(ConfigError);
    expect(() => evaluateEveryMs({ ALERTS_EVALUATE_SECONDS: value })).toThrow(/ALERTS_EVALUATE_SECONDS/);
  });
});
