'use client';

import type { ReactNode } from 'react';
import { useDismissable } from './use-dismissable';

// Below the md breakpoint the main navigation and the account summary fold into a menu button (a
// disclosure): the panel opens under the header, over the page, and closes on Esc (focus back on the
// button), on navigation and on a tap outside (use-dismissable.ts). From md on the button is hidden and
// the panel's children are laid out in the header itself (display: contents), as before.

export function MainMenu({ children }: { children: ReactNode }) {
  const { open, setOpen, buttonRef, panelRef, onPanelClick } = useDismissable();

  return (
    <>
      <button
        ref={buttonRef}
        type="button"
        aria-expanded={open}
        aria-controls="main-menu"
        onClick={() => setOpen((o) => !o)}
        className="ml-auto inline-flex min-h-11 min-w-11 items-center justify-center gap-1.5 rounded-md px-2 text-sm font-medium text-slate-700 hover:bg-slate-100 md:hidden"
        data-testid="menu-button"
      >
        <svg aria-hidden viewBox="0 0 20 20" className="h-5 w-5" fill="none" stroke="currentColor" strokeWidth="1.75" strokeLinecap="round">
          {open ? <path d="M5 5l10 10M15 5L5 15" /> : <path d="M3 5h14M3 10h14M3 15h14" />}
        </svg>
        Menu
      </button>
      <div
        ref={panelRef}
        id="main-menu"
        data-testid="main-menu"
        onClick={onPanelClick}
        className={`${open ? 'flex' : 'hidden'} absolute inset-x-0 top-full z-40 flex-col gap-1 border-b border-slate-200 bg-white px-4 pb-3 pt-1 shadow-lg md:contents`}
      >
        {children}
      </div>
    </>
  );
}
