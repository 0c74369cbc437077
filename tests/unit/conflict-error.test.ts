import { describe, expect, it, vi } from 'vitest';
import { ConflictError } from '@/lib/conflict-error';

// A ConflictError from another bundled copy of the module (a store opened by the instrumentation hook)
// is still one for the server action that catches it, so the user gets its 409 message, not a 500.

describe('ConflictError', () => {
  it('is recognised across copies of the module, and plain errors are not', async () => {
    const own = new ConflictError('someone else wrote a new version');
    vi.resetModules();
    const { ConflictError: OtherCopy } = await import('@/lib/conflict-error');
    expect(OtherCopy).not.toBe(ConflictError);
    const fromOther = new OtherCopy('someone else wrote a new version');
    expect(fromOther instanceof ConflictError).toBe(true);
    expect(own instanceof OtherCopy).toBe(true);
    expect(fromOther).toBeInstanceOf(Error);
    expect(fromOther.message).toBe('someone else wrote a new version');
    expect(new Error('no') instanceof ConflictError).toBe(false);
    expect((null as unknown as object) instanceof ConflictError).toBe(false);
    expect({ name: 'ConflictError', message: 'x' } instanceof ConflictError).toBe(false);
  });
});
