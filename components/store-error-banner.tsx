// The cause in words for a person; the code stays beside it for those who search logs and docs.
const CAUSES: Record<string, string> = {
  'access-denied': 'access refused',
  throttled: 'rate limited',
  'not-found': 'not found',
  'credentials-expired': 'credentials refused or expired',
  timeout: 'no answer in time',
  'invalid-name': 'a name it cannot show',
  integrity: 'integrity check failed',
  unavailable: 'unavailable',
};

/** A store failed: name it and the cause; the rest of the page keeps working. */
export function StoreErrorBanner({ storeId, code, message }: { storeId: string; code: string; message: string }) {
  return (
    <div role="alert" data-testid="store-error" data-code={code} className="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
      <p className="font-medium">
        Store “{storeId}” could not be read: {CAUSES[code] ?? 'failed'} ({code}).
      </p>
      <p className="mt-1 break-words">{message}</p>
    </div>
  );
}
