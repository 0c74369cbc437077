import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { MASTER_KEY_KMS_META } from '@/lib/crypto/master-key';
import { copySqliteToPostgres, CopyFailedError } from '@/lib/db/copy-data';
import { closePostgres } from '@/lib/db/postgres';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { SimulatedKms } from '@/simulator/simulated-kms';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { AWS_TEST_ENV, dirSnapshot, kmsConfig, metaRow, readAll, seedStore, seedValues, startKms } from './support';

// npm run migrate-data from a SQLite deployment whose master key is sealed by KMS: the sealed key
// (DATA_DIR/master.key.kms, KMS ciphertext only) moves into the builtin schema's meta row, so the
// same KMS settings open the store on PostgreSQL; no plaintext key is needed or written anywhere.

const saved = Object.fromEntries(Object.keys(AWS_TEST_ENV).map((k) => [k, process.env[k]]));
let kms: SimulatedKms;
const temp = makeTempDir('secrets-migrate-kms-');
const databases: { drop(): Promise<void> }[] = [];

beforeAll(async () => {
  Object.assign(process.env, AWS_TEST_ENV);
  kms = await startKms();
});
afterAll(async () => {
  await closeKeyrings();
  for (const db of databases) await db.drop();
  await kms.close();
  for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k];
  else process.env[k] = v;
});

describe('migrate-data with a master key sealed by KMS', () => {
  it('carries the sealed key into PostgreSQL: the same KMS settings read every value there', async () => {
    const dataDir = path.join(temp.dir, 'sealed');
    const values = seedValues(6, 2);
    await seedStore({ dataDir, kms: kmsConfig(kms) }, values);
    expect(dirSnapshot(dataDir).some((f) => f.includes('master.key.kms'))).toBe(true);
    const target = await createTestDatabase();
    databases.push(target);

    await copySqliteToPostgres(dataDir, target.url);
    expect(await metaRow(MASTER_KEY_KMS_META, dataDir, target.url)).toContain('"ciphertextBlob"');
    expect(await readAll({ dataDir: path.join(temp.dir, 'unused'), databaseUrl: target.url, kms: kmsConfig(kms) }, values)).toEqual(values);
    await closePostgres();
  });

  it('refuses a malformed sealed key file, leaving the target without a row of the copy', async () => {
    const dataDir = path.join(temp.dir, 'damaged');
    await seedStore({ dataDir, kms: kmsConfig(kms) }, seedValues(2, 1));
    writeFileSync(path.join(dataDir, 'master.key.kms'), '{"not": "a sealed key"}\n');
    const target = await createTestDatabase();
    databases.push(target);
    await expect(copySqliteToPostgres(dataDir, target.url)).rejects.toBeInstanceOf(CopyFailedError);
    expect(await metaRow('key_check', dataDir, target.url)).toBeUndefined();
    await closePostgres();
  });
});
