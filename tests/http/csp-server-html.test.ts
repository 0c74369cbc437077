import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { createElement } from 'react';
import { renderToString } from 'react-dom/server';
import { describe, expect, it, vi } from 'vitest';

vi.mock('next/navigation', () => ({ useRouter: () => ({ refresh: () => undefined, push: () => undefined, replace: () => undefined }) }));

import { ActivityChart } from '@/components/activity-chart';
import { FreshnessAgeChart } from '@/components/freshness-age-chart';
import { FreshnessOverviewStores } from '@/components/freshness-overview-stores';
import { InventoryStatusStrip } from '@/components/inventory-status';
import { VirtualItemsTable } from '@/components/virtual-items-table';
import type { InventoryStatus, ItemRow } from '@/lib/data/inventory-types';

// The server's HTML of the components that draw computed positions and widths. The CSP refuses
// style="" attributes in HTML (no 'unsafe-inline'), so these draw them only after hydration (where
// React writes them through the CSSOM) or as SVG attributes. Rendering here is the server's render.

/** The opening tags in the HTML that carry a style or an event handler attribute. */
function inlineStyleOrHandlerTags(html: string): string[] {
  return (html.match(/<[a-zA-Z][^>]*>/g) ?? []).filter((tag) => /\s(style|on[a-z]+)\s*=/i.test(tag));
}

const items: ItemRow[] = Array.from({ length: 60 }, (_, i) => ({
  name: `/prod/app/key-${String(i).padStart(2, '0')}`,
  leaf: `key-${String(i).padStart(2, '0')}`,
  kind: 'SecureString',
  version: String(i + 1),
  lastChangedAt: '2026-11-01T10:00:00.000Z',
  lastChangedBy: 'admin@example.com',
  freshness: { status: 'fresh', reason: 'Changed recently.' },
}));

describe('server HTML without style attributes', () => {
  it('the folder table renders its first screenful in normal flow, with heights as classes', () => {
    const html = renderToString(
      createElement(VirtualItemsTable, {
        storeId: 'local',
        path: '/prod/app/',
        query: {},
        folders: [{ path: '/prod/app/sub/', name: 'sub', totalItems: 3 }],
        initialItems: items,
        initialCursor: 'next-page',
        totalItems: 500,
        startCursor: null,
      }),
    );
    expect(inlineStyleOrHandlerTags(html)).toEqual([]);
    expect(html).toContain('data-testid="folder-row"');
    expect(html.match(/data-testid="item-row"/g)!.length).toBeGreaterThan(10);
    expect(html).toContain('h-[45px]');
    expect(html).not.toMatch(/class="[^"]*\babsolute\b[^"]*"[^>]*data-testid="item-row"/);
  });

  it('the charts draw nothing on the server, only their captions', () => {
    const activity = renderToString(
      createElement(ActivityChart, {
        bucket: 'hour',
        points: [
          { start: '2026-11-01T10:00:00.000Z', reads: 3, writes: 1 },
          { start: '2026-11-01T11:00:00.000Z', reads: 5, writes: 0 },
        ],
      }),
    );
    const age = renderToString(
      createElement(FreshnessAgeChart, {
        buckets: ['< 30 d', '30–90 d'],
        stores: [
          { id: 'local', label: 'Local', counts: [4, 1] },
          { id: 'aws', label: 'AWS', counts: [2, 2] },
        ],
      }),
    );
    for (const html of [activity, age]) {
      expect(inlineStyleOrHandlerTags(html)).toEqual([]);
      expect(html).not.toContain('recharts');
    }
    expect(activity).toContain('data-testid="activity-totals"');
    expect(age).toMatch(/data-testid="age-totals">9<!-- --> items by age/);
  });

  it('the sync progress bar is drawn indeterminate on the server', () => {
    const status: InventoryStatus = {
      storeId: 'aws',
      label: 'AWS',
      kind: 'ssm',
      live: false,
      scope: 'store',
      syncedAt: '2026-11-01T10:00:00.000Z',
      items: 100,
      walking: { startedAt: '2026-11-01T11:00:00.000Z', items: 40, pages: 4, expectedItems: 100, throttled: 0, retrying: null },
      queued: false,
      error: null,
      unreadable: { items: 0, tags: 0 },
      tags: null,
      lastWalk: null,
    };
    const html = renderToString(
      createElement(InventoryStatusStrip, { status, canRefresh: true, refresh: async () => ({ ok: true as const, data: { state: 'started' as const } }) }),
    );
    expect(inlineStyleOrHandlerTags(html)).toEqual([]);
    expect(html).toContain('aria-valuenow="40"');
    expect(html).toContain('animate-pulse');
  });

  it('the overview\u2019s proportion bar is an SVG whose rectangles carry widths and colours as attributes', () => {
    const html = renderToString(
      createElement(FreshnessOverviewStores, {
        stores: [
          {
            storeId: 'local',
            label: 'Local',
            kind: 'local',
            pending: false,
            counts: { 'rotation-failing': 1, overdue: 1, 'never-rotated': 0, 'due-soon': 0, fresh: 2 },
            total: 4,
            ages: [],
          },
        ],
        inventory: new Map(),
      }),
    );
    expect(inlineStyleOrHandlerTags(html)).toEqual([]);
    const rects = html.match(/<rect [^>]*>/g) ?? [];
    expect(rects).toHaveLength(3);
    expect(rects.map((r) => /width="([\d.]+)"/.exec(r)![1])).toEqual(['25', '25', '50']);
    expect(rects.map((r) => /x="([\d.]+)"/.exec(r)![1])).toEqual(['0', '25', '50']);
  });
});

describe('sources', () => {
  const root = path.resolve(__dirname, '../..');
  const files = ['app', 'components'].flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.tsx'))
      .map((f) => path.join(dir, f)),
  );

  it('set style props only where they are drawn after hydration or only ever in the browser', () => {
    const withStyle = files.filter((f) => /\sstyle=\{/.test(readFileSync(path.join(root, f), 'utf8'))).sort();
    // A new file here needs the same care: the server's HTML may not carry style="" (see components/use-hydrated.ts).
    expect(withStyle).toEqual([
      'components/inventory-status.tsx', // the progress width, after hydration
      'components/search-box.tsx', // the dropdown's position, drawn only once the box is measured in the browser
      'components/virtual-items-table.tsx', // row positions, after hydration
    ]);
  });

  it('have no inline script, style element or raw HTML', () => {
    for (const f of files) {
      const source = readFileSync(path.join(root, f), 'utf8');
      expect(source, f).not.toMatch(/dangerouslySetInnerHTML|<script|<style/);
    }
  });
});
