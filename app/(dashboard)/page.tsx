import type { Metadata } from 'next';
import Link from 'next/link';
import { FreshnessAgeChart } from '@/components/freshness-age-chart';
import { FreshnessItemList } from '@/components/freshness-item-list';
import { FreshnessOverviewStores } from '@/components/freshness-overview-stores';
import { SeverityBadge } from '@/components/severity-badge';
import { can } from '@/lib/auth/authorize';
import { listInventoryStatuses, listStoreSummaries } from '@/lib/data/browse';
import { getFindingSummary } from '@/lib/data/findings';
import { getFreshnessOverview } from '@/lib/data/freshness';
import { SEVERITIES } from '@/lib/findings/types';
import { findingsHref, freshnessHref } from '@/lib/links';
import { requireUser } from '@/lib/session';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Overview' };

/** Items in the overview's worst list. */
const WORST_ITEMS = 20;

/**
 * The home page, for on-call: per store the items by freshness status, how old they are, and the worst
 * items with their owners. Read from the inventory and cut to the caller's grants, so it opens at once at
 * 100,000 items; no value anywhere.
 */
export default async function OverviewPage() {
  const principal = await requireUser();
  const stores = can(principal, 'list') ? await listStoreSummaries(principal) : [];
  if (stores.length === 0) {
    return (
      <div className="space-y-2" data-testid="overview-empty">
        <h1 className="text-xl font-semibold">Overview</h1>
        <p className="text-slate-600">You have no grants on any store yet. Ask an admin to grant you a role on the paths you need.</p>
      </div>
    );
  }
  // Findings carry CloudTrail evidence: only for those who may audit something (view-audit).
  const [overview, inventory, findings] = await Promise.all([
    getFreshnessOverview(principal, { worstLimit: WORST_ITEMS }),
    listInventoryStatuses(principal),
    can(principal, 'view-audit') ? getFindingSummary(principal) : null,
  ]);
  const labels = new Map(stores.map((s) => [s.id, s.label]));
  const charted = overview.stores.filter((s) => !s.pending);
  const buckets = charted[0]?.ages.map((a) => a.label) ?? [];

  return (
    <div className="min-w-0 space-y-6">
      <header className="flex flex-wrap items-baseline justify-between gap-x-4 gap-y-1">
        <h1 className="text-xl font-semibold">Overview</h1>
        <p className="text-xs text-slate-500">
          As of <time dateTime={overview.at}>{overview.at.slice(0, 16).replace('T', ' ')} UTC</time> ·{' '}
          <Link href={freshnessHref()} className="underline-offset-2 hover:underline">
            every item by freshness
          </Link>
        </p>
      </header>

      <section aria-labelledby="overview-stores-heading" className="min-w-0 space-y-3">
        <h2 id="overview-stores-heading" className="font-semibold">
          By store
        </h2>
        <FreshnessOverviewStores stores={overview.stores} inventory={new Map(inventory.map((s) => [s.storeId, s]))} />
      </section>

      {charted.length > 0 && buckets.length > 0 && (
        <section aria-labelledby="overview-ages-heading" className="min-w-0 space-y-2 rounded-lg border border-slate-200 bg-white p-4">
          <h2 id="overview-ages-heading" className="font-semibold">
            Age
          </h2>
          <FreshnessAgeChart
            buckets={buckets}
            stores={charted.map((s) => ({ id: s.storeId, label: s.label, counts: buckets.map((label) => s.ages.find((a) => a.label === label)?.count ?? 0) }))}
          />
        </section>
      )}

      {findings && (
        <section aria-labelledby="overview-findings-heading" className="min-w-0 space-y-2 rounded-lg border border-slate-200 bg-white p-4" data-testid="overview-findings">
          <div className="flex flex-wrap items-baseline justify-between gap-x-4">
            <h2 id="overview-findings-heading" className="font-semibold">
              Findings
            </h2>
            <Link href={findingsHref()} className="text-sm underline-offset-2 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center">
              {findings.open.toLocaleString('en-US')} open →
            </Link>
          </div>
          <ul className="flex flex-wrap gap-2">
            {SEVERITIES.map((severity) => (
              <li key={severity}>
                <Link
                  href={findingsHref({ severity: [severity] })}
                  className="inline-flex items-center gap-2 rounded-md px-2 py-1 ring-1 max-md:min-h-11 ring-inset ring-slate-200 hover:bg-slate-50"
                  data-testid="overview-findings-count"
                  data-severity={severity}
                >
                  <SeverityBadge severity={severity} />
                  <span className="tabular-nums font-medium">{findings.bySeverity[severity].toLocaleString('en-US')}</span>
                </Link>
              </li>
            ))}
          </ul>
          {findings.unusedCost.monthlyUsd > 0 && (
            <p className="text-xs text-slate-500">
              Unused items cost about {findings.unusedCost.monthlyUsd.toLocaleString('en-US', { style: 'currency', currency: 'USD' })} a month.
            </p>
          )}
        </section>
      )}

      <section aria-labelledby="overview-worst-heading" className="min-w-0 space-y-3">
        <div className="flex flex-wrap items-baseline justify-between gap-x-4">
          <h2 id="overview-worst-heading" className="font-semibold">
            Needs attention first
          </h2>
          <Link href={freshnessHref({ status: ['rotation-failing', 'overdue', 'never-rotated', 'due-soon'] })} className="text-sm underline-offset-2 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center">
            All that are not fresh →
          </Link>
        </div>
        {overview.worst.length === 0 ? (
          <p className="rounded-lg border border-slate-200 bg-white px-4 py-6 text-sm text-slate-600" data-testid="overview-worst-empty">
            {overview.stores.some((s) => !s.pending) ? 'Nothing needs attention: every item you may see is fresh.' : 'Nothing to show until the first sync finishes.'}
          </p>
        ) : (
          <FreshnessItemList rows={overview.worst} storeLabels={labels} testId="overview-worst" />
        )}
      </section>
    </div>
  );
}
