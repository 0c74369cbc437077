import { RelativeTime } from '@/components/relative-time';
import { CONSUMER_KIND_LABELS, type ItemUsedBy } from '@/lib/data/consumers';

// Who uses an item: the ECS task definitions and Lambda functions that name it (the background
// consumer scan) and the roles that read it in CloudTrail, by where the reads came from. A line
// says when the workloads of its account could not be read, so "nothing names it" is never
// claimed on a scan that failed.

export function UsedByPanel({ usedBy }: { usedBy: ItemUsedBy }) {
  const { consumers, readers, problems } = usedBy;
  return (
    <section className="space-y-3 rounded-lg border border-slate-200 bg-white p-4" aria-labelledby="used-by-heading" data-testid="used-by-panel">
      <div className="flex flex-wrap items-baseline justify-between gap-2">
        <h2 id="used-by-heading" className="font-semibold">
          Used by
        </h2>
        <p className="text-xs text-slate-500" data-testid="used-by-scanned-at">
          {usedBy.scannedAt ? (
            <>
              Workloads read <RelativeTime iso={usedBy.scannedAt} />
            </>
          ) : (
            'Workloads not read yet'
          )}
        </p>
      </div>
      {problems.map((p) => (
        <p key={p.service} role="status" className="rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900" data-testid="used-by-problem" data-service={p.service}>
          <span className="font-medium">{p.headline}:</span> {p.detail}
        </p>
      ))}
      <div>
        <h3 className="text-xs font-medium uppercase text-slate-500">Workloads that name it ({consumers.length})</h3>
        {consumers.length === 0 ? (
          <p className="text-sm text-slate-500" data-testid="used-by-none">
            {usedBy.scannedAt ? 'No ECS task definition or Lambda function names it.' : 'Not known until the workloads are read.'}
          </p>
        ) : (
          <ul className="space-y-1 text-sm">
            {consumers.map((c) => (
              <li key={`${c.arn}\u0000${c.via}`} className="min-w-0" data-testid="used-by-consumer" data-kind={c.kind}>
                <span className="font-medium text-slate-900">{c.name}</span> <span className="text-slate-500">{CONSUMER_KIND_LABELS[c.kind]}</span>
                <span className="block text-xs text-slate-600">
                  {c.via} · seen <RelativeTime iso={c.seenAt} />
                </span>
                <span className="block break-all font-mono text-xs text-slate-500">{c.arn}</span>
              </li>
            ))}
          </ul>
        )}
      </div>
      <div>
        <h3 className="text-xs font-medium uppercase text-slate-500">
          Read in CloudTrail, last {usedBy.readerDays} days ({readers.length})
        </h3>
        {readers.length === 0 ? (
          <p className="text-sm text-slate-500">No one, as far as CloudTrail tells.</p>
        ) : (
          <ul className="space-y-1 text-sm">
            {readers.map((r) => (
              <li key={r.principal ?? '(unknown)'} className="min-w-0" data-testid="used-by-reader">
                <span className="break-all font-mono">{r.principal ?? '(unknown)'}</span> · {r.reads.toLocaleString('en-US')} read{r.reads === 1 ? '' : 's'}, last{' '}
                <RelativeTime iso={r.lastReadAt} />
                <span className="block text-xs text-slate-600">
                  from{' '}
                  {r.sources.map((s, i) => (
                    <span key={s.source ?? '(unknown)'} data-testid="used-by-source">
                      {i > 0 && ', '}
                      <span className="font-mono">{s.source ?? '(unknown)'}</span> ({s.reads.toLocaleString('en-US')})
                    </span>
                  ))}
                </span>
              </li>
            ))}
          </ul>
        )}
      </div>
    </section>
  );
}
