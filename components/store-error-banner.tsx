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

/** A store's message without its leading `Store "id": `, which the banner's first line already says. */
export function withoutStoreHead(storeId: string, message: string): string {
  const head = `Store "${storeId}": `;
  if (!message.startsWith(head)) return message;
  const rest = message.slice(head.length);
  return rest.charAt(0).toUpperCase() + rest.slice(1);
}

/** A store failed: name it and the cause; the rest of the page keeps working. */
export function StoreErrorBanner({ storeId, code, message }: { storeId: string; code: string; message: string }) {
  const cause = CAUSES[code] ?? 'failed';
  return (
    <div role="alert" data-testid="store-error" data-code={code} className="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
      <p className="font-medium">
        Store “{storeId}” could not be read: {cause}
        {cause === code ? '' : ` (${code})`}.
      </p>
      <p className="mt-1 break-words">{withoutStoreHead(storeId, message)}</p>
    </div>
  );
}
