import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { homePaths, MASTER_KEY_KMS_META } from '@/lib/crypto/master-key';
import { openEmbeddedDatabase, StoreOpenError, type OpenOptions } from '@/lib/stores/embedded/open';
import type { SimulatedKms } from '@/simulator/simulated-kms';
import { DATABASES, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { childEnv, DEPLOYMENT, KMS_KEY_A, kmsConfig, metaRow, newKeyBase64, openWith, rawVersions, readAll, runRotateCli, seedStore, seedValues, startKms } from './support';

// npm run rotate-master-key killed (SIGKILL) as a child process at the two points that matter: in
// the middle of the re-wrap, with its transaction open (the pause is a test-only hook,
// SECRETS_DASHBOARD_TEST_ONLY_ROTATION_PAUSE), and after COMMIT before the new key's file is moved
// into place. Mid-way: every value still opens with the old key, no data key is wrapped under the
// new one, and the next start discards the pending file. After commit: the next start finishes the
// move, and only the new key opens the store.

// 100 items × 3 versions: more than one re-wrap batch (256), so the pause is truly mid-way.
const ITEMS = 100;
const VERSIONS = 3;
const TOTAL = ITEMS * VERSIONS;
// Child processes (tsx start-up) and a start-up that waits out the rotation's lock (5 s) take a while on a shared machine.
vi.setConfig({ testTimeout: 90_000 });

let kms: SimulatedKms;
const savedAws = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
beforeAll(async () => {
  process.env.AWS_ACCESS_KEY_ID = 'AKIDSIMULATED';
  process.env.AWS_SECRET_ACCESS_KEY = 'simulated-secret';
  kms = await startKms();
});
afterAll(async () => {
  await kms.close();
  if (savedAws.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
  else process.env.AWS_ACCESS_KEY_ID = savedAws.id;
  if (savedAws.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
  else process.env.AWS_SECRET_ACCESS_KEY = savedAws.secret;
});

const kmsVars = () => ({ MASTER_KEY_KMS_REGION: 'us-east-1', MASTER_KEY_KMS_ENDPOINT: kms.url, DEPLOYMENT_NAME: DEPLOYMENT });

async function masterKeyOf(options: OpenOptions): Promise<Buffer> {
  const opened = await openEmbeddedDatabase(options);
  await opened.close();
  return opened.masterKey;
}

describe.each(DATABASES)('rotate-master-key killed on %s', (kind) => {
  let temp: ReturnType<typeof makeTempDir>;
  let database: Awaited<ReturnType<typeof useDatabase>>;
  let values: Map<string, string[]>;
  let oldKey: string;
  const opts = (over: Partial<OpenOptions> = {}): OpenOptions => ({ dataDir: temp.dir, databaseUrl: database.url, ...over });
  const vars = (over: Record<string, string | undefined> = {}) => childEnv({ DATA_DIR: temp.dir, DATABASE_URL: database.url, ...kmsVars(), ...over });

  beforeEach(async () => {
    temp = makeTempDir('secrets-rotation-kill-');
    database = await useDatabase(kind);
    values = seedValues(ITEMS, VERSIONS);
    oldKey = newKeyBase64();
    // SQLite: the generated key file; PostgreSQL: MASTER_KEY.
    await seedStore(opts(kind === 'postgres' ? { masterKeyBase64: oldKey } : {}), values);
    if (kind === 'sqlite') oldKey = readFileSync(homePaths(temp.dir).keyFile, 'utf8').trim();
  });
  afterEach(async () => {
    await closeKeyrings();
    await database.cleanup();
    temp.cleanup();
  });

  const oldOptions = () => opts(kind === 'postgres' ? { masterKeyBase64: oldKey } : {});
  const oldVars = () => vars(kind === 'postgres' ? { MASTER_KEY: oldKey } : {});

  it('killed mid-re-wrap to a new key: the old key still opens every value, the new one none, and the next start discards the pending key', async () => {
    const target = kind === 'sqlite' ? 'file' : 'env';
    const newEnvKey = newKeyBase64();
    const paths = homePaths(temp.dir);
    let newKey: Buffer | undefined;
    let seenWhilePaused: { old: number; fresh: number } | undefined;
    let startWhileRunning: unknown;
    const run = await runRotateCli(['--to', target], { ...oldVars(), NEW_MASTER_KEY: newEnvKey }, {
      pauseAt: 'mid-rewrap',
      onPaused: async () => {
        newKey = target === 'file' ? Buffer.from(readFileSync(paths.keyPending, 'utf8').trim(), 'base64') : Buffer.from(newEnvKey, 'base64');
        // Readers see the last commit while the rotation's transaction is open.
        const raw = await rawVersions(temp.dir, database.url);
        seenWhilePaused = { old: openWith(raw, Buffer.from(oldKey, 'base64')), fresh: openWith(raw, newKey) };
        // A server starting now must neither settle the pending key nor wait for ever.
        if (kind === 'sqlite') startWhileRunning = await openEmbeddedDatabase(oldOptions()).then((o) => o.close(), (e: unknown) => e);
      },
    });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(seenWhilePaused).toEqual({ old: TOTAL, fresh: 0 });
    if (kind === 'sqlite') {
      expect(startWhileRunning).toBeInstanceOf(StoreOpenError);
      expect((startWhileRunning as Error).message).toMatch(/A master key rotation is running .*wait for npm run rotate-master-key to finish/);
      expect(existsSync(paths.keyPending)).toBe(true); // killed before it could clean up
    }

    const raw = await rawVersions(temp.dir, database.url);
    expect(raw).toHaveLength(TOTAL);
    expect(openWith(raw, Buffer.from(oldKey, 'base64'))).toBe(TOTAL);
    expect(openWith(raw, newKey!)).toBe(0);

    // The next start, with the settings of before: the store as it was, the pending key gone.
    expect(await readAll(oldOptions(), values)).toEqual(values);
    expect(existsSync(paths.keyPending)).toBe(false);
    if (kind === 'sqlite') expect(readFileSync(paths.keyFile, 'utf8').trim()).toBe(oldKey);

    // And the rotation can simply be run again.
    const again = await runRotateCli(['--to', target], { ...oldVars(), NEW_MASTER_KEY: newEnvKey });
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toMatch(new RegExp(`Rotated the master key: ${TOTAL} version\\(s\\) re-wrapped`));
    const rotatedOptions = kind === 'sqlite' ? opts() : opts({ masterKeyBase64: newEnvKey });
    expect(await readAll(rotatedOptions, values)).toEqual(values);
  });

  it('killed mid-re-wrap of a switch to KMS: nothing sealed is kept and the key of before still opens everything', async () => {
    const paths = homePaths(temp.dir);
    const run = await runRotateCli(['--to', 'kms', '--kms-key-id', KMS_KEY_A], oldVars(), {
      pauseAt: 'mid-rewrap',
      onPaused: async () => {
        if (kind === 'sqlite') expect(existsSync(paths.kmsPending)).toBe(true);
      },
    });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const raw = await rawVersions(temp.dir, database.url);
    expect(openWith(raw, Buffer.from(oldKey, 'base64'))).toBe(TOTAL);
    expect(await metaRow(MASTER_KEY_KMS_META, temp.dir, database.url)).toBeUndefined();
    // Started again without KMS settings, as before: the old key opens the key check, so the pending sealed key is discarded.
    expect(await readAll(oldOptions(), values)).toEqual(values);
    expect(existsSync(paths.kmsPending)).toBe(false);
    expect(existsSync(paths.kmsFile)).toBe(false);
  });

  it('killed after COMMIT, before the sealed key is moved into place: the next start with the KMS settings finishes the switch', async () => {
    const paths = homePaths(temp.dir);
    const run = await runRotateCli(['--to', 'kms', '--kms-key-id', KMS_KEY_A], oldVars(), { pauseAt: 'after-commit' });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    const raw = await rawVersions(temp.dir, database.url);
    expect(openWith(raw, Buffer.from(oldKey, 'base64'))).toBe(0);

    const kmsOptions = opts({ kms: kmsConfig(kms, KMS_KEY_A) });
    if (kind === 'sqlite') {
      expect(existsSync(paths.kmsPending)).toBe(true);
      expect(existsSync(paths.keyFile)).toBe(true);
      // Without the KMS settings the start stops, says what to set, and leaves the pending key alone.
      const error = await openEmbeddedDatabase(oldOptions()).then((o) => o.close(), (e: unknown) => e);
      expect(error).toBeInstanceOf(StoreOpenError);
      expect((error as Error).message).toMatch(new RegExp(`master.key.kms.pending is left from a master key rotation to KMS key ${kms.keyArn(KMS_KEY_A)}.*MASTER_KEY_KMS_KEY_ID=`));
      expect(existsSync(paths.kmsPending)).toBe(true);
    } else {
      expect(await metaRow(MASTER_KEY_KMS_META, temp.dir, database.url)).toBeDefined();
    }
    expect(await readAll(kmsOptions, values)).toEqual(values);
    expect(existsSync(paths.kmsPending)).toBe(false);
    // The switch is complete: the sealed key in place, no plaintext key on disk.
    expect(existsSync(paths.kmsFile)).toBe(kind === 'sqlite');
    expect(existsSync(paths.keyFile)).toBe(false);
    const newKey = await masterKeyOf(kmsOptions);
    expect(openWith(await rawVersions(temp.dir, database.url), newKey)).toBe(TOTAL);
  });

  it.runIf(kind === 'sqlite')('killed after COMMIT of a file → file rotation: the next start moves the new key file into place', async () => {
    const paths = homePaths(temp.dir);
    let newKey = '';
    const run = await runRotateCli([], oldVars(), {
      pauseAt: 'after-commit',
      onPaused: async () => {
        newKey = readFileSync(paths.keyPending, 'utf8').trim();
      },
    });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(readFileSync(paths.keyFile, 'utf8').trim()).toBe(oldKey);
    expect(await readAll(opts(), values)).toEqual(values);
    expect(existsSync(paths.keyPending)).toBe(false);
    expect(readFileSync(paths.keyFile, 'utf8').trim()).toBe(newKey);
    expect(openWith(await rawVersions(temp.dir), Buffer.from(newKey, 'base64'))).toBe(TOTAL);
  });

  it.runIf(kind === 'sqlite')('killed after COMMIT of a switch to MASTER_KEY: the next start with the new MASTER_KEY removes the old key file', async () => {
    const paths = homePaths(temp.dir);
    const newEnvKey = newKeyBase64();
    const run = await runRotateCli(['--to', 'env'], { ...oldVars(), NEW_MASTER_KEY: newEnvKey }, { pauseAt: 'after-commit' });
    expect(run.signal, run.stderr).toBe('SIGKILL');
    expect(existsSync(paths.envPending)).toBe(true);
    expect(readFileSync(paths.envPending, 'utf8')).not.toContain(newEnvKey);
    expect(await readAll(opts({ masterKeyBase64: newEnvKey }), values)).toEqual(values);
    expect(existsSync(paths.envPending)).toBe(false);
    expect(existsSync(paths.keyFile)).toBe(false);
    expect(path.basename(paths.keyFile)).toBe('master.key');
  });
});
