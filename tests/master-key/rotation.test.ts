import { existsSync, readdirSync, readFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import pg from 'pg';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { listAudit, verifyAuditChain } from '@/lib/audit/audit-log';
import { readEnv } from '@/lib/config/env';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { kmsSealConfigFromEnv } from '@/lib/crypto/kms';
import { KEY_FILE, KMS_KEY_FILE, MASTER_KEY_KMS_META, type MasterKeyKind } from '@/lib/crypto/master-key';
import { rotateMasterKey, RotationFailed, RotationRefused, type RotationRequest } from '@/lib/crypto/rotate-master-key';
import { DB_FILE, openEmbeddedDatabase, type OpenOptions } from '@/lib/stores/embedded/open';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import type { SimulatedKms } from '@/simulator/simulated-kms';
import { DATABASES, useDatabase, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import {
  AWS_TEST_ENV,
  DEPLOYMENT,
  dirSnapshot,
  KMS_KEY_A,
  KMS_KEY_B,
  metaRow,
  newKeyBase64,
  openWith,
  rawVersions,
  readAll,
  schemaSnapshot,
  seedStore,
  seedValues,
  startKms,
} from './support';

// npm run rotate-master-key's work (lib/crypto/rotate-master-key.ts), in process: for each move
// between homes the store supports, every value reads the same afterwards, every data key is
// wrapped under the new key and none under the old, the values' ciphertexts are untouched, the old
// home is gone (no plaintext key left on disk after a switch to KMS or MASTER_KEY), and the audit
// log has the rotation without a key byte. Bad input changes nothing.

const SETTINGS = ['DATA_DIR', 'DATABASE_URL', 'MASTER_KEY', 'MASTER_KEY_KMS_KEY_ID', 'MASTER_KEY_KMS_REGION', 'MASTER_KEY_KMS_ENDPOINT', 'DEPLOYMENT_NAME', 'NEW_MASTER_KEY', ...Object.keys(AWS_TEST_ENV)];
const saved = Object.fromEntries(SETTINGS.map((k) => [k, process.env[k]]));

const MOVES: Record<DatabaseKind, [MasterKeyKind, MasterKeyKind][]> = {
  sqlite: [
    ['file', 'file'],
    ['file', 'kms'],
    ['kms', 'kms'],
    ['kms', 'file'],
    ['env', 'env'],
    ['env', 'kms'],
  ],
  // A key file would be one replica's: on PostgreSQL the homes are MASTER_KEY and the sealed row.
  postgres: [
    ['env', 'env'],
    ['env', 'kms'],
    ['kms', 'kms'],
    ['kms', 'env'],
  ],
};

let kms: SimulatedKms;
beforeAll(async () => {
  Object.assign(process.env, AWS_TEST_ENV);
  kms = await startKms();
});
afterAll(async () => {
  await kms.close();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
});

/**
 * Points the settings at a home: MASTER_KEY for env, MASTER_KEY_KMS_KEY_ID for kms, neither for
 * file. The KMS region and endpoint (the simulator) stay set: a move to KMS uses them too.
 */
function useHome(kind: MasterKeyKind, opts: { masterKey?: string; kmsKeyId?: string } = {}): void {
  for (const k of ['MASTER_KEY', 'MASTER_KEY_KMS_KEY_ID', 'NEW_MASTER_KEY']) delete process.env[k];
  Object.assign(process.env, { DEPLOYMENT_NAME: DEPLOYMENT, MASTER_KEY_KMS_REGION: 'us-east-1', MASTER_KEY_KMS_ENDPOINT: kms.url });
  if (kind === 'env') process.env.MASTER_KEY = opts.masterKey ?? newKeyBase64();
  if (kind === 'kms') process.env.MASTER_KEY_KMS_KEY_ID = opts.kmsKeyId ?? KMS_KEY_A;
}

/** How the server opens the store with the current settings (lib/crypto/keyring.ts does the same). */
function serverOptions(): OpenOptions {
  const env = readEnv();
  return { dataDir: env.DATA_DIR, masterKeyBase64: env.MASTER_KEY || undefined, databaseUrl: env.DATABASE_URL, kms: kmsSealConfigFromEnv(env) };
}

async function masterKeyOf(options: OpenOptions): Promise<Buffer> {
  const opened = await openEmbeddedDatabase(options);
  await opened.close();
  return opened.masterKey;
}

function request(over: Partial<RotationRequest> = {}): RotationRequest {
  return { env: readEnv(), newKeyEnvName: 'NEW_MASTER_KEY', newKeyBase64: process.env.NEW_MASTER_KEY, actor: 'os:tester', ...over };
}

/** No form of the key appears in any file of the folder. */
function expectKeyNowhereIn(dir: string, key: Buffer): void {
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(path.join(dir, f));
    for (const form of [key.toString('base64'), key.toString('hex')]) expect(bytes.includes(Buffer.from(form)), `${f} holds a key`).toBe(false);
  }
}

describe.each(DATABASES)('rotate-master-key on %s', (kind) => {
  let temp: ReturnType<typeof makeTempDir>;
  let database: Awaited<ReturnType<typeof useDatabase>>;
  beforeEach(async () => {
    temp = makeTempDir('secrets-rotation-');
    database = await useDatabase(kind);
    process.env.DATA_DIR = temp.dir;
  });
  afterEach(async () => {
    await closeKeyrings();
    await database.cleanup();
    temp.cleanup();
  });

  it.each(MOVES[kind])('%s → %s: every value reads the same, only the new key unwraps the data keys, audited without key bytes', async (from, to) => {
    useHome(from);
    const values = seedValues(12, 3);
    await seedStore(serverOptions(), values);
    const oldKey = await masterKeyOf(serverOptions());
    const before = await rawVersions(temp.dir, database.url);
    expect(openWith(before, oldKey)).toBe(36);

    const newEnvKey = to === 'env' ? newKeyBase64() : undefined;
    const kmsKeyId = to === 'kms' ? (from === 'kms' ? KMS_KEY_B : KMS_KEY_A) : undefined;
    const outcome = await rotateMasterKey(request({ to, kmsKeyId, newKeyBase64: newEnvKey }));
    await closeKeyrings();
    expect(outcome.versionsRewrapped).toBe(36);
    expect(outcome.from.kind).toBe(from);
    expect(outcome.to.kind).toBe(to);
    expect(outcome.nextSteps.join('\n')).toMatch(/start the servers/);

    // The settings the operator is told to use.
    useHome(to, { masterKey: newEnvKey, kmsKeyId });
    expect(await readAll(serverOptions(), values)).toEqual(values);
    const newKey = await masterKeyOf(serverOptions());
    expect(newKey.equals(oldKey)).toBe(false);
    const after = await rawVersions(temp.dir, database.url);
    expect(openWith(after, newKey)).toBe(36);
    expect(openWith(after, oldKey)).toBe(0);
    // Envelope encryption: only the wrapped keys changed, not one value's ciphertext.
    expect(after.map((v) => v.ciphertext.toString('hex'))).toEqual(before.map((v) => v.ciphertext.toString('hex')));

    const files = existsSync(temp.dir) ? readdirSync(temp.dir) : [];
    expect(files.filter((f) => f.endsWith('.pending'))).toEqual([]);
    if (kind === 'sqlite') {
      expect(files.includes(KEY_FILE)).toBe(to === 'file');
      expect(files.includes(KMS_KEY_FILE)).toBe(to === 'kms');
      if (to !== 'file') expectKeyNowhereIn(temp.dir, newKey);
      expectKeyNowhereIn(temp.dir, oldKey);
    } else {
      expect((await metaRow(MASTER_KEY_KMS_META, temp.dir, database.url)) !== undefined).toBe(to === 'kms');
      expect(files.filter((f) => f.startsWith('master.key'))).toEqual([]);
    }

    const entry = (await listAudit(10)).find((e) => e.action === 'master-key.rotate');
    expect(entry).toMatchObject({ actor: 'os:tester', outcome: 'success', target: 'master key', details: { from, to, versionsRewrapped: 36 } });
    if (to === 'kms') expect(entry?.details.kmsKeyId).toBe(kms.keyArn(kmsKeyId!));
    const text = JSON.stringify(entry);
    for (const key of [oldKey, newKey]) for (const form of [key.toString('base64'), key.toString('hex')]) expect(text).not.toContain(form);
    // The audit chain key was re-wrapped, not changed: a server on the new settings verifies the chain, rotation entry included.
    await closeKeyrings();
    expect(await verifyAuditChain()).toMatchObject({ intact: true });
  });

  it('a server still holding the old key refuses to write or read after a rotation: restart it', async () => {
    useHome('env');
    const values = seedValues(2, 1);
    await seedStore(serverOptions(), values);
    const { store: stale } = await EmbeddedStore.open('local', 'Built-in', serverOptions());
    try {
      await rotateMasterKey(request({ to: 'env', newKeyBase64: newKeyBase64() }));
      const [name] = [...values.keys()];
      await expect(stale.putValue({ name: name!, value: 'written under the old key', actor: 't' })).rejects.toThrow(
        /master key of store "local" was rotated .*restart the server.*Nothing was written/,
      );
      await expect(stale.readValue(name!)).rejects.toThrow(/was rotated .*restart the server/);
    } finally {
      await stale.close();
    }
    const raw = await rawVersions(temp.dir, database.url);
    expect(raw).toHaveLength(2);
  });

  it('refuses bad input and changes nothing: a KMS key that does not exist, a missing new key, a malformed one', async () => {
    useHome('env');
    await seedStore(serverOptions(), seedValues(3, 2));
    const snapshot = async () => [...dirSnapshot(temp.dir), ...(database.url ? await schemaSnapshot(database.url) : [])];
    // Reading the audit log first: it creates app.db, which the snapshot then covers.
    const auditBefore = (await listAudit(50)).length;
    const before = await snapshot();

    const unknownKey = '11111111-2222-4333-8444-555555555555';
    const wrongKms = await rotateMasterKey(request({ to: 'kms', kmsKeyId: unknownKey })).catch((e: unknown) => e);
    expect(wrongKms).toBeInstanceOf(RotationFailed);
    expect((wrongKms as Error).message).toMatch(new RegExp(`${unknownKey}.*NotFoundException.*Nothing was changed`));
    await closeKeyrings();

    const missing = await rotateMasterKey(request({ to: 'env', newKeyBase64: undefined })).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(RotationRefused);
    expect((missing as Error).message).toMatch(/NEW_MASTER_KEY, which is unset.*openssl rand -base64 32.*Nothing was changed/);

    const short = await rotateMasterKey(request({ to: 'env', newKeyBase64: Buffer.alloc(16).toString('base64') })).catch((e: unknown) => e);
    expect(short).toBeInstanceOf(RotationRefused);
    expect((short as Error).message).toMatch(/exactly 32 bytes/);

    const same = await rotateMasterKey(request({ to: 'env', newKeyBase64: process.env.MASTER_KEY })).catch((e: unknown) => e);
    expect(same).toBeInstanceOf(RotationRefused);
    expect((same as Error).message).toMatch(/holds the current master key/);
    await closeKeyrings();

    if (kind === 'postgres') {
      const file = await rotateMasterKey(request({ to: 'file' })).catch((e: unknown) => e);
      expect(file).toBeInstanceOf(RotationRefused);
      expect((file as Error).message).toMatch(/DATABASE_URL is set.*--to env.*--to kms/);
    }

    expect(await snapshot()).toEqual(before);
    expect((await listAudit(50)).length).toBe(auditBefore);
  });

  it('a data key the current key cannot unwrap stops the rotation: rolled back whole, named, audited as a failure', async () => {
    useHome('env');
    const values = seedValues(6, 2);
    await seedStore(serverOptions(), values);
    // One version's wrapped key altered after the fact.
    const alter = 'UPDATE versions SET wrapped_key = $1 WHERE version = 2 AND item_id = (SELECT min(item_id) FROM versions)';
    const garbage = Buffer.alloc(60, 7);
    if (database.url) {
      const client = new pg.Client({ connectionString: database.url, options: '-c search_path=builtin' });
      await client.connect();
      await client.query(alter, [garbage]).finally(() => client.end());
    } else {
      const conn = new Database(path.join(temp.dir, DB_FILE));
      conn.prepare(alter.replace('$1', '?')).run(garbage);
      conn.close();
    }
    const storeFiles = () => dirSnapshot(temp.dir).filter((f) => !f.startsWith('app.db'));
    const before = [...storeFiles(), ...(database.url ? await schemaSnapshot(database.url) : [])];

    const error = await rotateMasterKey(request({ to: 'env', newKeyBase64: newKeyBase64() })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationFailed);
    expect((error as Error).message).toMatch(/Version 2 of \/app\/\S+ cannot be unwrapped with the current master key.*Nothing was changed/);
    await closeKeyrings();
    expect([...storeFiles(), ...(database.url ? await schemaSnapshot(database.url) : [])]).toEqual(before);
    const entry = (await listAudit(5)).find((e) => e.action === 'master-key.rotate');
    expect(entry).toMatchObject({ outcome: 'failure', details: { from: 'env', to: 'env' } });
    expect(String(entry?.details.reason)).toMatch(/cannot be unwrapped/);
  });

  it('refuses when there is no store to rotate, creating none', async () => {
    useHome(kind === 'sqlite' ? 'file' : 'env');
    const error = await rotateMasterKey(request({})).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotationRefused);
    expect((error as Error).message).toMatch(/There is no built-in store.*nothing to rotate/);
    expect(dirSnapshot(temp.dir)).toEqual([]);
    if (database.url) expect(await schemaSnapshot(database.url)).toEqual([]);
  });
});
