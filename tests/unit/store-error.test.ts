import { describe, expect, it, vi } from 'vitest';

// Next.js bundles lib/stores/errors.ts into more than one server chunk (the instrumentation hook
// that opens the stores, and each page), so the StoreError a store throws can be an instance of
// another copy of the class. Pages must still recognise it and show the store's banner.

describe('isStoreError', () => {
  it('recognises a StoreError made by another copy of the module', async () => {
    const first = await import('@/lib/stores/errors');
    vi.resetModules();
    const second = await import('@/lib/stores/errors');
    expect(second.StoreError).not.toBe(first.StoreError);

    const error = new first.StoreError('access-denied', 'prod-params', 'Store "prod-params": denied');
    expect(error instanceof second.StoreError).toBe(false);
    expect(second.isStoreError(error)).toBe(true);
    expect(first.isStoreError(error)).toBe(true);
  });

  it('rejects look-alikes and other errors', async () => {
    const { isStoreError } = await import('@/lib/stores/errors');
    expect(isStoreError(Object.assign(new Error('x'), { name: 'StoreError', code: 'access-denied', storeId: 'a' }))).toBe(false);
    expect(isStoreError(new Error('x'))).toBe(false);
    expect(isStoreError(null)).toBe(false);
    expect(isStoreError('StoreError')).toBe(false);
  });
});
