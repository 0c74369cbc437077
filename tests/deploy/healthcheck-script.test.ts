import { execFile } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';

// deploy/docker/healthcheck.mjs, the image's HEALTHCHECK: healthy only when /api/health on PORT
// answers 200, and it says why not.

const script = path.join(process.cwd(), 'deploy', 'docker', 'healthcheck.mjs');
const run = promisify(execFile);
let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  server = undefined;
});

async function serve(status: number, body: object): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  server = createServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { port: (server!.address() as AddressInfo).port, paths };
}

async function check(port: number): Promise<{ code: number; stderr: string }> {
  try {
    const { stderr } = await run(process.execPath, [script], { env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', PORT: String(port) }, timeout: 15_000 });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code?: number; stderr?: string };
    return { code: failed.code ?? -1, stderr: failed.stderr ?? '' };
  }
}

describe('the image health check', () => {
  it('is healthy when /api/health answers 200', async () => {
    const { port, paths } = await serve(200, { status: 'ok', stores: 1 });
    expect(await check(port)).toEqual({ code: 0, stderr: '' });
    expect(paths).toEqual(['/api/health']);
  });

  it('is unhealthy on a 503 and repeats its reason', async () => {
    const { port } = await serve(503, { status: 'unavailable', reason: 'the database did not answer' });
    const result = await check(port);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`http://127.0.0.1:${port}/api/health answered 503`);
    expect(result.stderr).toContain('the database did not answer');
  });

  it('is unhealthy when nothing listens', async () => {
    const { port } = await serve(200, { status: 'ok' });
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const result = await check(port);
    expect(result).toEqual({ code: 1, stderr: `http://127.0.0.1:${port}/api/health did not answer: ECONNREFUSED\n` });
  });
});
