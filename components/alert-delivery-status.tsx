import type { DeliveryStatus } from '@/lib/alerts/alerts-db';

// A delivery's status as a small badge: the word always (never colour alone).

const STYLES: Record<DeliveryStatus, string> = {
  delivered: 'bg-emerald-50 text-emerald-800 ring-emerald-200',
  pending: 'bg-slate-100 text-slate-700 ring-slate-300',
  sending: 'bg-sky-50 text-sky-800 ring-sky-200',
  failed: 'bg-amber-50 text-amber-800 ring-amber-200',
  dead: 'bg-red-100 text-red-900 ring-red-300',
};

const LABELS: Record<DeliveryStatus, string> = { delivered: 'Delivered', pending: 'Pending', sending: 'Sending', failed: 'Failed, retrying', dead: 'Dead' };

export function AlertDeliveryStatus({ status }: { status: DeliveryStatus }) {
  return (
    <span data-testid="alert-delivery-status" data-status={status} className={`inline-flex whitespace-nowrap rounded px-1.5 py-0.5 text-xs font-medium ring-1 ring-inset ${STYLES[status]}`}>
      {LABELS[status]}
    </span>
  );
}
