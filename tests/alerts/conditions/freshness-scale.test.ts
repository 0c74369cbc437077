import path from 'node:path';
import Database from 'better-sqlite3';
import type { CompiledQuery, Kysely, QueryResult } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { overdueCondition } from '@/lib/alerts/conditions/freshness';
import { inventoryIndexOf } from '@/lib/data/inventory-status';
import { getStore } from '@/lib/stores/registry';
import { rule } from '../support/alerts-fixture';
import { aged, openConditionsDashboard, walk, type ConditionsDashboard } from './support';

// The overdue condition at 20,000 items of which 1,000 are overdue: all 1,000 come back, and the
// store is never read whole: every statement that touches inv_items walks an index range (SQLite's
// own query plan of the very statements run, with their parameters), and the rows handed back are
// the overdue ones, not the 20,000. No timing: the plan and the row count are what make it fast.

const NOW = new Date();
const TOTAL = 20_000;
const OVERDUE = 1_000;

const records = Array.from({ length: TOTAL }, (_, i) => {
  const name = `/prod/team-${String(i % 40).padStart(2, '0')}/item-${String(i).padStart(5, '0')}`;
  // Every 20th item is past the 90-day policy; the rest were changed 10 days ago.
  return aged(name, NOW, i % (TOTAL / OVERDUE) === 0 ? 100 + (i % 7) : 10);
});

describe('the overdue condition at 20,000 items', () => {
  let dashboard: ConditionsDashboard;
  beforeAll(async () => {
    dashboard = await openConditionsDashboard('alerts-cond-scale-');
    await walk('prod-params', records);
  }, 60_000);
  afterAll(async () => dashboard.close());

  it('returns all 1,000 overdue items through index ranges, reading only them', async () => {
    const index = await inventoryIndexOf((await getStore('prod-params'))!);
    const executor = (index as unknown as { db: Kysely<unknown> }).db.getExecutor();
    const run: { query: CompiledQuery; rows: number }[] = [];
    const original = executor.executeQuery.bind(executor);
    const spy = vi.spyOn(executor, 'executeQuery').mockImplementation(async (query, ...rest) => {
      const result = (await original(query, ...rest)) as QueryResult<unknown>;
      run.push({ query, rows: result.rows.length });
      return result as never;
    });
    let subjects;
    try {
      subjects = await overdueCondition(rule({ events: ['overdue'], selector: { stores: ['prod-params'] } }), { now: NOW });
    } finally {
      spy.mockRestore();
    }

    expect(subjects).toHaveLength(OVERDUE);
    expect(new Set(subjects.map((s) => s.name))).toEqual(new Set(records.filter((_, i) => i % (TOTAL / OVERDUE) === 0).map((r) => r.name)));

    const onItems = run.filter((r) => /\binv_items\b/.test(r.query.sql));
    expect(onItems.length).toBeGreaterThan(0);
    // Rows handed back from inv_items: the overdue ones (one extra per page at most), not the store.
    expect(onItems.reduce((n, r) => n + r.rows, 0)).toBeLessThanOrEqual(OVERDUE + onItems.length);

    const conn = new Database(path.join(process.env.DATA_DIR!, 'inventory.db'), { readonly: true });
    const plans: { sql: string; rows: number; details: string[] }[] = [];
    try {
      for (const { query, rows } of onItems) {
        const plan = conn.prepare(`EXPLAIN QUERY PLAN ${query.sql}`).all(...(query.parameters as unknown[])) as { detail: string }[];
        plans.push({ sql: query.sql, rows, details: plan.map((p) => p.detail).filter((d) => /\binv_items\b/.test(d)) });
      }
    } finally {
      conn.close();
    }
    // A SEARCH is a range of an index; a SCAN (even "USING INDEX") would read every row.
    for (const p of plans) {
      expect(p.details.length, p.sql).toBeGreaterThan(0);
      for (const detail of p.details) expect(detail, p.sql).toMatch(/^SEARCH inv_items USING (COVERING )?INDEX /);
    }
    // The items come from the range of the due dates that have passed (the status's own index).
    const items = plans.filter((p) => p.rows > 0 && /fresh_due_at/.test(p.sql));
    expect(items.reduce((n, p) => n + p.rows, 0)).toBe(OVERDUE);
    for (const p of items) expect(p.details.join('\n'), p.sql).toMatch(/SEARCH inv_items USING (COVERING )?INDEX \S+ \(store_id=\? AND fresh_due_at<\?\)/);
  });
});
