import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DB_FILE, KEY_FILE, StoreOpenError, type OpenOptions } from '@/lib/stores/embedded/open';
import { EmbeddedStore, MAX_VERSIONS } from '@/lib/stores/embedded/store';
import { DATABASES } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { builtinTarget, newKey, type BuiltinTarget } from './builtin-target';

const stores: EmbeddedStore[] = [];

async function openWith(options: OpenOptions) {
  const opened = await EmbeddedStore.open('local', 'Built-in', options);
  stores.push(opened.store);
  return opened;
}

async function closeAll() {
  await Promise.all(stores.splice(0).map((s) => s.close()));
}

describe.each(DATABASES)('embedded store on %s', (kind) => {
  let target: BuiltinTarget;
  beforeAll(async () => {
    target = await builtinTarget(kind);
  });
  afterEach(async () => {
    await closeAll();
    await target.reset();
  });
  afterAll(async () => {
    await target.cleanup();
  });

  const open = (key: string = newKey()) => openWith(target.options(key));

  describe('opening', () => {
    it('creates the store on first open and keeps its data when reopened with the same key', async () => {
      const key = newKey();
      const first = await open(key);
      expect(first.created).toBe(true);
      await first.store.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
      await closeAll();
      const again = await open(key);
      expect(again.created).toBe(false);
      expect(await again.store.readValue('/a/b')).toBe('v1');
    });

    it('stops with a clear message on a wrong master key and changes nothing', async () => {
      const key = newKey();
      await (await open(key)).store.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
      await closeAll();
      const before = await target.snapshot();
      await expect(open(newKey())).rejects.toThrow(StoreOpenError);
      await expect(open(newKey())).rejects.toThrow(/master key does not match.*Nothing was changed/);
      expect(await target.snapshot()).toEqual(before);
      // The right key still opens it.
      expect(await (await open(key)).store.readValue('/a/b')).toBe('v1');
    });

    it('rejects a MASTER_KEY of the wrong length', async () => {
      await expect(open(Buffer.from('short').toString('base64'))).rejects.toThrow(/exactly 32 bytes/);
    });
  });

  describe('values and versions', () => {
    it('creates versions, reads each one back and moves labels', async () => {
      const { store } = await open();
      await store.putValue({ name: '/app/key', value: 'one', actor: 'alice', labels: ['live'] });
      await store.putValue({ name: '/app/key', value: 'two', actor: 'bob', labels: ['live'] });
      expect(await store.readValue('/app/key')).toBe('two');
      expect(await store.readValue('/app/key', '1')).toBe('one');
      expect(await store.readValue('/app/key', 'live')).toBe('two');
      const detail = await store.getItem('/app/key');
      expect(detail?.versions.map((v) => [v.id, v.createdBy, v.labels])).toEqual([
        ['2', 'bob', ['live']],
        ['1', 'alice', []],
      ]);
      expect(detail?.lastChangedBy).toBe('bob');
      await expect(store.readValue('/app/key', '9')).rejects.toMatchObject({ code: 'not-found' });
      await expect(store.readValue('/app/missing')).rejects.toMatchObject({ code: 'not-found' });
    });

    it(`keeps only the newest ${MAX_VERSIONS} versions`, async () => {
      const { store } = await open();
      await store.putMany(Array.from({ length: MAX_VERSIONS + 5 }, (_, i) => ({ name: '/app/many', value: `v${i + 1}`, actor: 't' })));
      const detail = await store.getItem('/app/many');
      expect(detail?.versions).toHaveLength(MAX_VERSIONS);
      expect(detail?.versions[0]?.id).toBe(String(MAX_VERSIONS + 5));
      expect(detail?.versions.at(-1)?.id).toBe('6');
      await expect(store.readValue('/app/many', '5')).rejects.toMatchObject({ code: 'not-found' });
    });

    it('writes all of a batch or nothing, inventory included', async () => {
      const { store } = await open();
      await expect(
        store.putMany([
          { name: '/ok/one', value: 'a', actor: 't' },
          { name: '/bad name', value: 'b', actor: 't' },
        ]),
      ).rejects.toMatchObject({ code: 'invalid-name' });
      expect(await store.count()).toBe(0);
      expect((await store.inventory.folderPage({ storeId: 'local', folder: '/', recursive: true, limit: 10, namePattern: null })).items).toEqual([]);
    });

    it('keeps its inventory in the same transaction as its writes', async () => {
      const { store } = await open();
      await store.putValue({ name: '/app/db/password', value: 'p1', actor: 'alice', labels: ['live'] });
      await store.writeValue({ name: '/app/db/password', value: 'p2', actor: 'bob', requestId: randomUUID() });
      const indexed = await store.inventory.getItem('local', '/app/db/password');
      expect(indexed).toMatchObject({ version: '2', lastChangedBy: 'bob', labels: [] });
      const children = await store.inventory.childFolders('local', '/app/');
      expect(children.map((c) => [c.path, c.totalItems])).toEqual([['/app/db/', 1]]);
    });

    it('rebuilds its inventory when opened under another store id, labels and rotation failures included', async () => {
      const key = newKey();
      const first = (await open(key)).store;
      await first.putMany([
        { name: '/a/b', value: 'v', actor: 't', labels: ['live'] },
        { name: '/a/c/d', value: 'v', actor: 't' },
        { name: '/a/c/d', value: 'v2', actor: 'u', labels: ['rotated'] },
      ]);
      await first.recordRotationFailure('/a/b', 'rotation function timed out');
      await closeAll();
      const vault = (await EmbeddedStore.open('vault', 'Built-in', target.options(key))).store;
      stores.push(vault);
      expect(await vault.inventory.countStore('vault')).toBe(2);
      expect(await vault.inventory.countStore('local')).toBe(0);
      expect(await vault.inventory.getFolder('vault', '/a/')).toEqual({ directItems: 1, totalItems: 2 });
      expect(await vault.inventory.getItem('vault', '/a/c/d')).toMatchObject({ version: '2', labels: ['rotated'], lastChangedBy: 'u' });
      const failing = await vault.inventory.getItem('vault', '/a/b');
      expect(failing).toMatchObject({ labels: ['live'], extra: { rotationFailure: { message: 'rotation function timed out' } } });
      expect(failing?.freshness.status).toBe('rotation-failing');
    });

    it('stores values encrypted and reports a flipped ciphertext byte as an integrity error', async () => {
      const key = newKey();
      const { store } = await open(key);
      await store.putValue({ name: '/app/token', value: 'PLAINTEXT-MARKER-123', actor: 't' });
      await closeAll();
      if (kind === 'sqlite') {
        const file = path.join(target.dataDir(), DB_FILE);
        expect(readFileSync(file).includes(Buffer.from('PLAINTEXT-MARKER-123'))).toBe(false);
        const conn = new Database(file);
        const row = conn.prepare('SELECT ciphertext FROM versions').get() as { ciphertext: Buffer };
        row.ciphertext[row.ciphertext.length - 1]! ^= 0x01;
        conn.prepare('UPDATE versions SET ciphertext = ?').run(row.ciphertext);
        conn.close();
      } else {
        expect((await target.snapshot()).join('\n')).not.toContain('PLAINTEXT-MARKER-123');
        const client = await target.client();
        try {
          const { rows } = await client.query<{ ciphertext: Buffer }>('SELECT ciphertext FROM versions');
          const ciphertext = rows[0]!.ciphertext;
          expect(Buffer.isBuffer(ciphertext)).toBe(true);
          expect(ciphertext.includes(Buffer.from('PLAINTEXT-MARKER-123'))).toBe(false);
          ciphertext[ciphertext.length - 1]! ^= 0x01;
          await client.query('UPDATE versions SET ciphertext = $1', [ciphertext]);
        } finally {
          await client.end();
        }
      }
      const reopened = (await open(key)).store;
      await expect(reopened.readValue('/app/token')).rejects.toMatchObject({ code: 'integrity' });
      await expect(reopened.readValue('/app/token')).rejects.toThrow(/ciphertext was altered/);
    });
  });
});

describe('embedded store on SQLite: the data directory', () => {
  const temps: { cleanup: () => void }[] = [];
  afterEach(async () => {
    await closeAll();
    temps.splice(0).forEach((t) => t.cleanup());
  });

  function freshDir() {
    const temp = makeTempDir();
    temps.push(temp);
    return temp.dir;
  }

  const open = (dataDir: string, masterKeyBase64?: string) => openWith({ dataDir, masterKeyBase64 });

  /** Name, size and hash of every file in a folder: proof that nothing on disk changed. */
  function snapshot(dir: string) {
    return readdirSync(dir)
      .sort()
      .map((f) => `${f}:${statSync(path.join(dir, f)).size}:${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`);
  }

  it('generates a master key file with mode 0600 on first start', async () => {
    const dir = freshDir();
    const { created } = await open(dir);
    expect(created).toBe(true);
    const keyPath = path.join(dir, KEY_FILE);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyPath, 'utf8'), 'base64')).toHaveLength(32);
  });

  it('uses MASTER_KEY when given and writes no key file', async () => {
    const dir = freshDir();
    await open(dir, randomBytes(32).toString('base64'));
    expect(existsSync(path.join(dir, KEY_FILE))).toBe(false);
  });

  it('refuses to invent a new key for an existing database whose key is missing', async () => {
    const dir = freshDir();
    await open(dir);
    await closeAll();
    const keyPath = path.join(dir, KEY_FILE);
    const key = readFileSync(keyPath);
    rmSync(keyPath);
    const before = snapshot(dir);
    await expect(open(dir)).rejects.toThrow(/there is no master key/);
    expect(snapshot(dir)).toEqual(before);
    writeFileSync(keyPath, key, { mode: 0o600 });
    expect((await open(dir)).created).toBe(false);
  });

  it('adopts a secrets.db made before migrations, keeping its items and schema version', async () => {
    const dir = freshDir();
    const key = newKey();
    const { store } = await open(dir, key);
    await store.putValue({ name: '/old/item', value: 'kept', actor: 't' });
    await closeAll();
    // As the code before migrations left it: no bookkeeping tables, no rotation_failures.
    const conn = new Database(path.join(dir, DB_FILE));
    const bookkeeping = conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'migrations%'").all() as { name: string }[];
    expect(bookkeeping.length).toBeGreaterThan(0);
    for (const { name } of bookkeeping) conn.exec(`DROP TABLE ${name}`);
    conn.exec('DROP TABLE rotation_failures');
    conn.close();
    const again = await open(dir, key);
    expect(again.created).toBe(false);
    expect(await again.store.readValue('/old/item')).toBe('kept');
    await again.store.recordRotationFailure('/old/item', 'rotation function timed out');
    await closeAll();
    const check = new Database(path.join(dir, DB_FILE), { readonly: true });
    expect(check.prepare("SELECT value FROM meta WHERE key = 'schema_version'").get()).toEqual({ value: '1' });
    check.close();
  });

  it('rejects a MASTER_KEY of the wrong length', async () => {
    await expect(open(freshDir(), Buffer.from('short').toString('base64'))).rejects.toThrow(/exactly 32 bytes/);
  });

  it.each([
    ['garbage', (file: string) => writeFileSync(file, Buffer.alloc(8192, 0x5a))],
    [
      'a truncated database',
      (file: string) => {
        const bytes = readFileSync(file);
        writeFileSync(file, bytes.subarray(0, 100));
      },
    ],
    [
      'a foreign database',
      (file: string) => {
        rmSync(file);
        const other = new Database(file);
        other.exec('CREATE TABLE t (x)');
        other.close();
      },
    ],
  ])('stops with a clear message on %s and changes nothing on disk', async (_label, damage) => {
    const dir = freshDir();
    const key = randomBytes(32).toString('base64');
    await (await open(dir, key)).store.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
    await closeAll();
    damage(path.join(dir, DB_FILE));
    const before = snapshot(dir);
    const error = await open(dir, key).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StoreOpenError);
    const message = (error as Error).message;
    expect(message).toMatch(/damaged|not a secrets dashboard database|integrity/);
    expect(message).toMatch(/Nothing was changed/);
    expect(snapshot(dir)).toEqual(before);
  });
});
