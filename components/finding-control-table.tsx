'use client';

import Link from 'next/link';
import { SeverityBadge } from '@/components/severity-badge';
import { SimpleTable } from '@/components/simple-table';
import { controlOf } from '@/lib/findings/controls';
import { FINDING_STATUSES, type ControlId } from '@/lib/findings/types';
import { findingsHref, type FindingsLinkQuery } from '@/lib/links';

// The findings page's counts by control: each control's title, severity and references (the checks
// it follows) from the catalogue in this bundle, so the page's payload carries only the counts.

export interface ControlCountRow {
  control: ControlId;
  open: number;
  suppressed: number;
  resolved: number;
}

/** Set once on the table, not on each of its cells and links. */
const TABLE = 'overflow-x-auto [&_td]:px-3 [&_td]:py-2 [&_td]:tabular-nums [&_td_a]:underline-offset-2 [&_td_a:hover]:underline';

export function FindingControlTable({ rows, link }: { rows: ControlCountRow[]; link: FindingsLinkQuery }) {
  return (
    <div className={TABLE}>
      <SimpleTable headers={['Control', 'Severity', 'Open', 'Suppressed', 'Resolved']} phoneHidden={[4, 5]}>
        {rows.map((row) => {
          const control = controlOf(row.control);
          return (
            <tr key={row.control} id={`control-${row.control}`} data-testid="findings-control-row" data-control={row.control} className="align-top">
              <td>
                <span className="block font-medium text-slate-900">{control?.title ?? row.control}</span>
                <span className="hidden flex-wrap gap-x-2 text-xs text-slate-500 md:flex">
                  {control?.references.map((ref) => (
                    <a
                      key={`${ref.source}-${ref.id}`}
                      href={ref.url}
                      {...(ref.url.startsWith('/') ? {} : { target: '_blank', rel: 'noreferrer noopener' })}
                    >
                      {`${ref.source} ${ref.id}`}
                    </a>
                  ))}
                </span>
              </td>
              <td>{control && <SeverityBadge severity={control.severity} />}</td>
              {FINDING_STATUSES.map((status) => (
                <td key={status}>
                  {row[status] > 0 ? (
                    <Link
                      href={findingsHref({ ...link, control: [row.control], severity: undefined, status: [status], cursor: undefined })}
                      className="text-sky-700"
                      data-testid="findings-count"
                      data-status={status}
                    >
                      {row[status].toLocaleString('en-US')}
                    </Link>
                  ) : (
                    <span className="text-slate-500">0</span>
                  )}
                </td>
              ))}
            </tr>
          );
        })}
      </SimpleTable>
    </div>
  );
}
