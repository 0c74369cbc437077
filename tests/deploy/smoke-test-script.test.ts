import { execFile } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeTempDir } from '../support/temp-dir';

// deploy/docker/smoke-test.mjs, which the Dockerfile runs on the standalone folder before it becomes
// the image. Here it runs on a stand-in folder: a server.js that behaves as told (FAKE_MODE), one
// external package, and a Turbopack-style hashed link to it.

const script = path.join(process.cwd(), 'deploy', 'docker', 'smoke-test.mjs');
const run = promisify(execFile);
const temp = makeTempDir('smoke-fixture-');
const standalone = path.join(temp.dir, 'standalone');

// What the stand-in server checks of its environment is what the smoke test promises to give it.
const FAKE_SERVER = `
const http = require('node:http');
const mode = process.env.FAKE_MODE || 'ok';
const fail = (why) => { console.error('fake start-up failure: ' + why); process.exit(1); };
if (mode === 'crash') fail('the master key does not match');
if (process.env.DATABASE_URL) fail('DATABASE_URL is set; the smoke run must use SQLite');
if (Buffer.from(process.env.MASTER_KEY || '', 'base64').length !== 32) fail('MASTER_KEY is not 32 bytes');
if (!process.env.NEXTAUTH_SECRET || !process.env.ADMIN_PASSWORD) fail('NEXTAUTH_SECRET or ADMIN_PASSWORD unset');
if (!process.env.DATA_DIR || process.env.DATA_DIR.startsWith(__dirname)) fail('DATA_DIR is not a throwaway folder');
require('fake-external');
http.createServer((req, res) => {
  if (req.url === '/api/health') {
    if (mode === 'unhealthy') return res.writeHead(503, { 'content-type': 'application/json' }).end('{"status":"unavailable","reason":"store did not open"}');
    return res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok","stores":1}');
  }
  if (req.url === '/sign-in') return res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<script src="/_next/static/chunks/main-abc.js" async></script>');
  if (req.url === '/_next/static/chunks/main-abc.js' && mode !== 'no-static') return res.writeHead(200).end('ok');
  res.writeHead(404).end();
}).listen(Number(process.env.PORT), process.env.HOSTNAME);
`;

beforeAll(() => {
  mkdirSync(path.join(standalone, 'node_modules', 'fake-external'), { recursive: true });
  mkdirSync(path.join(standalone, '.next', 'node_modules'), { recursive: true });
  writeFileSync(path.join(standalone, 'server.js'), FAKE_SERVER);
  writeFileSync(path.join(standalone, 'node_modules', 'fake-external', 'package.json'), '{"name":"fake-external","main":"index.js"}');
  writeFileSync(path.join(standalone, 'node_modules', 'fake-external', 'index.js'), 'module.exports = 1;');
  symlinkSync('../../node_modules/fake-external', path.join(standalone, '.next', 'node_modules', 'fake-external-0123abcd'));
});
afterAll(() => temp.cleanup());

async function smoke(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [script, ...args], {
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', DATABASE_URL: 'postgres://u:p@db.invalid:5432/d', ...env },
      timeout: 30_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: failed.code ?? -1, stdout: failed.stdout ?? '', stderr: failed.stderr ?? '' };
  }
}

const leftovers = () => readdirSync(tmpdir()).filter((n) => n.startsWith('standalone-smoke-')).length;

describe('the standalone smoke test', () => {
  it('passes a folder whose server starts healthy and serves its page and assets, and leaves nothing behind', async () => {
    const before = leftovers();
    const result = await smoke([standalone, '--require', 'fake-external']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Standalone server smoke test passed in \d+ ms: \/api\/health, \/sign-in and static assets answer 200\.\n$/);
    expect(leftovers()).toBe(before);
  });

  it('fails naming the reason when the server stops at start-up, with its output', async () => {
    const result = await smoke([standalone, '--require', 'fake-external'], { FAKE_MODE: 'crash' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('the server stopped (code 1) before /api/health answered 200');
    expect(result.stderr).toContain('fake start-up failure: the master key does not match');
  });

  it('fails when /api/health keeps answering 503', async () => {
    const result = await smoke([standalone, '--require', 'fake-external', '--timeout-ms', '1500'], { FAKE_MODE: 'unhealthy' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/api/health did not answer 200 {"status":"ok"} within 1500 ms (last: 503 {"status":"unavailable","reason":"store did not open"})');
  });

  it('fails when the static assets were not copied', async () => {
    const result = await smoke([standalone, '--require', 'fake-external'], { FAKE_MODE: 'no-static' });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('/_next/static/chunks/main-abc.js answered 404: .next/static was not copied into the standalone folder');
  });

  it('fails naming a package the folder lacks', async () => {
    const result = await smoke([standalone, '--require', 'fake-external,better-sqlite3-missing']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('packages the server loads at run time are not in the standalone folder:\n  better-sqlite3-missing: Cannot find module');
  });

  it('fails naming a dangling link or one that leaves the folder', async () => {
    const dangling = path.join(standalone, '.next', 'node_modules', 'pg-89abcdef');
    symlinkSync('../../node_modules/pg', dangling);
    try {
      const result = await smoke([standalone, '--require', 'fake-external']);
      expect(result.code).toBe(1);
      expect(result.stderr).toContain('broken links in the standalone folder:\n  .next/node_modules/pg-89abcdef is a link to nothing');
    } finally {
      rmSync(dangling);
    }
    const outside = path.join(standalone, '.next', 'node_modules', 'better-sqlite3-89abcdef');
    symlinkSync(path.join(process.cwd(), 'node_modules', 'better-sqlite3'), outside);
    try {
      const result = await smoke([standalone, '--require', 'fake-external']);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/\.next\/node_modules\/better-sqlite3-89abcdef links outside the folder/);
    } finally {
      rmSync(outside);
    }
  });

  it('refuses a folder without server.js', async () => {
    const result = await smoke([temp.dir]);
    expect(result).toMatchObject({ code: 1, stderr: `Standalone server smoke test failed: ${temp.dir} has no server.js: build with NEXT_OUTPUT=standalone first\n` });
  });
});
