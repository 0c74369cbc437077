import type { Metadata } from 'next';
import { FilterProblems } from '@/components/filter-problems';
import Link from 'next/link';
import { FindingControlTable } from '@/components/finding-control-table';
import { FindingFilterForm } from '@/components/finding-filter-form';
import { FindingList } from '@/components/finding-list';
import { findingRowData, suppressionExpiryDays, type FindingActions } from '@/components/finding-row';
import { FindingLiftButton } from '@/components/finding-lift-button';
import { RelativeTime } from '@/components/relative-time';
import { SeverityBadge } from '@/components/severity-badge';
import { SimpleTable } from '@/components/simple-table';
import { liftSuppression } from '@/lib/actions/lift-suppression';
import { suppressFinding } from '@/lib/actions/suppress-finding';
import { listStoreSummaries } from '@/lib/data/browse';
import { listUnmatchedReferences } from '@/lib/data/consumer-references';
import { getFindingSummary, listFindings, listSuppressions, maySuppressFinding } from '@/lib/data/findings';
import { controlOf } from '@/lib/findings/controls';
import type { FindingFilters, FindingPage } from '@/lib/findings/queries';
import { SEVERITIES, WORKLOAD_STORE_ID } from '@/lib/findings/types';
import { isCursorError } from '@/lib/inventory/inventory-index';
import { findingsHref, findingsSearch, itemHref, type FindingsLinkQuery } from '@/lib/links';
import { requirePermission } from '@/lib/session';
import { DEFAULT_FINDINGS_LIMIT, parseFindingFilters } from '@/lib/validations/finding';
import { UnmatchedReferencesSection } from './unmatched-references';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Findings' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const usd = (n: number) => n.toLocaleString('en-US', { style: 'currency', currency: 'USD' });

/**
 * /findings?control=…&severity=…&store=…&account=…&owner=…&status=…&cursor=…: what a security review
 * asks of every item the caller may audit (view-audit), counted by control and severity, then listed
 * worst first and keyset-paged, with suppressions. Metadata only; cut to the caller's grants by the
 * data layer, like every other surface.
 */
export default async function FindingsPage({ searchParams }: Props) {
  const principal = await requirePermission('view-audit');
  const parsed = parseFindingFilters(await searchParams);
  const stores = await listStoreSummaries(principal);
  const labels = new Map(stores.map((s) => [s.id, s.label]));

  if (!parsed.ok) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold">Findings</h1>
        <FilterProblems problems={parsed.problems} resetHref="/findings" testId="findings-filter-error" />
      </div>
    );
  }

  // limit is honoured but not carried into the links (pages are DEFAULT_FINDINGS_LIMIT long); format is the API's.
  const { cursor, limit, format: _format, ...filters } = parsed.value;
  const link: FindingsLinkQuery = {
    control: filters.controls,
    severity: filters.severities,
    store: filters.storeIds,
    account: filters.accounts,
    owner: filters.owners,
    status: filters.statuses,
  };
  // The counts table is the scope's (stores, accounts, owners) across every control, severity and status.
  const scope: FindingFilters = {
    ...(filters.storeIds ? { storeIds: filters.storeIds } : {}),
    ...(filters.accounts ? { accounts: filters.accounts } : {}),
    ...(filters.owners ? { owners: filters.owners } : {}),
  };
  const now = new Date();
  const unknownStores = (filters.storeIds ?? []).filter((id) => !labels.has(id));
  let page: FindingPage | null = null;
  let cursorProblem: string | null = null;
  if (unknownStores.length === 0) {
    try {
      page = await listFindings(principal, { ...filters, ...(cursor ? { cursor } : {}), limit }, now);
    } catch (error) {
      if (!isCursorError(error)) throw error;
      cursorProblem = error.message;
    }
  }
  const [summary, suppressions, unmatched] = await Promise.all([getFindingSummary(principal, scope, now), listSuppressions(principal), listUnmatchedReferences(principal)]);
  const mayLift = (storeId: string, name: string) => maySuppressFinding(principal, storeId, name);
  // Once for the list; each row says whether its caller may use them.
  const actions: FindingActions = { suppress: suppressFinding, lift: liftSuppression, expiry: suppressionExpiryDays(now) };
  const statuses = filters.statuses ?? ['open'];
  const exportSearch = (format: string) => findingsSearch(link, { format });

  return (
    <div className="min-w-0 space-y-6">
      <header className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <div className="space-y-1">
          <h1 className="text-xl font-semibold">Findings</h1>
          <p className="text-sm text-slate-600">
            Every control a security review asks of the items you may audit: Prowler&apos;s and Security Hub&apos;s Secrets Manager checks and their
            Parameter Store counterparts, from the inventory and CloudTrail. Findings name items (and, for auditors of everything, the Lambda functions and
            ECS task definitions holding secrets in plain sight); they never hold a value.
          </p>
        </div>
        <p className="text-xs text-slate-500" data-testid="findings-evaluated-at">
          {summary.evaluatedAt ? (
            <>
              Evaluated <RelativeTime iso={summary.evaluatedAt} showDate />
            </>
          ) : (
            'Not evaluated yet'
          )}
          {summary.pendingStores.length > 0 && <span className="block">Waiting for the first inventory of {summary.pendingStores.join(', ')}</span>}
        </p>
      </header>

      <section aria-labelledby="findings-severity-heading" className="grid gap-3 sm:grid-cols-[minmax(0,2fr)_minmax(0,1fr)]">
        <div className="space-y-2 rounded-lg border border-slate-200 bg-white p-4">
          <h2 id="findings-severity-heading" className="text-sm font-medium">
            Open findings by severity
          </h2>
          <ul className="flex flex-wrap gap-2" data-testid="findings-by-severity">
            {SEVERITIES.map((severity) => (
              <li key={severity}>
                <Link
                  href={findingsHref({ ...link, severity: [severity], status: ['open'], cursor: undefined })}
                  className="inline-flex items-center gap-2 rounded-md px-2 py-1 ring-1 ring-inset ring-slate-200 hover:bg-slate-50"
                  data-testid="findings-severity-count"
                  data-severity={severity}
                >
                  <SeverityBadge severity={severity} />
                  <span className="tabular-nums font-medium">{summary.bySeverity[severity].toLocaleString('en-US')}</span>
                </Link>
              </li>
            ))}
          </ul>
          <p className="text-xs text-slate-500">
            {summary.open.toLocaleString('en-US')} open · {summary.suppressed.toLocaleString('en-US')} suppressed · {summary.resolved.toLocaleString('en-US')}{' '}
            resolved
          </p>
        </div>
        <div className="space-y-1 rounded-lg border border-slate-200 bg-white p-4" data-testid="findings-unused-cost">
          <h2 className="text-sm font-medium">Unused items cost</h2>
          <p className="text-2xl font-semibold tabular-nums">
            {usd(summary.unusedCost.monthlyUsd)}
            <span className="text-sm font-normal text-slate-500"> a month</span>
          </p>
          <p className="text-xs text-slate-500">
            {summary.unusedCost.secrets.toLocaleString('en-US')} unused secrets at $0.40, {summary.unusedCost.advancedParameters.toLocaleString('en-US')} advanced
            parameters at $0.05 (AWS list prices).
          </p>
        </div>
      </section>

      <section aria-labelledby="findings-controls-heading" className="min-w-0 space-y-2">
        <h2 id="findings-controls-heading" className="font-semibold">
          By control
        </h2>
        <FindingControlTable rows={summary.byControl.map(({ control, open, suppressed, resolved }) => ({ control, open, suppressed, resolved }))} link={link} />
      </section>

      <section aria-labelledby="findings-list-heading" className="min-w-0 space-y-3">
        <h2 id="findings-list-heading" className="font-semibold">
          Findings
        </h2>
        <FindingFilterForm filters={{ controls: filters.controls, storeIds: filters.storeIds, accounts: filters.accounts, owners: filters.owners, severities: filters.severities, statuses }} stores={stores.map(({ id, label }) => ({ id, label }))} />

        <p className="flex flex-wrap gap-3 text-sm" data-testid="findings-exports">
          <span className="text-slate-500">Export these findings:</span>
          <a href={`/api/v1/findings${exportSearch('csv')}`} className="text-sky-700 underline" data-testid="findings-export-csv">
            CSV
          </a>
          <a href={`/api/v1/findings${findingsSearch(link, { format: 'json', limit: '1000' })}`} className="text-sky-700 underline" data-testid="findings-export-json">
            JSON
          </a>
          <a href={`/api/v1/findings${exportSearch('asff')}`} className="text-sky-700 underline" data-testid="findings-export-asff">
            ASFF (Security Hub)
          </a>
        </p>

        {unknownStores.length > 0 && (
          <p role="alert" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="findings-filter-error">
            There is no store {unknownStores.map((id) => `"${id}"`).join(', ')}.{' '}
            <Link href={findingsHref({ ...link, store: undefined })} className="underline">
              Show every store
            </Link>
          </p>
        )}
        {cursorProblem && (
          <p role="alert" className="rounded border border-red-200 bg-red-50 p-3 text-sm text-red-800" data-testid="findings-filter-error">
            {cursorProblem}{' '}
            <Link href={findingsHref(link)} className="underline">
              First page
            </Link>
          </p>
        )}
        {page && (
          <>
            {page.items.length === 0 ? (
              <p className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid="findings-empty">
                {cursor ? 'No more findings.' : 'No findings match these filters.'}
              </p>
            ) : (
              <FindingList
                rows={page.items.map((f) => findingRowData(f, mayLift(f.storeId, f.itemName)))}
                storeLabels={Object.fromEntries(page.items.filter((f) => labels.has(f.storeId)).map((f) => [f.storeId, labels.get(f.storeId)!]))}
                showItem
                actions={actions}
                className="divide-y divide-slate-100 overflow-hidden rounded-lg border border-slate-200 bg-white"
                testId="findings-list"
              />
            )}
            <nav aria-label="Pages" className="flex gap-4 text-sm">
              {cursor && (
                <Link href={findingsHref(link)} className="text-sky-700 underline">
                  First page
                </Link>
              )}
              {page.nextCursor && (
                <Link href={findingsHref({ ...link, cursor: page.nextCursor })} className="text-sky-700 underline" data-testid="findings-next">
                  Next page
                </Link>
              )}
              {limit !== DEFAULT_FINDINGS_LIMIT && <span className="text-slate-500">{limit} a page</span>}
            </nav>
          </>
        )}
      </section>

      <UnmatchedReferencesSection unmatched={unmatched} storeLabels={labels} />

      <section aria-labelledby="findings-suppressions-heading" className="min-w-0 space-y-2" data-testid="suppressions">
        <h2 id="findings-suppressions-heading" className="font-semibold">
          Suppressions
        </h2>
        {suppressions.length === 0 ? (
          <p className="text-sm text-slate-600">No finding has been suppressed on the items you may audit.</p>
        ) : (
          <div className="overflow-x-auto">
            <SimpleTable headers={['Item', 'Control', 'Reason', 'By', 'Until', 'State', '']} phoneHidden={[3, 4, 5]}>
              {suppressions.map((s) => (
                <tr key={s.id} data-testid="suppression-row" data-active={s.active ? 'true' : 'false'} data-item={s.itemName} data-control={s.control} className="align-top">
                  <td className="px-3 py-2 font-mono text-xs break-all">
                    {s.storeId === WORKLOAD_STORE_ID ? (
                      <span>{s.itemName}</span>
                    ) : (
                      <Link href={itemHref(s.storeId, s.itemName)} className="text-sky-700 hover:underline">
                        {s.storeId}:{s.itemName}
                      </Link>
                    )}
                  </td>
                  <td className="px-3 py-2">{controlOf(s.control)?.title ?? s.control}</td>
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
                    {s.liftedAt ? (
                      <>
                        Lifted by {s.liftedBy ?? 'unknown'} <RelativeTime iso={s.liftedAt} />
                      </>
                    ) : s.active ? (
                      <span className="font-medium text-amber-800">Active</span>
                    ) : (
                      'Expired'
                    )}
                  </td>
                  <td className="px-3 py-2">{s.active && mayLift(s.storeId, s.itemName) && <FindingLiftButton id={s.id} action={liftSuppression} />}</td>
                </tr>
              ))}
            </SimpleTable>
          </div>
        )}
      </section>
    </div>
  );
}
