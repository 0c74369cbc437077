import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { closeKeyrings, getKeyring } from '@/lib/crypto/keyring';
import { sealedMasterKeySchema } from '@/lib/crypto/kms';
import { homePaths, KMS_KEY_FILE, MASTER_KEY_KMS_META } from '@/lib/crypto/master-key';
import { openEmbeddedDatabase, StoreOpenError, type OpenOptions } from '@/lib/stores/embedded/open';
import type { SimulatedKms } from '@/simulator/simulated-kms';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { AWS_TEST_ENV, DEPLOYMENT, dirSnapshot, KMS_KEY_A, KMS_KEY_B, kmsConfig, metaRow, newKeyBase64, readAll, schemaSnapshot, seedStore, seedValues, startKms } from './support';

// Where the master key lives at start-up. With MASTER_KEY_KMS_KEY_ID a new store's key comes from
// KMS GenerateDataKey and is kept only as its ciphertext (DATA_DIR/master.key.kms, or the meta row
// on PostgreSQL), decrypted once per start; a KMS failure stops the start naming the key and the
// cause with nothing written; settings that do not match the store's home are refused, naming the
// rotation that moves it.

const SETTINGS = ['DATA_DIR', 'MASTER_KEY', 'MASTER_KEY_KMS_KEY_ID', 'MASTER_KEY_KMS_REGION', 'MASTER_KEY_KMS_ENDPOINT', 'DEPLOYMENT_NAME', ...Object.keys(AWS_TEST_ENV)];
const saved = Object.fromEntries(SETTINGS.map((k) => [k, process.env[k]]));

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

async function failure(promise: Promise<{ close(): Promise<void> }>): Promise<Error> {
  const result = await promise.then(
    async (opened) => {
      await opened.close();
      return null;
    },
    (error: unknown) => error as Error,
  );
  expect(result, 'the open should have failed').toBeInstanceOf(StoreOpenError);
  return result!;
}

const decryptCalls = () => kms.stats().operations.Decrypt?.calls ?? 0;
const generateCalls = () => kms.stats().operations.GenerateDataKey?.calls ?? 0;

describe.each(DATABASES)('master key homes on %s', (kind) => {
  let temp: ReturnType<typeof makeTempDir>;
  let database: Awaited<ReturnType<typeof useDatabase>>;
  const opts = (over: Partial<OpenOptions> = {}): OpenOptions => ({ dataDir: temp.dir, databaseUrl: database.url, ...over });
  const withKms = (keyId = KMS_KEY_A, deployment = DEPLOYMENT) => opts({ kms: { ...kmsConfig(kms, keyId), deployment } });
  /** Everything the store holds: the data directory's files and, on PostgreSQL, every row of its schema. */
  const snapshot = async () => [...dirSnapshot(temp.dir), ...(database.url ? await schemaSnapshot(database.url) : [])];

  beforeEach(async () => {
    temp = makeTempDir('secrets-homes-');
    database = await useDatabase(kind);
    kms.control({ resetStats: true, enable: [KMS_KEY_A, KMS_KEY_B], allow: [KMS_KEY_A, KMS_KEY_B] });
  });
  afterEach(async () => {
    await closeKeyrings();
    await database.cleanup();
    temp.cleanup();
  });

  it('with MASTER_KEY_KMS_KEY_ID a new store gets its key from KMS, keeps only the ciphertext, and later starts decrypt it once', async () => {
    const first = await openEmbeddedDatabase(withKms('alias/dashboard'));
    await first.close();
    expect(first.created).toBe(true);
    expect(first.masterKeyHome).toMatchObject({ kind: 'kms', kmsKeyId: kms.keyArn(KMS_KEY_A) });
    expect(generateCalls()).toBe(1);
    const key = first.masterKey;

    const stored = kind === 'sqlite' ? readFileSync(homePaths(temp.dir).kmsFile, 'utf8') : await metaRow(MASTER_KEY_KMS_META, temp.dir, database.url);
    const sealed = sealedMasterKeySchema.parse(JSON.parse(stored!));
    expect(sealed).toMatchObject({ kmsKeyId: kms.keyArn(KMS_KEY_A), encryptionContext: { application: 'secrets-dashboard', deployment: DEPLOYMENT, purpose: 'master-key' } });
    // No plaintext key anywhere on disk: neither a key file nor the key's bytes in any file.
    expect(existsSync(homePaths(temp.dir).keyFile)).toBe(false);
    for (const f of readdirSync(temp.dir)) expect(readFileSync(path.join(temp.dir, f)).includes(Buffer.from(key.toString('base64')))).toBe(false);
    if (kind === 'sqlite') {
      expect(readdirSync(temp.dir)).toContain(KMS_KEY_FILE);
      expect(statSync(homePaths(temp.dir).kmsFile).mode & 0o777).toBe(0o600);
    } else {
      expect(readdirSync(temp.dir)).toEqual([]);
    }

    const values = seedValues(4, 2);
    await seedStore(withKms('alias/dashboard'), values);
    kms.control({ resetStats: true });
    expect(await readAll(withKms(KMS_KEY_A), values)).toEqual(values);
    expect(decryptCalls()).toBe(1);
    expect(generateCalls()).toBe(0);
  });

  it('the server opens it through the keyring with the KMS settings from the environment', async () => {
    Object.assign(process.env, { DATA_DIR: temp.dir, MASTER_KEY_KMS_KEY_ID: KMS_KEY_A, MASTER_KEY_KMS_REGION: 'us-east-1', MASTER_KEY_KMS_ENDPOINT: kms.url, DEPLOYMENT_NAME: DEPLOYMENT });
    delete process.env.MASTER_KEY;
    try {
      const opened = await getKeyring();
      expect(opened.masterKeyHome.kind).toBe('kms');
      expect(opened.auditChainKey).toHaveLength(32);
    } finally {
      delete process.env.MASTER_KEY_KMS_KEY_ID;
    }
  });

  it('a KMS failure at start stops it, naming the key and the cause, and writes nothing', async () => {
    // A new store: the key is disabled, so no key can be generated.
    kms.control({ disable: [KMS_KEY_A] });
    const before = await snapshot();
    const onNew = await failure(openEmbeddedDatabase(withKms()));
    expect(onNew.message).toMatch(new RegExp(`Cannot create the master key with KMS: KMS key "${KMS_KEY_A}" in us-east-1 \\(endpoint [^)]*\\): the key is disabled \\(DisabledException\\).*Nothing was changed`));
    expect(await snapshot()).toEqual(before);

    // An existing store: disabled, access denied, another deployment's context, another key.
    kms.control({ enable: [KMS_KEY_A] });
    const values = seedValues(3, 1);
    await seedStore(withKms(), values);
    const existing = await snapshot();
    kms.control({ disable: [KMS_KEY_A] });
    expect((await failure(openEmbeddedDatabase(withKms()))).message).toMatch(/Cannot unseal the master key in .*: KMS key .* the key is disabled.*Enable it in KMS/);
    kms.control({ enable: [KMS_KEY_A], deny: [{ key: KMS_KEY_A, operations: ['Decrypt'] }] });
    expect((await failure(openEmbeddedDatabase(withKms()))).message).toMatch(/access denied for kms:Decrypt/);
    kms.control({ allow: [KMS_KEY_A] });
    expect((await failure(openEmbeddedDatabase(withKms(KMS_KEY_A, 'another-deployment')))).message).toMatch(
      new RegExp(`sealed for deployment "${DEPLOYMENT}" but DEPLOYMENT_NAME is "another-deployment"`),
    );
    expect((await failure(openEmbeddedDatabase(withKms(KMS_KEY_B)))).message).toMatch(new RegExp(`sealed by another KMS key, ${kms.keyArn(KMS_KEY_A)}`));
    expect(await snapshot()).toEqual(existing);
    expect(await readAll(withKms(), values)).toEqual(values);
  });

  it('KMS settings for a store whose key is in a key file or MASTER_KEY: refused, naming the rotation to KMS', async () => {
    const masterKey = newKeyBase64();
    // SQLite: the generated key file; PostgreSQL: MASTER_KEY.
    await seedStore(opts(kind === 'postgres' ? { masterKeyBase64: masterKey } : {}), seedValues(2, 1));
    const before = await snapshot();
    const error = await failure(openEmbeddedDatabase(withKms()));
    expect(error.message).toMatch(/MASTER_KEY_KMS_KEY_ID is set, but .* not (sealed by KMS|a KMS-sealed key).*npm run rotate-master-key -- --to kms/);
    if (kind === 'sqlite') expect(error.message).toContain(homePaths(temp.dir).keyFile);
    expect(await snapshot()).toEqual(before);
    expect(generateCalls()).toBe(0);
  });

  it('a store sealed by KMS started without the KMS settings: refused, naming the key to set and the way back', async () => {
    await seedStore(withKms(), seedValues(2, 1));
    const before = await snapshot();
    const back = kind === 'sqlite' ? 'file' : 'env';
    const without = await failure(openEmbeddedDatabase(opts()));
    expect(without.message).toMatch(new RegExp(`sealed by KMS.*MASTER_KEY_KMS_KEY_ID is unset.*MASTER_KEY_KMS_KEY_ID=${kms.keyArn(KMS_KEY_A)}.*npm run rotate-master-key -- --to ${back}`));
    const withEnvKey = await failure(openEmbeddedDatabase(opts({ masterKeyBase64: newKeyBase64() })));
    expect(withEnvKey.message).toMatch(/MASTER_KEY is set, but the master key of .* is sealed by KMS.*unset MASTER_KEY/);
    expect(await snapshot()).toEqual(before);
  });

  it.runIf(kind === 'postgres')('replicas starting together on an empty database with KMS agree on one sealed key', async () => {
    const replicas = await Promise.all([openEmbeddedDatabase(withKms()), openEmbeddedDatabase(withKms()), openEmbeddedDatabase(withKms())]);
    await Promise.all(replicas.map((r) => r.close()));
    expect(replicas.filter((r) => r.created)).toHaveLength(1);
    const keys = new Set(replicas.map((r) => r.masterKey.toString('hex')));
    expect(keys.size).toBe(1);
  });
});
