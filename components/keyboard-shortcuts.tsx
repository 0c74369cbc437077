'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useId, useRef } from 'react';
import { decideShortcut, DESTINATION_PATHS, INITIAL_STATE, nextIndex, shortcutList, type ShortcutState } from '@/lib/keyboard/shortcut-keys';

// The dashboard's keyboard shortcuts (lib/keyboard/shortcut-keys.ts decides what a key does), mounted
// once in the dashboard layout. Rows and folders are found in the page as rendered: the rows of the
// main content's tables and lists, and the links of the folder tree (nav "Folders").

/** Rows that j/k move through: table rows with cells, the virtual items table's rows, the freshness lists' entries. */
const ROW_SELECTOR = 'main tbody tr, main [role="rowgroup"] [role="row"], main [data-testid="freshness-row"]';

function isField(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  return target.tagName === 'INPUT' || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT';
}

/** Rows a person can see now (not in a closed drawer, not a row of another hidden table). */
function visibleRows(): HTMLElement[] {
  // Header rows (column headers, sort links) are no rows to open.
  return [...document.querySelectorAll<HTMLElement>(ROW_SELECTOR)].filter((row) => row.getClientRects().length > 0 && !row.querySelector('[role="columnheader"]'));
}

/** Moves focus to the next or previous row: onto its first link (Enter opens it), or the row itself. */
function moveRow(step: 1 | -1) {
  const rows = visibleRows();
  const active = document.activeElement;
  const current = active ? rows.findIndex((row) => row.contains(active)) : -1;
  const index = nextIndex(current, rows.length, step);
  if (index < 0) return;
  const row = rows[index]!;
  const target = [...row.querySelectorAll<HTMLElement>('a[href]')].find((link) => link.getClientRects().length > 0) ?? row;
  if (target === row && !row.hasAttribute('tabindex')) row.tabIndex = -1;
  target.focus();
  row.scrollIntoView({ block: 'nearest' });
}

/** The href of the folder before or after the current one in the folder tree's order, or null. */
function folderHref(step: 1 | -1): string | null {
  const links = [...document.querySelectorAll<HTMLAnchorElement>('nav[aria-label="Folders"] a[href]')];
  if (links.length === 0) return null;
  const current = links.findIndex((link) => link.getAttribute('aria-current') === 'page');
  const index = nextIndex(current, links.length, step);
  return index === current ? null : (links[index]?.getAttribute('href') ?? null);
}

export function KeyboardShortcuts({ canAudit }: { canAudit: boolean }) {
  const router = useRouter();
  const dialogRef = useRef<HTMLDialogElement>(null);
  const state = useRef<ShortcutState>(INITIAL_STATE);
  const titleId = useId();

  useEffect(() => {
    function onKeyDown(event: KeyboardEvent) {
      if (event.defaultPrevented || event.isComposing) return;
      // While a dialog is open (this one, or a write dialog), its own keys apply; Esc closes it natively.
      if (document.querySelector('dialog[open]')) return;
      const result = decideShortcut(
        state.current,
        {
          key: event.key,
          ctrlKey: event.ctrlKey,
          altKey: event.altKey,
          metaKey: event.metaKey,
          inField: isField(event.target) || isField(document.activeElement),
          time: event.timeStamp,
        },
        { canAudit },
      );
      state.current = result.state;
      if (result.state.pendingSince !== null) event.preventDefault();
      const action = result.action;
      if (!action) return;
      event.preventDefault();
      switch (action.kind) {
        case 'help':
          dialogRef.current?.showModal();
          break;
        case 'go':
          router.push(DESTINATION_PATHS[action.to]);
          break;
        case 'row':
          moveRow(action.step);
          break;
        case 'folder': {
          const href = folderHref(action.step);
          if (href) router.push(href);
          break;
        }
      }
    }
    document.addEventListener('keydown', onKeyDown);
    return () => document.removeEventListener('keydown', onKeyDown);
  }, [canAudit, router]);

  return (
    <dialog
      ref={dialogRef}
      aria-labelledby={titleId}
      data-testid="shortcuts-dialog"
      className="m-auto w-[calc(100vw-2rem)] max-w-md max-h-[calc(100dvh-2rem)] overflow-y-auto rounded-lg border border-slate-200 bg-white p-0 text-slate-900 shadow-xl backdrop:bg-slate-900/50"
    >
      <div className="space-y-3 p-4">
        <div className="flex items-center justify-between gap-3">
          <h2 id={titleId} className="text-lg font-semibold">
            Keyboard shortcuts
          </h2>
          <button
            type="button"
            onClick={() => dialogRef.current?.close()}
            className="inline-flex min-h-11 min-w-11 items-center justify-center rounded-md text-sm text-slate-600 hover:bg-slate-100"
          >
            Close
          </button>
        </div>
        <p className="text-sm text-slate-600">Not while typing in a field. A sequence such as g o: press g, then o.</p>
        <table className="w-full text-left text-sm">
          <tbody className="divide-y divide-slate-100">
            {shortcutList({ canAudit }).map((shortcut) => (
              <tr key={shortcut.keys.join(' ')}>
                <th scope="row" className="whitespace-nowrap py-1.5 pr-4 font-normal">
                  {shortcut.keys.map((key, i) => (
                    <span key={i}>
                      {i > 0 && <span className="text-slate-500"> then </span>}
                      <kbd className="rounded border border-slate-300 bg-slate-50 px-1.5 py-0.5 font-mono text-xs">{key}</kbd>
                    </span>
                  ))}
                </th>
                <td className="py-1.5 text-slate-700">{shortcut.what}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </dialog>
  );
}
