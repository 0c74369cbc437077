import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { makeTempDir } from '../support/temp-dir';

// `npm run import` writes one audit entry per import to DATA_DIR/app.db: who (the OS user), where,
// which file, how many items, the outcome. Never a value.

const temp = makeTempDir('secrets-import-audit-');
afterAll(() => temp.cleanup());
const dataDir = path.join(temp.dir, 'data');
const osActor = `os:${userInfo().username}`;
const SENTINEL = 'SENTINEL-import-value-91c2e7';

function runImport(...args: string[]) {
  return spawnSync(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/import-env.ts', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir },
    encoding: 'utf8',
  });
}

type AuditRow = { actor: string; action: string; target: string; outcome: string; details: string };
function importEntries(): AuditRow[] {
  const file = path.join(dataDir, 'app.db');
  if (!existsSync(file)) return [];
  const db = new Database(file, { readonly: true });
  try {
    return db.prepare("SELECT actor, action, target, outcome, details FROM audit_log WHERE action = 'import' ORDER BY seq").all() as AuditRow[];
  } finally {
    db.close();
  }
}

function envFile(name: string, text: string): string {
  const file = path.join(temp.dir, name);
  writeFileSync(file, text);
  return file;
}

describe('npm run import in the audit log', () => {
  it('records a successful import: the OS user, the prefix, the file name and the counts, never a value', () => {
    const first = runImport(envFile('first.env', `DB_PASSWORD=${SENTINEL}-1\nAPI_KEY=${SENTINEL}-2\n`), '--prefix', '/app/dev');
    expect(first.status).toBe(0);
    const second = runImport(envFile('second.env', `DB_PASSWORD=${SENTINEL}-3\nNEW_ONE=${SENTINEL}-4\n`), '--prefix', '/app/dev/');
    expect(second.status).toBe(0);

    const entries = importEntries();
    expect(entries).toHaveLength(2);
    expect(entries[0]).toMatchObject({ actor: osActor, action: 'import', target: 'local:/app/dev/', outcome: 'success' });
    expect(JSON.parse(entries[0]!.details)).toEqual({ via: 'cli', file: 'first.env', created: 2, updated: 0 });
    expect(JSON.parse(entries[1]!.details)).toEqual({ via: 'cli', file: 'second.env', created: 1, updated: 1 });

    const db = new Database(path.join(dataDir, 'app.db'), { readonly: true });
    const everyRow = JSON.stringify(db.prepare('SELECT * FROM audit_log').all());
    db.close();
    expect(everyRow).not.toContain(SENTINEL);
    for (const file of ['app.db', 'app.db-wal']) {
      const full = path.join(dataDir, file);
      if (existsSync(full)) expect(readFileSync(full).includes(SENTINEL)).toBe(false);
    }
  });

  it('keeps the OS user as the actor when --actor labels the change', () => {
    expect(runImport(envFile('labelled.env', `LABELLED=${SENTINEL}\n`), '--prefix', '/app/labelled/', '--actor', 'deploy-bot').status).toBe(0);
    const entry = importEntries().at(-1)!;
    expect(entry).toMatchObject({ actor: osActor, target: 'local:/app/labelled/', outcome: 'success' });
    expect(JSON.parse(entry.details)).toEqual({ via: 'cli', file: 'labelled.env', changedBy: 'deploy-bot', created: 1, updated: 0 });
  });

  it('records a file with bad lines as a failure, and the store holds nothing from it', async () => {
    const before = importEntries().length;
    const run = runImport(envFile('bad.env', `GOOD=${SENTINEL}\nbroken line\nALSO=${SENTINEL}\n`), '--prefix', '/app/bad/');
    expect(run.status).toBe(1);
    const entries = importEntries();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)).toMatchObject({ actor: osActor, target: 'local:/app/bad/', outcome: 'failure' });
    expect(JSON.parse(entries.at(-1)!.details)).toEqual({ via: 'cli', file: 'bad.env', reason: 'the file has problems', problems: 1, created: 0, updated: 0 });
    expect(JSON.stringify(entries)).not.toContain(SENTINEL);
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      expect((await store.list({ path: '/app/bad/' })).items).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('records an unreadable file as a failure', () => {
    const before = importEntries().length;
    const run = runImport(path.join(temp.dir, 'missing.env'), '--prefix', '/app/missing/');
    expect(run.status).toBe(2);
    expect(importEntries()).toHaveLength(before + 1);
    expect(importEntries().at(-1)).toMatchObject({ target: 'local:/app/missing/', outcome: 'failure' });
    expect(JSON.parse(importEntries().at(-1)!.details)).toMatchObject({ file: 'missing.env', reason: 'cannot read the file (ENOENT)' });
  });

  // The audit chain is keyed by a key sealed under the master key: a process holding the wrong
  // master key cannot add an entry (nor forge one); it says so and the chain stays as it was.
  it('refuses the import with a wrong master key, writing nothing, and says the failure could not be audited', async () => {
    const before = importEntries().length;
    const run = spawnSync(
      process.execPath,
      ['--conditions=react-server', '--import', 'tsx', 'scripts/import-env.ts', envFile('wrong-key.env', `K=${SENTINEL}\n`), '--prefix', '/app/wrong-key/'],
      { cwd: process.cwd(), env: { ...process.env, DATA_DIR: dataDir, MASTER_KEY: Buffer.alloc(32, 7).toString('base64') }, encoding: 'utf8' },
    );
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/Import failed: .*master key/);
    expect(run.stderr).toMatch(/Could not write the audit entry: .*master key/);
    expect(run.stderr).not.toContain(SENTINEL);
    expect(importEntries()).toHaveLength(before);
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      expect((await store.list({ path: '/app/wrong-key/' })).items).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('records nothing, and writes nothing, when --prefix has a ".." level (a wrong argument: exit 2)', async () => {
    const before = importEntries().length;
    const run = runImport(envFile('dots.env', `KEY=${SENTINEL}\n`), '--prefix', '/prod/payments/../../staging/');
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/has a "\.\." level \(level 3\)/);
    expect(importEntries()).toHaveLength(before);
    const { store } = await EmbeddedStore.open('local', 'Built-in', { dataDir });
    try {
      const { items } = await store.list({ path: '/', recursive: true });
      expect(items.map((i) => i.name).filter((n) => n.endsWith('/KEY'))).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('records nothing when the arguments say nothing about what to import', () => {
    const before = importEntries().length;
    expect(runImport(envFile('no-prefix.env', 'A=1\n')).status).toBe(2);
    expect(importEntries()).toHaveLength(before);
  });
});
