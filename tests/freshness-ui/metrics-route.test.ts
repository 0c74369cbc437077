import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { GET as metricsRoute } from '@/app/metrics/route';
import { readEnv } from '@/lib/config/env';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { STATUS_RANK } from '@/lib/freshness/worst-order';
import { SENTINEL_OUTSIDE, startFreshnessHarness, url, type FreshnessHarness } from './harness';

// /metrics: off (404) without METRICS_TOKEN, 401 without the right bearer token, else the Prometheus
// text format from the inventory with the per-item series capped.

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
let h: FreshnessHarness;
beforeAll(async () => {
  h = await startFreshnessHarness();
});
afterAll(() => h.cleanup());
afterEach(() => {
  delete process.env.METRICS_TOKEN;
  delete process.env.METRICS_MAX_ITEM_SERIES;
});

const scrape = (authorization?: string) => metricsRoute(new Request(url('/metrics'), authorization ? { headers: { authorization } } : {}));

describe('/metrics', () => {
  it('does not exist while METRICS_TOKEN is unset, even with a token', async () => {
    expect((await scrape()).status).toBe(404);
    expect((await scrape(`Bearer ${TOKEN}`)).status).toBe(404);
  });

  it('answers 401 without a token or with a wrong one, and says nothing else', async () => {
    process.env.METRICS_TOKEN = TOKEN;
    for (const header of [undefined, `Bearer ${TOKEN.slice(0, -1)}`, `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
      const res = await scrape(header);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer /);
      expect(await res.text()).not.toContain('secrets_dashboard');
    }
  });

  it('serves the text format: counts by store and status, sync age, item ages worst first', async () => {
    process.env.METRICS_TOKEN = TOKEN;
    const res = await scrape(`Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const body = await res.text();
    const total = FRESHNESS_STATUSES.reduce((n, status) => {
      const match = new RegExp(`^secrets_dashboard_items\\{store="local",status="${status}"\\} (\\d+)$`, 'm').exec(body);
      expect(match, `count for ${status}`).not.toBeNull();
      return n + Number(match![1]);
    }, 0);
    expect(total).toBe(await h.store.count());
    expect(body).toMatch(/^secrets_dashboard_inventory_sync_age_seconds\{store="local"\} 0$/m);
    expect(body).toMatch(/^secrets_dashboard_inventory_sync_error\{store="local"\} 0$/m);
    // Under the default cap of 1000 every item has its series, the sentinel (400 days old) too.
    expect(body.match(/^secrets_dashboard_item_age_days\{/gm)).toHaveLength(total);
    expect(body).toMatch(new RegExp(`^secrets_dashboard_item_age_days\\{store="local",name="${SENTINEL_OUTSIDE}",status="[a-z-]+"\\} 400$`, 'm'));
    expect(body).toMatch(/^secrets_dashboard_item_series_truncated 0$/m);
  });

  it('caps the per-item series at METRICS_MAX_ITEM_SERIES, worst first, and says so', async () => {
    Object.assign(process.env, { METRICS_TOKEN: TOKEN, METRICS_MAX_ITEM_SERIES: '5' });
    const body = await (await scrape(`Bearer ${TOKEN}`)).text();
    const series = [...body.matchAll(/^secrets_dashboard_item_age_days\{store="[^"]+",name="[^"]+",status="([a-z-]+)"\} \d+$/gm)].map((m) => m[1]!);
    expect(series).toHaveLength(5);
    expect(body).toMatch(/^secrets_dashboard_item_series_truncated 1$/m);
    // The five kept are the worst (overdue and never rotated share a rank, ordered by how long ago they were due).
    const count = (status: string) => Number(new RegExp(`^secrets_dashboard_items\\{store="local",status="${status}"\\} (\\d+)$`, 'm').exec(body)![1]);
    const ranks = FRESHNESS_STATUSES.flatMap((status) => Array<number>(count(status)).fill(STATUS_RANK[status])).sort((a, b) => a - b);
    expect(series.map((status) => STATUS_RANK[status as FreshnessStatus]).sort((a, b) => a - b)).toEqual(ranks.slice(0, 5));
  });

  it('says truncated only when items were left out (a cap of exactly every item, one less, none)', async () => {
    const total = await h.store.count();
    for (const [cap, series, truncated] of [
      [total, total, 0],
      [total - 1, total - 1, 1],
      [0, 0, 1],
    ] as const) {
      Object.assign(process.env, { METRICS_TOKEN: TOKEN, METRICS_MAX_ITEM_SERIES: String(cap) });
      const body = await (await scrape(`Bearer ${TOKEN}`)).text();
      expect(body.match(/^secrets_dashboard_item_age_days\{/gm) ?? []).toHaveLength(series);
      expect(body).toMatch(new RegExp(`^secrets_dashboard_item_series_truncated ${truncated}$`, 'm'));
    }
  });

  it('refuses a short METRICS_TOKEN at start-up, naming it', () => {
    expect(() => readEnv({ ...process.env, METRICS_TOKEN: 'too-short' })).toThrow(/METRICS_TOKEN must be at least 32 characters/);
    expect(() => readEnv({ ...process.env, METRICS_MAX_ITEM_SERIES: '-1' })).toThrow(/METRICS_MAX_ITEM_SERIES must be at least 0/);
    expect(readEnv({ ...process.env }).METRICS_MAX_ITEM_SERIES).toBe(1000);
  });
});
