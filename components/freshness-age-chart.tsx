'use client';

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CHART_TOOLTIP_PROPS, chartLegendText } from './chart-theme';
import { useHydrated } from './use-hydrated';

// How old the caller's items are: one bar per age bucket, stacked by store (recharts). Fed the
// bucket counts only, never an item. The caption states the totals in words for the server-rendered
// page and screen readers.

export interface AgeChartStore {
  id: string;
  label: string;
  /** Items per bucket, in the order of `buckets`. */
  counts: number[];
}

// CSS variables (app/globals.css), so the bars follow the theme.
const PALETTE = [1, 2, 3, 4, 5, 6, 7, 8].map((n) => `var(--chart-${n})`);

export function FreshnessAgeChart({ buckets, stores }: { buckets: string[]; stores: AgeChartStore[] }) {
  // Drawn in the browser only: recharts' server HTML carries style="" attributes, which the CSP refuses
  // (and it cannot measure the box there anyway, so it would draw nothing).
  const drawn = useHydrated();
  const totals = buckets.map((_, i) => stores.reduce((n, s) => n + (s.counts[i] ?? 0), 0));
  const all = totals.reduce((a, b) => a + b, 0);
  if (all === 0) return <p className="text-sm text-slate-500">No items to chart yet.</p>;
  // Keys are positional so store ids never collide with recharts' own fields.
  const data = buckets.map((label, i) => Object.fromEntries([['label', label], ...stores.map((s, j) => [`s${j}`, s.counts[i] ?? 0])]));
  const caption = buckets.map((label, i) => `${label}: ${totals[i]!.toLocaleString('en-US')}`).join(', ');
  return (
    <figure className="min-w-0 space-y-1" data-testid="age-chart">
      <div className="h-48 w-full min-w-0" role="img" aria-label={`Items by age: ${caption}`}>
        {drawn && (
          <ResponsiveContainer width="100%" height="100%" minWidth={0}>
            <BarChart data={data} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--chart-grid)" />
              <XAxis dataKey="label" tick={{ fontSize: 10, fill: 'var(--chart-axis)' }} interval={0} />
              <YAxis allowDecimals={false} tick={{ fontSize: 10, fill: 'var(--chart-axis)' }} />
              <Tooltip {...CHART_TOOLTIP_PROPS} />
              {stores.length > 1 && <Legend wrapperStyle={{ fontSize: 12 }} formatter={chartLegendText} />}
              {stores.map((store, j) => (
                <Bar key={store.id} dataKey={`s${j}`} name={store.label} stackId="age" fill={PALETTE[j % PALETTE.length]} isAnimationActive={false} />
              ))}
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
      <figcaption className="text-xs text-slate-500" data-testid="age-totals">
        {all.toLocaleString('en-US')} items by age since the last change or rotation — {caption}.
      </figcaption>
    </figure>
  );
}
