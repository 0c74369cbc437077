import Link from 'next/link';
import { FindingEvidence } from '@/components/finding-evidence';
import { FindingLiftButton } from '@/components/finding-lift-button';
import { FindingSuppressForm } from '@/components/finding-suppress-form';
import { RelativeTime } from '@/components/relative-time';
import { SeverityBadge } from '@/components/severity-badge';
import type { ActionResult } from '@/lib/actions/authed-action';
import type { FindingDto } from '@/lib/findings/queries';

// One finding as the findings page and the item's Findings panel show it: severity, control, item,
// where it lives, the evidence in a sentence, and (opened) the evidence in full, what to do and the
// control's references; a suppress form on open findings and a lift button on suppressed ones for
// those the server would let do it. Stacked, so nothing scrolls sideways on a phone.

const DAY_MS = 86_400_000;
/** What a workload finding is about, by its kind. */
export const WORKLOAD_KINDS: Record<string, string> = { 'lambda-function': 'Lambda function', 'ecs-task-definition': 'ECS task definition' };
const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The suppression picker's days, from the server's clock: tomorrow at the earliest, 30 days by default, a year at most. */
export function suppressionExpiryDays(now = new Date()): { minExpiry: string; defaultExpiry: string; maxExpiry: string } {
  const t = now.getTime();
  return { minExpiry: day(t + DAY_MS), defaultExpiry: day(t + 30 * DAY_MS), maxExpiry: day(t + 365 * DAY_MS) };
}

export interface FindingActions {
  suppress: ((input: unknown) => Promise<ActionResult<unknown>>) | null;
  lift: ((input: unknown) => Promise<ActionResult<unknown>>) | null;
  expiry: ReturnType<typeof suppressionExpiryDays>;
}

export function FindingRow({
  finding: f,
  storeLabel,
  showItem = true,
  actions,
}: {
  finding: FindingDto;
  storeLabel?: string;
  /** false on the item page, which is the item. */
  showItem?: boolean;
  /** Only what this caller may do to this finding (the server asks again). */
  actions: FindingActions;
}) {
  return (
    <li
      className="min-w-0 space-y-1 px-3 py-2.5 text-sm sm:px-4"
      data-testid="finding-row"
      data-control={f.control}
      data-severity={f.severity}
      data-status={f.status}
      data-store={f.storeId}
      data-item={f.itemName}
    >
      <div className="flex min-w-0 flex-wrap items-center gap-x-2 gap-y-1">
        <SeverityBadge severity={f.severity} />
        <span className="font-medium text-slate-900">{f.controlTitle}</span>
        {f.status !== 'open' && (
          <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700" data-testid="finding-status">
            {f.status}
          </span>
        )}
      </div>
      {showItem &&
        (f.href ? (
          <p className="min-w-0">
            <Link href={f.href} className="break-all font-mono text-slate-900 hover:underline" data-testid="finding-item">
              {f.itemName}
            </Link>
          </p>
        ) : (
          // A workload (a Lambda function, an ECS task definition) is no item: named, not linked.
          <p className="min-w-0" data-testid="finding-resource">
            <span className="font-mono text-slate-900">{String(f.evidence.facts?.resource ?? f.itemName)}</span>
            <span className="block break-all font-mono text-xs text-slate-500">{f.itemName}</span>
          </p>
        ))}
      <p className="flex flex-wrap gap-x-3 gap-y-0.5 text-xs text-slate-500">
        {showItem && <span title={f.storeId}>{f.href ? (storeLabel ?? f.storeId) : (WORKLOAD_KINDS[f.kind] ?? f.kind)}</span>}
        {f.account && <span>account <span className="font-mono">{f.account}</span></span>}
        {f.href && <span>{f.owner ? <>owner <span className="font-medium text-slate-700">{f.owner}</span></> : 'no owner tag'}</span>}
        <span>
          first seen <RelativeTime iso={f.firstSeenAt} />
        </span>
        {f.resolvedAt && (
          <span>
            resolved <RelativeTime iso={f.resolvedAt} />
          </span>
        )}
      </p>
      <p className="break-words text-slate-700" data-testid="finding-summary">
        {f.evidence.summary}
      </p>
      {f.suppression && (
        <p className="break-words text-xs text-slate-600" data-testid="finding-suppression">
          Suppressed by {f.suppression.createdBy} until <RelativeTime iso={f.suppression.expiresAt} showDate />: “{f.suppression.reason}”
        </p>
      )}
      <details className="group">
        <summary className="cursor-pointer text-xs text-sky-700 select-none">Evidence, what to do, references</summary>
        <div className="mt-2 rounded-md border border-slate-100 bg-slate-50 p-3">
          <FindingEvidence finding={f} />
        </div>
      </details>
      {f.status === 'open' && actions.suppress && (
        <details data-testid="finding-suppress">
          <summary className="cursor-pointer text-xs text-sky-700 select-none">Suppress…</summary>
          <div className="mt-2 rounded-md border border-slate-200 p-3">
            <FindingSuppressForm storeId={f.storeId} itemName={f.itemName} control={f.control} {...actions.expiry} action={actions.suppress} />
          </div>
        </details>
      )}
      {f.status === 'suppressed' && f.suppression && actions.lift && (
        <div data-testid="finding-lift">
          <FindingLiftButton id={f.suppression.id} action={actions.lift} />
        </div>
      )}
    </li>
  );
}
