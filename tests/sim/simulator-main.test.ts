import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runSimulatorMain } from '../support/simulator-process';

// simulator/main.ts as the launcher runs it: a process whose first stdout line is the URL, that
// answers health, and that never outlives the pipe it was started with.

let dir: string;
let accountsFile: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'simulator-main-'));
  accountsFile = join(dir, 'accounts.json');
  writeFileSync(
    accountsFile,
    JSON.stringify([
      {
        account: '333333333333',
        alias: 'sandbox',
        region: 'ap-southeast-2',
        accessKeyId: 'AKIASANDBOXSIMULATE1',
        secretAccessKey: 'sandbox-secret',
        principalArn: 'arn:aws:iam::333333333333:user/dashboard',
        parameters: [{ Name: '/sandbox/one' }, { Name: '/sandbox/two' }],
        secrets: [{ Name: 'sandbox/secret' }],
        events: [{ eventID: 'e1', eventTime: new Date().toISOString(), eventSource: 'ssm.amazonaws.com', eventName: 'GetParameter' }],
        trailBucket: 'sandbox-trail',
        trailObjects: [],
      },
    ]),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = runSimulatorMain;

describe('simulator/main.ts', () => {
  it('prints exactly the URL line first, answers health, and exits when its stdin closes', async () => {
    const sim = run(['--accounts', accountsFile, '--latency', '0']);
    try {
      const line = await sim.firstLine;
      expect(line).toMatch(/^SIMULATOR_URL=http:\/\/127\.0\.0\.1:\d+$/);
      const url = line.slice('SIMULATOR_URL='.length);
      const health = (await (await fetch(`${url}/__health`)).json()) as { status: string; accounts: { alias: string; parameters: number; secrets: number; events: number }[] };
      expect(health).toMatchObject({ status: 'ok', accounts: [{ alias: 'sandbox', parameters: 2, secrets: 1, events: 1 }] });

      sim.child.stdin.end();
      const { code, stdout } = await sim.exit;
      expect(code).toBe(0);
      // Nothing but the URL line on stdout.
      expect(stdout).toBe(`${line}\n`);
      await expect(fetch(`${url}/__health`)).rejects.toThrow();
    } finally {
      sim.child.kill();
    }
  }, 20_000);

  it('exits non-zero with a clear message when --port is taken', async () => {
    const blocker: Server = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const sim = run(['--accounts', accountsFile, '--port', String(port)]);
      const { code, stderr, stdout } = await sim.exit;
      expect(code).toBe(1);
      expect(stderr).toContain(`port ${port} on 127.0.0.1 is taken`);
      expect(stdout).toBe('');
    } finally {
      blocker.close();
    }
  }, 20_000);

  it('refuses to start without exactly one mode, with a malformed --port, and with two ways of denying tags', async () => {
    const none = await run([]).exit;
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give one of --demo, --accounts FILE, --org AxR, --aws, --kms');
    const two = await run(['--aws', '--kms']).exit;
    expect(two.code).toBe(2);
    const both = await run(['--aws', '--deny-tags', '/a', '--deny-tags-every', '2']).exit;
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('use either --deny-tags or --deny-tags-every');
    const bad = await run(['--accounts', accountsFile, '--port', 'eighty']).exit;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--port must be a whole number');
  }, 20_000);

  it('serves Parameter Store and Secrets Manager alone with --aws, and KMS alone with --kms', async () => {
    const aws = run(['--aws', '--ssm', 'flat:bulk:7', '--secrets', 'hierarchy:3', '--latency', '0']);
    const kms = run(['--kms', '--key', '1234abcd-12ab-34cd-56ef-1234567890ab:alias/one,alias/two', '--latency', '0']);
    try {
      const awsUrl = (await aws.firstLine).slice('SIMULATOR_URL='.length);
      expect(await (await fetch(`${awsUrl}/__health`)).json()).toMatchObject({ status: 'ok', parameters: 7, secrets: 3 });
      const kmsUrl = (await kms.firstLine).slice('SIMULATOR_URL='.length);
      expect(await (await fetch(`${kmsUrl}/__health`)).json()).toMatchObject({ status: 'ok', keys: 1 });
      aws.child.stdin.end();
      kms.child.stdin.end();
      expect((await aws.exit).code).toBe(0);
      expect((await kms.exit).code).toBe(0);
    } finally {
      aws.child.kill();
      kms.child.kill();
    }
  }, 20_000);

  it('serves the demo organisation with --demo: prod and staging', async () => {
    const sim = run(['--demo', '--latency', '0']);
    try {
      const url = (await sim.firstLine).slice('SIMULATOR_URL='.length);
      const health = (await (await fetch(`${url}/__health`)).json()) as { accounts: { alias: string; account: string; region: string; parameters: number; events: number }[] };
      expect(health.accounts.map((a) => [a.alias, a.account, a.region])).toEqual([
        ['prod', '111111111111', 'us-east-1'],
        ['staging', '222222222222', 'eu-west-1'],
      ]);
      expect(health.accounts.every((a) => a.parameters > 100 && a.events > 1000)).toBe(true);
      sim.child.stdin.end();
      expect((await sim.exit).code).toBe(0);
    } finally {
      sim.child.kill();
    }
  }, 30_000);
});
