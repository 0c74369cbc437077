import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyChainIn } from '@/lib/audit/verify-chain';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { APP_DB_FILE } from '@/lib/db/app-db';
import { makeTempDir } from '../support/temp-dir';

const temp = makeTempDir('secrets-audit-race-');
const savedDataDir = process.env.DATA_DIR;
afterAll(async () => {
  await closeKeyrings();
  if (savedDataDir === undefined) delete process.env.DATA_DIR;
  else process.env.DATA_DIR = savedDataDir;
  temp.cleanup();
});
const dataDir = path.join(temp.dir, 'data');
const COUNT = 300;

function startWriter(name: string): { child: ChildProcess; ready: Promise<void>; exit: Promise<{ code: number | null; stderr: string }> } {
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'tests/audit/support/append-entries.ts'], {
    cwd: process.cwd(),
    env: { ...process.env, DATA_DIR: dataDir, COUNT: String(COUNT), WRITER: name },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const ready = new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', () => reject(new Error(`writer ${name} exited before it was ready: ${stderr}`)));
  });
  const exit = new Promise<{ code: number | null; stderr: string }>((resolve) => child.once('close', (code) => resolve({ code, stderr })));
  return { child, ready, exit };
}

describe('two processes appending to the audit log at once', () => {
  it('keeps one intact chain: every entry links to the one before, none lost, none forked', async () => {
    // The keyring (master key file, audit chain key) exists before the writers start, as a server makes it.
    process.env.DATA_DIR = dataDir;
    const key = await auditChainKey();
    const writers = [startWriter('a'), startWriter('b')];
    await Promise.all(writers.map((w) => w.ready));
    for (const w of writers) w.child.stdin!.end('go\n');
    const results = await Promise.all(writers.map((w) => w.exit));
    expect(results).toEqual([
      { code: 0, stderr: '' },
      { code: 0, stderr: '' },
    ]);

    const db = new Database(path.join(dataDir, APP_DB_FILE), { readonly: true });
    try {
      const rows = db.prepare('SELECT actor, prev_hash FROM audit_log ORDER BY seq').all() as { actor: string; prev_hash: string }[];
      expect(rows).toHaveLength(2 * COUNT);
      // Two appends after the same prev_hash would be a fork.
      expect(new Set(rows.map((r) => r.prev_hash)).size).toBe(rows.length);
      // The writers really overlapped (otherwise this test proves nothing about concurrency).
      const switches = rows.filter((r, i) => i > 0 && r.actor !== rows[i - 1]!.actor).length;
      expect(switches).toBeGreaterThan(1);
      expect(verifyChainIn(db, key)).toMatchObject({ intact: true, entries: 2 * COUNT });
    } finally {
      db.close();
    }
  }, 60_000);
});
