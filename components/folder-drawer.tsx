'use client';

import { useEffect, type ReactNode } from 'react';
import { useDismissable } from './use-dismissable';

// The folder tree's place on a browse page. From md: a column beside the table, as before. Below md:
// a button that opens the tree as a drawer from the left, over the page, so the table starts on the
// first screen; Esc, a tap on the shade or a folder followed close it, and while it is open Tab stays
// in it (it covers the page; use-dismissable.ts). The tree is rendered once (the keyboard's [ and ]
// read it, see keyboard-shortcuts.tsx).

export function FolderDrawer({ label, children }: { label: string; children: ReactNode }) {
  const { open, setOpen, close, buttonRef, panelRef, onPanelClick } = useDismissable({ trapFocus: true });

  useEffect(() => {
    if (!open) return;
    // The open folder first, so a thumb starts where the reader is.
    const current = panelRef.current?.querySelector<HTMLElement>('[aria-current="page"]') ?? panelRef.current?.querySelector<HTMLElement>('a[href]');
    current?.focus();
    current?.scrollIntoView({ block: 'nearest' });
  }, [open, panelRef]);

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        aria-expanded={open}
        aria-controls="folder-drawer"
        onClick={() => setOpen(true)}
        className="inline-flex min-h-11 max-w-full items-center gap-2 rounded-md bg-white px-3 text-sm font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 md:hidden"
        data-testid="folder-drawer-button"
      >
        <svg aria-hidden viewBox="0 0 20 20" className="h-4 w-4 shrink-0 text-slate-400" fill="currentColor">
          <path d="M2 5a2 2 0 012-2h3.6a2 2 0 011.4.6L10.4 5H16a2 2 0 012 2v7a2 2 0 01-2 2H4a2 2 0 01-2-2V5z" />
        </svg>
        <span className="truncate">Folders · {label}</span>
      </button>
      {open && (
        <button
          type="button"
          aria-label="Close the folders"
          tabIndex={-1}
          onClick={() => setOpen(false)}
          className="fixed inset-0 z-40 bg-slate-900/40 md:hidden dark:bg-black/60"
          data-testid="folder-drawer-shade"
        />
      )}
      <div
        ref={panelRef}
        id="folder-drawer"
        data-testid="folder-drawer"
        onClick={onPanelClick}
        className={`${open ? 'fixed inset-y-0 left-0 z-50 block w-[min(20rem,85vw)] overflow-y-auto p-3 shadow-xl' : 'hidden'} min-w-0 rounded-lg border border-slate-200 bg-white md:static md:z-auto md:block md:w-auto md:overflow-visible md:p-3 md:shadow-none`}
      >
        {open && (
          <div className="mb-2 flex items-center justify-between gap-2 md:hidden">
            <h2 className="text-sm font-semibold">Folders</h2>
            <button
              type="button"
              onClick={close}
              className="inline-flex min-h-11 min-w-11 items-center justify-center rounded-md text-sm text-slate-600 hover:bg-slate-100"
            >
              Close
            </button>
          </div>
        )}
        {children}
      </div>
    </>
  );
}
