import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closePostgres } from '@/lib/db/postgres';
import { FindingsDb, type StoredSuppression } from '@/lib/findings/findings-db';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { PG_DUMP_SCHEMAS } from '@/lib/db/areas';
import { createTestDatabase, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { makeDeployment, newMasterKey, runCli, valueOf } from './support/backup-helpers';

// With DATABASE_URL the backup is PostgreSQL's own (npm run backup explains it): the README's
// pg_dump and pg_restore commands, run as written against a deployment made by the app, give a
// database the app opens with the same MASTER_KEY, every value and the audit chain intact, and the
// findings schema's suppressions with it.

const temp = makeTempDir('secrets-pg-dump-');
const masterKey = newMasterKey();
let source: Awaited<ReturnType<typeof useDatabase>>;
let target: Awaited<ReturnType<typeof createTestDatabase>>;
let names: string[];
let suppression: StoredSuppression;

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} failed (${result.status}): ${result.stderr}`);
}

beforeAll(async () => {
  source = await useDatabase('postgres');
  names = await makeDeployment(path.join(temp.dir, 'unused'), { MASTER_KEY: masterKey }, 4, 2);
  const findings = await FindingsDb.openPostgres(source.url!);
  const id = await findings.addSuppression({
    storeId: 'local',
    itemName: names[0]!,
    control: 'no-owner',
    reason: 'Owned by the platform team.',
    expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    createdBy: 'reviewer@example.com',
    createdAt: new Date().toISOString(),
  });
  suppression = (await findings.suppression(id))!;
  target = await createTestDatabase();
}, 30_000);

afterAll(async () => {
  await closePostgres();
  await target.drop();
  await source.cleanup();
  temp.cleanup();
});

describe('PostgreSQL: the README\'s pg_dump / pg_restore', () => {
  it('restores a deployment the app opens with the same MASTER_KEY: values and audit chain intact', async () => {
    const dump = path.join(temp.dir, 'dashboard.dump');
    // As the README says (the connection strings carry the throwaway server's password).
    run('pg_dump', ['-Fc', ...PG_DUMP_SCHEMAS.split(' '), '-f', dump, source.url!]);
    run('psql', [target.url, '-v', 'ON_ERROR_STOP=1', '-q', '-c', 'CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public']);
    run('pg_restore', ['--exit-on-error', '--single-transaction', '--no-owner', '-d', target.url, dump]);

    const [before, after] = await Promise.all([
      runCli('audit-verify', [], { DATABASE_URL: source.url, MASTER_KEY: masterKey }),
      runCli('audit-verify', [], { DATABASE_URL: target.url, MASTER_KEY: masterKey }),
    ]);
    expect(after.stderr).toBe('');
    expect(after.status).toBe(0);
    expect(after.stdout).toMatch(/^Audit chain intact: 8 entries, head [0-9a-f]{64}\n/);
    expect(after.stdout.split('\n')[0]).toBe(before.stdout.split('\n')[0]);

    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir: path.join(temp.dir, 'unused'), databaseUrl: target.url, masterKeyBase64: masterKey });
    try {
      for (const name of names) {
        expect(await store.readValue(name, '1')).toBe(valueOf(name, 1));
        expect(await store.readValue(name)).toBe(valueOf(name, 2));
      }
    } finally {
      await store.close();
    }
    expect(await (await FindingsDb.openPostgres(target.url)).suppression(suppression.id)).toEqual(suppression);
  }, 40_000);
});
