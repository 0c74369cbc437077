import { SEVERITY_LABELS, type Severity } from '@/lib/findings/types';

// A finding's severity as a small badge: the word always (never colour alone), in the order of alarm
// the freshness badges use.

export const SEVERITY_BADGE_STYLES: Record<Severity, string> = {
  critical: 'bg-red-100 text-red-900 ring-red-300',
  high: 'bg-orange-100 text-orange-900 ring-orange-300',
  medium: 'bg-amber-50 text-amber-800 ring-amber-200',
  low: 'bg-sky-50 text-sky-800 ring-sky-200',
  informational: 'bg-slate-100 text-slate-700 ring-slate-300',
};

export function SeverityBadge({ severity, className = '' }: { severity: Severity; className?: string }) {
  return (
    <span
      data-testid="severity-badge"
      data-severity={severity}
      className={`inline-flex shrink-0 whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${SEVERITY_BADGE_STYLES[severity]} ${className}`}
    >
      {SEVERITY_LABELS[severity]}
    </span>
  );
}
