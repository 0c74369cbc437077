import { describe, expect, it } from 'vitest';
import { CHART_DEFAULT_DAYS, chartFilters } from '@/lib/data/audit-timeline';

// The /audit chart's window: the filters' own time range, else the last CHART_DEFAULT_DAYS days.
describe('chartFilters', () => {
  const now = new Date('2026-12-05T12:00:00.000Z');

  it('charts the last 90 days when the filters set no time range, keeping the other filters', () => {
    expect(CHART_DEFAULT_DAYS).toBe(90);
    expect(chartFilters({ actor: 'alice', outcome: 'error' }, now)).toEqual({ actor: 'alice', outcome: 'error', from: '2026-09-06T12:00:00.000Z' });
  });

  it.each([
    ['from', { from: '2024-01-01T00:00:00.000Z' }],
    ['to', { to: '2025-06-30T23:59:59.999Z' }],
    ['both', { from: '2023-01-01T00:00:00.000Z', to: '2023-12-31T23:59:59.999Z' }],
  ])('keeps a range the filters give (%s), however old', (_, filters) => {
    expect(chartFilters(filters, now)).toEqual(filters);
  });

  it('does not change the filters it is given', () => {
    const filters = { item: '/prod/db' };
    chartFilters(filters, now);
    expect(filters).toEqual({ item: '/prod/db' });
  });
});
