import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { isStoreError } from '@/lib/stores/errors';
import { DATABASES } from '../support/databases';
import { builtinTarget, newKey, type BuiltinTarget } from './builtin-target';

// The built-in store's own last line: whatever its caller checked, it never stores a name with a
// "." or ".." level, an empty level or a control character. The write throws an invalid-name
// StoreError naming the level, and a batch holding one such name writes nothing at all.

const BAD_NAMES = [
  ['a ".." level', '/prod/payments/../../staging/KEY', /Name "\/prod\/payments\/\.\.\/\.\.\/staging\/KEY" has a "\.\." level \(level 3\)/],
  ['a "." level', '/prod/./payments/key', /has a "\." level \(level 2\)/],
  ['an empty level', '/prod//payments/key', /has an empty level \(level 2, a "\/\/"\)/],
  ['a control character', '/prod/payments/k\u001bey', /Name contains "\\u001b" \(first in level 3\)/],
] as const;

describe.each(DATABASES)('the built-in store refuses names a write may not create (%s)', (kind) => {
  let target: BuiltinTarget;
  let store: EmbeddedStore;
  beforeAll(async () => {
    target = await builtinTarget(kind);
    ({ store } = await EmbeddedStore.open('local', 'Built-in', target.options(newKey())));
    await store.putValue({ name: '/prod/payments/key', value: 'first', actor: 'test' });
  });
  afterAll(async () => {
    await store?.close();
    await target?.cleanup();
  });

  async function refusal(write: () => Promise<unknown>): Promise<Error> {
    const error = await write().then(
      () => null,
      (e: unknown) => e as Error,
    );
    expect(error, 'the write should have been refused').not.toBeNull();
    expect(isStoreError(error) && error.code).toBe('invalid-name');
    return error!;
  }

  const writes = {
    putValue: (name: string) => store.putValue({ name, value: 'refused-VALUE', actor: 'test' }),
    'putMany (with a good name first)': (name: string) =>
      store.putMany([
        { name: '/prod/payments/good', value: 'refused-VALUE', actor: 'test' },
        { name, value: 'refused-VALUE', actor: 'test' },
      ]),
    writeValue: (name: string) => store.writeValue({ name, value: 'refused-VALUE', actor: 'test', requestId: 'r', labels: [] }),
  };

  const cases = Object.keys(writes).flatMap((method) => BAD_NAMES.map(([label, name, message]) => ({ method: method as keyof typeof writes, label, name, message })));

  it.each(cases)('$method of a name with $label throws naming it and writes nothing', async ({ method, name, message }) => {
    const before = await target.snapshot();
    const error = await refusal(() => writes[method](name));
    expect(error.message).toMatch(message);
    expect(await target.snapshot()).toEqual(before);
    expect(await store.count()).toBe(1);
  });

  it('writes the same names without such levels (the refusal is the name)', async () => {
    await store.putMany([
      { name: '/prod/payments/good', value: 'v', actor: 'test' },
      { name: '/staging/KEY', value: 'v', actor: 'test' },
    ]);
    expect(await store.count()).toBe(3);
    expect((await store.getItem('/prod/payments/key'))!.currentVersion).toBe('1');
  });
});
