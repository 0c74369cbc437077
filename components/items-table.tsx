import Link from 'next/link';
import type { ItemRow } from '@/lib/data/browse';
import { browseHref, itemHref, type BrowseQuery, type SortKey } from '@/lib/validations/browse';
import { FolderIcon } from './icons';
import { KindBadge } from './kind-badge';
import { ageInDays, RelativeTime, STALE_AFTER_DAYS } from './relative-time';

const COLUMNS: { key: SortKey; label: string }[] = [
  { key: 'name', label: 'Name' },
  { key: 'kind', label: 'Kind' },
  { key: 'version', label: 'Version' },
  { key: 'changed', label: 'Last changed' },
  { key: 'by', label: 'Changed by' },
];

interface Props {
  storeId: string;
  path: string;
  query: BrowseQuery;
  folders: { path: string; name: string }[];
  items: ItemRow[];
}

/** Sub-folders first, then items. Sorting is done on the server; each header is a link. */
export function ItemsTable({ storeId, path, query, folders, items }: Props) {
  const sort = query.sort ?? 'name';
  const dir = query.dir ?? 'asc';
  return (
    <table className="w-full border-collapse text-left text-sm">
      <thead className="border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500">
        <tr>
          {COLUMNS.map((column) => {
            const active = sort === column.key;
            const nextDir = active && dir === 'asc' ? 'desc' : 'asc';
            return (
              <th
                key={column.key}
                scope="col"
                className="px-3 py-2 font-medium"
                aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
              >
                <Link href={browseHref(storeId, path, { ...query, sort: column.key, dir: nextDir })} className="hover:text-slate-900">
                  {column.label}
                  {active && <span aria-hidden> {dir === 'asc' ? '▲' : '▼'}</span>}
                </Link>
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody className="divide-y divide-slate-100 bg-white">
        {folders.map((folder) => (
          <tr key={folder.path} className="hover:bg-slate-50">
            <td className="px-3 py-2" colSpan={5}>
              <Link href={browseHref(storeId, folder.path)} className="inline-flex items-center gap-1.5 font-medium text-slate-800 hover:underline">
                <FolderIcon className="h-4 w-4 text-slate-400" />
                {folder.name}/
              </Link>
            </td>
          </tr>
        ))}
        {items.map((item) => {
          const stale = ageInDays(item.lastChangedAt) > STALE_AFTER_DAYS;
          return (
            <tr key={item.name} className="hover:bg-slate-50" data-testid="item-row">
              <td className="px-3 py-2">
                <Link href={itemHref(storeId, item.name)} className="font-mono text-slate-900 hover:underline">
                  {item.leaf}
                </Link>
              </td>
              <td className="px-3 py-2">
                <KindBadge kind={item.kind} />
              </td>
              <td className="px-3 py-2 font-mono text-slate-600" title={item.version}>
                {item.version.length > 12 ? `${item.version.slice(0, 8)}…` : item.version}
              </td>
              <td className={`px-3 py-2 ${stale ? 'text-amber-700' : 'text-slate-600'}`}>
                <RelativeTime iso={item.lastChangedAt} />
                {stale && <span className="ml-2 rounded bg-amber-100 px-1.5 py-0.5 text-xs font-medium">stale</span>}
              </td>
              <td className="px-3 py-2 text-slate-600">{item.lastChangedBy ?? '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
