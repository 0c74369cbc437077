import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { appendAudit, GENESIS_HASH, listAudit } from '@/lib/audit/audit-log';
import { flushAnchors } from '@/lib/audit/anchors';
import { resetAnchorS3 } from '@/lib/audit/anchor-s3';
import { keyedEntryHash, legacyEntryHash } from '@/lib/audit/entry-hash';
import { closeKeyrings } from '@/lib/crypto/keyring';
import { APP_DB_FILE, openAppDatabase } from '@/lib/db/app-db';
import { startSimulatedS3 } from '@/simulator/simulated-s3';
import { createTestDatabase, useDatabase } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';
import { tamper } from './support/chain-db';

const temp = makeTempDir('secrets-audit-verify-');
const saved = Object.fromEntries(['DATA_DIR', 'DATABASE_URL', 'MASTER_KEY'].map((k) => [k, process.env[k]]));
afterAll(() => {
  for (const [name, value] of Object.entries(saved)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
  temp.cleanup();
});
afterEach(async () => {
  await closeKeyrings();
});

let dirs = 0;
const ACTIONS = ['sign-in', 'reveal', 'rotate', 'create-user', 'remove-user'];

/** A fresh DATA_DIR holding a log of five entries (and its keyring); returns the directory and the head. */
async function logOfFive(): Promise<{ dataDir: string; head: string; hashes: string[] }> {
  const dataDir = path.join(temp.dir, `data-${++dirs}`);
  process.env.DATA_DIR = dataDir;
  for (const action of ACTIONS) await appendAudit({ actor: 'alice@example.com', action, target: 'local:/prod/a', outcome: 'success' });
  const entries = await listAudit(5);
  return { dataDir, head: entries[0]!.hash, hashes: entries.map((e) => e.hash).reverse() };
}

function rawTamper(dataDir: string, ...statements: string[]): void {
  const db = new Database(path.join(dataDir, APP_DB_FILE));
  try {
    for (const statement of statements) db.exec(statement);
  } finally {
    db.close();
  }
}

const CLI = ['--conditions=react-server', '--import', 'tsx', 'scripts/audit-verify.ts'];

function verify(dataDir: string, args: string[] = [], env: Record<string, string> = {}) {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, ...env };
  if (!env.DATABASE_URL) delete childEnv.DATABASE_URL;
  return spawnSync(process.execPath, [...CLI, ...args], { cwd: process.cwd(), env: childEnv, encoding: 'utf8' });
}

/** As verify, without blocking this process (which may be serving the simulated S3 the CLI reads). */
function verifyAsync(args: string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [...CLI, ...args], { cwd: process.cwd(), env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (status) => resolve({ status, stdout, stderr })));
}

function filesOf(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((f) => [f, createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')]));
}

describe('npm run audit:verify', () => {
  it('exits 0 on an intact chain and prints the count, head hash and that it is keyed', async () => {
    const { dataDir, head } = await logOfFive();
    const run = verify(dataDir);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout.trim().split('\n')).toEqual([`Audit chain intact: 5 entries, head ${head}`, 'Keyed (HMAC-SHA-256) from entry #1.']);
  });

  it('exits 0 on an empty log, whose head is the genesis hash (no keyring needed for nothing)', async () => {
    const dataDir = path.join(temp.dir, 'empty');
    await (await openAppDatabase(dataDir)).destroy(); // the server's schema, nothing logged yet
    const run = verify(dataDir);
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')[0]).toBe(`Audit chain intact: 0 entries, head ${GENESIS_HASH}`);
  });

  it('exits 1 naming an edited entry', async () => {
    const { dataDir } = await logOfFive();
    rawTamper(dataDir, `UPDATE audit_log SET target = 'local:/prod/other' WHERE seq = 3`);
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/^Audit chain BROKEN at entry #3 \(\d{4}-\d\d-\d\dT[\d:.]+Z, rotate\): hash mismatch/);
    expect(run.stderr).toContain('2 entries before it verify.');
    expect(run.stdout).toBe('');
  });

  it('exits 1 naming the entry after a removed one', async () => {
    const { dataDir } = await logOfFive();
    rawTamper(dataDir, 'DELETE FROM audit_log WHERE seq = 2');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #3 \(.+, rotate\): a gap in seq: entry #2 is missing \(removed\)/);
  });

  it('exits 1 naming a removed entry whose successors were renumbered to hide the gap', async () => {
    const { dataDir } = await logOfFive();
    rawTamper(dataDir, 'DELETE FROM audit_log WHERE seq = 2', 'UPDATE audit_log SET seq = seq - 1 WHERE seq > 2');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #2 \(.+, rotate\): prev_hash does not link to entry #1/);
  });

  it('exits 1 naming the first of two re-ordered entries', async () => {
    const { dataDir } = await logOfFive();
    // Swap entries 2 and 3 whole (everything but their place in the sequence).
    rawTamper(
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
    rawTamper(dataDir, 'DELETE FROM audit_log WHERE seq >= 4');
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('BROKEN at entry #4: entries #4–#5 are missing from the end of the log (removed)');
  });

  it('exits 1 when an entry was edited and re-hashed with plain SHA-256 (what anyone can compute)', async () => {
    const { dataDir } = await logOfFive();
    const db = new Database(path.join(dataDir, APP_DB_FILE));
    const row = db.prepare('SELECT * FROM audit_log WHERE seq = 2').get() as Record<string, string>;
    const forged = { ...row, actor: 'mallory@example.com' };
    db.prepare('UPDATE audit_log SET actor = ?, hash = ? WHERE seq = 2').run(forged.actor, legacyEntryHash(row.prev_hash!, forged as never));
    db.close();
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #2 \(.+, reveal\): the entry is hashed with plain SHA-256, but the chain is keyed \(HMAC\) from entry #1/);
  });

  it('exits 1 when an entry was edited and re-hashed with HMAC under a key that is not the audit chain key', async () => {
    const { dataDir } = await logOfFive();
    const db = new Database(path.join(dataDir, APP_DB_FILE));
    const row = db.prepare('SELECT * FROM audit_log WHERE seq = 4').get() as Record<string, string>;
    const forged = { ...row, target: 'local:/prod/b' };
    db.prepare('UPDATE audit_log SET target = ?, hash = ? WHERE seq = 4').run(forged.target, keyedEntryHash(randomBytes(32), row.prev_hash!, forged as never));
    db.close();
    const run = verify(dataDir);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/BROKEN at entry #4 \(.+, create-user\): hash mismatch/);
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

  it('exits 2 without the key: no keyring in DATA_DIR, or a master key that is not this deployment\'s', async () => {
    const { dataDir } = await logOfFive();
    const wrongKey = verify(dataDir, [], { MASTER_KEY: randomBytes(32).toString('base64') });
    expect(wrongKey.status).toBe(2);
    expect(wrongKey.stderr).toMatch(/^Cannot open the audit chain key: The master key does not match/);
    await closeKeyrings();
    renameSync(path.join(dataDir, 'secrets.db'), path.join(dataDir, 'secrets.db.moved'));
    const noKeyring = verify(dataDir);
    expect(noKeyring.status).toBe(2);
    expect(noKeyring.stderr).toMatch(/No keyring at .*secrets\.db: the audit chain key is kept there/);
  });
});

describe('npm run audit:verify with anchors', () => {
  it('exits 0 when every anchor given matches, by SEQ:HASH or by hash alone', async () => {
    const { dataDir, hashes } = await logOfFive();
    const run = verify(dataDir, ['--anchor', `2:${hashes[1]}`, '--anchor', hashes[4]!.toUpperCase()]);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain('Anchors: 2 matched.');
  });

  it('exits 1 naming the entry an anchor does not match, the entries past the end an anchor names, or an anchor no entry has', async () => {
    const { dataDir, hashes } = await logOfFive();
    const other = 'f'.repeat(64);
    const mismatch = verify(dataDir, ['--anchor', `3:${other}`]);
    expect(mismatch.status).toBe(1);
    expect(mismatch.stderr).toMatch(/BROKEN at entry #3 \(.+, rotate\): the entry's hash [0-9a-f]{12}… is not the one the anchor --anchor 3:ffffffffffff… recorded/);

    const pastTheEnd = verify(dataDir, ['--anchor', `7:${other}`]);
    expect(pastTheEnd.status).toBe(1);
    expect(pastTheEnd.stderr).toContain('BROKEN at entry #6: entries #6–#7 are missing from the end of the log (removed): the anchor --anchor 7:ffffffffffff… names entry #7');

    const unknown = verify(dataDir, ['--anchor', other]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('Audit chain BROKEN: no entry has the hash of the anchor --anchor ffffffffffff…');

    // Re-chained under the key after an edit (what only the key holder can do): the anchor still catches it.
    const key = (await import('@/lib/crypto/keyring')).auditChainKey;
    process.env.DATA_DIR = dataDir;
    const chainKey = await key();
    const { editAndRechain } = await import('./support/chain-db');
    await editAndRechain(2, { actor: 'mallory@example.com' }, (prev, row) => keyedEntryHash(chainKey, prev, row));
    expect(verify(dataDir).status).toBe(0);
    const rewritten = verify(dataDir, ['--anchor', `4:${hashes[3]}`]);
    expect(rewritten.status).toBe(1);
    expect(rewritten.stderr).toMatch(/BROKEN at entry #4 .*the log was rewritten at or before this entry/);
  });

  it('exits 2 on an anchor that is not a hash, changing nothing on disk', async () => {
    const { dataDir } = await logOfFive();
    await closeKeyrings();
    const before = filesOf(dataDir);
    for (const bad of ['not-a-hash', '12:abc', `x:${'a'.repeat(64)}`, `${'a'.repeat(63)}g`]) {
      const run = verify(dataDir, ['--anchor', bad]);
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`--anchor ${JSON.stringify(bad)} is not a hash: give the 64 hex characters of an anchor's hash, or SEQ:HASH`);
      expect(run.stdout).toBe('');
    }
    const unknownFlag = verify(dataDir, ['--anchors']);
    expect(unknownFlag.status).toBe(2);
    expect(unknownFlag.stderr).toContain('usage: npm run audit:verify');
    expect(filesOf(dataDir)).toEqual(before);
  });

  it('--anchors-from-s3 needs the bucket setting (exit 2)', async () => {
    const { dataDir } = await logOfFive();
    const run = verify(dataDir, ['--anchors-from-s3'], { AUDIT_ANCHOR_S3_BUCKET: '' });
    expect(run.status).toBe(2);
    expect(run.stderr).toContain('--anchors-from-s3 needs AUDIT_ANCHOR_S3_BUCKET');
  });
});

describe('npm run audit:verify with DATABASE_URL (PostgreSQL)', () => {
  it('verifies the chain in the app schema: 0 when intact, 1 naming an edited entry, 2 for a database without one', async () => {
    process.env.DATA_DIR = path.join(temp.dir, 'unused');
    const database = await useDatabase('postgres');
    const empty = await createTestDatabase();
    const run = (url: string) => verify(path.join(temp.dir, 'unused'), [], { DATABASE_URL: url, MASTER_KEY: process.env.MASTER_KEY! });
    try {
      for (const action of ACTIONS) await appendAudit({ actor: 'alice@example.com', action, target: 'local:/prod/a', outcome: 'success' });
      const [newest] = await listAudit(1);
      const intact = run(database.url!);
      expect(intact.status).toBe(0);
      expect(intact.stdout.split('\n')[0]).toBe(`Audit chain intact: 5 entries, head ${newest!.hash}`);

      await tamper(`UPDATE audit_log SET target = 'local:/prod/b' WHERE seq = 3`);
      const broken = run(database.url!);
      expect(broken.status).toBe(1);
      expect(broken.stderr).toContain('Audit chain BROKEN at entry #3');

      const none = run(empty.url);
      expect(none.status).toBe(2);
      expect(none.stderr).toContain('no dashboard audit log');
    } finally {
      await closeKeyrings();
      await database.cleanup();
      await empty.drop();
    }
  });

  it('catches the newest entries cut off the end against the anchors in S3 (PostgreSQL keeps no seq of its own)', async () => {
    process.env.DATA_DIR = path.join(temp.dir, 'unused');
    const database = await useDatabase('postgres');
    const s3 = await startSimulatedS3({ latencyMs: 1, buckets: [{ name: 'audit-anchors', objectLock: true }] });
    const settings = {
      AUDIT_ANCHOR_S3_BUCKET: 'audit-anchors',
      AUDIT_ANCHOR_S3_ENDPOINT: s3.url,
      AUDIT_ANCHOR_S3_REGION: 'eu-west-1',
      AUDIT_ANCHOR_EVERY: '5',
      DEPLOYMENT_NAME: 'tail-test',
      AWS_ACCESS_KEY_ID: 'AKIASIMULATED0000000',
      AWS_SECRET_ACCESS_KEY: 'simulated-secret-access-key',
      AWS_EC2_METADATA_DISABLED: 'true',
      // The SDK's notice that its 2027 releases need Node 22 would otherwise be the CLI's stderr.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const before = Object.fromEntries(Object.keys(settings).map((k) => [k, process.env[k]]));
    Object.assign(process.env, settings);
    try {
      for (let i = 0; i < 10; i++) await appendAudit({ actor: 'alice@example.com', action: 'reveal', target: `local:/prod/${i}`, outcome: 'success' });
      await flushAnchors();
      const cliEnv = { ...process.env };
      const good = await verifyAsync(['--anchors-from-s3'], cliEnv);
      expect(good.stderr).toBe('');
      expect(good.status).toBe(0);
      expect(good.stdout).toContain('Anchors in s3://audit-anchors/audit-anchors/tail-test/: 2');
      expect(good.stdout).toContain('Anchors: 2 matched.');

      // Whoever cuts the tail off also clears the database's own record of anchors.
      await tamper('DELETE FROM audit_log WHERE seq >= 9', 'DELETE FROM audit_anchors');
      const alone = await verifyAsync([], cliEnv);
      expect(alone.status).toBe(0); // the chain alone cannot tell
      const cut = await verifyAsync(['--anchors-from-s3'], cliEnv);
      expect(cut.status).toBe(1);
      expect(cut.stderr).toContain(
        'BROKEN at entry #9: entries #9–#10 are missing from the end of the log (removed): the anchor s3://audit-anchors/audit-anchors/tail-test/00000000000000000010.json names entry #10',
      );
    } finally {
      for (const [name, value] of Object.entries(before)) if (value === undefined) delete process.env[name]; else process.env[name] = value;
      resetAnchorS3();
      await s3.close();
      await closeKeyrings();
      await database.cleanup();
    }
  }, 60_000);
});
