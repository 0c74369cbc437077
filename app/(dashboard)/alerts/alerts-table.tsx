import Link from 'next/link';
import { RelativeTime } from '@/components/relative-time';
import { SeverityBadge } from '@/components/severity-badge';
import { SimpleTable } from '@/components/simple-table';
import type { AlertSeverity } from '@/lib/alerts/types';
import type { AlertDto } from '@/lib/data/alerts';
import type { Severity } from '@/lib/findings/types';

// Open or resolved alerts: event, severity, what it is about (linking to the item's page, or to
// the store or audit log for a sync or the chain), the principal, when, and whether silenced.

const BADGE: Record<AlertSeverity, Severity> = { critical: 'critical', high: 'high', medium: 'medium', low: 'low', info: 'informational' };

export function AlertsTable({ alerts, empty, testId, resolved = false }: { alerts: AlertDto[]; empty: string; testId: string; resolved?: boolean }) {
  if (alerts.length === 0)
    return (
      <p className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid={`${testId}-empty`}>
        {empty}
      </p>
    );
  return (
    <div className="overflow-x-auto" data-testid={testId}>
      <SimpleTable headers={['Event', 'Severity', 'About', 'Principal', resolved ? 'Resolved' : 'Opened', 'Silenced']} phoneHidden={[4, 6]}>
        {alerts.map((a) => (
          <tr key={a.key} data-testid="alert-row" data-item={a.target.name} data-event={a.event} data-silenced={a.silenced ? 'true' : 'false'} className="align-top">
            <td className="px-3 py-2">
              {a.eventLabel}
              <span className="block font-mono text-xs text-slate-500">{a.ruleId}</span>
            </td>
            <td className="px-3 py-2">
              <SeverityBadge severity={BADGE[a.severity] ?? 'medium'} />
            </td>
            <td className="px-3 py-2 font-mono text-xs break-all">
              <Link href={a.target.href} className="text-sky-700 hover:underline" data-testid="alert-item">
                {a.target.isItem ? `${a.target.storeId}:${a.target.name}` : a.target.name}
              </Link>
              {a.detail && <span className="block font-sans text-slate-500">{a.detail}</span>}
            </td>
            <td className="px-3 py-2 text-xs break-all">{a.principal ?? '—'}</td>
            <td className="px-3 py-2 whitespace-nowrap text-xs">
              <RelativeTime iso={resolved && a.resolvedAt ? a.resolvedAt : a.openedAt} showDate />
            </td>
            <td className="px-3 py-2 text-xs">{a.silenced ? <span className="font-medium text-amber-800">Silenced</span> : '—'}</td>
          </tr>
        ))}
      </SimpleTable>
    </div>
  );
}
