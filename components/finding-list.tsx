'use client';

import { formatDistanceToNowStrict, format } from 'date-fns';
import Link from 'next/link';
import { useEffect, useRef, useState, type ReactNode } from 'react';
import { FindingEvidence } from '@/components/finding-evidence';
import { FindingLiftButton } from '@/components/finding-lift-button';
import { FindingSuppressForm } from '@/components/finding-suppress-form';
import { SeverityBadge } from '@/components/severity-badge';
import type { ActionResult } from '@/lib/actions/authed-action';
import { controlOf } from '@/lib/findings/controls';
import { WORKLOAD_STORE_ID, type ControlId, type FindingEvidence as Evidence, type FindingStatus, type Severity } from '@/lib/findings/types';
import { itemHref } from '@/lib/links';

// One finding as a list shows it, drawn from a small record (components/finding-row.tsx makes it
// from the DTO): the control's title and remediation come from the catalogue in this bundle, not
// from every row of the page's payload, and the evidence in full and the suppress form are drawn
// only when their <details> is opened, so a page of 50 findings carries each row's facts once.

/** What a workload finding is about, by its kind. */
const WORKLOAD_KINDS: Record<string, string> = { 'lambda-function': 'Lambda function', 'ecs-task-definition': 'ECS task definition' };
/**
 * Styles set once on the list instead of on each of its rows (a page of 50 rows repeated them 50
 * times): the row's box, its header line (severity and control title), the item's link, the line
 * of facts and the <details> toggles.
 */
const LIST = [
  '*:min-w-0 *:space-y-1 *:px-3 *:py-2.5 *:text-sm sm:*:px-4',
  '[&_header]:flex [&_header]:min-w-0 [&_header]:flex-wrap [&_header]:items-center [&_header]:gap-x-2 [&_header]:gap-y-1',
  '[&_h3]:font-medium [&_h3]:text-slate-900',
  '[&>li>p]:min-w-0 [&>li>p>a]:break-all [&>li>p>a]:font-mono [&>li>p>a]:text-slate-900 [&>li>p>a:hover]:underline',
  // The line of where the finding lives and since when.
  '[&>li>small]:flex [&>li>small]:flex-wrap [&>li>small]:gap-x-3 [&>li>small]:gap-y-0.5 [&>li>small]:text-xs [&>li>small]:text-slate-500',
  '[&_summary]:cursor-pointer [&_summary]:text-xs [&_summary]:text-sky-700 [&_summary]:select-none',
].join(' ');

export interface FindingRowData {
  storeId: string;
  itemName: string;
  control: ControlId;
  severity: Severity;
  status: FindingStatus;
  kind: string;
  account: string | null;
  /** Absent: no owner or team tag. */
  owner?: string;
  firstSeenAt: string;
  /** Absent while it is raised. */
  resolvedAt?: string;
  evidence: Evidence;
  /** Absent unless suppressed. */
  suppression?: { id: number; createdBy: string; expiresAt: string; reason: string };
  /** Whether the caller may suppress it (or lift its suppression); the server asks again. */
  mayAct: boolean;
}

export interface FindingRowActions {
  suppress: ((input: unknown) => Promise<ActionResult<unknown>>) | null;
  lift: ((input: unknown) => Promise<ActionResult<unknown>>) | null;
  expiry: { minExpiry: string; defaultExpiry: string; maxExpiry: string };
}

/** "3 months ago" (or with the date), as RelativeTime draws it; the browser's clock may say another minute than the server's, so hydration keeps the server's. */
function Ago({ iso, showDate = false }: { iso: string; showDate?: boolean }) {
  const date = new Date(iso);
  const relative = formatDistanceToNowStrict(date, { addSuffix: true });
  return (
    <time dateTime={iso} title={format(date, "yyyy-MM-dd HH:mm 'UTC'xxx")} suppressHydrationWarning>
      {showDate ? `${date.toISOString().slice(0, 10)} · ${relative}` : relative}
    </time>
  );
}

/** A <details> whose content is drawn only once it is opened (also when opened before hydration). */
function OnDemandDetails({ label, testId, children }: { label: string; testId?: string; children: () => ReactNode }) {
  const ref = useRef<HTMLDetailsElement>(null);
  const [open, setOpen] = useState(false);
  useEffect(() => {
    if (ref.current?.open) setOpen(true);
  }, []);
  return (
    <details ref={ref} data-testid={testId} onToggle={(e) => setOpen(e.currentTarget.open)}>
      <summary>{label}</summary>
      {open && children()}
    </details>
  );
}

/**
 * Findings as a list (the findings page, the item's Findings panel): each row from its small record;
 * what the rows share (store labels, the actions and the picker's days) passed once for the list.
 */
export function FindingList({
  rows,
  storeLabels = {},
  showItem,
  actions,
  className,
  testId,
}: {
  rows: FindingRowData[];
  storeLabels?: Record<string, string>;
  showItem: boolean;
  /** What a caller allowed to act on a row may do (rows with mayAct false get none). */
  actions: FindingRowActions;
  className: string;
  testId?: string;
}) {
  return (
    <ul className={`${LIST} ${className}`} data-testid={testId}>
      {rows.map((f) => (
        <FindingRowView key={`${f.storeId}\u0000${f.itemName}\u0000${f.control}`} finding={f} storeLabel={storeLabels[f.storeId]} showItem={showItem} actions={f.mayAct ? actions : null} />
      ))}
    </ul>
  );
}

function FindingRowView({ finding: f, storeLabel, showItem, actions }: { finding: FindingRowData; storeLabel: string | undefined; showItem: boolean; actions: FindingRowActions | null }) {
  const control = controlOf(f.control);
  // A workload (a Lambda function, an ECS task definition) has no item page.
  const href = f.storeId === WORKLOAD_STORE_ID ? null : itemHref(f.storeId, f.itemName);
  return (
    <li
      data-testid="finding-row"
      data-control={f.control}
      data-severity={f.severity}
      data-status={f.status}
      data-store={f.storeId}
      data-item={f.itemName}
    >
      <header>
        <SeverityBadge severity={f.severity} />
        <h3>{control?.title ?? f.control}</h3>
        {f.status !== 'open' && (
          <span className="rounded bg-slate-100 px-1.5 py-0.5 text-xs text-slate-700" data-testid="finding-status">
            {f.status}
          </span>
        )}
      </header>
      {showItem &&
        (href ? (
          <p>
            <Link href={href} data-testid="finding-item">
              {f.itemName}
            </Link>
          </p>
        ) : (
          // A workload (a Lambda function, an ECS task definition) is no item: named, not linked.
          <p data-testid="finding-resource">
            <span className="font-mono text-slate-900">{String(f.evidence.facts?.resource ?? f.itemName)}</span>
            <span className="block break-all font-mono text-xs text-slate-500">{f.itemName}</span>
          </p>
        ))}
      <small>
        {showItem && <span title={f.storeId}>{href ? (storeLabel ?? f.storeId) : (WORKLOAD_KINDS[f.kind] ?? f.kind)}</span>}
        {f.account && (
          <span>
            account <span className="font-mono">{f.account}</span>
          </span>
        )}
        {href && (
          <span>
            {f.owner ? (
              <>
                owner <span className="font-medium text-slate-700">{f.owner}</span>
              </>
            ) : (
              'no owner tag'
            )}
          </span>
        )}
        <span>
          first seen <Ago iso={f.firstSeenAt} />
        </span>
        {f.resolvedAt && (
          <span>
            resolved <Ago iso={f.resolvedAt} />
          </span>
        )}
      </small>
      <p className="break-words text-slate-700" data-testid="finding-summary">
        {f.evidence.summary}
      </p>
      {f.suppression && (
        <p className="break-words text-xs text-slate-600" data-testid="finding-suppression">
          Suppressed by {f.suppression.createdBy} until <Ago iso={f.suppression.expiresAt} showDate />: “{f.suppression.reason}”
        </p>
      )}
      <OnDemandDetails label="Evidence, what to do, references">
        {() => (
          <div className="mt-2 rounded-md border border-slate-100 bg-slate-50 p-3">
            <FindingEvidence control={f.control} evidence={f.evidence} />
          </div>
        )}
      </OnDemandDetails>
      {f.status === 'open' && actions?.suppress && (
        <OnDemandDetails label="Suppress…" testId="finding-suppress">
          {() => (
            <div className="mt-2 rounded-md border border-slate-200 p-3">
              <FindingSuppressForm storeId={f.storeId} itemName={f.itemName} control={f.control} {...actions.expiry} action={actions!.suppress!} />
            </div>
          )}
        </OnDemandDetails>
      )}
      {f.status === 'suppressed' && f.suppression && actions?.lift && (
        <div data-testid="finding-lift">
          <FindingLiftButton id={f.suppression.id} action={actions.lift} />
        </div>
      )}
    </li>
  );
}
