#!/usr/bin/env node
// Run by the Dockerfile on the server folder the image ships (/app, Next's standalone output): proves
// it runs on its own before it becomes the image. Next's file tracing decides what goes into that folder, and a missing
// native addon (better-sqlite3, @node-rs/argon2) or a dangling link to an external package only shows
// when the server starts, so the build fails here instead of the container at its first request.
//
//   node deploy/docker/smoke-test.mjs /app [--timeout-ms 120000] [--require a,b]   (or .next/standalone)
//
// It copies the folder somewhere with no node_modules above it (so nothing resolves from outside it:
// the same run on a build stage's .next/standalone proves as much), checks every symbolic link in it stays inside it, loads the external packages
// from it, then starts `node server.js` on a throwaway data directory with throwaway keys (SQLite,
// which opens the store, runs the migrations and hashes the first admin's password with argon2) and
// asks for /api/health, /sign-in and one static asset. Everything it made is removed.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';

const DEFAULT_EXTERNALS = ['better-sqlite3', '@node-rs/argon2', 'pg'];

class SmokeFailure extends Error {}

function options() {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { 'timeout-ms': { type: 'string', default: '120000' }, require: { type: 'string' } },
  });
  const timeoutMs = Number(values['timeout-ms']);
  if (positionals.length !== 1 || !Number.isInteger(timeoutMs) || timeoutMs < 100) {
    throw new SmokeFailure('usage: smoke-test.mjs <standalone folder> [--timeout-ms N (at least 100)] [--require pkg,pkg]');
  }
  const externals = values.require === undefined ? DEFAULT_EXTERNALS : values.require.split(',').filter(Boolean);
  return { source: path.resolve(positionals[0]), timeoutMs, externals };
}

/** Every symbolic link under `root` must resolve, and to a place inside `root`. */
function checkLinks(root) {
  const problems = [];
  const walk = (dir) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isSymbolicLink()) {
        let target;
        try {
          target = realpathSync(full);
        } catch {
          problems.push(`${path.relative(root, full)} is a link to nothing`);
          continue;
        }
        if (target !== root && !target.startsWith(root + path.sep)) problems.push(`${path.relative(root, full)} links outside the folder (${target})`);
      } else if (entry.isDirectory()) {
        walk(full);
      }
    }
  };
  walk(root);
  if (problems.length > 0) throw new SmokeFailure(`broken links in the standalone folder:\n  ${problems.join('\n  ')}`);
}

function checkExternals(app, externals) {
  const requireFromApp = createRequire(path.join(app, 'server.js'));
  const missing = [];
  for (const name of externals) {
    try {
      requireFromApp(name);
    } catch (error) {
      missing.push(`${name}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
    }
  }
  if (missing.length > 0) {
    throw new SmokeFailure(`packages the server loads at run time are not in the standalone folder:\n  ${missing.join('\n  ')}`);
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function get(url) {
  const response = await fetch(url, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
  return { status: response.status, type: response.headers.get('content-type') ?? '', body: await response.text() };
}

function startServer(app, dataDir, port) {
  const env = { ...process.env };
  // The smoke run uses SQLite under its own data directory, whatever the build's environment says.
  for (const name of ['DATABASE_URL', 'CONFIG_FILE', 'DEMO_DATA', 'NODE_PATH', 'NEXTAUTH_URL']) delete env[name];
  Object.assign(env, {
    NODE_ENV: 'production',
    NEXT_TELEMETRY_DISABLED: '1',
    PORT: String(port),
    HOSTNAME: '127.0.0.1',
    DATA_DIR: dataDir,
    MASTER_KEY: randomBytes(32).toString('base64'),
    NEXTAUTH_SECRET: randomBytes(32).toString('base64'),
    ADMIN_EMAIL: 'smoke-test@dashboard.local',
    // Given, so the server has no password to print.
    ADMIN_PASSWORD: randomBytes(24).toString('base64url'),
    LOG_LEVEL: 'warn',
  });
  const child = spawn(process.execPath, ['server.js'], { cwd: app, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const server = { child, output: '', exit: undefined };
  const keep = (chunk) => {
    server.output = (server.output + chunk.toString()).slice(-8000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  server.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      server.exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
  });
  return server;
}

async function waitForHealth(server, base, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (server.exit) throw new SmokeFailure(`the server stopped (${server.exit}) before /api/health answered 200`);
    try {
      const health = await get(`${base}/api/health`);
      if (health.status === 200 && JSON.parse(health.body).status === 'ok') return;
      last = `${health.status} ${health.body.slice(0, 300)}`;
    } catch (error) {
      last = error instanceof Error ? (error.cause?.code ?? error.message) : String(error);
    }
    await sleep(300);
  }
  throw new SmokeFailure(`/api/health did not answer 200 {"status":"ok"} within ${timeoutMs} ms (last: ${last})`);
}

async function checkPages(base) {
  const signIn = await get(`${base}/sign-in`);
  if (signIn.status !== 200 || !signIn.type.includes('text/html')) {
    throw new SmokeFailure(`/sign-in answered ${signIn.status} ${signIn.type}, not a 200 HTML page`);
  }
  const asset = signIn.body.match(/\/_next\/static\/[^"'\s?]+/)?.[0];
  if (!asset) throw new SmokeFailure('/sign-in links no /_next/static/ asset');
  const served = await get(base + asset);
  if (served.status !== 200) {
    throw new SmokeFailure(`${asset} answered ${served.status}: .next/static was not copied into the standalone folder`);
  }
}

async function stop(server) {
  if (server.exit) return;
  server.child.kill('SIGTERM');
  let timer;
  const gaveUp = new Promise((resolve) => {
    timer = setTimeout(() => resolve(true), 5000);
  });
  const timedOut = await Promise.race([server.exited.then(() => false), gaveUp]);
  clearTimeout(timer);
  if (timedOut) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
}

async function main() {
  const started = Date.now();
  const { source, timeoutMs, externals } = options();
  if (!existsSync(path.join(source, 'server.js'))) {
    throw new SmokeFailure(`${source} has no server.js: build with NEXT_OUTPUT=standalone first`);
  }
  const work = mkdtempSync(path.join(tmpdir(), 'standalone-smoke-'));
  let server;
  try {
    const app = path.join(work, 'app');
    cpSync(source, app, { recursive: true, verbatimSymlinks: true });
    if (lstatSync(app).isSymbolicLink()) throw new SmokeFailure(`${source} is a link; give the folder itself`);
    checkLinks(realpathSync(app));
    checkExternals(app, externals);
    const port = await freePort();
    server = startServer(app, path.join(work, 'data'), port);
    const base = `http://127.0.0.1:${port}`;
    try {
      await waitForHealth(server, base, timeoutMs);
      await checkPages(base);
    } catch (error) {
      if (error instanceof SmokeFailure) error.message += `\n--- server output (last lines) ---\n${server.output.trim() || '(none)'}`;
      throw error;
    }
    console.log(`Standalone server smoke test passed in ${Date.now() - started} ms: /api/health, /sign-in and static assets answer 200.`);
  } finally {
    if (server) await stop(server);
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  console.error(`Standalone server smoke test failed: ${error instanceof SmokeFailure ? error.message : error instanceof Error ? error.stack : String(error)}`);
  process.exit(1);
}
