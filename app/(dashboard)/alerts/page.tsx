import type { Metadata } from 'next';
import Link from 'next/link';
import { AlertSilenceForm } from '@/components/alert-silence-form';
import { FilterProblems } from '@/components/filter-problems';
import { liftAlertSilence } from '@/lib/actions/lift-alert-silence';
import { silenceAlert } from '@/lib/actions/silence-alert';
import { sendTestAlert } from '@/lib/actions/send-test-alert';
import { configuredAlertIds, getAlertsView } from '@/lib/data/alerts';
import { listStoreSummaries } from '@/lib/data/browse';
import { requirePermission } from '@/lib/session';
import { MAX_SILENCE_DAYS, parseAlertsPageFilters } from '@/lib/validations/alerts';
import { AlertsTable } from './alerts-table';
import { DeliveryLog } from './delivery-log';
import { RulesSection } from './rules-section';
import { SilencesTable } from './silences-table';

export const dynamic = 'force-dynamic';
export const metadata: Metadata = { title: 'Alerts' };

type Props = { searchParams: Promise<Record<string, string | string[] | undefined>> };

const DAY_MS = 86_400_000;
const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/**
 * /alerts?rule=…&channel=…&delivery=…: the alert rules as configured, open and recently resolved
 * alerts, silences and the delivery log, for callers who may read an audit trail (view-audit), cut
 * to their grants by lib/data/alerts.ts. Admins silence, lift and send channel tests here. Names,
 * statuses, principals and causes only: never a value, a channel URL or a secret.
 */
export default async function AlertsPage({ searchParams }: Props) {
  const principal = await requirePermission('view-audit');
  const parsed = parseAlertsPageFilters(await searchParams);
  if (!parsed.ok) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold">Alerts</h1>
        <FilterProblems problems={parsed.problems} resetHref="/alerts" testId="alerts-filter-error" />
      </div>
    );
  }
  const filters = parsed.value;
  // A rule or channel that is not configured is named as such (to callers who may see the configuration).
  const ids = configuredAlertIds(principal);
  const unknown = [
    ...(ids && filters.ruleId && !ids.rules.includes(filters.ruleId) ? [{ field: 'rule', message: `rule: no alert rule "${filters.ruleId}" is configured` }] : []),
    ...(ids && filters.channelId && !ids.channels.includes(filters.channelId) ? [{ field: 'channel', message: `channel: no alert channel "${filters.channelId}" is configured` }] : []),
  ];
  if (unknown.length > 0) {
    return (
      <div className="space-y-4">
        <h1 className="text-xl font-semibold">Alerts</h1>
        <FilterProblems problems={unknown} resetHref="/alerts" testId="alerts-filter-error" />
      </div>
    );
  }

  const now = new Date();
  const view = await getAlertsView(principal, filters, now);
  const stores = view.mayManage ? await listStoreSummaries(principal) : [];
  const filtered = Boolean(filters.ruleId || filters.channelId || filters.deliveryStatus);
  const openTotal = view.openByRule.reduce((n, r) => n + r.count, 0);

  return (
    <div className="min-w-0 space-y-6">
      <header className="space-y-1">
        <h1 className="text-xl font-semibold">Alerts</h1>
        <p className="text-sm text-slate-600">
          What the dashboard tells on-call: items going overdue or failing rotation, new readers, repeated refusals, findings, failing syncs and the audit
          chain, sent to Slack, PagerDuty, e-mail or a signed webhook. Alerts name items, statuses and principals; they never hold a value.
        </p>
        {filtered && (
          <p className="text-sm" data-testid="alerts-filters">
            <span className="text-slate-500">
              Showing {filters.ruleId ? `rule ${filters.ruleId}` : ''} {filters.channelId ? `channel ${filters.channelId}` : ''}{' '}
              {filters.deliveryStatus ? `${filters.deliveryStatus} deliveries` : ''}.
            </span>{' '}
            <Link href="/alerts" className="text-sky-700 underline">
              Show everything
            </Link>
          </p>
        )}
      </header>

      {view.rules && view.channels && <RulesSection rules={view.rules} channels={view.channels} sendTest={view.mayManage ? sendTestAlert : null} />}

      <section aria-labelledby="alerts-open-heading" className="min-w-0 space-y-2">
        <h2 id="alerts-open-heading" className="font-semibold">
          Open alerts{' '}
          <span className="text-sm font-normal text-slate-500">
            ({openTotal > view.open.length ? `${view.open.length.toLocaleString('en-US')} of ${openTotal.toLocaleString('en-US')}` : openTotal.toLocaleString('en-US')})
          </span>
        </h2>
        {view.openByRule.length > 1 && (
          <p className="flex flex-wrap gap-3 text-sm" data-testid="alerts-open-by-rule">
            <span className="text-slate-500">By rule:</span>
            {view.openByRule.map((r) => (
              <Link key={r.ruleId} href={`/alerts?rule=${encodeURIComponent(r.ruleId)}`} className="text-sky-700 underline" data-rule={r.ruleId}>
                {r.ruleId} ({r.count.toLocaleString('en-US')})
              </Link>
            ))}
          </p>
        )}
        <AlertsTable alerts={view.open} empty="No alert is open on what you may audit." testId="alerts-open" />
      </section>

      <section aria-labelledby="alerts-resolved-heading" className="min-w-0 space-y-2">
        <h2 id="alerts-resolved-heading" className="font-semibold">
          Recently resolved
        </h2>
        <AlertsTable alerts={view.resolved} empty="No alert has resolved yet." testId="alerts-resolved" resolved />
      </section>

      <section aria-labelledby="alerts-silences-heading" className="min-w-0 space-y-3" data-testid="alert-silences">
        <h2 id="alerts-silences-heading" className="font-semibold">
          Silences
        </h2>
        <SilencesTable silences={view.silences} lift={view.mayManage ? liftAlertSilence : null} />
        {view.mayManage && (
          <details className="space-y-2" data-testid="alert-silence">
            <summary className="cursor-pointer text-sm font-medium text-sky-700">Silence a rule or an item</summary>
            <AlertSilenceForm
              rules={view.rules?.map((r) => r.id) ?? []}
              stores={stores.map(({ id, label }) => ({ id, label }))}
              defaultExpiry={day(now.getTime() + 7 * DAY_MS)}
              minExpiry={day(now.getTime() + DAY_MS)}
              maxExpiry={day(now.getTime() + MAX_SILENCE_DAYS * DAY_MS)}
              action={silenceAlert}
            />
          </details>
        )}
      </section>

      <section aria-labelledby="alerts-log-heading" className="min-w-0 space-y-2">
        <h2 id="alerts-log-heading" className="font-semibold">
          Delivery log
        </h2>
        <p className="flex flex-wrap gap-3 text-sm">
          <span className="text-slate-500">Show:</span>
          {(['dead', 'failed', 'pending', 'delivered'] as const).map((status) => (
            <Link key={status} href={`/alerts?delivery=${status}`} className={`underline ${filters.deliveryStatus === status ? 'font-medium text-slate-900' : 'text-sky-700'}`}>
              {status}
            </Link>
          ))}
        </p>
        <DeliveryLog deliveries={view.deliveries} />
      </section>
    </div>
  );
}
