import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { vaultHttp } from './vault-http';
import { runSimulatorMain } from '../support/simulator-process';

// simulator/main.ts --vault as a launcher runs it: the URL line first on stdout, Vault's API behind
// it (LIST included), the audit file it was given, and an exit when its stdin closes.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'vault-main-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runSimulatorMain;

describe('simulator/main.ts --vault', () => {
  it('serves a Vault with generated data, a root token, a config file and an audit file, and exits when stdin closes', async () => {
    const config = join(dir, 'vault.json');
    writeFileSync(config, JSON.stringify({ mounts: [{ path: 'legacy', version: 1, secrets: [{ path: 'a', versions: [{ x: '1' }] }] }], policies: [{ name: 'browse', paths: { 'secret/metadata/*': ['list', 'read'] } }] }));
    const audit = join(dir, 'audit', 'vault_audit.log');
    const sim = run(['--vault', '--vault-data', 'generated:500', '--vault-token', 'hvs.main-test-root', '--vault-audit', audit, '--vault-config', config, '--latency', '0', '--seed', '3']);
    try {
      const line = await sim.firstLine;
      expect(line).toMatch(/^SIMULATOR_URL=http:\/\/127\.0\.0\.1:\d+$/);
      const url = line.slice('SIMULATOR_URL='.length);
      const v = vaultHttp(url, { token: 'hvs.main-test-root' });
      expect((await v.get('sys/health')).status).toBe(200);
      expect((await v.list('secret/metadata/teams')).body.data.keys.length).toBe(20);
      expect((await v.get('legacy/a')).body.data).toEqual({ x: '1' });
      const health = (await (await fetch(`${url}/__health`)).json()) as { status: string; mounts: string[] };
      expect(health).toMatchObject({ status: 'ok', mounts: ['legacy', 'secret'] });
      expect(readFileSync(audit, 'utf8')).toContain('"path":"secret/metadata/teams/"');
      // The control API over HTTP: a token, then sealing.
      const control = async (body: unknown) => (await fetch(`${url}/__control`, { method: 'POST', body: JSON.stringify(body) })).json() as Promise<any>;
      const made = await control({ tokens: [{ policies: ['browse'] }] });
      expect((await v.list('secret/metadata/', { token: made.tokens[0].client_token })).status).toBe(200);
      expect((await v.get('secret/data/teams/x', { token: made.tokens[0].client_token })).status).toBe(403);
      expect(await control({ sealed: 'yes' })).toMatchObject({ error: expect.stringContaining('sealed') });
      await control({ sealed: true });
      expect((await v.get('sys/health')).status).toBe(503);
      const stats = (await (await fetch(`${url}/__stats`)).json()) as { operations: Record<string, { calls: number }> };
      expect(stats.operations['list secret/metadata']?.calls).toBe(2);

      sim.child.stdin.end();
      const { code, stdout, stderr } = await sim.exit;
      expect(code).toBe(0);
      expect(stdout).toBe(`${line}\n`);
      expect(stderr).toContain('simulated Vault listening on');
      expect(stderr).toContain('secret: 500 secrets');
    } finally {
      sim.child.kill();
    }
  });

  it('refuses bad --vault options with exit code 2', async () => {
    const bad = run(['--vault', '--vault-data', 'lots']);
    expect((await bad.exit).code).toBe(2);
    const stray = run(['--aws', '--vault-token', 'x']);
    const out = await stray.exit;
    expect(out.code).toBe(2);
    expect(out.stderr).toContain('the --vault-… options go with --vault');
  });
});
