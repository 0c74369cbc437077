import type { ChartPoint } from '@/lib/data/audit-timeline';

// Reads and writes per hour or day as stacked bars: an SVG rendered on the server (no script, so it
// works under a strict CSP and on a phone), scaled to its container's width.

const HEIGHT = 120;

export function ActivityChart({ points, bucket }: { points: ChartPoint[]; bucket: 'hour' | 'day' }) {
  if (points.length === 0) return <p className="text-sm text-slate-500">No activity in this view.</p>;
  const max = Math.max(...points.map((p) => p.reads + p.writes), 1);
  const width = Math.max(points.length * 6, 300);
  const bar = width / points.length;
  const reads = points.reduce((n, p) => n + p.reads, 0);
  const writes = points.reduce((n, p) => n + p.writes, 0);
  const label = (iso: string) => (bucket === 'hour' ? iso.slice(0, 13).replace('T', ' ') + ':00' : iso.slice(0, 10));
  return (
    <figure className="space-y-1" data-testid="activity-chart">
      <svg viewBox={`0 0 ${width} ${HEIGHT}`} preserveAspectRatio="none" className="h-32 w-full" role="img" aria-label={`Activity per ${bucket}: ${reads} reads, ${writes} writes`}>
        {points.map((p, i) => {
          const readH = (p.reads / max) * (HEIGHT - 4);
          const writeH = (p.writes / max) * (HEIGHT - 4);
          return (
            <g key={p.start}>
              <title>{`${label(p.start)}: ${p.reads} reads, ${p.writes} writes`}</title>
              <rect x={i * bar + 0.5} y={HEIGHT - readH} width={Math.max(bar - 1, 0.5)} height={readH} className="fill-sky-500" />
              <rect x={i * bar + 0.5} y={HEIGHT - readH - writeH} width={Math.max(bar - 1, 0.5)} height={writeH} className="fill-amber-500" />
            </g>
          );
        })}
      </svg>
      <figcaption className="flex flex-wrap justify-between gap-2 text-xs text-slate-500">
        <span>{label(points[0]!.start)}</span>
        <span>
          <span className="mr-1 inline-block h-2 w-2 bg-sky-500" />
          {reads.toLocaleString('en-US')} reads <span className="ml-2 mr-1 inline-block h-2 w-2 bg-amber-500" />
          {writes.toLocaleString('en-US')} writes, per {bucket}
        </span>
        <span>{label(points.at(-1)!.start)}</span>
      </figcaption>
    </figure>
  );
}
