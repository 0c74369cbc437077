'use client';

import { useVirtualizer } from '@tanstack/react-virtual';
import { formatDistanceToNowStrict } from 'date-fns';
import Link from 'next/link';
import { useCallback, useEffect, useRef, useState } from 'react';
import type { ItemRow, RowFreshness } from '@/lib/data/inventory-types';
import { FRESHNESS_LABELS, FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { browseHref, itemHref, type SortKey } from '@/lib/links';
import { FreshnessBadge } from './freshness-badge';
import { FolderIcon } from './icons';
import { KindBadge } from './kind-badge';
import { useHydrated } from './use-hydrated';

// A folder of up to 100,000 items: only the rows in view (plus an overscan) are in the DOM, further pages
// are fetched from the items API as the end comes near, and the URL's `after` follows the scroll position
// so a reload or a link comes back to the same place. Metadata only: no value ever passes through here.

// Heights in pixels, and as classes (the server's HTML may not carry style attributes, see use-hydrated.ts).
// 45: a row's link fills the 44 px a thumb needs (issue 23), above the row's 1 px border.
const ROW_HEIGHT = 45;
const HEADER_HEIGHT = 45;
const ROW_HEIGHT_CLASS = 'h-[45px]';
const HEADER_HEIGHT_CLASS = 'h-[45px]';
const OVERSCAN = 10;
const PAGE_LIMIT = 250;
/**
 * Fetch the next page when the last rendered row is this close to the end of what is loaded: the
 * server sends 50 rows (FOLDER_PAGE_SIZE), of which about 26 are rendered at the top, so a page
 * asks for more once the reader scrolls, not at once on every view.
 */
const PREFETCH_ROWS = 20;

const COLUMNS: { key: SortKey; label: string; wide: boolean }[] = [
  { key: 'name', label: 'Name', wide: false },
  { key: 'kind', label: 'Kind', wide: true },
  { key: 'version', label: 'Version', wide: true },
  { key: 'changed', label: 'Last changed', wide: false },
  { key: 'by', label: 'Changed by', wide: true },
];

/** Phones: Name (with the freshness badge) and Last changed; from `sm`: all five. The same template for the header and every row. */
const GRID = 'grid grid-cols-[minmax(0,1fr)_7.5rem] sm:grid-cols-[minmax(0,2fr)_8rem_6.5rem_10rem_minmax(0,1fr)]';
const CELL = 'flex min-w-0 items-center px-2 sm:px-3';
const WIDE_CELL = 'hidden min-w-0 items-center px-3 sm:flex';

export interface VirtualItemsTableProps {
  storeId: string;
  path: string;
  query: { q?: string; sort?: SortKey; dir?: 'asc' | 'desc'; status?: FreshnessStatus[] };
  folders: { path: string; name: string; totalItems: number | null }[];
  initialItems: ItemRow[];
  /** The next page's cursor; null when initialItems reach the end. */
  initialCursor: string | null;
  /** Items matching the filter in the whole folder. */
  totalItems: number;
  /** The `after` URL parameter this view starts from; null at the top. */
  startCursor: string | null;
}

/** A run of loaded items and the cursor it was fetched with (the first run: startCursor). */
interface Chunk {
  cursor: string | null;
  start: number;
}

interface Loaded {
  items: ItemRow[];
  chunks: Chunk[];
  nextCursor: string | null;
}

type PageResult = { ok: true; items: ItemRow[]; nextCursor: string | null } | { ok: false; error: string };

// Each server answer brings a new initialItems array: number them so a new answer starts a fresh list.
const listIds = new WeakMap<object, number>();
let nextListId = 0;
function listId(list: object): number {
  let id = listIds.get(list);
  if (id === undefined) {
    id = ++nextListId;
    listIds.set(list, id);
  }
  return id;
}

/** The folder table. Another folder, sort, filter, start position or server answer starts over at the top. */
export function VirtualItemsTable(props: VirtualItemsTableProps) {
  const { storeId, path, query, startCursor, initialItems } = props;
  const key = [storeId, path, query.q ?? '', query.sort ?? '', query.dir ?? '', (query.status ?? []).join(','), startCursor ?? '', listId(initialItems)].join('\u0000');
  return <Table key={key} {...props} />;
}

function Table({ storeId, path, query, folders, initialItems, initialCursor, totalItems, startCursor }: VirtualItemsTableProps) {
  const [loaded, setLoaded] = useState<Loaded>(() => ({
    items: initialItems,
    chunks: [{ cursor: startCursor, start: 0 }],
    nextCursor: initialCursor,
  }));
  const [loading, setLoading] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inFlight = useRef<AbortController | null>(null);
  const scrollerRef = useRef<HTMLDivElement>(null);

  const loadedRows = folders.length + loaded.items.length;
  const more = loaded.nextCursor !== null;
  const count = loadedRows + (more ? 1 : 0);

  const virtualizer = useVirtualizer({
    count,
    getScrollElement: () => scrollerRef.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: OVERSCAN,
    scrollMargin: HEADER_HEIGHT,
    // The server renders the first screenful; the client's first render matches it.
    initialRect: { width: 1024, height: 640 },
    useFlushSync: false,
    getItemKey: (index) => {
      if (index < folders.length) return `f:${folders[index]!.path}`;
      const item = loaded.items[index - folders.length];
      return item ? `i:${item.name}` : 'more';
    },
  });
  const virtualRows = virtualizer.getVirtualItems();
  // Server HTML and hydration: the first screenful as rows in normal flow, at the same places the
  // positioned rows take once React runs (positions need style attributes, which the CSP refuses in HTML).
  const positioned = useHydrated();
  const lastRendered = virtualRows.at(-1)?.index ?? -1;

  const loadMore = useCallback(() => {
    const cursor = loaded.nextCursor;
    if (inFlight.current || cursor === null) return;
    const controller = new AbortController();
    inFlight.current = controller;
    setLoading(true);
    setError(null);
    void fetchItemsPage(storeId, path, query, cursor, controller.signal).then((result) => {
      if (inFlight.current !== controller) return;
      inFlight.current = null;
      setLoading(false);
      if (!result.ok) {
        setError(result.error);
        return;
      }
      setLoaded((prev) => {
        if (prev.nextCursor !== cursor) return prev;
        const seen = new Set(prev.items.map((item) => item.name));
        const fresh = result.items.filter((item) => !seen.has(item.name));
        return {
          items: fresh.length ? [...prev.items, ...fresh] : prev.items,
          chunks: fresh.length ? [...prev.chunks, { cursor, start: prev.items.length }] : prev.chunks,
          // A cursor that does not move on would ask for the same page forever.
          nextCursor: result.nextCursor === cursor ? null : result.nextCursor,
        };
      });
    });
  }, [loaded.nextCursor, storeId, path, query]);

  useEffect(
    () => () => {
      inFlight.current?.abort();
      inFlight.current = null;
    },
    [],
  );

  useEffect(() => {
    if (error !== null || loaded.nextCursor === null) return;
    if (lastRendered >= loadedRows - PREFETCH_ROWS) loadMore();
  }, [lastRendered, loadedRows, error, loaded.nextCursor, loadMore]);

  // Rows in view, from the scroll position (fixed row height; the sticky header covers the top HEADER_HEIGHT).
  const scrollTop = virtualizer.scrollOffset ?? 0;
  const viewport = virtualizer.scrollRect?.height ?? 0;
  const firstVisibleRow = Math.max(0, Math.floor(scrollTop / ROW_HEIGHT));
  const lastVisibleRow = Math.max(firstVisibleRow, Math.ceil((scrollTop + viewport - HEADER_HEIGHT) / ROW_HEIGHT) - 1);
  const firstVisibleItem = clamp(firstVisibleRow - folders.length, 0, loaded.items.length - 1);
  const lastVisibleItem = clamp(lastVisibleRow - folders.length, 0, loaded.items.length - 1);
  const itemsInView = loaded.items.length > 0 && lastVisibleRow >= folders.length;

  // The URL names the chunk holding the first visible item, so reload and Back return there.
  const afterCursor = loaded.items.length > 0 ? chunkAt(loaded.chunks, firstVisibleItem).cursor : startCursor;
  useEffect(() => {
    const url = new URL(window.location.href);
    if (url.searchParams.get('after') === afterCursor) return;
    if (afterCursor === null) url.searchParams.delete('after');
    else url.searchParams.set('after', afterCursor);
    window.history.replaceState(null, '', `${url.pathname}${url.search}${url.hash}`);
  }, [afterCursor]);

  const sort = query.sort ?? 'name';
  const dir = query.dir ?? 'asc';
  const positionKnown = startCursor === null;

  return (
    <div className="space-y-2">
      {startCursor !== null && (
        <p className="text-sm">
          <Link href={browseHref(storeId, path, query)} className="text-slate-700 underline-offset-2 hover:text-slate-900 hover:underline">
            ↑ Back to the first item
          </Link>
        </p>
      )}
      <div
        role="table"
        aria-label={`Items in ${path}`}
        aria-rowcount={positionKnown ? 1 + folders.length + totalItems : -1}
        aria-busy={loading || undefined}
        className="overflow-hidden rounded-lg border border-slate-200 bg-white text-left text-sm"
      >
        <div ref={scrollerRef} data-testid="items-scroller" className="max-h-[70vh] overflow-y-auto overflow-x-hidden overscroll-contain">
          <div role="rowgroup" className="sticky top-0 z-10">
            <div
              role="row"
              aria-rowindex={positionKnown ? 1 : undefined}
              className={`${GRID} ${HEADER_HEIGHT_CLASS} border-b border-slate-200 bg-slate-50 text-xs uppercase tracking-wide text-slate-500`}
            >
              {COLUMNS.map((column) => {
                const active = sort === column.key;
                const nextDir = active && dir === 'asc' ? 'desc' : 'asc';
                return (
                  <div
                    key={column.key}
                    role="columnheader"
                    aria-sort={active ? (dir === 'asc' ? 'ascending' : 'descending') : undefined}
                    className={`${column.wide ? WIDE_CELL : CELL} font-medium`}
                  >
                    <Link
                      href={browseHref(storeId, path, { ...query, sort: column.key, dir: nextDir })}
                      className="flex min-w-0 items-center self-stretch hover:text-slate-900"
                    >
                      <span className="truncate">
                        {column.label}
                        {active && <span aria-hidden> {dir === 'asc' ? '▲' : '▼'}</span>}
                      </span>
                    </Link>
                  </div>
                );
              })}
            </div>
          </div>
          <div role="rowgroup" className="relative" style={positioned ? { height: virtualizer.getTotalSize() } : undefined}>
            {virtualRows.map((row) => {
              const style = positioned ? { transform: `translateY(${row.start - HEADER_HEIGHT}px)` } : undefined;
              const rowIndex = positionKnown ? row.index + 2 : undefined;
              const className = `${GRID} ${ROW_HEIGHT_CLASS} ${positioned ? 'absolute left-0 top-0 w-full' : ''} border-b border-slate-100`;
              if (row.index < folders.length) {
                const folder = folders[row.index]!;
                return (
                  <div key={row.key} role="row" aria-rowindex={rowIndex} data-testid="folder-row" className={`${className} hover:bg-slate-50`} style={style}>
                    <div role="cell" className={`${CELL} col-span-full gap-3`}>
                      <Link
                        href={browseHref(storeId, folder.path)}
                        className="inline-flex min-w-0 items-center gap-1.5 self-stretch font-medium text-slate-800 hover:underline"
                        title={folder.path}
                      >
                        <FolderIcon className="h-4 w-4 shrink-0 text-slate-400" />
                        <span className="truncate">{folder.name}/</span>
                      </Link>
                      {folder.totalItems !== null && (
                        <span className="ml-auto shrink-0 text-xs text-slate-500">{plural(folder.totalItems, 'item')}</span>
                      )}
                    </div>
                  </div>
                );
              }
              const item = loaded.items[row.index - folders.length];
              if (!item) {
                return (
                  <div key={row.key} role="row" className={className} style={style}>
                    {error !== null ? (
                      <div role="cell" className={`${CELL} col-span-full gap-3 bg-red-50 text-red-800`}>
                        <span role="alert" className="min-w-0 truncate" title={error}>
                          Could not load more items: {error}
                        </span>
                        <button
                          type="button"
                          onClick={loadMore}
                          className="ml-auto shrink-0 rounded-md bg-white px-2 py-0.5 text-sm font-medium text-red-800 ring-1 ring-inset ring-red-300 hover:bg-red-100"
                        >
                          Retry
                        </button>
                      </div>
                    ) : (
                      <div role="cell" className={`${CELL} col-span-full text-slate-500`} data-testid="items-loading">
                        Loading more items…
                      </div>
                    )}
                  </div>
                );
              }
              const shortVersion = item.version.length > 12 ? `${item.version.slice(0, 8)}…` : item.version;
              return (
                <div key={row.key} role="row" aria-rowindex={rowIndex} data-testid="item-row" className={`${className} hover:bg-slate-50`} style={style}>
                  <div role="cell" className={`${CELL} gap-2`}>
                    <Link href={itemHref(storeId, item.name)} className="min-w-0 truncate font-mono leading-[44px] text-slate-900 hover:underline" title={item.name}>
                      {item.leaf}
                    </Link>
                    <FreshnessBadge status={item.freshness.status} reason={item.freshness.reason} className="ml-auto" />
                  </div>
                  <div role="cell" className={WIDE_CELL}>
                    <KindBadge kind={item.kind} />
                  </div>
                  <div role="cell" className={`${WIDE_CELL} font-mono text-slate-600`} title={item.version}>
                    <span className="truncate">{shortVersion}</span>
                  </div>
                  <div role="cell" className={`${CELL} whitespace-nowrap text-slate-600`}>
                    <ChangedAt iso={item.lastChangedAt} />
                  </div>
                  <div role="cell" className={`${WIDE_CELL} text-slate-600`} title={item.lastChangedBy ?? undefined}>
                    <span className="truncate">{item.lastChangedBy ?? '—'}</span>
                  </div>
                </div>
              );
            })}
          </div>
        </div>
      </div>
      <p className="text-xs text-slate-500" data-testid="items-count">
        {countText({
          q: query.q,
          status: query.status,
          folders: folders.length,
          totalItems,
          loadedItems: loaded.items.length,
          positionKnown,
          first: firstVisibleItem,
          last: lastVisibleItem,
          itemsInView,
        })}
      </p>
    </div>
  );
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/**
 * "2026-01-05 14:03 UTC+01:00" in the local time zone, as date-fns's format(date, "yyyy-MM-dd HH:mm 'UTC'xxx")
 * writes it: written out by hand because format parses its pattern again on every call, for every row.
 */
export function exactTime(date: Date): string {
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  return `${String(date.getFullYear()).padStart(4, '0')}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())} ${pad2(date.getHours())}:${pad2(date.getMinutes())} UTC${sign}${pad2(Math.floor(abs / 60))}:${pad2(abs % 60)}`;
}

/** Same text as RelativeTime; the server's clock and time zone differ from the browser's, so no hydration warning. */
function ChangedAt({ iso }: { iso: string }) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return <span>—</span>;
  return (
    <time dateTime={iso} title={exactTime(date)} className="truncate" suppressHydrationWarning>
      {formatDistanceToNowStrict(date, { addSuffix: true })}
    </time>
  );
}

function countText(view: {
  q: string | undefined;
  status: FreshnessStatus[] | undefined;
  folders: number;
  totalItems: number;
  loadedItems: number;
  positionKnown: boolean;
  first: number;
  last: number;
  itemsInView: boolean;
}): string {
  const statuses = view.status?.length ? `status ${view.status.map((s) => FRESHNESS_LABELS[s].toLowerCase()).join(' or ')}` : '';
  const criteria = [view.q ? `“${view.q}”` : '', statuses].filter(Boolean).join(' and ');
  const matching = criteria ? ` matching ${criteria}` : '';
  const subFolders = view.folders > 0 ? `, ${plural(view.folders, 'sub-folder')}` : '';
  if (view.totalItems === 0 && view.folders === 0) return criteria ? `No items match ${criteria}` : 'No items in this folder';
  if (view.totalItems === 0) return `${plural(view.folders, 'sub-folder')}; ${criteria ? `no items match ${criteria}` : 'no items'}.`;
  const total = plural(view.totalItems, 'item');
  if (view.loadedItems === 0 || !view.itemsInView) return `${total}${matching}${subFolders}.`;
  const a = (view.first + 1).toLocaleString('en-US');
  const b = (view.last + 1).toLocaleString('en-US');
  if (view.positionKnown) return `Showing rows ${a}–${b} of ${total}${matching}${subFolders}.`;
  return `Showing rows ${a}–${b} counted from where this view starts, of ${total}${matching}${subFolders}.`;
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}

function clamp(n: number, min: number, max: number): number {
  return Math.max(min, Math.min(max, n));
}

/** The chunk holding item `index` (chunks are in order of start). */
function chunkAt(chunks: Chunk[], index: number): Chunk {
  let lo = 0;
  let hi = chunks.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (chunks[mid]!.start <= index) lo = mid;
    else hi = mid - 1;
  }
  return chunks[lo]!;
}

async function fetchItemsPage(
  storeId: string,
  path: string,
  query: VirtualItemsTableProps['query'],
  cursor: string,
  signal: AbortSignal,
): Promise<PageResult> {
  const params = new URLSearchParams({ path });
  if (query.sort) params.set('sort', query.sort);
  if (query.dir) params.set('dir', query.dir);
  if (query.q) params.set('q', query.q);
  if (query.status?.length) params.set('status', query.status.join(','));
  params.set('cursor', cursor);
  params.set('limit', String(PAGE_LIMIT));
  let response: Response;
  try {
    response = await fetch(`/api/v1/stores/${encodeURIComponent(storeId)}/items?${params}`, {
      signal,
      credentials: 'same-origin',
      headers: { accept: 'application/json' },
      cache: 'no-store',
    });
  } catch {
    return { ok: false, error: signal.aborted ? 'The request was cancelled.' : 'The server could not be reached; check the connection.' };
  }
  let body: unknown = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  if (!response.ok) {
    const message = isRecord(body) && typeof body.error === 'string' ? body.error : `The server answered ${response.status}.`;
    return { ok: false, error: message };
  }
  if (!isRecord(body) || !Array.isArray(body.items) || !(typeof body.nextCursor === 'string' || body.nextCursor === null)) {
    return { ok: false, error: 'The server sent an answer this page does not understand.' };
  }
  const items: ItemRow[] = [];
  for (const raw of body.items) {
    if (!isRecord(raw) || typeof raw.name !== 'string') continue;
    items.push({
      name: raw.name,
      leaf: raw.name.slice(raw.name.lastIndexOf('/') + 1),
      kind: String(raw.kind ?? ''),
      version: String(raw.version ?? ''),
      lastChangedAt: String(raw.lastChangedAt ?? ''),
      lastChangedBy: typeof raw.lastChangedBy === 'string' ? raw.lastChangedBy : null,
      freshness: freshnessOf(raw.freshness),
    });
  }
  return { ok: true, items, nextCursor: body.nextCursor };
}

/** An API row's freshness; a status this page does not know reads as its worst, never as fresh. */
function freshnessOf(raw: unknown): RowFreshness {
  const status = isRecord(raw) && typeof raw.status === 'string' ? raw.status : '';
  const reason = isRecord(raw) && typeof raw.reason === 'string' ? raw.reason : 'The server did not say how fresh this item is.';
  return { status: (FRESHNESS_STATUSES as readonly string[]).includes(status) ? (status as FreshnessStatus) : 'rotation-failing', reason };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
