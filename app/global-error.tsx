'use client';

import { useSyncExternalStore } from 'react';
import { themeChoiceFromCookieHeader } from '@/lib/theme-choice';
import './globals.css';

const noSubscription = () => () => undefined;

// Shown when the root layout itself fails. Next.js's built-in one styles itself with inline style
// attributes, which the Content Security Policy refuses; this one uses the app's stylesheet only.
// It names no cause: the server log has it, under the digest shown here. It is in the theme the
// person chose (the theme cookie, read in the browser: this replaces the root layout, which reads it
// on the server): Next.js draws it in the browser, over an empty error document when the server's
// render failed, so the chosen theme is there from its first paint.
export default function GlobalError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const theme = useSyncExternalStore(
    noSubscription,
    () => themeChoiceFromCookieHeader(document.cookie),
    () => 'system' as const,
  );
  return (
    <html lang="en" data-theme={theme === 'system' ? undefined : theme}>
      <body className="min-h-screen">
        <main className="mx-auto max-w-2xl px-6 py-16">
          <p className="text-sm text-slate-500">500 · Server error</p>
          <h1 className="mt-2 text-2xl font-semibold">The dashboard could not show this page</h1>
          <p className="mt-3 text-slate-700">
            Try again in a moment. If it keeps failing, ask an administrator to look at the server log
            {error.digest ? (
              <>
                {' '}
                for <code className="rounded bg-slate-200 px-1.5 py-0.5">{error.digest}</code>
              </>
            ) : null}
            .
          </p>
          <p className="mt-6">
            <button type="button" onClick={() => reset()} className="rounded border border-slate-300 px-3 py-1.5 underline">
              Try again
            </button>
          </p>
        </main>
      </body>
    </html>
  );
}
