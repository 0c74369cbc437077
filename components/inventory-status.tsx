'use client';

import { format, formatDistanceStrict } from 'date-fns';
import { useRouter } from 'next/navigation';
import { useEffect, useRef, useState } from 'react';
import type { InventoryStatus } from '@/lib/data/inventory-types';
import { useHydrated } from './use-hydrated';

// How old the inventory behind the page is, a running sync's progress, the last failure, and (for
// operators) a Refresh button. While a sync runs the strip polls the inventory API and re-renders the page
// once the sync has finished, so the folder shows the new inventory.

const POLL_MS = 1500;
const AGE_TICK_MS = 30_000;
/** After Refresh, keep polling this many times even if no sync shows yet (it may not have started). */
const POLLS_AFTER_REFRESH = 20;

export type RefreshResult = { ok: true; data: { state: 'started' | 'queued' } } | { ok: false; status: number; error: string };

export interface InventoryStatusStripProps {
  status: InventoryStatus;
  canRefresh: boolean;
  refresh: (input: unknown) => Promise<RefreshResult>;
}

type Notice = { tone: 'ok' | 'error'; text: string };

export function InventoryStatusStrip({ status, canRefresh, refresh }: InventoryStatusStripProps) {
  const router = useRouter();
  // The page's status until a poll brings a newer one; a new page render replaces both.
  const [current, setCurrent] = useState(status);
  const [fromProps, setFromProps] = useState(status);
  if (status !== fromProps) {
    setFromProps(status);
    setCurrent(status);
  }
  const currentRef = useRef(current);
  useEffect(() => {
    currentRef.current = current;
  }, [current]);

  // The bar's width is a style, which the CSP refuses in server HTML: the server draws it indeterminate.
  const hydrated = useHydrated();
  const [now, setNow] = useState(() => Date.now());
  const [notice, setNotice] = useState<Notice | null>(null);
  const [pending, setPending] = useState(false);
  const [pollsLeft, setPollsLeft] = useState(0);
  /** syncedAt and error time when Refresh was pressed: a change means a sync ran between two polls. */
  const baseline = useRef<{ syncedAt: string | null; errorAt: string | null } | null>(null);

  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), AGE_TICK_MS);
    return () => clearInterval(timer);
  }, []);

  const storeId = current.storeId;
  const shouldPoll = !current.live && (current.walking !== null || current.queued || pollsLeft > 0);

  useEffect(() => {
    if (!shouldPoll) return;
    let stopped = false;
    let controller: AbortController | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;

    const apply = (fresh: InventoryStatus) => {
      const prev = currentRef.current;
      currentRef.current = fresh;
      setCurrent(fresh);
      setNow(Date.now());
      const walkEnded = prev.walking !== null && (fresh.walking === null || fresh.walking.startedAt !== prev.walking.startedAt);
      const since = baseline.current;
      const ranUnseen =
        since !== null && fresh.walking === null && (fresh.syncedAt !== since.syncedAt || (fresh.error?.at ?? null) !== since.errorAt);
      if (fresh.walking !== null || fresh.queued) {
        // The sync is visible now: its end is what stops the polling.
        baseline.current = null;
        setPollsLeft(0);
      } else {
        setPollsLeft((n) => Math.max(0, n - 1));
      }
      if (walkEnded || ranUnseen) {
        baseline.current = null;
        setPollsLeft(0);
        setNotice(null);
        router.refresh();
      }
    };

    const tick = async () => {
      controller = new AbortController();
      try {
        const response = await fetch(`/api/v1/inventory?store=${encodeURIComponent(storeId)}`, {
          signal: controller.signal,
          credentials: 'same-origin',
          headers: { accept: 'application/json' },
          cache: 'no-store',
        });
        if (stopped) return;
        if (response.status === 401 || response.status === 403) {
          // Signed out or no longer allowed: nothing more to learn here.
          setPollsLeft(0);
          return;
        }
        if (response.ok) {
          const body: unknown = await response.json();
          if (stopped) return;
          const fresh = findStatus(body, storeId);
          if (fresh) apply(fresh);
        }
      } catch {
        // A network hiccup or an abort: the next tick tries again.
      }
      if (!stopped) timer = setTimeout(() => void tick(), POLL_MS);
    };

    timer = setTimeout(() => void tick(), POLL_MS);
    return () => {
      stopped = true;
      clearTimeout(timer);
      controller?.abort();
    };
  }, [shouldPoll, storeId, router]);

  async function onRefresh() {
    setPending(true);
    setNotice(null);
    let result: RefreshResult;
    try {
      result = await refresh({ storeId });
    } catch {
      result = { ok: false, status: 0, error: 'The request did not reach the server; try again.' };
    }
    setPending(false);
    if (!result.ok) {
      setNotice({ tone: 'error', text: `Could not start a sync: ${result.error}` });
      return;
    }
    setNotice({ tone: 'ok', text: result.data.state === 'queued' ? 'Sync queued' : 'Sync started' });
    baseline.current = { syncedAt: currentRef.current.syncedAt, errorAt: currentRef.current.error?.at ?? null };
    setPollsLeft(POLLS_AFTER_REFRESH);
  }

  if (current.live) {
    return (
      <div data-testid="inventory-status" className="text-xs text-slate-500">
        Built-in store · always current
      </div>
    );
  }

  const { walking, error, unreadable, tags } = current;
  const isVault = current.kind === 'vault';
  // A walk's counts are the whole store's: a caller whose grants do not cover it gets none (null).
  const walked = walking?.items ?? null;
  const percent = walked !== null && walking?.expectedItems ? Math.min(100, Math.round((walked / walking.expectedItems) * 100)) : null;

  return (
    <div data-testid="inventory-status" className="space-y-2 text-xs">
      <div className="flex flex-wrap items-center gap-x-3 gap-y-1 text-slate-500">
        {current.syncedAt ? (
          <span data-testid="synced-age" title={exactTime(current.syncedAt)} suppressHydrationWarning>
            {`Synced ${ago(current.syncedAt, now)}`}
          </span>
        ) : (
          <span data-testid="synced-age">Not synced yet</span>
        )}
        <span data-testid="inventory-items">{current.scope === 'store' ? plural(current.items, 'item') : `${plural(current.items, 'item')} you may see`}</span>
        {tags && tags.pending !== null && tags.pending > 0 && <span>tags: {tags.pending.toLocaleString('en-US')} still to fetch</span>}
        {current.queued && <span>another sync is queued</span>}
        {canRefresh && (
          <span className="ml-auto inline-flex items-center gap-2">
            {notice && (
              <span role={notice.tone === 'error' ? 'alert' : 'status'} className={notice.tone === 'error' ? 'text-red-700' : 'text-slate-600'}>
                {notice.text}
              </span>
            )}
            <button
              type="button"
              data-testid="refresh-inventory"
              onClick={() => void onRefresh()}
              disabled={pending}
              className="rounded-md px-2 py-1 font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-100 disabled:opacity-60"
            >
              {pending ? 'Refreshing…' : 'Refresh'}
            </button>
          </span>
        )}
      </div>

      {walking && (
        <div className="space-y-1">
          <div
            role="progressbar"
            data-testid="sync-progress"
            aria-label={`Syncing ${current.label}`}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent ?? undefined}
            aria-valuetext={percent !== null && walked !== null ? `${percent}% (${plural(walked, 'item')})` : walked !== null ? `${plural(walked, 'item')} so far` : 'under way'}
            className="h-1.5 w-full max-w-md overflow-hidden rounded-full bg-slate-200"
          >
            {percent !== null && hydrated ? (
              <div className="h-full rounded-full bg-sky-500 transition-[width]" style={{ width: `${Math.max(2, percent)}%` }} />
            ) : (
              <div className="h-full w-1/3 animate-pulse rounded-full bg-sky-500" />
            )}
          </div>
          <p className="text-slate-600">
            {walked !== null && walking.pages !== null
              ? `Syncing: ${plural(walked, 'item')}, ${plural(walking.pages, 'page')} so far${walking.expectedItems ? ` (about ${walking.expectedItems.toLocaleString('en-US')} last time)` : ''}`
              : 'Syncing…'}
          </p>
          {walking.retrying && (
            <p className="text-amber-800" title={walking.retrying.code}>
              {/thrott|rate|too ?many|limit/i.test(walking.retrying.code)
                ? `${isVault ? "Vault's rate limit quota is refusing requests" : 'AWS is throttling'}; slowing down (${walking.retrying.message})`
                : `${isVault ? 'Vault' : 'AWS'} did not answer in time; retrying (${walking.retrying.message})`}
            </p>
          )}
        </div>
      )}

      {error?.partial && (
        // A walk refused under some name prefixes (AWS) or paths (Vault's policy) only: it completed and was swapped in; the message names them.
        <div role="status" data-testid="sync-partial" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-sm text-amber-900">
          <p className="font-medium break-words">
            The last sync of {current.label} completed, except under {isVault ? "paths Vault's policy refused" : 'name prefixes AWS refused'} ({error.code}): {error.message}
          </p>
        </div>
      )}

      {error && !error.partial && (
        <div role="alert" data-testid="sync-error" className="rounded-md border border-red-200 bg-red-50 px-3 py-2 text-sm text-red-800">
          <p className="font-medium break-words">
            The last sync of {current.label} failed ({error.code}): {error.message}
          </p>
          {current.syncedAt ? (
            <p className="mt-0.5" suppressHydrationWarning>{`Showing the inventory from ${ago(current.syncedAt, now)}.`}</p>
          ) : (
            <p className="mt-0.5">Nothing to show until a sync succeeds.</p>
          )}
        </div>
      )}

      {unreadable && (unreadable.items > 0 || unreadable.tags > 0) && (
        <p data-testid="inventory-unreadable" className="rounded-md border border-amber-200 bg-amber-50 px-3 py-2 text-amber-800">
          {isVault
            ? `${plural(unreadable.items, 'item')} could not be read (Vault's policy refused their metadata, or names the tree cannot show).`
            : `${plural(unreadable.items, 'item')} and ${plural(unreadable.tags, 'tag')} could not be read (access denied or names the tree cannot show).`}
        </p>
      )}
    </div>
  );
}

function findStatus(body: unknown, storeId: string): InventoryStatus | null {
  if (typeof body !== 'object' || body === null || !('stores' in body) || !Array.isArray(body.stores)) return null;
  const found: unknown = body.stores.find(
    (s: unknown) => typeof s === 'object' && s !== null && 'storeId' in s && (s as { storeId: unknown }).storeId === storeId,
  );
  return found ? (found as InventoryStatus) : null;
}

/** "3 minutes ago"; a clock a little ahead of the browser's still reads as the past. */
function ago(iso: string, now: number): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return 'at an unknown time';
  return formatDistanceStrict(date, Math.max(now, date.getTime()), { addSuffix: true });
}

function exactTime(iso: string): string {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : format(date, "yyyy-MM-dd HH:mm:ss 'UTC'xxx");
}

function plural(n: number, noun: string): string {
  return `${n.toLocaleString('en-US')} ${noun}${n === 1 ? '' : 's'}`;
}
