'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { useCallback, useEffect, useId, useLayoutEffect, useRef, useState, type KeyboardEvent as ReactKeyboardEvent, type ReactNode } from 'react';
import type { SearchFolderResult, SearchItemResult, SearchResults } from '@/lib/data/inventory-types';
import { FRESHNESS_STATUSES, type FreshnessStatus } from '@/lib/freshness/types';
import { FreshnessBadge } from './freshness-badge';
import { FolderIcon } from './icons';

// The header's search over every store the user may see: names, descriptions and tags of items, and folder
// paths. "/" anywhere focuses it; results come as you type. Metadata only: values are never searched.

const DEBOUNCE_MS = 150;
const RESULT_LIMIT = 8;
/**
 * The server searches at most a few hundred characters and says when it cut the text; sending more than
 * this would only make the URL long enough for a proxy or the server to refuse it (a 10,000-character paste).
 */
const MAX_SENT_CHARS = 400;

type Option = { kind: 'item'; result: SearchItemResult } | { kind: 'folder'; result: SearchFolderResult };

type Answer =
  | { state: 'idle' }
  | { state: 'loading'; previous: { query: string; results: SearchResults } | null }
  | { state: 'done'; query: string; results: SearchResults }
  | { state: 'error'; message: string };

/** The search text as sent: whitespace collapsed like the server does, and cut to MAX_SENT_CHARS characters. */
function prepare(text: string): string {
  const collapsed = text.replace(/\s+/g, ' ').trim();
  if (collapsed.length <= MAX_SENT_CHARS) return collapsed;
  return Array.from(collapsed).slice(0, MAX_SENT_CHARS).join('');
}

function isTyping(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
}

export function SearchBox() {
  const router = useRouter();
  const baseId = useId();
  const listboxId = `${baseId}-results`;
  const inputRef = useRef<HTMLInputElement>(null);
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const inFlight = useRef<AbortController | null>(null);

  const [text, setText] = useState('');
  const [open, setOpen] = useState(false);
  const [answer, setAnswer] = useState<Answer>({ state: 'idle' });
  const [active, setActive] = useState(-1);
  const [box, setBox] = useState<{ top: number; left: number; width: number } | null>(null);

  const shown = answer.state === 'done' ? answer : answer.state === 'loading' ? answer.previous : null;
  const options: Option[] = shown
    ? [
        ...shown.results.items.map((result): Option => ({ kind: 'item', result })),
        ...shown.results.folders.map((result): Option => ({ kind: 'folder', result })),
      ]
    : [];
  const optionId = (index: number) => `${baseId}-option-${index}`;

  const cancel = useCallback(() => {
    clearTimeout(timer.current);
    inFlight.current?.abort();
    inFlight.current = null;
  }, []);

  useEffect(() => cancel, [cancel]);

  // "/" anywhere but in a field focuses the box, without typing the "/".
  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.key !== '/' || event.ctrlKey || event.metaKey || event.altKey || event.isComposing || event.defaultPrevented) return;
      if (isTyping(event.target) || isTyping(document.activeElement)) return;
      event.preventDefault();
      inputRef.current?.focus();
      inputRef.current?.select();
    }
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, []);

  // The dropdown is fixed to the viewport: under the box, as wide as fits the screen (390 px phones too).
  useLayoutEffect(() => {
    if (!open) return;
    function place() {
      const input = inputRef.current;
      if (!input) return;
      const rect = input.getBoundingClientRect();
      const viewport = document.documentElement.clientWidth;
      const width = Math.min(Math.max(rect.width, 448), viewport - 16);
      const left = Math.max(8, Math.min(rect.left, viewport - width - 8));
      setBox({ top: rect.bottom + 4, left, width });
    }
    place();
    window.addEventListener('resize', place);
    window.addEventListener('scroll', place, true);
    return () => {
      window.removeEventListener('resize', place);
      window.removeEventListener('scroll', place, true);
    };
  }, [open]);

  useEffect(() => {
    if (active >= 0) document.getElementById(`${baseId}-option-${active}`)?.scrollIntoView({ block: 'nearest' });
  }, [active, baseId]);

  async function run(query: string) {
    const controller = new AbortController();
    inFlight.current = controller;
    let message: string;
    try {
      const response = await fetch(`/api/v1/search?q=${encodeURIComponent(query)}&limit=${RESULT_LIMIT}`, {
        signal: controller.signal,
        credentials: 'same-origin',
        headers: { accept: 'application/json' },
        cache: 'no-store',
      });
      let body: unknown = null;
      try {
        body = await response.json();
      } catch {
        body = null;
      }
      if (inFlight.current !== controller) return;
      if (response.ok && isSearchResults(body)) {
        inFlight.current = null;
        setAnswer({ state: 'done', query, results: body });
        return;
      }
      message = response.ok
        ? 'The server sent an answer this page does not understand.'
        : hasError(body)
          ? body.error
          : `Search failed (the server answered ${response.status}).`;
    } catch {
      if (controller.signal.aborted || inFlight.current !== controller) return;
      message = 'The server could not be reached; check the connection.';
    }
    inFlight.current = null;
    setAnswer({ state: 'error', message });
  }

  function onChange(value: string) {
    setText(value);
    setActive(-1);
    cancel();
    const query = prepare(value);
    if (query.length < 1) {
      setOpen(false);
      setAnswer({ state: 'idle' });
      return;
    }
    setOpen(true);
    setAnswer((prev) => ({
      state: 'loading',
      previous: prev.state === 'done' ? { query: prev.query, results: prev.results } : prev.state === 'loading' ? prev.previous : null,
    }));
    timer.current = setTimeout(() => void run(query), DEBOUNCE_MS);
  }

  function close() {
    setOpen(false);
    setActive(-1);
  }

  function chosen() {
    cancel();
    close();
    setText('');
    setAnswer({ state: 'idle' });
    inputRef.current?.blur();
  }

  function onKeyDown(event: ReactKeyboardEvent<HTMLInputElement>) {
    if (event.nativeEvent.isComposing) return;
    switch (event.key) {
      case 'ArrowDown':
      case 'ArrowUp': {
        event.preventDefault();
        if (!open) {
          if (prepare(text).length > 0) setOpen(true);
          return;
        }
        if (options.length === 0) return;
        const step = event.key === 'ArrowDown' ? 1 : -1;
        setActive((i) => (i < 0 ? (step > 0 ? 0 : options.length - 1) : (i + step + options.length) % options.length));
        return;
      }
      case 'Enter': {
        event.preventDefault();
        // Only open a result of the text as it is now, not one left from an earlier keystroke.
        const current = answer.state === 'done' && answer.query === prepare(text);
        const target = open && current ? (options[active] ?? options[0]) : undefined;
        if (target) {
          router.push(target.result.href);
          chosen();
        }
        return;
      }
      case 'Escape':
        event.preventDefault();
        cancel();
        close();
        inputRef.current?.blur();
        return;
      case 'Tab':
        close();
        return;
    }
  }

  const showList = open && box !== null;
  const results = shown?.results;
  const itemCount = results?.items.length ?? 0;

  return (
    <div role="search" className="relative w-full min-w-0">
      <input
        ref={inputRef}
        type="search"
        role="combobox"
        aria-label="Search every store"
        aria-autocomplete="list"
        aria-expanded={showList}
        aria-controls={showList && options.length > 0 ? listboxId : undefined}
        aria-activedescendant={showList && active >= 0 && active < options.length ? optionId(active) : undefined}
        placeholder="Search  /"
        autoComplete="off"
        spellCheck={false}
        enterKeyHint="search"
        data-testid="search-input"
        value={text}
        onChange={(event) => onChange(event.target.value)}
        onKeyDown={onKeyDown}
        onFocus={() => {
          if (prepare(text).length > 0 && answer.state !== 'idle') setOpen(true);
        }}
        onBlur={close}
        className="w-full min-w-0 rounded-md border border-slate-300 bg-white px-2 py-1 text-sm text-slate-900 placeholder:text-slate-500 focus:border-slate-500 focus:outline-none focus:ring-2 focus:ring-slate-200"
      />
      {showList && (
        <div
          data-testid="search-dropdown"
          // Clicks inside keep the focus in the box, so the dropdown is still there when the click lands.
          onMouseDown={(event) => event.preventDefault()}
          className="fixed z-50 overflow-y-auto overscroll-contain rounded-md border border-slate-200 bg-white py-1 text-sm shadow-lg"
          style={{ top: box.top, left: box.left, width: box.width, maxHeight: `min(70vh, calc(100vh - ${box.top + 8}px))` }}
        >
          {answer.state === 'error' && (
            <p role="alert" className="break-words px-3 py-2 text-red-700">
              {answer.message}
            </p>
          )}
          {answer.state === 'loading' && options.length === 0 && <p className="px-3 py-2 text-slate-500">Searching…</p>}
          {results && options.length === 0 && answer.state === 'done' && (
            <p role="status" className="px-3 py-2 text-slate-500">
              No matches
            </p>
          )}
          {results && options.length > 0 && answer.state !== 'error' && (
            <div role="listbox" id={listboxId} aria-label="Search results" aria-busy={answer.state === 'loading' || undefined}>
              {itemCount > 0 && (
                <div role="group" aria-label="Items">
                  <div aria-hidden className="px-3 pb-0.5 pt-1.5 text-[11px] font-medium uppercase tracking-wide text-slate-500">
                    Items
                  </div>
                  {results.items.map((item, i) => (
                    <ResultOption key={`i:${item.storeId}:${item.name}`} id={optionId(i)} href={item.href} active={i === active} onHover={() => setActive(i)} onChoose={chosen}>
                      <span className="flex min-w-0 items-baseline gap-2">
                        <span className="min-w-0 truncate font-mono text-slate-900" title={item.name}>
                          {item.name}
                        </span>
                        {item.matchedIn !== 'name' && (
                          <span className="shrink-0 rounded bg-slate-100 px-1 text-[11px] text-slate-500">{item.matchedIn}</span>
                        )}
                      </span>
                      <span className="flex min-w-0 items-center gap-2 text-xs text-slate-500">
                        <span className="min-w-0 truncate">{item.storeLabel}</span>
                        {knownStatus(item.status) && <FreshnessBadge status={item.status} size="xs" />}
                      </span>
                    </ResultOption>
                  ))}
                </div>
              )}
              {results.folders.length > 0 && (
                <div role="group" aria-label="Folders">
                  <div aria-hidden className="px-3 pb-0.5 pt-1.5 text-[11px] font-medium uppercase tracking-wide text-slate-500">
                    Folders
                  </div>
                  {results.folders.map((folder, j) => {
                    const i = itemCount + j;
                    return (
                      <ResultOption key={`f:${folder.storeId}:${folder.path}`} id={optionId(i)} href={folder.href} active={i === active} onHover={() => setActive(i)} onChoose={chosen}>
                        <span className="flex min-w-0 items-center gap-1.5">
                          <FolderIcon className="h-4 w-4 shrink-0 text-slate-400" />
                          <span className="min-w-0 truncate font-mono text-slate-900" title={folder.path}>
                            {folder.path}
                          </span>
                        </span>
                        <span className="block truncate text-xs text-slate-500">
                          {folder.storeLabel}
                          {folder.totalItems !== null && ` · ${folder.totalItems.toLocaleString('en-US')} item${folder.totalItems === 1 ? '' : 's'}`}
                        </span>
                      </ResultOption>
                    );
                  })}
                </div>
              )}
            </div>
          )}
          {results && answer.state !== 'error' && results.pending.length > 0 && (
            <p className="border-t border-slate-100 px-3 py-1.5 text-xs text-slate-500" data-testid="search-pending">
              Still syncing, not searched yet: {results.pending.join(', ')}
            </p>
          )}
          {results && answer.state !== 'error' && results.truncated && (
            <p className="border-t border-slate-100 px-3 py-1.5 text-xs text-slate-500" data-testid="search-truncated">
              The search text was too long; only its beginning was searched.
            </p>
          )}
        </div>
      )}
    </div>
  );
}

function ResultOption({
  id,
  href,
  active,
  onHover,
  onChoose,
  children,
}: {
  id: string;
  href: string;
  active: boolean;
  onHover: () => void;
  onChoose: () => void;
  children: ReactNode;
}) {
  return (
    <Link
      id={id}
      href={href}
      role="option"
      aria-selected={active}
      tabIndex={-1}
      data-testid="search-result"
      onMouseEnter={onHover}
      onClick={onChoose}
      className={`block min-w-0 px-3 py-1.5 ${active ? 'bg-slate-100' : 'hover:bg-slate-50'}`}
    >
      {children}
    </Link>
  );
}

/** A status this page knows (an older or newer server may send another, or none). */
function knownStatus(status: unknown): status is FreshnessStatus {
  return typeof status === 'string' && (FRESHNESS_STATUSES as readonly string[]).includes(status);
}

function hasError(body: unknown): body is { error: string } {
  return typeof body === 'object' && body !== null && 'error' in body && typeof body.error === 'string';
}

function isSearchResults(body: unknown): body is SearchResults {
  if (typeof body !== 'object' || body === null) return false;
  const b = body as Partial<Record<keyof SearchResults, unknown>>;
  return Array.isArray(b.items) && Array.isArray(b.folders) && Array.isArray(b.pending) && typeof b.truncated === 'boolean';
}
