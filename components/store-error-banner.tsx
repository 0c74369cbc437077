/** A store failed: name it and the cause; the rest of the page keeps working. */
export function StoreErrorBanner({ storeId, code, message }: { storeId: string; code: string; message: string }) {
  return (
    <div role="alert" className="rounded-md border border-red-200 bg-red-50 px-4 py-3 text-sm text-red-800">
      <p className="font-medium">
        Store “{storeId}” could not be read ({code}).
      </p>
      <p className="mt-1">{message}</p>
    </div>
  );
}
