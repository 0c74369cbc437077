import { describe, expect, it } from 'vitest';
import type { MetricsData } from '@/lib/metrics/metrics-data';
import { metricsTokenMatches } from '@/lib/metrics/metrics-token';
import { renderMetrics } from '@/lib/metrics/render-metrics';

const counts = { 'rotation-failing': 1, overdue: 2, 'never-rotated': 3, 'due-soon': 4, fresh: 5 };

const DATA: MetricsData = {
  stores: [
    { storeId: 'local', pending: false, counts, syncAgeSeconds: 0, syncError: false, syncRefused: false },
    { storeId: 'prod-params', pending: false, counts, syncAgeSeconds: 125.5, syncError: true, syncRefused: false },
    { storeId: 'prod-secrets', pending: true, counts: { 'rotation-failing': 0, overdue: 0, 'never-rotated': 0, 'due-soon': 0, fresh: 0 }, syncAgeSeconds: null, syncError: false, syncRefused: true },
  ],
  items: [
    { storeId: 'local', name: '/prod/payments/stripe-key', status: 'rotation-failing', ageDays: 400 },
    { storeId: 'prod-params', name: '/prod/db/password', status: 'overdue', ageDays: 120 },
  ],
  truncated: true,
};

describe('/metrics text', () => {
  it('renders counts by store and status, sync age and errors, item ages and the cap flag', async () => {
    const { contentType, body } = await renderMetrics(DATA);
    expect(contentType).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(body).toContain('# TYPE secrets_dashboard_items gauge');
    expect(body).toContain('secrets_dashboard_items{store="local",status="rotation-failing"} 1');
    expect(body).toContain('secrets_dashboard_items{store="prod-params",status="fresh"} 5');
    // A store still on its first sync has no counts (zeros would read as "nothing overdue").
    expect(body).not.toMatch(/secrets_dashboard_items\{store="prod-secrets"/);
    expect(body).toContain('secrets_dashboard_inventory_sync_age_seconds{store="local"} 0');
    expect(body).toContain('secrets_dashboard_inventory_sync_age_seconds{store="prod-params"} 125.5');
    expect(body).toContain('secrets_dashboard_inventory_sync_age_seconds{store="prod-secrets"} +Inf');
    expect(body).toContain('secrets_dashboard_inventory_sync_error{store="prod-params"} 1');
    expect(body).toContain('secrets_dashboard_inventory_sync_error{store="local"} 0');
    expect(body).toContain('secrets_dashboard_inventory_sync_refused_prefixes{store="prod-secrets"} 1');
    expect(body).toContain('secrets_dashboard_inventory_sync_refused_prefixes{store="prod-params"} 0');
    expect(body).toContain('secrets_dashboard_item_age_days{store="local",name="/prod/payments/stripe-key",status="rotation-failing"} 400');
    expect(body).toContain('secrets_dashboard_item_series_truncated 1');
    expect(body.match(/^secrets_dashboard_item_age_days\{/gm)).toHaveLength(2);
  });

  it('starts from nothing on every scrape: an item gone from the data leaves no series', async () => {
    await renderMetrics(DATA);
    const { body } = await renderMetrics({ ...DATA, items: [], truncated: false });
    expect(body).not.toMatch(/^secrets_dashboard_item_age_days\{/m);
    expect(body).toContain('secrets_dashboard_item_series_truncated 0');
  });
});

describe('METRICS_TOKEN check', () => {
  const token = 'x'.repeat(40);
  it('accepts exactly the bearer token', () => {
    expect(metricsTokenMatches(`Bearer ${token}`, token)).toBe(true);
  });
  it.each([
    ['no header', null],
    ['another token', `Bearer ${'y'.repeat(40)}`],
    ['a prefix of it', `Bearer ${token.slice(0, 39)}`],
    ['it with more', `Bearer ${token}x`],
    ['the token without Bearer', token],
    ['Basic auth', `Basic ${token}`],
    ['an oversized header', `Bearer ${'x'.repeat(5000)}`],
  ])('refuses %s', (_label, header) => {
    expect(metricsTokenMatches(header, token)).toBe(false);
  });
});
