import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// The logger reads LOG_LEVEL when first imported, before the harness sets it.
vi.hoisted(() => {
  process.env.LOG_LEVEL = 'silent';
});

import { GET as metricsRoute } from '@/app/metrics/route';
import { GET as findingsRoute } from '@/app/api/v1/findings/route';
import { CONTROL_IDS } from '@/lib/findings/types';
import { renderMetrics } from '@/lib/metrics/render-metrics';
import { bearer, startFindingsHarness, url, type FindingsHarness } from './harness';

// /metrics' findings series: secrets_dashboard_findings{control,severity,status}, every store and path
// (the scrape is the operator's, behind METRICS_TOKEN), none before the first evaluation.

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
const EMPTY = { stores: [], items: [], truncated: false };

describe('secrets_dashboard_findings text', () => {
  it('renders one gauge per control, severity and status', async () => {
    const { body } = await renderMetrics({
      ...EMPTY,
      findings: [
        { control: 'no-owner', severity: 'low', status: 'open', count: 7 },
        { control: 'no-owner', severity: 'low', status: 'suppressed', count: 1 },
        { control: 'sm-unused', severity: 'medium', status: 'resolved', count: 0 },
      ],
    });
    expect(body).toContain('# TYPE secrets_dashboard_findings gauge');
    expect(body).toContain('secrets_dashboard_findings{control="no-owner",severity="low",status="open"} 7');
    expect(body).toContain('secrets_dashboard_findings{control="no-owner",severity="low",status="suppressed"} 1');
    expect(body).toContain('secrets_dashboard_findings{control="sm-unused",severity="medium",status="resolved"} 0');
  });

  it('has no series before the first evaluation (zeros would read as "nothing found")', async () => {
    for (const findings of [null, undefined]) expect((await renderMetrics({ ...EMPTY, findings })).body).not.toMatch(/^secrets_dashboard_findings\{/m);
  });
});

describe('/metrics with findings', () => {
  let h: FindingsHarness;
  beforeAll(async () => {
    h = await startFindingsHarness();
    process.env.METRICS_TOKEN = TOKEN;
  });
  afterAll(async () => {
    delete process.env.METRICS_TOKEN;
    await h.cleanup();
  });

  it('counts every store and path, as an admin sees them', async () => {
    const res = await metricsRoute(new Request(url('/metrics'), { headers: { authorization: `Bearer ${TOKEN}` } }));
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(body.match(/^secrets_dashboard_findings\{/gm)).toHaveLength(CONTROL_IDS.length * 3);
    const admin = (await (await findingsRoute(new Request(url('/api/v1/findings?control=no-owner&limit=1000'), bearer(h.tokens.admin)))).json()) as { items: unknown[] };
    expect(admin.items.length).toBeGreaterThan(1);
    expect(body).toContain(`secrets_dashboard_findings{control="no-owner",severity="low",status="open"} ${admin.items.length}`);
    // Names never become labels: the series say how many, not which.
    expect(body).not.toMatch(/secrets_dashboard_findings\{[^}]*name=/);
  });
});
