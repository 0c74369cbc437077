import { createHash } from 'node:crypto';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE } from '@/lib/stores/embedded/open';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { DATABASES } from '../support/databases';
import { builtinTarget, newKey, type BuiltinTarget } from './builtin-target';

// The built-in store keeps each version's metadata as it was written (migration 0002) and tells
// whether two versions hold the same value by keyed fingerprints, on both dialects.

describe.each(DATABASES)('built-in store version metadata on %s', (kind) => {
  let target: BuiltinTarget;
  const stores: EmbeddedStore[] = [];
  const open = async (key: string) => {
    const { store } = await EmbeddedStore.open('local', 'Built-in', target.options(key));
    stores.push(store);
    return store;
  };
  beforeAll(async () => {
    target = await builtinTarget(kind);
  });
  afterEach(async () => {
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await target.reset();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  it('records kind, description, tags and KMS key per version, as each write left them', async () => {
    const store = await open(newKey());
    await store.putValue({ name: '/a/key', value: 'one', kind: 'SecureString', description: 'first', tags: { team: 'a' }, actor: 't' });
    await store.putValue({ name: '/a/key', value: 'two', kind: 'String', description: 'second', tags: { team: 'b', env: 'prod' }, actor: 't' });
    // A write without description or tags keeps the item's.
    await store.writeValue({ name: '/a/key', value: 'three', actor: 't', requestId: 'r' });
    const item = (await store.getItem('/a/key'))!;
    expect(item.versions.map((v) => [v.id, v.metadata])).toEqual([
      ['3', { type: 'String', description: 'second', tags: { team: 'b', env: 'prod' }, kmsKeyId: null }],
      ['2', { type: 'String', description: 'second', tags: { team: 'b', env: 'prod' }, kmsKeyId: null }],
      ['1', { type: 'SecureString', description: 'first', tags: { team: 'a' }, kmsKeyId: 'local/master-key' }],
    ]);
  });

  it.runIf(kind === 'sqlite')('a store from before migration 0002 gets the column; its old versions have no metadata, new ones do', async () => {
    const key = newKey();
    let store = await open(key);
    await store.putValue({ name: '/a/key', value: 'one', description: 'd', actor: 't' });
    await Promise.all(stores.splice(0).map((s) => s.close()));
    // Back to the tables as they were before the migration.
    const db = new Database(path.join(target.dataDir(), DB_FILE));
    try {
      db.exec('ALTER TABLE versions DROP COLUMN metadata');
      db.prepare("DELETE FROM migrations_builtin WHERE name = '0002-version-metadata'").run();
    } finally {
      db.close();
    }
    store = await open(key);
    await store.putValue({ name: '/a/key', value: 'two', actor: 't' });
    const item = (await store.getItem('/a/key'))!;
    expect(item.versions.map((v) => [v.id, v.metadata?.description])).toEqual([
      ['2', 'd'],
      ['1', undefined],
    ]);
    expect(item.versions[1]).not.toHaveProperty('metadata');
  });

  it('fingerprints values with a key of the master key: same value same print, another key another, never the plain hash', async () => {
    const key = newKey();
    const store = await open(key);
    for (const value of ['same', 'same', 'other']) await store.putValue({ name: '/a/key', value, actor: 't' });
    const prints = await store.valueFingerprints('/a/key', ['1', '2', '3', '99']);
    expect([...prints.keys()]).toEqual(['1', '2', '3']);
    expect(prints.get('1')).toBe(prints.get('2'));
    expect(prints.get('1')).not.toBe(prints.get('3'));
    expect(prints.get('1')).not.toBe(createHash('sha256').update('same').digest('hex'));

    // The same values in a store under another master key print differently.
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await target.reset();
    const other = await open(newKey());
    for (const value of ['same', 'same', 'other']) await other.putValue({ name: '/a/key', value, actor: 't' });
    expect((await other.valueFingerprints('/a/key', ['1'])).get('1')).not.toBe(prints.get('1'));
  });
});
