import Link from 'next/link';
import type { StoreSummary } from '@/lib/data/browse';

/** Tabs for the configured stores; hidden while there is only one. */
export function StorePicker({ stores, current }: { stores: StoreSummary[]; current: string }) {
  if (stores.length < 2) return null;
  return (
    <nav aria-label="Stores" className="flex flex-wrap gap-2">
      {stores.map((store) => (
        <Link
          key={store.id}
          href={`/browse/${store.id}`}
          aria-current={store.id === current ? 'page' : undefined}
          className={`rounded-full px-3 py-1 text-sm ring-1 ring-inset ${
            store.id === current ? 'bg-slate-900 text-white ring-slate-900' : 'bg-white text-slate-700 ring-slate-300 hover:bg-slate-100'
          }`}
        >
          {store.label}
        </Link>
      ))}
    </nav>
  );
}
