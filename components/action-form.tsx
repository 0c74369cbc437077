'use client';

import { useRouter } from 'next/navigation';
import { useState, type FormEvent, type ReactNode } from 'react';
import type { ActionResult } from '@/lib/actions/authed-action';

interface Props<T> {
  action: (input: unknown) => Promise<ActionResult<T>>;
  submitLabel: string;
  children?: ReactNode;
  className?: string;
  danger?: boolean;
  /** Called with the action's data; by default the page is refreshed. */
  onDone?: (data: T) => void;
}

/** A form that calls a server action with its fields and shows the server's answer. */
export function ActionForm<T>({ action, submitLabel, children, className, danger, onDone }: Props<T>) {
  const router = useRouter();
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState(false);

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = event.currentTarget;
    setPending(true);
    setError(null);
    const result = await action(Object.fromEntries(new FormData(form)));
    setPending(false);
    if (!result.ok) return setError(result.error);
    form.reset();
    if (onDone) onDone(result.data);
    router.refresh();
  }

  return (
    <form onSubmit={onSubmit} className={className}>
      {children}
      <button
        type="submit"
        disabled={pending}
        className={`rounded-md px-3 py-1.5 text-sm font-medium disabled:opacity-60 max-md:min-h-11 ${danger ? 'text-red-700 hover:bg-red-50' : 'bg-slate-900 text-white'}`}
      >
        {submitLabel}
      </button>
      {error && (
        <p role="alert" className="basis-full text-sm text-red-700">
          {error}
        </p>
      )}
    </form>
  );
}
