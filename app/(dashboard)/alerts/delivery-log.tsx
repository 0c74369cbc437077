import Link from 'next/link';
import { AlertDeliveryStatus } from '@/components/alert-delivery-status';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import type { DeliveryDto } from '@/lib/data/alerts';

// The delivery log, newest first: which channel was asked to say what, how it went (delivered,
// failed and retrying, dead with its cause, pending), how many attempts, and the alert's item.

const ACTION_LABELS: Record<DeliveryDto['action'], string> = { trigger: 'Trigger', resolve: 'Resolve', digest: 'Daily digest', test: 'Test' };

export function DeliveryLog({ deliveries }: { deliveries: DeliveryDto[] }) {
  if (deliveries.length === 0)
    return (
      <p className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid="alert-deliveries-empty">
        Nothing has been sent yet.
      </p>
    );
  return (
    <div className="overflow-x-auto" data-testid="alert-deliveries">
      <SimpleTable headers={['#', 'Channel', 'Message', 'About', 'Status', 'Attempts', 'Last cause', 'Queued', 'Done']} phoneHidden={[1, 2, 6, 7, 9]}>
        {deliveries.map((d) => (
          <tr key={d.id} data-testid="alert-delivery-row" data-status={d.status} data-item={d.target?.name ?? ''} data-action={d.action} data-channel={d.channelId} className="align-top">
            <td className="px-3 py-2 text-xs tabular-nums text-slate-500">{d.id}</td>
            <td className="px-3 py-2 text-xs">
              <span className="font-mono">{d.channelId}</span>
              {d.channelKind && <span className="block text-slate-500">{d.channelKind}</span>}
            </td>
            <td className="px-3 py-2 text-xs">
              {ACTION_LABELS[d.action]}
              {d.action !== 'test' && <span className="block text-slate-500">{d.eventLabel}</span>}
            </td>
            <td className="px-3 py-2 font-mono text-xs break-all">
              {d.target ? (
                <Link href={d.target.href} className="text-sky-700 hover:underline" data-testid="alert-delivery-item">
                  {d.target.isItem ? `${d.target.storeId}:${d.target.name}` : d.target.name}
                </Link>
              ) : d.action === 'digest' ? (
                <span className="font-sans">{d.items.toLocaleString('en-US')} items</span>
              ) : (
                '—'
              )}
            </td>
            <td className="px-3 py-2">
              <AlertDeliveryStatus status={d.status} />
            </td>
            <td className="px-3 py-2 text-xs tabular-nums">{d.attempts}</td>
            <td className="px-3 py-2 text-xs break-words" data-testid="alert-delivery-cause">
              {d.lastCause ?? '—'}
              {d.nextAttemptAt && d.status === 'failed' && (
                <span className="block text-slate-500">
                  next try <RelativeTime iso={d.nextAttemptAt} />
                </span>
              )}
            </td>
            <td className="px-3 py-2 whitespace-nowrap text-xs">
              <RelativeTime iso={d.createdAt} />
            </td>
            <td className="px-3 py-2 whitespace-nowrap text-xs">{d.deliveredAt ? <RelativeTime iso={d.deliveredAt} /> : d.status === 'dead' ? <RelativeTime iso={d.updatedAt} /> : '—'}</td>
          </tr>
        ))}
      </SimpleTable>
    </div>
  );
}
