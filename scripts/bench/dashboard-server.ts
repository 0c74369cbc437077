// The production dashboard as a benchmark drives it: `next start` of the current build on a data
// directory the benchmark prepared, reached over HTTP like any browser, with a signed-in session.
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';

import { buildIfNeeded, nextBin, root, serverNodeArgs } from '../next-server.mjs';
import { descendants, peakRssMb } from './measure';

export interface DashboardServer {
  url: string;
  child: ChildProcess;
  /** Peak RSS of the server and anything it forked, in MB. */
  peakRssMb(): number;
  /** Why the server is gone (exit code or signal, and its last output), or null while it runs. */
  exitReason(): string | null;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Builds when the sources are newer than the build, so a benchmark never measures stale code. */
export function ensureBuild(): void {
  if (buildIfNeeded() !== 0) throw new Error('next build failed');
}

export async function startDashboard(env: Record<string, string>, timeoutMs = 120_000): Promise<DashboardServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  // As `npm start` runs it; and for profiling the server under the benchmark's load, e.g. BENCH_SERVER_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof".
  const nodeArgs = [...serverNodeArgs(), ...(process.env.BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)];
  const child = spawn(process.execPath, [...nodeArgs, nextBin, 'start', '-p', String(port), '-H', '127.0.0.1'], {
    cwd: root,
    env: {
      ...process.env,
      ...env,
      PORT: String(port),
      NEXT_TELEMETRY_DISABLED: '1',
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  // BENCH_SERVER_LOG=FILE keeps everything the server prints (else only its last lines, for errors).
  const logFile = process.env.BENCH_SERVER_LOG ? createWriteStream(process.env.BENCH_SERVER_LOG, { flags: 'a' }) : null;
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
    logFile?.write(chunk);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the dashboard exited (${child.exitCode}):\n${output}`);
    try {
      if ((await fetch(`${url}/api/health`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`the dashboard did not become healthy in ${timeoutMs} ms:\n${output}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const pid = child.pid!;
  let exited: string | null = null;
  child.once('exit', (code, signal) => {
    exited = `the dashboard exited (${signal ?? `code ${code}`}); its last output:\n${output.slice(-2000)}`;
  });
  return {
    url,
    child,
    peakRssMb: () => Math.max(peakRssMb(pid), ...descendants(pid).map((p) => peakRssMb(p))),
    exitReason: () => exited,
    stop: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** Signs in through next-auth's credentials endpoint; returns the Cookie header of the session. */
export async function signIn(url: string, email: string, password: string): Promise<string> {
  const csrf = await fetch(`${url}/api/auth/csrf`);
  const { csrfToken } = (await csrf.json()) as { csrfToken: string };
  const jar = csrf.headers.getSetCookie().map((c) => c.split(';')[0]!);
  const response = await fetch(`${url}/api/auth/callback/credentials`, {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: jar.join('; ') },
    body: new URLSearchParams({ csrfToken, email, password, json: 'true', callbackUrl: '/browse' }),
  });
  const session = response.headers.getSetCookie().map((c) => c.split(';')[0]!).find((c) => c.includes('next-auth.session-token='));
  if (!session) throw new Error(`signing in as ${email} failed (HTTP ${response.status})`);
  return session;
}

