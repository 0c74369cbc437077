import Link from 'next/link';
import { FindingList } from '@/components/finding-list';
import { findingRowData, type FindingActions } from '@/components/finding-row';
import type { FindingDto } from '@/lib/findings/queries';
import { findingsHref } from '@/lib/links';

// The item page's Findings panel: the item's open and suppressed findings, for those who may audit
// it (the page renders nothing at all for anyone else).

export function FindingsPanel({ storeId, findings, actionsFor }: { storeId: string; findings: FindingDto[]; actionsFor: (f: FindingDto) => FindingActions }) {
  const open = findings.filter((f) => f.status === 'open').length;
  const actions = findings.map(actionsFor);
  const mayAct = (a: FindingActions) => a.suppress !== null || a.lift !== null;
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="item-findings-heading" data-testid="findings-panel">
      <div className="flex flex-wrap items-baseline justify-between gap-x-4">
        <h2 id="item-findings-heading" className="font-semibold">
          Findings{' '}
          <span className="text-sm font-normal text-slate-500">
            ({open} open{findings.length > open ? `, ${findings.length - open} suppressed` : ''})
          </span>
        </h2>
        <Link href={findingsHref({ store: [storeId] })} className="text-sm underline-offset-2 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center">
          Findings of this store →
        </Link>
      </div>
      {findings.length === 0 ? (
        <p className="text-sm text-slate-600" data-testid="findings-panel-empty">
          No control raises a finding on this item.
        </p>
      ) : (
        <FindingList
          rows={findings.map((f, i) => findingRowData(f, mayAct(actions[i]!)))}
          showItem={false}
          actions={actions.find(mayAct) ?? actions[0]!}
          className="-mx-3 divide-y divide-slate-100 sm:-mx-4"
        />
      )}
    </section>
  );
}
