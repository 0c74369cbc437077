import { spawn } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir';

// npm run audit:verify streams the chain: a million entries verify in about the memory a hundred
// thousand take. Both logs are written by a child process (one INSERT in one transaction) and
// verified by the real command in another, whose peak RSS is measured (tests/audit/support/peak-rss.mjs).

const temp = makeTempDir('secrets-verify-million-');
afterAll(() => temp.cleanup());

function run(args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.DATABASE_URL;
  delete childEnv.MASTER_KEY; // the key file the generator made
  const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', ...args], { cwd: process.cwd(), env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr, ms: Date.now() - started })));
}

async function chainOf(count: number): Promise<string> {
  const dataDir = path.join(temp.dir, `chain-${count}`);
  const made = await run(['tests/audit/support/big-chain.ts'], { DATA_DIR: dataDir, COUNT: String(count) });
  expect(made.stderr).toBe('');
  expect(made.stdout.trim()).toBe(`written ${count}`);
  return dataDir;
}

async function verifyMeasured(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string; peakMb: number; ms: number }> {
  const result = await run(['--import', './tests/audit/support/peak-rss.mjs', 'scripts/audit-verify.ts'], { DATA_DIR: dataDir });
  const peak = /peak RSS (\d+) MB/.exec(result.stderr);
  expect(peak, result.stderr).not.toBeNull();
  return { ...result, stderr: result.stderr.replace(/peak RSS \d+ MB\n/, ''), peakMb: Number(peak![1]) };
}

describe('verifying 1,000,000 entries', () => {
  it('streams in bounded memory: the peak RSS stays near that of 100,000 entries', async () => {
    const small = await chainOf(100_000);
    const smallRun = await verifyMeasured(small);
    expect(smallRun.stderr).toBe('');
    expect(smallRun.code).toBe(0);
    expect(smallRun.stdout).toMatch(/^Audit chain intact: 100000 entries, head [0-9a-f]{64}\n/);

    const large = await chainOf(1_000_000);
    const largeRun = await verifyMeasured(large);
    expect(largeRun.stderr).toBe('');
    expect(largeRun.code).toBe(0);
    expect(largeRun.stdout).toMatch(/^Audit chain intact: 1000000 entries, head [0-9a-f]{64}\n/);

    console.log(
      `audit:verify peak RSS: ${smallRun.peakMb} MB for 100,000 entries (${smallRun.ms} ms), ${largeRun.peakMb} MB for 1,000,000 entries (${largeRun.ms} ms)`,
    );
    // Ten times the entries, not ten times the memory: a log read into memory would need hundreds of MB more.
    expect(largeRun.peakMb).toBeLessThan(smallRun.peakMb + 40);

    // And it still names the first bad entry near the end of a long log.
    const conn = new Database(path.join(small, 'app.db'));
    conn.prepare("UPDATE audit_log SET actor = 'mallory@example.com' WHERE seq = 99990").run();
    conn.close();
    const broken = await verifyMeasured(small);
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(/^Audit chain BROKEN at entry #99990 \(.+\): hash mismatch/);
  }, 120_000);
});
