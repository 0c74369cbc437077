import Link from 'next/link';
import { browseHref } from '@/lib/links';
import { leafOf } from '@/lib/validations/item-name';

/** Root › prod › payments, each a link to its folder; `current` is shown as plain text. */
export function Breadcrumbs({ storeId, folders, current }: { storeId: string; folders: string[]; current?: string }) {
  return (
    <nav aria-label="Breadcrumb" className="text-sm text-slate-600">
      <ol className="flex flex-wrap items-center gap-1">
        {folders.map((folder, index) => {
          const isLast = index === folders.length - 1 && !current;
          const name = folder === '/' ? storeId : leafOf(folder);
          return (
            <li key={folder} className="flex items-center gap-1">
              {index > 0 && <span aria-hidden>/</span>}
              {isLast ? (
                <span aria-current="page" className="font-medium text-slate-900">
                  {name}
                </span>
              ) : (
                <Link className="hover:text-slate-900 hover:underline max-md:inline-flex max-md:min-h-11 max-md:items-center" href={browseHref(storeId, folder)}>
                  {name}
                </Link>
              )}
            </li>
          );
        })}
        {current && (
          <li className="flex items-center gap-1">
            <span aria-hidden>/</span>
            <span aria-current="page" className="font-medium text-slate-900">
              {current}
            </span>
          </li>
        )}
      </ol>
    </nav>
  );
}
