import Link from 'next/link';
import { RelativeTime } from '@/components/relative-time';
import type { AccessReader, ItemAccess } from '@/lib/data/item-access';

// Who read an item and when, from CloudTrail (or Vault's audit log), with a link to the full audit view of the item.

function Readers({ title, readers }: { title: string; readers: AccessReader[] }) {
  return (
    <div>
      <h3 className="text-xs font-medium uppercase text-slate-500">
        {title} ({readers.length})
      </h3>
      {readers.length === 0 ? (
        <p className="text-sm text-slate-500">No one.</p>
      ) : (
        <ul className="space-y-0.5 text-sm">
          {readers.slice(0, 10).map((r) => (
            <li key={r.principal ?? '(unknown)'} className="break-all" data-testid="access-reader">
              <span className="font-mono">{r.principal ?? '(unknown)'}</span> · {r.reads.toLocaleString('en-US')} read{r.reads === 1 ? '' : 's'}, last{' '}
              <RelativeTime iso={r.lastReadAt} />
              {r.isNew && <span className="ml-1 rounded bg-amber-100 px-1 text-xs font-medium text-amber-900">new reader</span>}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function AccessPanel({ access, auditHref, source = 'CloudTrail' }: { access: ItemAccess; auditHref: string; source?: string }) {
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" data-testid="access-panel">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 className="font-semibold">Access</h2>
        <Link href={auditHref} className="text-sm text-sky-700 underline">
          All events of this item
        </Link>
      </div>
      <p className="text-sm">
        Last read:{' '}
        {access.lastRead ? (
          <>
            <RelativeTime iso={access.lastRead.time} /> by <span className="font-mono break-all">{access.lastRead.actor ?? '(unknown)'}</span> ({access.lastRead.eventName}
            {access.lastRead.viaFolder ? ` of ${access.lastRead.viaFolder}` : ''})
          </>
        ) : (
          `never, as far as ${source} tells`
        )}
      </p>
      <div className="grid gap-3 sm:grid-cols-2">
        <Readers title="Readers, last 30 days" readers={access.readers30} />
        <Readers title="Readers, last 90 days" readers={access.readers90} />
      </div>
      {access.recent.length > 0 && (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs uppercase text-slate-500">
              <tr>
                <th className="py-1 pr-3">When</th>
                <th className="py-1 pr-3">Event</th>
                <th className="py-1 pr-3">Who</th>
                <th className="py-1">Outcome</th>
              </tr>
            </thead>
            <tbody className="divide-y divide-slate-100">
              {access.recent.map((e, i) => (
                <tr key={`${e.time}-${i}`} data-testid="access-event" className="align-top">
                  <td className="py-1 pr-3 whitespace-nowrap">
                    <RelativeTime iso={e.time} />
                  </td>
                  <td className="py-1 pr-3 font-mono">{e.eventName}</td>
                  <td className="py-1 pr-3 font-mono break-all">{e.actor ?? '(unknown)'}</td>
                  <td className="py-1">{e.errorCode ?? 'success'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
