import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { homePaths } from '@/lib/crypto/master-key';
import type { OpenOptions } from '@/lib/stores/embedded/open';
import type { SimulatedKms } from '@/simulator/simulated-kms';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { childEnv, DEPLOYMENT, dirSnapshot, newKeyBase64, readAll, runRotateCli, schemaSnapshot, seedStore, seedValues, startKms } from './support';

// npm run rotate-master-key as the operator runs it: bad input (an unknown --to, a missing or
// malformed new key, a KMS key that does not exist) exits non-zero with a message saying what to do
// and changes nothing on disk; a good run says what it did and what to set next, and prints no key.

vi.setConfig({ testTimeout: 60_000 });

let kms: SimulatedKms;
beforeAll(async () => {
  kms = await startKms();
});
afterAll(async () => {
  await kms.close();
});

describe.each(DATABASES)('npm run rotate-master-key on %s', (kind) => {
  let temp: ReturnType<typeof makeTempDir>;
  let database: Awaited<ReturnType<typeof useDatabase>>;
  let oldKey: string;
  const values = seedValues(5, 2);
  const options = (masterKeyBase64?: string): OpenOptions => ({ dataDir: temp.dir, databaseUrl: database.url, ...(masterKeyBase64 ? { masterKeyBase64 } : {}) });
  const env = (over: Record<string, string | undefined> = {}) =>
    childEnv({
      DATA_DIR: temp.dir,
      DATABASE_URL: database.url,
      MASTER_KEY: kind === 'postgres' ? oldKey : undefined,
      MASTER_KEY_KMS_REGION: 'us-east-1',
      MASTER_KEY_KMS_ENDPOINT: kms.url,
      DEPLOYMENT_NAME: DEPLOYMENT,
      ...over,
    });
  const snapshot = async () => [...dirSnapshot(temp.dir), ...(database.url ? await schemaSnapshot(database.url) : [])];

  beforeEach(async () => {
    temp = makeTempDir('secrets-rotation-cli-');
    database = await useDatabase(kind);
    oldKey = newKeyBase64();
    await seedStore(options(kind === 'postgres' ? oldKey : undefined), values);
    if (kind === 'sqlite') oldKey = readFileSync(homePaths(temp.dir).keyFile, 'utf8').trim();
  });
  afterEach(async () => {
    await closeKeyrings();
    await database.cleanup();
    temp.cleanup();
  });

  it('refuses bad input with a message and an exit code, and changes nothing on disk', async () => {
    const before = await snapshot();
    const unknownTo = await runRotateCli(['--to', 'vault'], env());
    expect(unknownTo.code).toBe(2);
    expect(unknownTo.stderr).toMatch(/--to must be file, kms or env/);
    expect(unknownTo.stderr).toMatch(/usage: npm run rotate-master-key/);

    const missing = await runRotateCli(['--to', 'env'], env());
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--to env takes the new master key from NEW_MASTER_KEY, which is unset/);

    const otherVariable = await runRotateCli(['--to', 'env', '--new-key-env', 'ROTATED_KEY'], env({ ROTATED_KEY: 'not-base64!' }));
    expect(otherVariable.code).toBe(2);
    expect(otherVariable.stderr).toMatch(/ROTATED_KEY must hold the base64 encoding of exactly 32 bytes/);

    const badId = await runRotateCli(['--to', 'kms', '--kms-key-id', 'not a key'], env());
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/--kms-key-id must be a KMS key id/);

    const unknownKey = await runRotateCli(['--to', 'kms', '--kms-key-id', 'alias/no-such-key'], env());
    expect(unknownKey.code).toBe(1);
    expect(unknownKey.stderr).toMatch(/Cannot create the new master key with KMS: KMS key "alias\/no-such-key".*NotFoundException.*Nothing was changed/);

    expect(await snapshot()).toEqual(before);
    expect(await readAll(options(kind === 'postgres' ? oldKey : undefined), values)).toEqual(values);
  });

  it('rotates, says what to set next, and prints no key', async () => {
    const newKey = newKeyBase64();
    const run = await runRotateCli(['--to', 'env'], env({ NEW_MASTER_KEY: newKey }));
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Rotated the master key: 10 version\(s\) re-wrapped under the new key, (file|env) → env\. Values were not re-encrypted\./);
    expect(run.stdout).toMatch(/Recorded in the audit log \(master-key\.rotate\)/);
    expect(run.stdout).toMatch(/Set MASTER_KEY to the new key \(the value of NEW_MASTER_KEY\)/);
    expect(run.stdout).toMatch(/Then start the servers/);
    for (const key of [oldKey, newKey]) {
      expect(run.stdout + run.stderr).not.toContain(key);
      expect(run.stdout + run.stderr).not.toContain(Buffer.from(key, 'base64').toString('hex'));
    }
    expect(await readAll(options(newKey), values)).toEqual(values);
  });
});
