// Typed store failures. Messages name the store and the cause and say what to do; they never
// carry a value, a stack or a raw backend payload, so pages can show them as they are.

export const STORE_ERROR_CODES = [
  'access-denied',
  'throttled',
  'not-found',
  'credentials-expired',
  'timeout',
  'invalid-name',
  'integrity',
  'unavailable',
] as const;
export type StoreErrorCode = (typeof STORE_ERROR_CODES)[number];

// Next.js bundles server code more than once (the instrumentation hook that opens the stores, and
// each page), so a StoreError thrown by a store can come from another copy of this class than the
// page's: `instanceof` is false across copies. A registry-wide symbol marks every copy's instances.
const STORE_ERROR = Symbol.for('secrets-dashboard.StoreError');

export class StoreError extends Error {
  readonly [STORE_ERROR] = true;
  readonly code: StoreErrorCode;
  readonly storeId: string;

  constructor(code: StoreErrorCode, storeId: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
    this.code = code;
    this.storeId = storeId;
  }
}

export function isStoreError(error: unknown): error is StoreError {
  return error instanceof StoreError || (typeof error === 'object' && error !== null && (error as { [STORE_ERROR]?: unknown })[STORE_ERROR] === true);
}

/** Refuses a name that broke a naming rule, before any backend call. */
export function refuseBadName(storeId: string, problem: { rule: string; message: string } | null): void {
  if (problem) throw new StoreError('invalid-name', storeId, `${problem.message} (rule: ${problem.rule})`);
}
