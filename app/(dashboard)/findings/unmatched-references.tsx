import { SimpleTable } from '@/components/simple-table';
import type { UnmatchedReference, UnmatchedReferences } from '@/lib/data/consumer-references';

// "References the dashboard could not match": workloads naming a parameter or secret that no
// configured store holds (not-found) or that lives where no store is configured (unresolved), and
// what the consumer scan could not read. Already cut to the caller's grants by
// lib/data/consumer-references.ts; names only.

const WORKLOAD_LABELS: Record<UnmatchedReference['workloadKind'], string> = { 'lambda-function': 'Lambda function', 'ecs-task-definition': 'ECS task definition' };
const SERVICE_LABELS: Record<UnmatchedReference['service'], string> = { ssm: 'parameter', secretsmanager: 'secret' };
const where = (r: { account: string | null; region: string | null }) => `account ${r.account ?? 'unknown'} region ${r.region ?? 'unknown'}`;

function why(r: UnmatchedReference, labels: ReadonlyMap<string, string>): string {
  if (r.resolution === 'unresolved') return `No configured store for ${where(r)}.`;
  const store = r.storeId ? (labels.get(r.storeId) ?? r.storeId) : 'its store';
  return `No such ${SERVICE_LABELS[r.service]} in store ${store} (${where(r)}).`;
}

export function UnmatchedReferencesSection({ unmatched, storeLabels }: { unmatched: UnmatchedReferences; storeLabels: ReadonlyMap<string, string> }) {
  const { references, total, problems } = unmatched;
  return (
    <section aria-labelledby="unmatched-references-heading" className="min-w-0 space-y-2" data-testid="unmatched-references">
      <h2 id="unmatched-references-heading" className="font-semibold">
        References the dashboard could not match
      </h2>
      <p className="text-sm text-slate-600">
        ECS task definitions and Lambda functions naming a parameter or secret the dashboard could not find, and what the background scan of the workloads
        could not read. The rest of each scan went on.
      </p>
      {problems.map((p) => (
        <p
          key={`${p.service} ${p.account ?? ''} ${p.region}`}
          role="status"
          className="rounded border border-amber-200 bg-amber-50 px-3 py-2 text-sm break-words text-amber-900"
          data-testid="consumer-scan-problem"
          data-service={p.service}
        >
          <span className="font-medium">
            {p.service === 'lambda-function' ? 'Lambda functions' : 'ECS task definitions'} of {where(p)}
            {p.incomplete ? ' were not all read' : ''}:
          </span>{' '}
          {p.error}
        </p>
      ))}
      {references.length === 0 ? (
        <p className="text-sm text-slate-600" data-testid="unmatched-references-none">
          Every reference the scan found and you may see names an item the dashboard knows.
        </p>
      ) : (
        <div className="overflow-x-auto">
          <SimpleTable headers={['Workload', 'Variable', 'Reference', 'Why']}>
            {references.map((r) => (
              <tr
                key={`${r.workloadArn}\u0000${r.container ?? ''}\u0000${r.variable}\u0000${r.name ?? ''}`}
                className="align-top"
                data-testid="unmatched-reference"
                data-resolution={r.resolution}
              >
                <td className="px-3 py-2">
                  <span className="block font-medium text-slate-900">{r.workload}</span>
                  <span className="block text-xs text-slate-500">{WORKLOAD_LABELS[r.workloadKind]}</span>
                </td>
                <td className="px-3 py-2 font-mono text-xs break-all">{r.container ? `${r.container}: ${r.variable}` : r.variable}</td>
                <td className="px-3 py-2 text-xs">
                  <span className="text-slate-500">{SERVICE_LABELS[r.service]} </span>
                  <span className="font-mono break-all">{r.name ?? '(name not recorded yet)'}</span>
                </td>
                <td className="px-3 py-2 text-xs">{why(r, storeLabels)}</td>
              </tr>
            ))}
          </SimpleTable>
        </div>
      )}
      {total > references.length && (
        <p className="text-xs text-slate-500">
          {references.length} of {total.toLocaleString('en-US')} shown.
        </p>
      )}
    </section>
  );
}
