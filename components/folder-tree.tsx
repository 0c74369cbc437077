import Link from 'next/link';
import type { FolderNode } from '@/lib/data/browse';
import { browseHref } from '@/lib/links';

function Branch({ storeId, nodes, current }: { storeId: string; nodes: FolderNode[]; current: string }) {
  return (
    <ul className="ml-3 border-l border-slate-200 pl-2">
      {nodes.map((node) => (
        <li key={node.path}>
          <Link
            href={browseHref(storeId, node.path)}
            aria-current={node.path === current ? 'page' : undefined}
            className={`block truncate rounded px-1.5 py-2 text-sm md:py-0.5 hover:bg-slate-100 ${
              node.path === current ? 'bg-slate-200 font-medium text-slate-900' : 'text-slate-700'
            }`}
          >
            {node.children ? '▾' : '▸'} {node.name}
          </Link>
          {node.children && node.children.length > 0 && <Branch storeId={storeId} nodes={node.children} current={current} />}
        </li>
      ))}
    </ul>
  );
}

/** The store's folders, expanded along the open path. */
export function FolderTree({ storeId, tree, current }: { storeId: string; tree: FolderNode[]; current: string }) {
  return (
    <nav aria-label="Folders" className="text-sm">
      <Link
        href={browseHref(storeId, '/')}
        aria-current={current === '/' ? 'page' : undefined}
        className={`block rounded px-1.5 py-2 font-medium md:py-0.5 hover:bg-slate-100 ${current === '/' ? 'bg-slate-200' : ''}`}
      >
        / (root)
      </Link>
      <Branch storeId={storeId} nodes={tree} current={current} />
    </nav>
  );
}
