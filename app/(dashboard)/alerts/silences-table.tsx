import Link from 'next/link';
import { AlertLiftButton } from '@/components/alert-lift-button';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import type { ActionResult } from '@/lib/actions/authed-action';
import type { SilenceDto } from '@/lib/data/alerts';

// Silences: what (a rule, an item, or a rule on an item), why, who, until when, and whether in
// force; admins may lift one in force.

export function SilencesTable({ silences, lift }: { silences: SilenceDto[]; lift: ((input: unknown) => Promise<ActionResult<unknown>>) | null }) {
  if (silences.length === 0) return <p className="text-sm text-slate-600">No alert has been silenced on what you may audit.</p>;
  return (
    <div className="overflow-x-auto">
      <SimpleTable headers={['Silences', 'Reason', 'By', 'Until', 'State', '']} phoneHidden={[2, 3, 4]}>
        {silences.map((s) => (
          <tr key={s.id} data-testid="alert-silence-row" data-state={s.state} data-item={s.target?.name ?? ''} data-rule={s.ruleId ?? ''} className="align-top">
            <td className="px-3 py-2 text-xs break-all">
              {s.ruleId && <span className="block font-mono">rule {s.ruleId}</span>}
              {s.target && (
                <Link href={s.target.href} className="font-mono text-sky-700 hover:underline">
                  {s.target.storeId}:{s.target.name}
                </Link>
              )}
            </td>
            <td className="px-3 py-2 break-words">“{s.reason}”</td>
            <td className="px-3 py-2 break-all text-xs">
              {s.createdBy}
              <span className="block text-slate-500">
                <RelativeTime iso={s.createdAt} />
              </span>
            </td>
            <td className="px-3 py-2 whitespace-nowrap text-xs">
              <RelativeTime iso={s.expiresAt} showDate />
            </td>
            <td className="px-3 py-2 text-xs">
              {s.state === 'lifted' ? (
                <>
                  Lifted by {s.liftedBy ?? 'unknown'} {s.liftedAt && <RelativeTime iso={s.liftedAt} />}
                </>
              ) : s.state === 'active' ? (
                <span className="font-medium text-amber-800">Active</span>
              ) : (
                'Expired'
              )}
            </td>
            <td className="px-3 py-2">{s.state === 'active' && lift && <AlertLiftButton id={s.id} action={lift} />}</td>
          </tr>
        ))}
      </SimpleTable>
    </div>
  );
}
