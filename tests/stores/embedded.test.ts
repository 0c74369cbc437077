import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { DB_FILE, KEY_FILE, StoreOpenError } from '@/lib/stores/embedded/open';
import { EmbeddedStore, MAX_VERSIONS } from '@/lib/stores/embedded/store';
import { makeTempDir } from '../support/temp-dir';

const temps: { cleanup: () => void }[] = [];
const stores: EmbeddedStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  temps.splice(0).forEach((t) => t.cleanup());
});

function freshDir() {
  const temp = makeTempDir();
  temps.push(temp);
  return temp.dir;
}

function open(dataDir: string, masterKeyBase64?: string) {
  const opened = EmbeddedStore.open('local', 'Built-in', { dataDir, masterKeyBase64 });
  stores.push(opened.store);
  return opened;
}

/** Name, size and hash of every file in a folder: proof that nothing on disk changed. */
function snapshot(dir: string) {
  return readdirSync(dir)
    .sort()
    .map((f) => `${f}:${statSync(path.join(dir, f)).size}:${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`);
}

async function closeAll() {
  await Promise.all(stores.splice(0).map((s) => s.close()));
}

describe('embedded store: opening', () => {
  it('generates a master key file with mode 0600 on first start', async () => {
    const dir = freshDir();
    const { created } = open(dir);
    expect(created).toBe(true);
    const keyPath = path.join(dir, KEY_FILE);
    expect(statSync(keyPath).mode & 0o777).toBe(0o600);
    expect(Buffer.from(readFileSync(keyPath, 'utf8'), 'base64')).toHaveLength(32);
  });

  it('uses MASTER_KEY when given and writes no key file', async () => {
    const dir = freshDir();
    open(dir, randomBytes(32).toString('base64'));
    expect(existsSync(path.join(dir, KEY_FILE))).toBe(false);
  });

  it('reopens with the same key and keeps the data', async () => {
    const dir = freshDir();
    const first = open(dir).store;
    await first.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
    await closeAll();
    const again = open(dir);
    expect(again.created).toBe(false);
    expect(await again.store.readValue('/a/b')).toBe('v1');
  });

  it('stops with a clear message on a wrong master key and changes nothing on disk', async () => {
    const dir = freshDir();
    const key = randomBytes(32).toString('base64');
    await open(dir, key).store.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
    await closeAll();
    const before = snapshot(dir);
    expect(() => open(dir, randomBytes(32).toString('base64'))).toThrow(StoreOpenError);
    expect(() => open(dir, randomBytes(32).toString('base64'))).toThrow(/master key does not match/);
    expect(snapshot(dir)).toEqual(before);
  });

  it('refuses to invent a new key for an existing database whose key is missing', async () => {
    const dir = freshDir();
    open(dir);
    await closeAll();
    const keyPath = path.join(dir, KEY_FILE);
    const key = readFileSync(keyPath);
    rmSync(keyPath);
    const before = snapshot(dir);
    expect(() => open(dir)).toThrow(/there is no master key/);
    expect(snapshot(dir)).toEqual(before);
    writeFileSync(keyPath, key, { mode: 0o600 });
    expect(open(dir).created).toBe(false);
  });

  it('rejects a MASTER_KEY of the wrong length', () => {
    expect(() => open(freshDir(), Buffer.from('short').toString('base64'))).toThrow(/exactly 32 bytes/);
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
    await open(dir, key).store.putValue({ name: '/a/b', value: 'v1', actor: 'test' });
    await closeAll();
    damage(path.join(dir, DB_FILE));
    const before = snapshot(dir);
    let message = '';
    try {
      open(dir, key);
    } catch (error) {
      expect(error).toBeInstanceOf(StoreOpenError);
      message = (error as Error).message;
    }
    expect(message).toMatch(/damaged|not a secrets dashboard database|integrity/);
    expect(message).toMatch(/Nothing was changed/);
    expect(snapshot(dir)).toEqual(before);
  });
});

describe('embedded store: values and versions', () => {
  it('creates versions, reads each one back and moves labels', async () => {
    const store = open(freshDir()).store;
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
    const store = open(freshDir()).store;
    await store.putMany(Array.from({ length: MAX_VERSIONS + 5 }, (_, i) => ({ name: '/app/many', value: `v${i + 1}`, actor: 't' })));
    const detail = await store.getItem('/app/many');
    expect(detail?.versions).toHaveLength(MAX_VERSIONS);
    expect(detail?.versions[0]?.id).toBe(String(MAX_VERSIONS + 5));
    expect(detail?.versions.at(-1)?.id).toBe('6');
    await expect(store.readValue('/app/many', '5')).rejects.toMatchObject({ code: 'not-found' });
  });

  it('writes all of a batch or nothing', async () => {
    const store = open(freshDir()).store;
    await expect(
      store.putMany([
        { name: '/ok/one', value: 'a', actor: 't' },
        { name: '/bad name', value: 'b', actor: 't' },
      ]),
    ).rejects.toMatchObject({ code: 'invalid-name' });
    expect(await store.count()).toBe(0);
  });

  it('stores values encrypted and reports a flipped ciphertext byte as an integrity error', async () => {
    const dir = freshDir();
    const store = open(dir).store;
    await store.putValue({ name: '/app/token', value: 'PLAINTEXT-MARKER-123', actor: 't' });
    await closeAll();
    const raw = readFileSync(path.join(dir, DB_FILE));
    expect(raw.includes(Buffer.from('PLAINTEXT-MARKER-123'))).toBe(false);

    const conn = new Database(path.join(dir, DB_FILE));
    const row = conn.prepare('SELECT ciphertext FROM versions').get() as { ciphertext: Buffer };
    row.ciphertext[row.ciphertext.length - 1]! ^= 0x01;
    conn.prepare('UPDATE versions SET ciphertext = ?').run(row.ciphertext);
    conn.close();

    const reopened = open(dir).store;
    const failure = reopened.readValue('/app/token');
    await expect(failure).rejects.toMatchObject({ code: 'integrity' });
    await expect(reopened.readValue('/app/token')).rejects.toThrow(/ciphertext was altered/);
  });
});
