import type { Metadata } from 'next';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import { auditChainStatus, listAuditFor } from '@/lib/data/audit';
import { requirePermission } from '@/lib/session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Audit log' };

const OUTCOME_STYLE: Record<string, string> = {
  denied: 'bg-red-50 text-red-800',
  failure: 'bg-amber-50 text-amber-800',
  success: 'bg-emerald-50 text-emerald-800',
  allowed: 'bg-slate-100 text-slate-700',
};

export default async function AuditPage() {
  const principal = await requirePermission('view-audit');
  const [entries, chain] = await Promise.all([listAuditFor(principal, 500), auditChainStatus(principal)]);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-baseline justify-between gap-3">
        <h1 className="text-xl font-semibold">Audit log</h1>
        {chain && (
          <p data-testid="audit-chain" className={`text-sm ${chain.intact ? 'text-emerald-700' : 'font-medium text-red-700'}`}>
            {chain.intact ? 'Hash chain intact' : `Hash chain broken at entry #${chain.brokenAt}: entries were altered or removed`}
          </p>
        )}
      </div>
      <p className="text-sm text-slate-600">
        The dashboard&apos;s own record of sign-ins, denials, rotations, reveals and account changes on the paths you may audit, newest first.
        Entries name things; they never hold a value.
      </p>
      <SimpleTable headers={['When', 'Who', 'Action', 'Target', 'Outcome']}>
          {entries.map((entry) => (
            <tr key={entry.seq} data-testid="audit-row">
              <td className="px-3 py-2 whitespace-nowrap">
                <RelativeTime iso={entry.at} />
              </td>
              <td className="px-3 py-2">{entry.actor}</td>
              <td className="px-3 py-2 font-mono">{entry.action}</td>
              <td className="px-3 py-2 font-mono break-all">{entry.target}</td>
              <td className="px-3 py-2">
                <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${OUTCOME_STYLE[entry.outcome] ?? ''}`}>{entry.outcome}</span>
              </td>
            </tr>
          ))}
      </SimpleTable>
      {entries.length === 0 && <p className="text-sm text-slate-500">No entries yet.</p>}
    </div>
  );
}
