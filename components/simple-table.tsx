import type { ReactNode } from 'react';

/** A column header: its label ('' for an action column), or the label with classes (e.g. 'hidden md:table-cell' for a column phones leave out). */
export type SimpleTableHeader = string | { label: string; className?: string };

/**
 * Classes hiding the nth column (1-based) below the md breakpoint, header and cells alike: written
 * out whole so Tailwind finds them in the source.
 */
const PHONE_HIDDEN: Record<number, string> = {
  1: 'max-md:[&_tr>:nth-child(1)]:hidden',
  2: 'max-md:[&_tr>:nth-child(2)]:hidden',
  3: 'max-md:[&_tr>:nth-child(3)]:hidden',
  4: 'max-md:[&_tr>:nth-child(4)]:hidden',
  5: 'max-md:[&_tr>:nth-child(5)]:hidden',
  6: 'max-md:[&_tr>:nth-child(6)]:hidden',
  7: 'max-md:[&_tr>:nth-child(7)]:hidden',
  8: 'max-md:[&_tr>:nth-child(8)]:hidden',
  9: 'max-md:[&_tr>:nth-child(9)]:hidden',
};

/**
 * The settings, audit, findings and alerts pages' table: a styled header row of labels and the rows
 * given. `phoneHidden` names the columns (1-based) a phone leaves out, so the ones that matter fit at
 * 390 px; what they hold is one tap away (the row's link, or a Details disclosure in a kept cell).
 */
export function SimpleTable({ headers, phoneHidden = [], children }: { headers: SimpleTableHeader[]; phoneHidden?: number[]; children: ReactNode }) {
  const hidden = phoneHidden.map((column) => PHONE_HIDDEN[column] ?? '').join(' ');
  return (
    <table className={`w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-left text-sm ${hidden}`}>
      <thead className="bg-slate-50 text-xs uppercase text-slate-500">
        <tr>
          {headers.map((header, index) => {
            const { label, className } = typeof header === 'string' ? { label: header, className: undefined } : header;
            return (
              <th key={`${index}-${label}`} className={`px-3 py-2 ${className ?? ''}`}>
                {label || <span className="sr-only">Actions</span>}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">{children}</tbody>
    </table>
  );
}
