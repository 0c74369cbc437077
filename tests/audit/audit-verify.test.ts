import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAudit, GENESIS_HASH, listAudit } from '@/lib/audit/audit-log';
import { sql } from 'kysely';
import { APP_DB_FILE, appDb, openAppDatabase } from '@/lib/db/app-db';
import { createTestDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-audit-verify-');
const saved = process.env.DATA_DIR;
afterAll(() => {
  process.env.DATA_DIR = saved;
  temp.cleanup();
});

let dirs = 0;
const ACTIONS = ['sign-in', 'reveal', 'rotate', 'create-user', 'remove-user'];

/** A fresh DATA_DIR holding a log of five entries; returns the directory and the entries' hashes. */
async function logOfFive(): Promise<{ dataDir: string; head: string }> {
  const dataDir = path.join(temp.dir, `data-${++dirs}`);
  process.env.DATA_DIR = dataDir;
  for (const action of ACTIONS) await appendAudit({ actor: 'alice@example.com', action, target: 'local:/prod/a', outcome: 'success' });
  const [newest] = await listAudit(1);
  return { dataDir, head: newest!.hash };
}

function tamper(dataDir: string, ...statements: string[]): void {
  const db = new Database(path.join(dataDir, APP_DB_FILE));
  try {
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

function verify(dataDir: string) {
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/audit-verify.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

describe('npm run audit:verify', () => {
  it('exits 0 on an intact chain and prints the count and head hash', async () => {
    const { dataDir, head } = await logOfFive();
    const run = verify(dataDir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(`Audit chain intact: 5 entries, head ${head}`);
  });

  it('exits 0 on an empty log, whose head is the genesis hash', async () => {
    const dataDir = path.join(temp.dir, 'empty');
    await (await openAppDatabase(dataDir)).destroy(); // the server's schema, nothing logged yet
    const run = verify(dataDir);
    expect(run.status).toBe(0);
    expect(run.stdout.trim()).toBe(`Audit chain intact: 0 entries, head ${GENESIS_HASH}`);
  });

  it('exits 1 naming an edited entry', async () => {
    const { dataDir } = await logOfFive();
    tamper(dataDir, `UPDATE audit_log SET target = 'local:/prod/other' WHERE seq = 3`);
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^Audit chain BROKEN at entry #3 \(\d{4}-\d\d-\d\dT[\d:.]+Z, rotate\): hash mismatch/);
    expect(run.stderr).toContain('2 entries before it verify.');
    expect(run.stdout).toBe('');
  });

  it('exits 1 naming the entry after a removed one', async () => {
    const { dataDir } = await logOfFive();
    tamper(dataDir, 'DELETE FROM audit_log WHERE seq = 2');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #3 \(.+, rotate\): a gap in seq: entry #2 is missing \(removed\)/);
  });

  it('exits 1 naming a removed entry whose successors were renumbered to hide the gap', async () => {
    const { dataDir } = await logOfFive();
    tamper(dataDir, 'DELETE FROM audit_log WHERE seq = 2', 'UPDATE audit_log SET seq = seq - 1 WHERE seq > 2');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #2 \(.+, rotate\): prev_hash does not link to entry #1/);
  });

  it('exits 1 naming the first of two re-ordered entries', async () => {
    const { dataDir } = await logOfFive();
    // Swap entries 2 and 3 whole (everything but their place in the sequence).
    tamper(
      dataDir,
      'UPDATE audit_log SET seq = 100 WHERE seq = 2',
      'UPDATE audit_log SET seq = 2 WHERE seq = 3',
      'UPDATE audit_log SET seq = 3 WHERE seq = 100',
    );
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #2 \(.+, rotate\): prev_hash does not link to entry #1 \(entries re-ordered/);
  });

  it('exits 1 when the newest entries were cut off the end', async () => {
    const { dataDir } = await logOfFive();
    tamper(dataDir, 'DELETE FROM audit_log WHERE seq >= 4');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BROKEN at entry #4: entries #4–#5 are missing from the end of the log (removed)');
  });

  it('exits 1 when an entry was edited and its hash recomputed (the next entry no longer links)', async () => {
    const { dataDir } = await logOfFive();
    const db = new Database(path.join(dataDir, APP_DB_FILE));
    const row = db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as Record<string, string>;
    const { legacyEntryHash: entryHash } = await import('@/lib/audit/entry-hash');
    const forged = { ...row, actor: 'mallory@example.com' };
    db.prepare('UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 2').run(forged.actor, entryHash(row.prev_hash!, forged as never));
    db.close();
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #3 \(.+, rotate\): prev_hash does not link to entry #2/);
  });

  it('exits 2 with a clear message when there is nothing to check', () => {
    const missingDir = verify(path.join(temp.dir, 'no-such-dir'));
    expect(missingDir.status).toBe(2);
    expect(missingDir.stderr).toMatch(/DATA_DIR .*no-such-dir does not exist/);

    const file = path.join(temp.dir, 'a-file');
    writeFileSync(file, 'not a directory');
    const notADir = verify(file);
    expect(notADir.status).toBe(2);
    expect(notADir.stderr).toMatch(/is not a directory/);

    const emptyDir = path.join(temp.dir, 'no-app-db');
    mkdirSync(emptyDir);
    const noDb = verify(emptyDir);
    expect(noDb.status).toBe(2);
    expect(noDb.stderr).toMatch(/No app database at .*no-app-db\/app\.db: is DATA_DIR right\?/);

    const garbageDir = path.join(temp.dir, 'garbage');
    mkdirSync(garbageDir);
    writeFileSync(path.join(garbageDir, APP_DB_FILE), 'this is not SQLite at all, just bytes '.repeat(200));
    const garbage = verify(garbageDir);
    expect(garbage.status).toBe(2);
    expect(garbage.stderr).toMatch(/Cannot read .*app\.db/);
  });
});

describe('npm run audit:verify with DATABASE_URL (PostgreSQL)', () => {
  it('verifies the chain in the app schema: 0 when intact, 1 naming an edited entry, 2 for a database without one', async () => {
    const database = await createTestDatabase();
    const empty = await createTestDatabase();
    const run = (url: string) =>
      spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/audit-verify.ts'], {
        cwd: process.cwd(),
        env: { ...process.env, DATABASE_URL: url, DATA_DIR: path.join(temp.dir, 'unused') },
        encoding: 'utf8',
      });
    try {
      process.env.DATABASE_URL = database.url;
      for (const action of ACTIONS) await appendAudit({ actor: 'alice@example.com', action, target: 'local:/prod/a', outcome: 'success' });
      const [newest] = await listAudit(1);
      const intact = run(database.url);
      expect(intact.status).toBe(0);
      expect(intact.stdout.trim()).toBe(`Audit chain intact: 5 entries, head ${newest!.hash}`);

      await sql`UPDATE audit_log SET target = 'local:/prod/b' WHERE seq = 3`.execute(await appDb());
      const broken = run(database.url);
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain('Audit chain BROKEN at entry #3');

      const none = run(empty.url);
      expect(none.status).toBe(2);
      expect(none.stderr).toContain('no dashboard audit log');
    } finally {
      delete process.env.DATABASE_URL;
      await database.drop();
      await empty.drop();
    }
  });
});
