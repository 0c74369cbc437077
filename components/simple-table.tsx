import type { ReactNode } from 'react';

/** The settings and audit pages' table: a styled header row of labels ('' for an action column) and the rows given. */
export function SimpleTable({ headers, children }: { headers: string[]; children: ReactNode }) {
  return (
    <table className="w-full overflow-hidden rounded-lg border border-slate-200 bg-white text-left text-sm">
      <thead className="bg-slate-50 text-xs uppercase text-slate-500">
        <tr>
          {headers.map((header, index) => (
            <th key={`${index}-${header}`} className="px-3 py-2">
              {/* An action column still has a header for screen readers (an empty <th> names nothing). */}
              {header || <span className="sr-only">Actions</span>}
            </th>
          ))}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100">{children}</tbody>
    </table>
  );
}
