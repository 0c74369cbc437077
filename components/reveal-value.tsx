'use client';

import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ReasonField } from '@/components/reason-field';

// Reveal, where the server allows it: asks for a reason, POSTs it, shows the value for 30 seconds
// and then drops it from state (and so from the DOM). The value lives only in this component's
// state: never in the URL, storage, a log line or a React key.

const SHOW_FOR_MS = 30_000;

type State =
  | { step: 'idle' }
  | { step: 'asking' }
  | { step: 'loading' }
  | { step: 'shown'; value: string; version?: string; hideAt: number };

function revealUrl(storeId: string, name: string): string {
  const path = name.split('/').filter(Boolean).map(encodeURIComponent).join('/');
  return `/api/v1/stores/${encodeURIComponent(storeId)}/reveal/${path}`;
}

export function RevealValue({ storeId, name }: { storeId: string; name: string }) {
  const id = useId();
  const [state, setState] = useState<State>({ step: 'idle' });
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [copied, setCopied] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  const reasonRef = useRef<HTMLTextAreaElement>(null);
  const valueRef = useRef<HTMLDivElement>(null);

  const shown = state.step === 'shown' ? state : null;
  const hideAt = shown?.hideAt;

  // The countdown runs on a deadline, not a tick count, so a throttled background tab still hides on time.
  useEffect(() => {
    if (hideAt === undefined) return;
    const tick = () => {
      const t = Date.now();
      if (t >= hideAt) {
        setState({ step: 'idle' });
        setCopied(null);
      } else setNow(t);
    };
    const timer = setInterval(tick, 250);
    return () => clearInterval(timer);
  }, [hideAt]);

  useEffect(() => {
    if (state.step === 'asking') reasonRef.current?.focus();
    if (state.step === 'shown') valueRef.current?.focus();
  }, [state.step]);

  function hide() {
    setState({ step: 'idle' });
    setCopied(null);
  }

  async function onSubmit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (state.step === 'loading') return;
    setState({ step: 'loading' });
    setError(null);
    try {
      const res = await fetch(revealUrl(storeId, name), {
        method: 'POST',
        credentials: 'same-origin',
        cache: 'no-store',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason }),
      });
      const body = (await res.json().catch(() => null)) as { value?: unknown; version?: unknown; error?: unknown } | null;
      if (!res.ok || typeof body?.value !== 'string') {
        setError(typeof body?.error === 'string' ? body.error : `The server answered ${res.status}; try again.`);
        setState({ step: 'asking' });
        return;
      }
      setReason('');
      setNow(Date.now());
      setState({ step: 'shown', value: body.value, version: typeof body.version === 'string' ? body.version : undefined, hideAt: Date.now() + SHOW_FOR_MS });
    } catch {
      setError('The server could not be reached; check your connection and try again.');
      setState({ step: 'asking' });
    }
  }

  async function copy() {
    if (!shown) return;
    if (!navigator.clipboard) return setCopied('Copying needs HTTPS here; select the value and copy it yourself.');
    try {
      await navigator.clipboard.writeText(shown.value);
      setCopied('Copied');
    } catch {
      setCopied('Copy failed; select the value and copy it yourself.');
    }
  }

  const secondsLeft = shown ? Math.max(0, Math.ceil((shown.hideAt - now) / 1000)) : 0;

  return (
    <section className="min-w-0 space-y-3 rounded-lg border border-amber-200 bg-amber-50 p-4" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`} className="font-semibold">
        Reveal the value
      </h2>

      {state.step === 'idle' && (
        <>
          <p className="text-sm text-slate-700">Reading the value is recorded in the audit log with your reason.</p>
          <button
            type="button"
            onClick={() => {
              setError(null);
              setState({ step: 'asking' });
            }}
            className="rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white"
          >
            Reveal value…
          </button>
        </>
      )}

      {(state.step === 'asking' || state.step === 'loading') && (
        <form onSubmit={onSubmit} className="space-y-2">
          <ReasonField id={id} label="Why do you need to see it? (required, goes into the audit log)" value={reason} onChange={setReason} textareaRef={reasonRef} />
          {error && (
            <p role="alert" className="break-words text-sm text-red-700">
              {error}
            </p>
          )}
          <div className="flex flex-wrap gap-2">
            <button type="submit" disabled={state.step === 'loading'} className="rounded-md bg-slate-900 px-3 py-1.5 text-sm font-medium text-white disabled:opacity-60">
              {state.step === 'loading' ? 'Revealing…' : 'Reveal'}
            </button>
            <button
              type="button"
              disabled={state.step === 'loading'}
              onClick={() => {
                setError(null);
                setState({ step: 'idle' });
              }}
              className="rounded-md px-3 py-1.5 text-sm font-medium text-slate-700 hover:bg-white disabled:opacity-60"
            >
              Cancel
            </button>
          </div>
        </form>
      )}

      {shown && (
        <div className="space-y-2">
          <div
            ref={valueRef}
            tabIndex={-1}
            aria-label={`Value of ${name}${shown.version ? `, version ${shown.version}` : ''}`}
            className="max-h-64 overflow-auto whitespace-pre-wrap break-all rounded-md border border-slate-300 bg-white p-2 font-mono text-sm"
          >
            {shown.value}
          </div>
          <div className="flex flex-wrap items-center gap-2 text-sm">
            <button type="button" onClick={copy} className="rounded-md bg-slate-900 px-3 py-1.5 font-medium text-white">
              Copy
            </button>
            <button type="button" onClick={hide} className="rounded-md px-3 py-1.5 font-medium text-slate-700 hover:bg-white">
              Hide now
            </button>
            <span className="text-slate-600">
              Hides in <span className="tabular-nums">{secondsLeft}</span> s{shown.version ? ` · version ${shown.version}` : ''}
            </span>
            {copied && (
              <span role="status" className="text-slate-700">
                {copied}
              </span>
            )}
          </div>
        </div>
      )}
    </section>
  );
}
