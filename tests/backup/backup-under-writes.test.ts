import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { readContainerHeader } from '@/lib/backup/container';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { makeTempDir } from '../support/temp-dir';
import { listing, makeDeployment, newMasterKey, runCli, valueOf, type CliRun } from './support/backup-helpers';

// `npm run backup` while another process keeps writing (store rotations and audit appends, as the
// server does), then `npm run restore` into a fresh folder: the restored deployment is one
// consistent moment (integrity, every value decrypts to what was written, the chain verifies, the
// counts are the manifest's), and the suppressions made and lifted meanwhile are those its audit
// log records (app.db is copied before findings.db, so the log never names one the copy lacks).

const temp = makeTempDir('secrets-backup-');
afterAll(() => temp.cleanup());

function startWriter(dataDir: string, masterKey: string, extra: Record<string, string> = {}): { child: ChildProcess; ready: Promise<void>; done: Promise<{ code: number | null; stdout: string; stderr: string }> } {
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'tests/backup/support/keep-writing.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir, MASTER_KEY: masterKey, ITEMS: '20', ...extra },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.includes('ready')) resolve();
    });
    child.once('exit', () => reject(new Error(`the writer exited before it was ready: ${stderr}`)));
  });
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
  return { child, ready, done };
}

function liveCount(dataDir: string, file: string, table: string): number {
  const db = new Database(path.join(dataDir, file), { readonly: true });
  try {
    return Number((db.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n);
  } finally {
    db.close();
  }
}

describe('npm run backup while another process writes, then npm run restore', () => {
  it('restores one consistent moment: intact, every value decrypts, chain verifies, counts equal the manifest', async () => {
    const masterKey = newMasterKey();
    const dataDir = path.join(temp.dir, 'live');
    const file = path.join(temp.dir, 'under-writes.backup');
    const restored = path.join(temp.dir, 'restored');

    const writer = startWriter(dataDir, masterKey);
    let backup: CliRun;
    let before: number;
    let after: number;
    try {
      await writer.ready;
      before = liveCount(dataDir, 'secrets.db', 'versions');
      // The backup needs no key: it copies ciphertext.
      backup = await runCli('backup', [file], { DATA_DIR: dataDir, MASTER_KEY: undefined });
      after = liveCount(dataDir, 'secrets.db', 'versions');
    } finally {
      writer.child.stdin!.end('stop\n');
    }
    const writerResult = await writer.done;
    expect(writerResult.stderr).toBe('');
    expect(writerResult.code).toBe(0);
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    expect(backup.stdout).toMatch(/^Backup written to .*under-writes\.backup \(\d+ bytes\): secrets\.db, app\.db\n/);

    const { manifest } = readContainerHeader(file);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db']);
    // The writer really wrote while the backup ran, and the copy is one moment in between.
    expect(after).toBeGreaterThan(before);
    expect(manifest.counts.versions).toBeGreaterThanOrEqual(before);
    expect(manifest.counts.versions).toBeLessThanOrEqual(after);
    expect(manifest.counts.items).toBe(20);
    expect(manifest.counts.auditEntries).toBeGreaterThan(1);

    const run = await runCli('restore', [file], { DATA_DIR: restored, MASTER_KEY: masterKey });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`every one of the ${manifest.counts.versions} versions decrypts`);
    expect(run.stdout).toContain(`Audit chain intact: ${manifest.counts.auditEntries} entries, head ${manifest.auditHead.hash}.`);
    expect(listing(restored)).toEqual([expect.stringMatching(/^app\.db \d+ /), expect.stringMatching(/^secrets\.db \d+ /)]);

    // Independently of restore's own checks: SQLite's integrity and the counts.
    const store = new Database(path.join(restored, 'secrets.db'), { readonly: true });
    const app = new Database(path.join(restored, 'app.db'), { readonly: true });
    let rotatedWithoutEntry: number;
    try {
      expect(store.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(app.pragma('integrity_check', { simple: true })).toBe('ok');
      expect(Number((store.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n)).toBe(manifest.counts.items);
      expect(Number((store.prepare('SELECT count(*) AS n FROM versions').get() as { n: number }).n)).toBe(manifest.counts.versions);
      expect(Number((app.prepare('SELECT count(*) AS n FROM audit_log').get() as { n: number }).n)).toBe(manifest.counts.auditEntries);
      // secrets.db is copied before app.db and the writer logs each write after it: the log covers
      // the store but for the one rotation in flight when the store was copied.
      const logged = new Set(
        (app.prepare("SELECT target, details FROM audit_log WHERE action = 'rotate'").all() as { target: string; details: string }[]).map(
          (r) => `${r.target.slice('local:'.length)}#${(JSON.parse(r.details) as { version: number }).version}`,
        ),
      );
      const stored = store.prepare('SELECT i.name AS name, v.version AS version FROM versions v JOIN items i ON i.id = v.item_id WHERE v.version > 1').all() as { name: string; version: number }[];
      rotatedWithoutEntry = stored.filter((v) => !logged.has(`${v.name}#${v.version}`)).length;
    } finally {
      store.close();
      app.close();
    }
    expect(rotatedWithoutEntry).toBeLessThanOrEqual(1);

    // Every version reads back, through the store's own code, as what the writer wrote.
    const { store: reopened } = await EmbeddedStore.open('local', 'Built-in', { dataDir: restored, masterKeyBase64: masterKey });
    let read = 0;
    try {
      for (let i = 0; i < manifest.counts.items; i++) {
        const name = `/backup/app-${String(i).padStart(3, '0')}/token`;
        const item = await reopened.getItem(name);
        for (const version of item!.versions) {
          expect(await reopened.readValue(name, version.id)).toBe(valueOf(name, version.id));
          read += 1;
        }
      }
    } finally {
      await reopened.close();
    }
    expect(read).toBe(manifest.counts.versions);

    // And the operator's own check of the chain.
    const verify = await runCli('audit-verify', [], { DATA_DIR: restored, MASTER_KEY: masterKey });
    expect(verify.stderr).toBe('');
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain(`Audit chain intact: ${manifest.counts.auditEntries} entries, head ${manifest.auditHead.hash}\n`);
  }, 40_000);

  it('suppressions made and lifted while it runs: restored as the restored audit log records them, never refused', async () => {
    const masterKey = newMasterKey();
    const dataDir = path.join(temp.dir, 'live-suppressions');
    const file = path.join(temp.dir, 'suppressions-under-writes.backup');
    const restored = path.join(temp.dir, 'restored-suppressions');
    const writer = startWriter(dataDir, masterKey, { SUPPRESSIONS: '1' });
    let backup: CliRun;
    try {
      await writer.ready;
      // Let some suppressions and lifts be written before the copy starts.
      while (!existsSync(path.join(dataDir, 'findings.db')) || liveCount(dataDir, 'findings.db', 'finding_suppressions') < 6) await new Promise((r) => setTimeout(r, 20));
      backup = await runCli('backup', [file], { DATA_DIR: dataDir, MASTER_KEY: undefined });
    } finally {
      writer.child.stdin!.end('stop\n');
    }
    const writerResult = await writer.done;
    expect(writerResult.stderr).toBe('');
    expect(writerResult.code).toBe(0);
    expect(backup.stderr).toBe('');
    expect(backup.status).toBe(0);
    const { manifest } = readContainerHeader(file);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db', 'findings.db']);
    expect(manifest.counts.suppressions).toBeGreaterThanOrEqual(6);
    expect(backup.stdout).toContain(`\n  ${manifest.counts.suppressions} finding suppressions (the findings themselves are recomputed after a restore)\n`);

    const run = await runCli('restore', [file], { DATA_DIR: restored, MASTER_KEY: masterKey });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    // Only what was written between the two copies is left out (the newest suppressions) or lifted without its entry.
    const idsOn = (text: string) => run.stdout.split('\n').filter((l) => l.includes(text)).map((l) => Number(/suppression #(\d+)/.exec(l)![1]));
    const leftOut = idsOn('not restored.');
    const liftedUnaudited = idsOn('does not record the lift');
    expect(run.stdout).not.toContain('does not hold');

    // Independently of restore's own checks: each restored suppression is the one its entry names, lifted as the log says.
    const findings = new Database(path.join(restored, 'findings.db'), { readonly: true });
    const app = new Database(path.join(restored, 'app.db'), { readonly: true });
    try {
      const rows = findings.prepare('SELECT id, item_name, reason, lifted_at FROM finding_suppressions ORDER BY id').all() as { id: number; item_name: string; reason: string; lifted_at: string | null }[];
      const entries = app.prepare("SELECT action, target, details FROM audit_log WHERE action LIKE 'finding.%' ORDER BY seq").all() as { action: string; target: string; details: string }[];
      const made = entries.filter((e) => e.action === 'finding.suppress').map((e) => ({ target: e.target, ...(JSON.parse(e.details) as { suppression: number; reason: string }) }));
      const lifted = new Set(entries.filter((e) => e.action === 'finding.lift-suppression').map((e) => (JSON.parse(e.details) as { suppression: number }).suppression));
      expect(rows.map((r) => [r.id, `local:${r.item_name}`, r.reason])).toEqual(made.map((m) => [m.suppression, m.target, m.reason]));
      expect(rows.length + leftOut.length).toBe(manifest.counts.suppressions);
      expect(leftOut.every((id) => id > rows.at(-1)!.id)).toBe(true);
      const liftedRows = rows.filter((r) => r.lifted_at !== null).map((r) => r.id);
      expect(liftedRows.filter((id) => !lifted.has(id))).toEqual(liftedUnaudited);
      expect([...lifted].filter((id) => !liftedRows.includes(id))).toEqual([]);
      expect(lifted.size).toBeGreaterThanOrEqual(1);
    } finally {
      findings.close();
      app.close();
    }
  }, 40_000);

  it('never puts the plaintext master key in a backup; restore takes it with --key-file', async () => {
    const dataDir = path.join(temp.dir, 'with-key-file');
    const names = await makeDeployment(dataDir, {}, 3, 2); // no MASTER_KEY: the key file DATA_DIR/master.key is made
    const keyFile = path.join(dataDir, 'master.key');
    expect(existsSync(keyFile)).toBe(true);
    const file = path.join(temp.dir, 'with-key-file.backup');
    const backup = await runCli('backup', [file], { DATA_DIR: dataDir, MASTER_KEY: undefined });
    expect(backup.status).toBe(0);
    expect(backup.stdout).toContain('The master key is NOT in it');

    const { manifest } = readContainerHeader(file);
    expect(manifest.files.map((f) => f.name)).toEqual(['secrets.db', 'app.db']);
    const bytes = readFileSync(file);
    const keyText = readFileSync(keyFile, 'utf8').trim();
    expect(bytes.includes(Buffer.from(keyText))).toBe(false);
    expect(bytes.includes(Buffer.from(keyText, 'base64'))).toBe(false);
    expect(bytes.includes(Buffer.from(valueOf(names[0]!, 1)))).toBe(false); // values are sealed

    const restored = path.join(temp.dir, 'with-key-file-restored');
    const run = await runCli('restore', [file, '--key-file', keyFile], { DATA_DIR: restored, MASTER_KEY: undefined });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(`copy the key file to ${path.join(restored, 'master.key')}`);
    expect(existsSync(path.join(restored, 'master.key'))).toBe(false);
    // As the restore says: the key file goes back beside the data, and the deployment starts.
    copyFileSync(keyFile, path.join(restored, 'master.key'));
    chmodSync(path.join(restored, 'master.key'), 0o600);
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir: restored });
    try {
      for (const name of names) expect(await store.readValue(name)).toBe(valueOf(name, 2));
    } finally {
      await store.close();
    }
  }, 30_000);
});
