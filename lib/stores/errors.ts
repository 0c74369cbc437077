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

export class StoreError extends Error {
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
  return error instanceof StoreError;
}
