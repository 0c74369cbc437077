import type { Metadata } from 'next';
import { FilterProblems } from '@/components/filter-problems';
import Link from 'next/link';
import { ActivityChart } from '@/components/activity-chart';
import { PhoneCollapsible } from '@/components/phone-collapsible';
import { RelativeTime } from '@/components/relative-time';
import { SimpleTable } from '@/components/simple-table';
import { AuditChainStatus } from '@/components/audit/audit-chain-status';
import { auditChainStatus } from '@/lib/data/audit';
import { CHART_DEFAULT_DAYS, chartFilters, sourceStates, timelineChart, timelinePage, TimelineCursorError } from '@/lib/data/audit-timeline';
import { isAuditCursorError } from '@/lib/cloudtrail/event-queries';
import { itemHref } from '@/lib/links';
import { requirePermission } from '@/lib/session';
import { parseAuditFilters, type AuditFilterParams } from '@/lib/validations/audit-filters';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Audit' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const INPUT = 'w-full rounded border border-slate-300 px-2 py-1 text-sm max-md:min-h-11';
/**
 * Phones (below md) draw the timeline, what on-call came for, right under the title and the filters'
 * button: the chart and exports after it, the introduction and the hash chain's state last. The
 * order is visual only; from md the page is in its source order.
 */
const AFTER_TIMELINE = 'max-md:order-1';
const LAST_ON_PHONES = 'max-md:order-2';
/** A link on its own (not in a sentence): a thumb's 44 px below md. */
const THUMB_LINK = 'max-md:inline-flex max-md:min-h-11 max-md:items-center';
/** Columns phones leave out (their content is under the row's Details). */
const WIDE = 'hidden md:table-cell';
const TEXT_FILTERS: { name: keyof AuditFilterParams; label: string; placeholder: string }[] = [
  { name: 'actor', label: 'Actor', placeholder: 'role/deploy or alice@' },
  { name: 'event', label: 'Event', placeholder: 'GetSecretValue,Decrypt' },
  { name: 'item', label: 'Item', placeholder: '/prod/db/password' },
  { name: 'path', label: 'Path prefix', placeholder: '/prod/' },
  { name: 'store', label: 'Store', placeholder: 'prod-secrets' },
  { name: 'ip', label: 'Source IP', placeholder: '203.0.113.7' },
  { name: 'error', label: 'Error code', placeholder: 'AccessDenied' },
  { name: 'from', label: 'From', placeholder: '2026-01-01' },
  { name: 'to', label: 'To', placeholder: '2026-01-31T12:00:00Z' },
];

function flatParams(raw: Record<string, string | string[] | undefined>): URLSearchParams {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(raw)) for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) if (v !== '') params.append(key, v);
  return params;
}

function withParams(base: URLSearchParams, changes: Record<string, string | null>): string {
  const params = new URLSearchParams(base);
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) params.delete(key);
    else params.set(key, value);
  }
  const search = params.toString();
  return search ? `?${search}` : '';
}

export default async function AuditPage({ searchParams }: Props) {
  const principal = await requirePermission('view-audit');
  const raw = await searchParams;
  const params = flatParams(raw);
  // Shown on the phone's Filters button, whose form is folded away there.
  const activeFilters = [...new Set(params.keys())].filter((key) => key !== 'cursor' && key !== 'bucket').length;
  const parsed = parseAuditFilters(raw);
  const chain = await auditChainStatus(principal);
  const sources = await sourceStates(principal);

  let content: React.ReactNode;
  if (!parsed.ok) {
    content = (
      <FilterProblems problems={parsed.problems} resetHref="/audit" testId="audit-filter-error" />
    );
  } else {
    const { cursor, bucket: chosenBucket, ...filters } = parsed.value;
    const bucket = chosenBucket ?? 'day';
    let page: Awaited<ReturnType<typeof timelinePage>> | null = null;
    let cursorProblem: string | null = null;
    // The page and the chart are queries of their own: asked at once, the view waits for the slower.
    const [pageResult, chart] = await Promise.all([
      timelinePage(principal, filters, { cursor }).then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      ),
      timelineChart(principal, chartFilters(filters), bucket),
    ]);
    if (pageResult.ok) page = pageResult.value;
    else if (pageResult.error instanceof TimelineCursorError || isAuditCursorError(pageResult.error)) cursorProblem = pageResult.error.message;
    else throw pageResult.error;
    const exportBase = withParams(params, { cursor: null, bucket: null });
    content = (
      <>
        <section className={`space-y-2 rounded-lg border border-slate-200 bg-white p-3 ${AFTER_TIMELINE}`}>
          <div className="flex flex-wrap items-baseline justify-between gap-2">
            <h2 className="text-sm font-medium">
              Activity
              {!filters.from && !filters.to && (
                <span className="ml-1 font-normal text-slate-500" data-testid="chart-window">
                  · last {CHART_DEFAULT_DAYS} days (set From to chart older entries)
                </span>
              )}
            </h2>
            <p className="text-xs">
              <Link href={withParams(params, { bucket: 'hour', cursor: null })} className={`${bucket === 'hour' ? 'font-semibold' : 'text-sky-700 underline'} ${THUMB_LINK}`}>
                per hour
              </Link>{' '}
              ·{' '}
              <Link href={withParams(params, { bucket: 'day', cursor: null })} className={`${bucket === 'day' ? 'font-semibold' : 'text-sky-700 underline'} ${THUMB_LINK}`}>
                per day
              </Link>
            </p>
          </div>
          <ActivityChart points={chart} bucket={bucket} />
        </section>
        <div className={`flex flex-wrap gap-3 text-sm ${AFTER_TIMELINE}`}>
          <a href={`/api/v1/audit/export${withParams(new URLSearchParams(exportBase), { format: 'csv' })}`} className={`text-sky-700 underline ${THUMB_LINK}`} data-testid="export-csv">
            Export CSV
          </a>
          <a href={`/api/v1/audit/export${withParams(new URLSearchParams(exportBase), { format: 'json' })}`} className={`text-sky-700 underline ${THUMB_LINK}`} data-testid="export-json">
            Export JSON
          </a>
        </div>
        {cursorProblem && (
          <p role="alert" className="text-sm text-red-700">
            {cursorProblem} <Link href={`/audit${withParams(params, { cursor: null })}`}>Newest entries</Link>
          </p>
        )}
        {page && (
          <>
            <div className="overflow-x-auto">
              {/* Phones: when, what (action and item) and outcome; who and from one tap away under Details. */}
              <SimpleTable headers={['When', { label: 'Who', className: WIDE }, 'Action', { label: 'Item', className: WIDE }, { label: 'From', className: WIDE }, 'Outcome']}>
                {page.entries.map((entry) => {
                  const item =
                    entry.storeId && entry.itemName && !entry.itemName.endsWith('/') ? (
                      <Link href={itemHref(entry.storeId, entry.itemName)} className="text-sky-700 hover:underline">
                        {entry.storeId}:{entry.itemName}
                      </Link>
                    ) : entry.itemName ? (
                      `${entry.storeId ? `${entry.storeId}:` : ''}${entry.itemName}`
                    ) : (
                      <span className="text-slate-400">—</span>
                    );
                  const from = (
                    <>
                      {entry.source === 'cloudtrail' ? 'CloudTrail' : 'Dashboard'}
                      {entry.sourceIp && <span className="block font-mono">{entry.sourceIp}</span>}
                    </>
                  );
                  return (
                    <tr key={entry.key} data-testid="audit-row" className="align-top">
                      <td className="px-3 py-2 whitespace-nowrap">
                        <RelativeTime iso={entry.time} />
                      </td>
                      <td className={`px-3 py-2 break-all ${WIDE}`}>
                        {entry.actor}
                        {entry.actorType && <span className="block text-xs text-slate-500">{entry.actorType}</span>}
                      </td>
                      <td className="px-3 py-2 font-mono">
                        {entry.action}
                        {entry.access && <span className="block text-xs text-slate-500">{entry.access}</span>}
                        {entry.reason && <span className="block font-sans text-xs text-slate-600 break-words">“{entry.reason}”</span>}
                        {entry.itemName && <span className="block break-all text-xs md:hidden">{item}</span>}
                        <details className="font-sans text-xs md:hidden" data-testid="audit-row-details">
                          <summary className="flex min-h-11 cursor-pointer items-center text-sky-700">Details</summary>
                          <dl className="space-y-1 pb-1">
                            <dt className="text-slate-500">Who</dt>
                            <dd className="break-all">
                              {entry.actor}
                              {entry.actorType && <span className="block text-slate-500">{entry.actorType}</span>}
                            </dd>
                            <dt className="text-slate-500">From</dt>
                            <dd>{from}</dd>
                          </dl>
                        </details>
                      </td>
                      <td className={`px-3 py-2 font-mono break-all ${WIDE}`}>{item}</td>
                      <td className={`px-3 py-2 text-xs ${WIDE}`}>{from}</td>
                      <td className="px-3 py-2">
                        <span className={`rounded px-1.5 py-0.5 text-xs font-medium ${entry.outcome === 'error' ? 'bg-red-50 text-red-800' : 'bg-emerald-50 text-emerald-800'}`}>
                          {entry.errorCode ?? entry.outcome}
                        </span>
                      </td>
                    </tr>
                  );
                })}
              </SimpleTable>
            </div>
            {page.entries.length === 0 && <p className="text-sm text-slate-500">No entries match these filters.</p>}
            <nav aria-label="Pages" className="flex gap-4 text-sm">
              {cursor && (
                <Link href={`/audit${withParams(params, { cursor: null })}`} className={`text-sky-700 underline ${THUMB_LINK}`}>
                  Newest
                </Link>
              )}
              {page.nextCursor && (
                <Link href={`/audit${withParams(params, { cursor: page.nextCursor })}`} className={`text-sky-700 underline ${THUMB_LINK}`} data-testid="audit-older">
                  Older
                </Link>
              )}
            </nav>
          </>
        )}
      </>
    );
  }

  return (
    <div className="flex flex-col gap-4" data-testid="audit-page">
      {/* On phones its parts are laid out with the page's (display: contents), so the chain can go last. */}
      <div className="flex flex-wrap items-baseline justify-between gap-3 max-md:contents">
        <h1 className="text-xl font-semibold">Audit</h1>
        {chain && (
          <div className={LAST_ON_PHONES} data-testid="audit-chain-box">
            <AuditChainStatus chain={chain} />
          </div>
        )}
      </div>
      <p className={`text-sm text-slate-600 ${LAST_ON_PHONES}`}>
        Who read or changed what, newest first: CloudTrail events for the AWS stores and the dashboard&apos;s own log of sign-ins, denials,
        rotations, reveals and account changes, on the paths you may audit. Entries name things; they never hold a value.
      </p>
      <PhoneCollapsible label={`Filters${activeFilters > 0 ? ` (${activeFilters} set)` : ''}`} testId="audit-filters-toggle">
        <form method="get" action="/audit" className="grid grid-cols-2 gap-2 rounded-lg border border-slate-200 bg-white p-3 sm:grid-cols-4" data-testid="audit-filters">
          {TEXT_FILTERS.map((f) => (
            <label key={f.name} className="space-y-0.5 text-xs text-slate-600">
              <span>{f.label}</span>
              <input name={f.name} defaultValue={params.get(f.name) ?? ''} placeholder={f.placeholder} maxLength={512} className={INPUT} />
            </label>
          ))}
          <label className="space-y-0.5 text-xs text-slate-600">
            <span>Read or write</span>
            <select name="access" defaultValue={params.get('access') ?? ''} className={INPUT}>
              <option value="">Any</option>
              <option value="read">Read</option>
              <option value="write">Write</option>
            </select>
          </label>
          <label className="space-y-0.5 text-xs text-slate-600">
            <span>Outcome</span>
            <select name="outcome" defaultValue={params.get('outcome') ?? ''} className={INPUT}>
              <option value="">Any</option>
              <option value="success">Success</option>
              <option value="error">Error or denied</option>
            </select>
          </label>
          {params.get('bucket') && <input type="hidden" name="bucket" value={params.get('bucket')!} />}
          <div className="col-span-2 flex items-end gap-3 sm:col-span-2">
            <button type="submit" className="rounded bg-slate-900 px-3 py-1.5 text-sm text-white max-md:min-h-11">
              Apply filters
            </button>
            <Link href="/audit" className={`text-sm text-sky-700 underline ${THUMB_LINK}`}>
              Clear
            </Link>
          </div>
        </form>
      </PhoneCollapsible>
      {content}
      {sources.length > 0 && (
        <section className={`space-y-2 ${AFTER_TIMELINE}`} data-testid="cloudtrail-sources">
          <h2 className="text-sm font-medium">CloudTrail sources</h2>
          <div className="overflow-x-auto" tabIndex={0} role="region" aria-label="CloudTrail sources">
            <SimpleTable headers={['Source', 'Account / region', 'Newest event', 'Events', 'State']}>
              {sources.map((s) => (
                <tr key={s.sourceId}>
                  <td className="px-3 py-2 font-mono break-all">
                    {s.sourceId}
                    <span className="block text-xs text-slate-500">{s.kind}</span>
                  </td>
                  <td className="px-3 py-2 font-mono text-xs">
                    {s.kind === 'vault-file' ? `Vault store ${s.region}` : `${s.account ?? 'default'} / ${s.region}`}
                  </td>
                  <td className="px-3 py-2">{s.lastEventTime ? <RelativeTime iso={s.lastEventTime} /> : '—'}</td>
                  <td className="px-3 py-2">{s.eventsIndexed.toLocaleString('en-US')}</td>
                  <td className="px-3 py-2 text-xs">
                    {s.lastError ? (
                      <span className="text-red-700">
                        Failing: {s.lastError.message} (<RelativeTime iso={s.lastError.at} />)
                      </span>
                    ) : s.lastSuccessAt ? (
                      <span className="text-emerald-700">
                        Synced <RelativeTime iso={s.lastSuccessAt} />
                      </span>
                    ) : (
                      'First sync under way'
                    )}
                  </td>
                </tr>
              ))}
            </SimpleTable>
          </div>
        </section>
      )}
    </div>
  );
}
