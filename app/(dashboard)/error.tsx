'use client';

// Unexpected failures: say what failed and what to do; never a stack or a message from the server
// (Next.js replaces server error messages with a digest in production anyway).
export default function DashboardError({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 p-4 text-sm text-red-800">
      <p className="font-medium">This page could not be loaded.</p>
      <p className="mt-1">
        Try again; if it keeps failing, check the server log{error.digest ? ` for reference ${error.digest}` : ''}.
      </p>
      <button type="button" onClick={reset} className="mt-3 rounded bg-red-700 px-3 py-1 text-white">
        Try again
      </button>
    </div>
  );
}
