'use client';

import { usePathname } from 'next/navigation';
import { useCallback, useEffect, useRef, useState, type MouseEvent } from 'react';

// The open/close plumbing of a panel opened by a button (the phone menu, the folder drawer): Esc
// closes it with focus back on the button, a followed link and a tap outside close it. With
// trapFocus (a drawer over the page, modal in effect) Tab and Shift+Tab stay inside the panel.

const FOCUSABLE = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/** The panel's elements Tab reaches, in order (hidden ones left out). */
function tabbable(panel: HTMLElement): HTMLElement[] {
  return [...panel.querySelectorAll<HTMLElement>(FOCUSABLE)].filter((el) => el.getClientRects().length > 0);
}

export function useDismissable({ trapFocus = false }: { trapFocus?: boolean } = {}) {
  const [open, setOpen] = useState(false);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelRef = useRef<HTMLDivElement>(null);
  const pathname = usePathname();

  // A link followed: the page changes under a closed panel.
  useEffect(() => setOpen(false), [pathname]);

  /** Closes; focus goes back to the button (for a close asked from the keyboard or the panel's Close). */
  const close = useCallback(() => {
    setOpen(false);
    buttonRef.current?.focus();
  }, []);

  useEffect(() => {
    if (!open) return;
    function onKeyDown(event: KeyboardEvent) {
      if (event.key === 'Escape') {
        close();
        return;
      }
      const panel = panelRef.current;
      if (!trapFocus || event.key !== 'Tab' || !panel) return;
      const inside = tabbable(panel);
      if (inside.length === 0) return;
      const first = inside[0]!;
      const last = inside[inside.length - 1]!;
      const active = document.activeElement;
      const within = active instanceof Node && panel.contains(active);
      if (event.shiftKey && (!within || active === first)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (!within || active === last)) {
        event.preventDefault();
        first.focus();
      }
    }
    function onPointerDown(event: PointerEvent) {
      const target = event.target as Node;
      if (panelRef.current?.contains(target) || buttonRef.current?.contains(target)) return;
      setOpen(false);
    }
    document.addEventListener('keydown', onKeyDown);
    document.addEventListener('pointerdown', onPointerDown);
    return () => {
      document.removeEventListener('keydown', onKeyDown);
      document.removeEventListener('pointerdown', onPointerDown);
    };
  }, [open, trapFocus, close]);

  // A link followed to the page already open changes no path: close here too.
  const onPanelClick = useCallback((event: MouseEvent) => {
    if ((event.target as Element).closest('a[href]')) setOpen(false);
  }, []);

  return { open, setOpen, close, buttonRef, panelRef, onPanelClick };
}
