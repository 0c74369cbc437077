'use client';

import { useId, useState, type ReactNode } from 'react';

// A block that phones (below md) fold behind a button, so what the page is for (a timeline, a
// list) starts on the first screen; from md it is always shown and the button is hidden.

export function PhoneCollapsible({ label, children, testId }: { label: string; children: ReactNode; testId?: string }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  return (
    <div className="min-w-0">
      <button
        type="button"
        aria-expanded={open}
        aria-controls={id}
        onClick={() => setOpen((o) => !o)}
        className="inline-flex min-h-11 items-center gap-2 rounded-md bg-white px-3 text-sm font-medium text-slate-700 ring-1 ring-inset ring-slate-300 hover:bg-slate-50 md:hidden"
        data-testid={testId}
      >
        <span aria-hidden>{open ? '▾' : '▸'}</span>
        {label}
      </button>
      <div id={id} className={`${open ? 'mt-2 block' : 'hidden'} md:mt-0 md:block`}>
        {children}
      </div>
    </div>
  );
}
