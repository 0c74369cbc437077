import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readContainerHeader } from '@/lib/backup/container';
import { backupExitCode } from '@/lib/backup/exit-codes';
import { restoreBackup } from '@/lib/backup/restore-backup';
import { RestoreKeyError } from '@/lib/backup/restore-key';
import { takeBackup } from '@/lib/backup/take-backup';
import { readEnv } from '@/lib/config/env';
import { startSimulatedKms, type SimulatedKms } from '@/simulator/simulated-kms';
import { useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { DATA_AREAS, PG_DUMP_SCHEMAS } from '@/lib/db/areas';
import { listing, makeDeployment, newMasterKey, runCli, valueOf } from './support/backup-helpers';

// npm run backup's refusals (an existing FILE, no deployment, a rotation under way, PostgreSQL),
// and a deployment whose master key is sealed by KMS: the sealed key travels in the backup, and
// restore opens it through KMS (the simulated KMS, over the real SDK) or refuses, changing nothing.

const temp = makeTempDir('secrets-backup-cli-');
const KMS_KEY = '5f0c2d1e-8a7b-4c3d-9e2f-1a0b3c4d5e6f';
const credentials = { AWS_ACCESS_KEY_ID: 'AKIDSIMULATED', AWS_SECRET_ACCESS_KEY: 'simulated-secret' };
const savedEnv = { ...process.env };
let kms: SimulatedKms;

beforeAll(async () => {
  kms = await startSimulatedKms({ keys: [{ keyId: KMS_KEY, aliases: ['alias/dashboard'] }], latencyMs: 1 });
  Object.assign(process.env, credentials);
});
afterAll(async () => {
  process.env = { ...savedEnv };
  await kms.close();
  temp.cleanup();
});

async function refusedBackup(dataDir: string, file: string): Promise<{ code: number; message: string }> {
  try {
    await takeBackup({ dataDir, file });
  } catch (error) {
    return { code: backupExitCode(error), message: (error as Error).message };
  }
  throw new Error('expected the backup to be refused');
}

describe('npm run backup refuses, writing nothing', () => {
  const dataDir = path.join(temp.dir, 'deployment');
  beforeAll(() => makeDeployment(dataDir, { MASTER_KEY: newMasterKey() }, 2, 1));

  it('never overwrites an existing FILE', async () => {
    const out = path.join(temp.dir, 'out-exists');
    mkdirSync(out);
    const file = path.join(out, 'yesterday.backup');
    writeFileSync(file, 'yesterday’s backup');
    const before = listing(out);
    const run = await runCli('backup', [file], { DATA_DIR: dataDir });
    expect(run.stderr.trim()).toBe(`${file} already exists; a backup never overwrites a file. Choose a new name, or remove the old file first.`);
    expect(run.status).toBe(2);
    expect(listing(out)).toEqual(before);
    expect(readFileSync(file, 'utf8')).toBe('yesterday’s backup');
  }, 20_000);

  it('refuses a DATA_DIR that holds no deployment', async () => {
    const empty = path.join(temp.dir, 'no-deployment');
    mkdirSync(empty);
    const out = path.join(temp.dir, 'out-none');
    mkdirSync(out);
    expect(await refusedBackup(empty, path.join(out, 'b.backup'))).toEqual({ code: 2, message: expect.stringMatching(/^There is no secrets\.db in .*no-deployment: is DATA_DIR right\?/) });
    expect(listing(out)).toEqual([]);
    expect(listing(empty)).toEqual([]);
  });

  it('refuses while a master-key rotation is under way (its pending key file is there)', async () => {
    const out = path.join(temp.dir, 'out-rotating');
    mkdirSync(out);
    const pending = path.join(dataDir, 'master.key.pending');
    writeFileSync(pending, `${newMasterKey()}\n`, { mode: 0o600 });
    try {
      const before = listing(dataDir);
      expect(await refusedBackup(dataDir, path.join(out, 'b.backup'))).toEqual({
        code: 2,
        message: expect.stringContaining('master.key.pending exists: a master-key rotation is under way or was interrupted'),
      });
      expect(listing(out)).toEqual([]);
      expect(listing(dataDir)).toEqual(before);
    } finally {
      rmSync(pending);
    }
  });
});

describe('with DATABASE_URL (PostgreSQL)', () => {
  let database: Awaited<ReturnType<typeof useDatabase>>;
  beforeAll(async () => {
    database = await useDatabase('postgres');
  });
  afterAll(() => database.cleanup());

  it('backup and restore explain pg_dump / pg_restore and write nothing', async () => {
    const dataDir = path.join(temp.dir, 'pg-data');
    const file = path.join(temp.dir, 'pg.backup');
    const env = { DATA_DIR: dataDir, DATABASE_URL: database.url };
    const [backup, restore] = await Promise.all([runCli('backup', [file], env), runCli('restore', [path.join(temp.dir, 'anything.backup')], env)]);
    expect(backup.status).toBe(2);
    expect(backup.stderr).toContain('DATABASE_URL is set: the data is in PostgreSQL');
    expect(backup.stderr).toContain(`pg_dump -Fc ${PG_DUMP_SCHEMAS} -f dashboard.dump`);
    // Every area's schema, and the README gives the same command.
    for (const area of DATA_AREAS) expect(PG_DUMP_SCHEMAS).toContain(`--schema=${area.schema}`);
    expect(readFileSync(path.join(process.cwd(), 'README.md'), 'utf8')).toContain(`pg_dump -Fc ${PG_DUMP_SCHEMAS} -f dashboard.dump "$DATABASE_URL"`);
    expect(restore.status).toBe(2);
    expect(backup.stderr).toContain('pg_restore --exit-on-error --single-transaction --no-owner -d "$NEW_DATABASE_URL" dashboard.dump');
    expect(restore.stderr).toContain("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public");
    expect(restore.stderr).toContain('pg_restore --exit-on-error --single-transaction --no-owner -d "$DATABASE_URL" dashboard.dump');
    // The URL's password is never printed.
    expect(backup.stderr + restore.stderr).not.toContain(new URL(database.url!).password);
    expect(listing(temp.dir).filter((l) => l.startsWith('pg'))).toEqual([]);
  }, 20_000);
});

describe('a deployment whose master key is sealed by KMS', () => {
  const dataDir = path.join(temp.dir, 'kms-deployment');
  const file = path.join(temp.dir, 'kms.backup');
  const kmsEnv = () => ({
    MASTER_KEY: undefined,
    MASTER_KEY_KMS_KEY_ID: KMS_KEY,
    MASTER_KEY_KMS_REGION: 'us-east-1',
    MASTER_KEY_KMS_ENDPOINT: kms.url,
    // The SDK warns on every Node 20 process that it will want Node 22 from 2027; not this test's subject.
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    ...credentials,
  });
  let sealedBytes: Buffer;

  beforeAll(async () => {
    // The app seals its new master key with KMS itself (lib/crypto/master-key.ts): only master.key.kms is written.
    await makeDeployment(dataDir, { MASTER_KEY_KMS_KEY_ID: KMS_KEY, MASTER_KEY_KMS_REGION: 'us-east-1', MASTER_KEY_KMS_ENDPOINT: kms.url }, 3, 2);
    expect(listing(dataDir).map((l) => l.split(' ')[0])).not.toContain('master.key');
    sealedBytes = readFileSync(path.join(dataDir, 'master.key.kms'));
    await takeBackup({ dataDir, file });
  });

  it('carries the sealed key, and restore unseals it with KMS', async () => {
    const { manifest } = readContainerHeader(file);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db', 'master.key.kms']);
    const restored = path.join(temp.dir, 'kms-restored');
    kms.control({ resetStats: true });
    const run = await runCli('restore', [file], { DATA_DIR: restored, ...kmsEnv() });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`The master key (KMS key ${KMS_KEY} in us-east-1) opens the key check; every one of the 6 versions decrypts.`);
    expect(run.stdout).toContain('the master key stays sealed by KMS (master.key.kms)');
    expect(kms.stats().operations.Decrypt?.ok).toBe(1);
    expect(readFileSync(path.join(restored, 'master.key.kms'))).toEqual(sealedBytes);
    expect(listing(restored).map((l) => l.split(' ')[0])).toEqual(['app.db', 'master.key.kms', 'secrets.db']);
    // The restored deployment starts as the old one did: its key unsealed by KMS.
    const { store } = await EmbeddedStore.open('local', 'Built-in', {
      dataDir: restored,
      kms: { keyId: KMS_KEY, region: 'us-east-1', endpoint: kms.url, deployment: 'secrets-dashboard' },
    });
    try {
      expect(await store.readValue('/prod/service-2/password')).toBe(valueOf('/prod/service-2/password', 2));
    } finally {
      await store.close();
    }
  }, 20_000);

  it('refuses when KMS will not decrypt (key disabled), changing nothing', async () => {
    const place = path.join(temp.dir, 'kms-disabled');
    mkdirSync(place);
    kms.control({ disable: [KMS_KEY] });
    try {
      const run = await runCli('restore', [file], { DATA_DIR: path.join(place, 'data'), ...kmsEnv() });
      expect(run.stderr).toMatch(new RegExp(`^Cannot unseal the backup's master key: KMS key "${KMS_KEY}" in us-east-1 .*the key is disabled \\(DisabledException\\)`));
      expect(run.status).toBe(2);
      expect(listing(place)).toEqual([]);
    } finally {
      kms.control({ enable: [KMS_KEY] });
    }
  }, 20_000);

  it('without the KMS settings, names the key they must point at', async () => {
    const place = path.join(temp.dir, 'kms-unset');
    mkdirSync(place);
    const env = readEnv({ ...process.env, MASTER_KEY: '', MASTER_KEY_KMS_KEY_ID: '' });
    const refusal = await restoreBackup({ file, dataDir: path.join(place, 'data'), env }).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(RestoreKeyError);
    expect((refusal as Error).message).toBe(
      `This backup's master key is sealed by KMS key ${kms.keyArn(KMS_KEY)} (us-east-1): set MASTER_KEY_KMS_KEY_ID=${kms.keyArn(KMS_KEY)} and MASTER_KEY_KMS_REGION=us-east-1 (and DEPLOYMENT_NAME, AWS credentials allowed kms:Decrypt), as the restored server will need them.`,
    );
    expect(listing(place)).toEqual([]);
  });
});
