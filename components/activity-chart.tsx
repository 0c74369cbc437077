'use client';

import { Bar, BarChart, CartesianGrid, Legend, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { CHART_TOOLTIP_PROPS, chartLegendText } from './chart-theme';
import { useHydrated } from './use-hydrated';

// Reads and writes per hour or day as stacked bars (recharts). Fed aggregate counts only: bucket
// starts and two numbers each, never an entry. The caption states the totals in words, so the
// server-rendered page says what the chart shows before it is drawn (and to screen readers).

export interface ActivityPoint {
  start: string;
  reads: number;
  writes: number;
}

const label = (iso: string, bucket: 'hour' | 'day') => (bucket === 'hour' ? `${iso.slice(0, 10)} ${iso.slice(11, 13)}:00` : iso.slice(0, 10));

export function ActivityChart({ points, bucket }: { points: ActivityPoint[]; bucket: 'hour' | 'day' }) {
  // Drawn in the browser only: recharts' server HTML carries style="" attributes, which the CSP refuses
  // (and it cannot measure the box there anyway, so it would draw nothing).
  const drawn = useHydrated();
  if (points.length === 0) return <p className="text-sm text-slate-500">No activity in this view.</p>;
  const reads = points.reduce((n, p) => n + p.reads, 0);
  const writes = points.reduce((n, p) => n + p.writes, 0);
  const data = points.map((p) => ({ ...p, label: label(p.start, bucket) }));
  return (
    <figure className="min-w-0 space-y-1" data-testid="activity-chart">
      <div className="h-40 w-full min-w-0" role="img" aria-label={`Activity per ${bucket}: ${reads} reads, ${writes} writes`}>
        {drawn && (
          <ResponsiveContainer width="100%" height="100%" minWidth={0}>
            <BarChart data={data} margin={{ top: 4, right: 4, bottom: 0, left: -16 }}>
              <CartesianGrid strokeDasharray="3 3" vertical={false} stroke="var(--chart-grid)" />
              <XAxis dataKey="label" tick={{ fontSize: 10, fill: 'var(--chart-axis)' }} minTickGap={24} />
              <YAxis allowDecimals={false} tick={{ fontSize: 10, fill: 'var(--chart-axis)' }} />
              <Tooltip {...CHART_TOOLTIP_PROPS} />
              <Legend wrapperStyle={{ fontSize: 12 }} formatter={chartLegendText} />
              <Bar dataKey="reads" name="reads" stackId="a" fill="var(--chart-reads)" isAnimationActive={false} />
              <Bar dataKey="writes" name="writes" stackId="a" fill="var(--chart-writes)" isAnimationActive={false} />
            </BarChart>
          </ResponsiveContainer>
        )}
      </div>
      <figcaption className="flex flex-wrap justify-between gap-2 text-xs text-slate-500" data-testid="activity-totals">
        <span>{data[0]!.label}</span>
        <span>
          {reads.toLocaleString('en-US')} reads, {writes.toLocaleString('en-US')} writes, per {bucket}
        </span>
        <span>{data.at(-1)!.label}</span>
      </figcaption>
    </figure>
  );
}
