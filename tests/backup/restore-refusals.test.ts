import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from '@/lib/audit/entry-hash';
import { readContainerHeader } from '@/lib/backup/container';
import { isExpectedRestoreError, restoreExitCode } from '@/lib/backup/exit-codes';
import { restoreBackup } from '@/lib/backup/restore-backup';
import { takeBackup } from '@/lib/backup/take-backup';
import { readEnv } from '@/lib/config/env';
import { makeTempDir } from '../support/temp-dir';
import { listing, makeDeployment, newMasterKey, repackBackup, runCli, type CliRun } from './support/backup-helpers';

// `npm run restore` given what it must refuse: a file that is not a backup, a truncated or altered
// one (also altered with fresh checksums, so only the master key's checks can tell), a DATA_DIR that
// holds data, a wrong or missing master key. Each: a clear message, a non-zero exit code, and the
// target folder and its parent exactly as before (no staging folder left behind either).
// The runs are independent, so they go in parallel (a few at a time) to keep the suite short.

const temp = makeTempDir('secrets-restore-refused-');
afterAll(() => temp.cleanup());

const masterKey = newMasterKey();
const good = path.join(temp.dir, 'good.backup');
const notes = path.join(temp.dir, 'notes.txt');

/** Re-hashes every audit entry from `fromSeq` on with plain SHA-256, as the unkeyed chain did: what an editor without the key can do. */
function rechainWithSha256(conn: Database.Database, fromSeq: number): void {
  const rows = conn.prepare('SELECT seq, at, actor, action, target, outcome, details, prev_hash FROM audit_log WHERE seq >= ? ORDER BY seq').all(fromSeq) as {
    seq: number;
    at: string;
    actor: string;
    action: string;
    target: string;
    outcome: string;
    details: string;
    prev_hash: string;
  }[];
  let prev = rows[0]!.prev_hash;
  for (const row of rows) {
    const hash = createHash('sha256').update(JSON.stringify([prev, row.at, row.actor, row.action, row.target, row.outcome, row.details])).digest('hex');
    conn.prepare('UPDATE audit_log SET prev_hash = ?, hash = ? WHERE seq = ?').run(prev, hash, row.seq);
    prev = hash;
  }
}

function editDatabase(dir: string, file: string, edit: (conn: Database.Database) => void): void {
  const conn = new Database(path.join(dir, file));
  try {
    edit(conn);
  } finally {
    conn.close();
  }
}

interface RefusalCase {
  name: string;
  /** Makes the backup file this case restores (from the good one). */
  file: () => string;
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Fills the target DATA_DIR before the run (absent otherwise). */
  prepareTarget?: (dataDir: string) => void;
  status: number;
  message: RegExp;
  /**
   * Run through the command line (as an operator does) or in this process (restoreBackup, with the
   * exit code the command maps its error to): a handful through the CLI keeps the suite short.
   */
  via: 'cli' | 'in-process';
}

const cases: RefusalCase[] = [
  {
    name: 'a file that is not a backup',
    file: () => notes,
    status: 2,
    message: /notes\.txt is not a secrets-dashboard backup/,
    via: 'cli',
  },
  {
    name: 'a database given instead of a backup',
    file: () => path.join(temp.dir, 'source', 'app.db'),
    status: 2,
    message: /app\.db is not a secrets-dashboard backup/,
    via: 'in-process',
  },
  {
    name: 'a truncated backup',
    file: () => {
      const file = path.join(temp.dir, 'truncated.backup');
      const bytes = readFileSync(good);
      writeFileSync(file, bytes.subarray(0, Math.floor(bytes.length / 2)));
      return file;
    },
    status: 1,
    message: /truncated\.backup is truncated: it holds \d+ bytes, its manifest says \d+/,
    via: 'cli',
  },
  {
    name: 'a backup with one byte changed',
    file: () => {
      const file = path.join(temp.dir, 'flipped.backup');
      const bytes = Buffer.from(readFileSync(good));
      const at = readContainerHeader(good).bodyOffset + 5000; // inside secrets.db
      bytes[at] = bytes[at]! ^ 0x40;
      writeFileSync(file, bytes);
      return file;
    },
    status: 1,
    message: /flipped\.backup is damaged or was altered: the checksum of secrets\.db does not match its manifest/,
    via: 'in-process',
  },
  {
    name: 'an altered value, with fresh checksums',
    file: () => {
      const file = path.join(temp.dir, 'altered-value.backup');
      repackBackup(good, file, (dir) =>
        editDatabase(dir, 'secrets.db', (conn) => {
          const row = conn.prepare("SELECT v.rowid AS id, v.ciphertext AS c FROM versions v JOIN items i ON i.id = v.item_id WHERE i.name = '/prod/service-1/password' AND v.version = 1").get() as { id: number; c: Buffer };
          const altered = Buffer.from(row.c);
          altered[altered.length - 1] = altered[altered.length - 1]! ^ 0x01;
          conn.prepare('UPDATE versions SET ciphertext = ? WHERE rowid = ?').run(altered, row.id);
        }),
      );
      return file;
    },
    status: 1,
    message: /1 of 10 versions in the backup do not decrypt with the master key; the first: Cannot decrypt \/prod\/service-1\/password#1: the stored ciphertext was altered/,
    via: 'in-process',
  },
  {
    name: 'an edited audit entry, with fresh checksums',
    file: () => {
      const file = path.join(temp.dir, 'edited-entry.backup');
      repackBackup(good, file, (dir) => editDatabase(dir, 'app.db', (conn) => conn.exec("UPDATE audit_log SET target = 'local:/prod/other' WHERE seq = 3")));
      return file;
    },
    status: 1,
    message: /The backup's audit chain is BROKEN at entry #3 \(.+, rotate\)/,
    via: 'in-process',
  },
  {
    name: 'an edited audit entry re-chained with plain SHA-256, with fresh checksums',
    file: () => {
      const file = path.join(temp.dir, 'rechained.backup');
      repackBackup(good, file, (dir, manifest) => {
        editDatabase(dir, 'app.db', (conn) => {
          conn.exec("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 4");
          rechainWithSha256(conn, 4);
          const head = conn.prepare('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1').get() as { seq: number; hash: string };
          manifest.auditHead = { seq: head.seq, hash: head.hash };
        });
        return manifest;
      });
      return file;
    },
    status: 1,
    message: /The backup's audit chain is BROKEN at entry #4/,
    via: 'cli',
  },
  {
    name: 'counts in the manifest that do not match, with fresh checksums',
    file: () => {
      const file = path.join(temp.dir, 'counts.backup');
      repackBackup(good, file, (_dir, manifest) => ({ ...manifest, counts: { ...manifest.counts, items: manifest.counts.items + 1 } }));
      return file;
    },
    status: 1,
    message: /The backup's items do not match its manifest: 5 found, 6 listed/,
    via: 'in-process',
  },
  {
    name: 'an audit log whose newest entries were cut off, with fresh checksums',
    file: () => {
      const file = path.join(temp.dir, 'tail-cut.backup');
      repackBackup(good, file, (dir, manifest) => {
        editDatabase(dir, 'app.db', (conn) => conn.exec('DELETE FROM audit_log WHERE seq > 8'));
        return { ...manifest, counts: { ...manifest.counts, auditEntries: 8 } };
      });
      return file;
    },
    status: 1,
    message: /audit (chain is BROKEN at entry #9|log ends at entry #8, its manifest says #10)/,
    via: 'in-process',
  },
  {
    name: 'a DATA_DIR that holds data',
    file: () => good,
    prepareTarget: (dataDir) => {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, 'secrets.db'), 'the data of another deployment');
    },
    status: 2,
    message: /DATA_DIR .*data is not empty \(it holds secrets\.db\)\. A restore never overwrites data/,
    via: 'cli',
  },
  {
    name: 'a DATA_DIR that holds only a key file',
    file: () => good,
    prepareTarget: (dataDir) => {
      mkdirSync(dataDir, { recursive: true });
      writeFileSync(path.join(dataDir, 'master.key'), `${masterKey}\n`, { mode: 0o600 });
    },
    status: 2,
    message: /is not empty \(it holds master\.key\)/,
    via: 'in-process',
  },
  {
    name: 'a wrong master key',
    file: () => good,
    env: { MASTER_KEY: newMasterKey() },
    status: 1,
    message: /The master key given does not open this backup: it is not the key its data was written with/,
    via: 'cli',
  },
  {
    name: 'no master key at all',
    file: () => good,
    env: { MASTER_KEY: undefined },
    status: 2,
    message: /No master key given\. A backup holds ciphertext only/,
    via: 'in-process',
  },
  {
    name: 'a key file that holds no key',
    file: () => good,
    args: ['--key-file', notes],
    env: { MASTER_KEY: undefined },
    status: 2,
    message: /--key-file .*notes\.txt must hold the base64 encoding of exactly 32 bytes/,
    via: 'in-process',
  },
  {
    name: 'a key given twice',
    file: () => good,
    args: ['--key-file', path.join(temp.dir, 'source', 'app.db')],
    status: 2,
    message: /Both --key-file and MASTER_KEY are set/,
    via: 'in-process',
  },
];

const results = new Map<string, { run: CliRun; before: string[]; after: string[] }>();

/** Runs `tasks` with at most `limit` at a time (each is a child process). */
async function inBatches<T>(tasks: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const out: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      out[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return out;
}

/** restoreBackup in this process, answering as the command would: its exit code and stderr. */
async function restoreInProcess(file: string, args: string[], env: Record<string, string | undefined>): Promise<CliRun> {
  const source: NodeJS.ProcessEnv = { ...process.env, ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete source[name];
  const keyAt = args.indexOf('--key-file');
  try {
    await restoreBackup({ file, dataDir: source.DATA_DIR!, keyFile: keyAt >= 0 ? args[keyAt + 1] : undefined, env: readEnv(source) });
    return { status: 0, stdout: 'Restored into', stderr: '' };
  } catch (error) {
    if (!isExpectedRestoreError(error)) throw error;
    return { status: restoreExitCode(error), stdout: '', stderr: error.message };
  }
}

beforeAll(async () => {
  writeFileSync(notes, 'just some notes\n');
  await makeDeployment(path.join(temp.dir, 'source'), { MASTER_KEY: masterKey }, 5, 2);
  await takeBackup({ dataDir: path.join(temp.dir, 'source'), file: good });
  const run = async (c: RefusalCase, i: number) => {
    const place = path.join(temp.dir, 'targets', String(i));
    mkdirSync(place, { recursive: true });
    const dataDir = path.join(place, 'data');
    c.prepareTarget?.(dataDir);
    const file = c.file();
    const before = listing(place);
    const env = { DATA_DIR: dataDir, MASTER_KEY: masterKey, ...c.env };
    const result = c.via === 'cli' ? await runCli('restore', [file, ...(c.args ?? [])], env) : await restoreInProcess(file, c.args ?? [], env);
    results.set(c.name, { run: result, before, after: listing(place) });
  };
  const indexed = cases.map((c, i) => [c, i] as const);
  for (const [c, i] of indexed.filter(([c]) => c.via === 'in-process')) await run(c, i);
  await inBatches(indexed.filter(([c]) => c.via === 'cli').map(([c, i]) => () => run(c, i)), 3);
}, 60_000);

describe('npm run restore refuses, changing nothing on disk', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const { run, before, after } = results.get(c.name)!;
    expect(run.stderr).toMatch(c.message);
    expect(run.status).toBe(c.status);
    expect(run.stdout).not.toContain('Restored into');
    expect(after).toEqual(before);
    // No key and no value in any message.
    expect(run.stderr + run.stdout).not.toContain(masterKey);
    expect(run.stderr + run.stdout).not.toContain('value of ');
  });
});

describe('npm run restore into an empty place', () => {
  it('restores the same backup, untouched, into an existing empty folder', async () => {
    const dataDir = path.join(temp.dir, 'empty-target');
    mkdirSync(dataDir);
    const run = await runCli('restore', [good], { DATA_DIR: dataDir, MASTER_KEY: masterKey });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(listing(dataDir).map((line) => line.split(' ')[0])).toEqual(['app.db', 'secrets.db']);
    expect(listing(temp.dir).filter((line) => line.includes('.restore-'))).toEqual([]);
    expect(readContainerHeader(good).manifest.auditHead.hash).not.toBe(GENESIS_HASH);
  }, 20_000);

  it('restores into a folder whose parent the restoring user cannot write (the container image\'s /data volume)', async () => {
    // The staging folder then goes inside DATA_DIR and the files are moved out of it one by one.
    // As root (who may write anywhere) the restore runs as nobody; otherwise the parent is made read-only.
    const asRoot = process.getuid?.() === 0;
    const nobody = { uid: 65534, gid: 65534 };
    const place = path.join(temp.dir, 'volume-parent');
    const dataDir = path.join(place, 'data');
    mkdirSync(dataDir, { recursive: true });
    const readable = path.join(temp.dir, 'readable.backup');
    copyFileSync(good, readable);
    chmodSync(readable, 0o644);
    chmodSync(temp.dir, 0o755);
    if (asRoot) chownSync(dataDir, nobody.uid, nobody.gid);
    else chmodSync(place, 0o555);
    try {
      const run = await runCli('restore', [readable], { DATA_DIR: dataDir, MASTER_KEY: masterKey }, asRoot ? nobody : undefined);
      expect(run.stderr).toBe('');
      expect(run.status).toBe(0);
      expect(listing(place).map((line) => line.split(' ')[0])).toEqual(['data/', 'data/app.db', 'data/secrets.db']);
    } finally {
      chmodSync(place, 0o755);
      chmodSync(temp.dir, 0o700);
    }
  }, 20_000);

  it('restores into a mount point\'s root that holds only lost+found, file by file', async () => {
    // The folder cannot be replaced whole (it is not empty), so the files are linked in one by one.
    const dataDir = path.join(temp.dir, 'volume-root');
    mkdirSync(path.join(dataDir, 'lost+found'), { recursive: true });
    const env = readEnv({ ...process.env, DATA_DIR: dataDir, MASTER_KEY: masterKey });
    const result = await restoreBackup({ file: good, dataDir, env });
    expect(result.versions).toBe(10);
    expect(listing(dataDir).map((line) => line.split(' ')[0])).toEqual(['app.db', 'lost+found/', 'secrets.db']);
    expect(listing(temp.dir).filter((line) => line.includes('.restore-') || line.includes('.restoring-'))).toEqual([]);
  });
});
