import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { auditSourcesFromConfig, cloudTrailSources, vaultFileSourcesFromConfig } from '@/lib/cloudtrail/sources-config';
import { storesFromConfig, type AwsStoreConfig, type VaultStoreConfig } from '@/lib/config/stores';
import { parseConfigYaml } from '@/lib/config/yaml-file';
import { demoOrganisation } from '@/simulator/demo/organisation';
import {
  credentialsText,
  DemoConfigError,
  demoAwsWanted,
  demoVaultWanted,
  DEMO_VAULT_AUDIT,
  DEMO_VAULT_STORE,
  launchDemoAws,
  mergeDemoConfig,
  readDemoAccounts,
  stopSimulator,
} from '../../scripts/demo-aws.mjs';
import { alertsFromConfig } from '@/lib/alerts/alerts-config';
import { createWebhookSender } from '@/lib/alerts/channels/webhook';
import type { AlertMessage } from '@/lib/alerts/types';
import { demoAlertsSection, startDemoAlertReceiver } from '../../scripts/demo-alerts.mjs';
import { DEMO_VAULT_CLIENTS, makeDemoVaultTraffic } from '../../scripts/demo-vault-traffic.mjs';
import { startSimulatedVault } from '@/simulator/vault/simulated-vault';
import { makeTempDir } from '../support/temp-dir';

// The launcher of the demo's simulated AWS (scripts/demo-aws.mjs): the CONFIG_FILE it writes is
// the user's plus the demo's stores and trail sources, which the dashboard's own validation
// accepts; ids it needs that the user's file already uses are refused; the simulator is started,
// and a simulator that does not start leaves the dashboard starting anyway.

const temp = makeTempDir('demo-launcher-');
afterAll(() => temp.cleanup());

const accounts = readDemoAccounts();
const endpoint = 'http://127.0.0.1:45999';
const credentialsFile = path.join(temp.dir, 'credentials');
writeFileSync(credentialsFile, credentialsText(accounts));
/** The user's own AWS files: none (HOME is empty), so only the demo's credentials file can hold the profiles. */
const awsEnv = { HOME: path.join(temp.dir, 'home') };

function validated(text: string, source = path.join(temp.dir, 'merged.yaml')) {
  const config = parseConfigYaml(text, source);
  const stores = storesFromConfig(config, awsEnv);
  const audit = auditSourcesFromConfig(config, awsEnv);
  return { stores, audit, sources: cloudTrailSources(stores, audit), vaultSources: vaultFileSourcesFromConfig(config, stores) };
}

describe('mergeDemoConfig', () => {
  it('without a CONFIG_FILE: the built-in store and the two accounts\' stores and trails, valid for the dashboard', () => {
    const { text, storeIds } = mergeDemoConfig({ userText: null, userPath: null, accounts, endpoint, credentialsFile });
    const { stores, audit, sources } = validated(text);
    expect(stores.map((s) => s.id)).toEqual(['local', 'sim-prod-ssm', 'sim-prod-secrets', 'sim-staging-ssm', 'sim-staging-secrets']);
    expect(storeIds).toEqual(['sim-prod-ssm', 'sim-prod-secrets', 'sim-staging-ssm', 'sim-staging-secrets']);
    const prodSsm = stores[1] as AwsStoreConfig;
    expect(prodSsm).toMatchObject({ kind: 'ssm', region: 'us-east-1', endpoint, profile: 'simulated-prod', credentialsFile, writable: true, label: 'Production (simulated): Parameter Store' });
    expect((stores[4] as AwsStoreConfig).region).toBe('eu-west-1');
    // The trail buckets are the simulated organisation's.
    const buckets = demoOrganisation(Date.now()).map((a) => a.trailBucket);
    expect(audit.map((s) => [s.id, s.kind, s.connection.region, s.kind === 'cloudtrail-s3' ? s.bucket : null])).toEqual([
      ['sim-prod-trail', 'cloudtrail-s3', 'us-east-1', buckets[0]],
      ['sim-staging-trail', 'cloudtrail-s3', 'eu-west-1', buckets[1]],
    ]);
    // LookupEvents comes with the stores: one source per account.
    const lookups = sources.filter((s) => s.kind === 'lookup-events');
    expect(lookups.map((s) => (s.kind === 'lookup-events' ? s.stores : []))).toEqual([
      ['sim-prod-ssm', 'sim-prod-secrets'],
      ['sim-staging-ssm', 'sim-staging-secrets'],
    ]);
  });

  it('keeps the user\'s stores, audit sources and other sections, with relative paths made absolute', () => {
    const userDir = path.join(temp.dir, 'user');
    mkdirSync(path.join(userDir, 'aws'), { recursive: true });
    writeFileSync(path.join(userDir, 'aws', 'creds'), '[team]\naws_access_key_id = x\naws_secret_access_key = y\n');
    const userPath = path.join(userDir, 'dashboard.yaml');
    const userText = `# mine
stores:
  - id: local
    kind: local
    label: Our store
  - id: team-params
    kind: ssm
    region: eu-central-1
    profile: team
    credentialsFile: aws/creds
audit:
  - id: team-trail
    kind: cloudtrail-s3
    region: eu-central-1
    bucket: team-trail-bucket
    profile: team
    credentialsFile: aws/creds
grants:
  - group: security
    role: auditor
    paths: ['/**']
freshness:
  - paths: ['/payments/**']
    maxAge: 30d
`;
    const { text } = mergeDemoConfig({ userText, userPath, accounts, endpoint, credentialsFile });
    const { stores, audit } = validated(text);
    expect(stores.map((s) => s.id)).toEqual(['local', 'team-params', 'sim-prod-ssm', 'sim-prod-secrets', 'sim-staging-ssm', 'sim-staging-secrets']);
    expect(stores[0]).toMatchObject({ label: 'Our store' });
    expect((stores[1] as AwsStoreConfig).credentialsFile).toBe(path.join(userDir, 'aws', 'creds'));
    expect(audit.map((s) => s.id)).toEqual(['team-trail', 'sim-prod-trail', 'sim-staging-trail']);
    expect(audit[0]!.connection.credentialsFile).toBe(path.join(userDir, 'aws', 'creds'));
    const raw = parseConfigYaml(text, 'merged.yaml').raw as Record<string, unknown>;
    expect(raw.grants).toEqual([{ group: 'security', role: 'auditor', paths: ['/**'] }]);
    expect(raw.freshness).toEqual([{ paths: ['/payments/**'], maxAge: '30d' }]);
  });

  it('refuses a CONFIG_FILE that already uses one of the demo\'s ids, naming it and the way out', () => {
    const refuse = (userText: string) => {
      try {
        mergeDemoConfig({ userText, userPath: '/etc/dashboard.yaml', accounts, endpoint, credentialsFile });
      } catch (error) {
        expect(error).toBeInstanceOf(DemoConfigError);
        return (error as Error).message;
      }
      throw new Error('expected a refusal');
    };
    const store = refuse('stores:\n  - id: local\n    kind: local\n  - id: sim-prod-ssm\n    kind: ssm\n    region: us-east-1\n');
    expect(store).toContain('/etc/dashboard.yaml: stores[1] uses the id "sim-prod-ssm"');
    expect(store).toContain('DEMO_AWS=0');
    const trail = refuse('audit:\n  - id: sim-staging-trail\n    kind: lookup-events\n    region: eu-west-1\n');
    expect(trail).toContain('audit[0] uses the id "sim-staging-trail"');
    // Ids that merely look alike are the user's to use.
    expect(() => mergeDemoConfig({ userText: 'stores:\n  - id: sim-prod\n    kind: local\n', userPath: '/x.yaml', accounts, endpoint, credentialsFile })).not.toThrow();
  });
});

describe("the demo's alerts", () => {
  const message: AlertMessage = {
    dedupKey: 'demo-on-call|rotation-failing|sim-prod-secrets|/prod/identity/ldap-bind-password|',
    action: 'trigger',
    event: 'rotation-failing',
    severity: 'high',
    rule: { id: 'demo-on-call' },
    title: 'Rotation failing: /prod/identity/ldap-bind-password (sim-prod-secrets)',
    summary: 'AWSPENDING left behind.',
    subjects: [{ storeId: 'sim-prod-secrets', name: '/prod/identity/ldap-bind-password', url: 'http://localhost:3000/items/sim-prod-secrets/prod/identity/ldap-bind-password' }],
    totalItems: 1,
    link: 'http://localhost:3000/alerts',
    at: new Date().toISOString(),
  };

  it("are added only where the user's CONFIG_FILE has none, and the dashboard accepts them", () => {
    const env = { DEMO_ALERTS_WEBHOOK_URL: 'http://127.0.0.1:45998/alerts', DEMO_ALERTS_WEBHOOK_SECRET: 'a'.repeat(64) };
    const { text } = mergeDemoConfig({ userText: null, userPath: null, accounts, endpoint, credentialsFile, alerts: demoAlertsSection() });
    const config = alertsFromConfig(parseConfigYaml(text, path.join(temp.dir, 'merged.yaml')), { env, knownStores: validated(text).stores.map((s) => s.id) });
    expect(config.rules.map((r) => [r.id, r.mode])).toEqual([
      ['demo-on-call', 'immediate'],
      ['demo-reviewers', 'immediate'],
      ['demo-daily-overdue', 'digest'],
    ]);
    expect(config.senders.map((c) => [c.id, c.kind])).toEqual([['demo-webhook', 'webhook']]);
    // A user's own alerts are theirs: the demo adds none beside them.
    const user = 'alerts:\n  channels: []\n  rules: []\n';
    const merged = parseConfigYaml(mergeDemoConfig({ userText: user, userPath: path.join(temp.dir, 'user.yaml'), accounts, endpoint, credentialsFile, alerts: demoAlertsSection() }).text, 'm.yaml');
    expect(alertsFromConfig(merged, { env }).rules).toEqual([]);
  });

  it('go to a receiver that takes a signed delivery from the real webhook channel and refuses an unsigned or wrongly signed one', async () => {
    const logs: string[] = [];
    const receiver = await startDemoAlertReceiver({ log: (m) => logs.push(m) });
    try {
      const never = new AbortController().signal;
      expect(await createWebhookSender({ id: 'demo-webhook', url: receiver.url, secret: receiver.secret }).send(message, never)).toEqual({ ok: true });
      expect(receiver.received).toEqual([{ id: message.dedupKey, action: 'trigger', title: message.title }]);
      expect(logs).toEqual([`Demo alert received (trigger): ${message.title}`]);
      const forged = await createWebhookSender({ id: 'demo-webhook', url: receiver.url, secret: 'b'.repeat(64) }).send(message, never);
      expect(forged).toMatchObject({ ok: false, retryable: false });
      const unsigned = await fetch(receiver.url, { method: 'POST', body: JSON.stringify(message) });
      expect(unsigned.status).toBe(401);
      expect(receiver.received).toHaveLength(1);
    } finally {
      await receiver.close();
    }
  });
});

describe('demoAwsWanted', () => {
  it('only with DEMO_DATA on, and not with DEMO_AWS=0', () => {
    expect(demoAwsWanted({ DEMO_DATA: '1' })).toBe(true);
    expect(demoAwsWanted({ DEMO_DATA: 'true', DEMO_AWS: '1' })).toBe(true);
    expect(demoAwsWanted({ DEMO_DATA: '1', DEMO_AWS: '0' })).toBe(false);
    expect(demoAwsWanted({ DEMO_DATA: '1', DEMO_AWS: 'false' })).toBe(false);
    expect(demoAwsWanted({})).toBe(false);
    expect(demoAwsWanted({ DEMO_DATA: '0' })).toBe(false);
  });
});

describe('launchDemoAws', () => {
  // Stand-ins for simulator/main.ts: one that answers as it does (first line, then runs until
  // stdin closes), one that crashes at start.
  const standIn = (script: string) => ({ command: process.execPath, args: (port: number) => ['-e', script, String(port)] });
  const working = standIn("console.log('SIMULATOR_URL=http://127.0.0.1:' + process.argv[1]); process.stdin.resume(); process.stdin.on('end', () => process.exit(0));");
  const crashing = standIn("console.error('port taken'); process.exit(3);");

  it('starts the simulator, writes the demo\'s credentials (0600) and config under DATA_DIR, and names the simulated stores', async () => {
    const logs: string[] = [];
    const dataDir = path.join(temp.dir, 'data-1');
    const demo = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: (m) => logs.push(m), simulatorCommand: working });
    try {
      expect(demo.child!.exitCode).toBeNull();
      expect(demo.credentialsFile).toBe(path.join(dataDir, 'simulated-aws', 'credentials'));
      expect(statSync(demo.credentialsFile).mode & 0o777).toBe(0o600);
      expect(readFileSync(demo.credentialsFile, 'utf8')).toContain('[simulated-prod]\naws_access_key_id = demo-prod-dashboard-key');
      expect(demo.serverEnv).toEqual({
        CONFIG_FILE: path.join(dataDir, 'simulated-aws', 'config.yaml'),
        SIMULATED_AWS_STORES: 'sim-prod-ssm,sim-prod-secrets,sim-staging-ssm,sim-staging-secrets',
        CLOUDTRAIL_SYNC_INTERVAL_MINUTES: '1',
        // The demo's alerts' receiver, in the launcher's own process.
        DEMO_ALERTS_WEBHOOK_URL: demo.receiver!.url,
        DEMO_ALERTS_WEBHOOK_SECRET: demo.receiver!.secret,
      });
      // The secret is the server's only: in its environment, never in the config file.
      expect(readFileSync(demo.configFile, 'utf8')).not.toContain(demo.receiver!.secret);
      expect(alertsFromConfig(parseConfigYaml(readFileSync(demo.configFile, 'utf8'), demo.configFile), { env: demo.serverEnv }).senders.map((c) => c.id)).toEqual(['demo-webhook']);
      const { stores } = validated(readFileSync(demo.configFile, 'utf8'), demo.configFile);
      expect((stores[1] as AwsStoreConfig).endpoint).toBe(demo.endpoint);
      expect(logs.join('\n')).not.toContain('did not start');
    } finally {
      await demo.receiver?.close();
      const exited = new Promise((resolve) => demo.child!.once('exit', resolve));
      stopSimulator(demo.child);
      await exited;
    }
  });

  it('a simulator that does not start leaves the dashboard starting, its stores pointing where it should have been', async () => {
    const logs: string[] = [];
    const demo = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-2') }, log: (m) => logs.push(m), simulatorCommand: crashing });
    expect(logs.join('\n')).toMatch(/Simulated AWS did not start \(it exited with code 3\)/);
    expect(demo.serverEnv.SIMULATED_AWS_STORES).toContain('sim-prod-ssm');
    expect(validated(readFileSync(demo.configFile, 'utf8')).stores).toHaveLength(5);
  });

  it('keeps the organisation\'s "now" per data directory, so a restart serves the same organisation', async () => {
    const dataDir = path.join(temp.dir, 'data-epoch');
    const epochs: number[] = [];
    const spying = { command: crashing.command, args: (port: number, epoch: number) => (epochs.push(epoch), crashing.args(port)) };
    const first = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: () => {}, simulatorCommand: spying, now: 1_700_000_000_000 });
    const restart = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: () => {}, simulatorCommand: spying, now: 1_700_000_000_000 + 3 * 86_400_000 });
    const fresh = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-epoch-2') }, log: () => {}, simulatorCommand: spying, now: 1_800_000_000_000 });
    expect([first.epoch, restart.epoch, fresh.epoch]).toEqual([1_700_000_000_000, 1_700_000_000_000, 1_800_000_000_000]);
    expect(epochs).toEqual([1_700_000_000_000, 1_700_000_000_000, 1_800_000_000_000]);
    expect(readFileSync(path.join(dataDir, 'simulated-aws', 'epoch'), 'utf8').trim()).toBe('1700000000000');
    // The same port too while it is free: the stores' LookupEvents source keeps its id and position.
    expect(restart.endpoint).toBe(first.endpoint);
  });

  it('takes another port when the last one is taken', async () => {
    const dataDir = path.join(temp.dir, 'data-port');
    const first = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: () => {}, simulatorCommand: crashing });
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(Number(new URL(first.endpoint).port), '127.0.0.1', resolve));
    try {
      const second = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: () => {}, simulatorCommand: crashing });
      expect(second.endpoint).not.toBe(first.endpoint);
      expect(readFileSync(path.join(dataDir, 'simulated-aws', 'port'), 'utf8').trim()).toBe(new URL(second.endpoint).port);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('starts the demo Vault beside the organisation: store sim-vault and its audit file in the config, its token in the server environment only, then its clients\' calls', async () => {
    const logs: string[] = [];
    const tokens: string[] = [];
    const auditFiles: string[] = [];
    const trafficTo: string[] = [];
    const vaultStandIn = { command: working.command, args: (port: number, token: string, auditFile: string) => (tokens.push(token), auditFiles.push(auditFile), working.args(port)) };
    const vaultTraffic = async (address: string) => (trafficTo.push(address), { reads: ['a', 'b', 'c'], refused: ['d'] });
    const dataDir = path.join(temp.dir, 'data-vault');
    const demo = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: dataDir }, log: (m) => logs.push(m), simulatorCommand: working, vaultSimulatorCommand: vaultStandIn, vaultTraffic, alertReceiver: null });
    try {
      expect(demo.vaultChild!.exitCode).toBeNull();
      expect(tokens).toHaveLength(1);
      expect(demo.serverEnv.DEMO_VAULT_TOKEN).toBe(tokens[0]);
      expect(demo.serverEnv.SIMULATED_AWS_STORES).toBe('sim-prod-ssm,sim-prod-secrets,sim-staging-ssm,sim-staging-secrets');
      const text = readFileSync(demo.configFile, 'utf8');
      expect(text).not.toContain(tokens[0]!);
      const vault = validated(text).stores.find((s) => s.id === DEMO_VAULT_STORE);
      expect(vault).toMatchObject({ kind: 'vault', writable: true, auth: { method: 'token', tokenEnv: 'DEMO_VAULT_TOKEN' } });
      // The simulator's file audit device writes under DATA_DIR, and the config names that file as sim-vault's access source.
      const auditFile = path.join(dataDir, 'simulated-aws', 'vault-audit', 'vault_audit.log');
      expect(auditFiles).toEqual([auditFile]);
      expect(validated(text).vaultSources).toEqual([{ id: DEMO_VAULT_AUDIT, kind: 'vault-file', storeId: DEMO_VAULT_STORE, mount: 'secret', namespace: '', prefix: '', path: auditFile }]);
      // Once the Vault is up its clients make their calls, against its address.
      expect(trafficTo).toEqual([(vault as VaultStoreConfig).address]);
      expect(logs.join('\n')).toMatch(/Simulated Vault on http:\/\/127\.0\.0\.1:\d+: store sim-vault \(.*access from audit source sim-vault-audit\)/);
      expect(logs.join('\n')).toContain(`Simulated Vault clients read 3 secrets and were refused 1 (audit file ${auditFile}).`);
    } finally {
      for (const child of [demo.child, demo.vaultChild]) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        stopSimulator(child);
        await exited;
      }
    }
    // DEMO_VAULT=0: no Vault, no store, no audit source, no calls.
    const without = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-vault-off'), DEMO_VAULT: '0' }, log: () => {}, simulatorCommand: crashing, vaultSimulatorCommand: vaultStandIn, vaultTraffic, alertReceiver: null });
    expect(without.vaultChild).toBeNull();
    const withoutConfig = validated(readFileSync(without.configFile, 'utf8'));
    expect(withoutConfig.stores.map((s) => s.id)).not.toContain(DEMO_VAULT_STORE);
    expect(withoutConfig.vaultSources).toEqual([]);
    expect(readFileSync(without.configFile, 'utf8')).not.toContain(DEMO_VAULT_AUDIT);
    expect(trafficTo).toHaveLength(1);
    expect(demoVaultWanted({ DEMO_VAULT: 'false' })).toBe(false);
    expect(demoVaultWanted({})).toBe(true);
  });

  it('a demo Vault that does not start is named (and no client calls it), and the organisation and the dashboard go on', async () => {
    const logs: string[] = [];
    let called = false;
    const vaultTraffic = async () => ((called = true), { reads: [], refused: [] });
    const demo = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-vault-crash') }, log: (m) => logs.push(m), simulatorCommand: working, vaultSimulatorCommand: crashing, vaultTraffic, alertReceiver: null });
    try {
      expect(called).toBe(false);
      expect(logs.join('\n')).toMatch(/Simulated Vault did not start \(it exited with code 3\); the dashboard starts without it and shows the error on the store sim-vault/);
      expect(logs.join('\n')).not.toMatch(/Simulated AWS did not start/);
      expect(demo.child!.exitCode).toBeNull();
    } finally {
      const exited = new Promise((resolve) => demo.child!.once('exit', resolve));
      stopSimulator(demo.child);
      await exited;
    }
  });

  it('demo Vault clients that cannot make their calls are named, and the demo goes on', async () => {
    const logs: string[] = [];
    const vaultTraffic = async () => {
      throw new Error('reading payments/payouts/webhook-secret: HTTP 503, expected 200');
    };
    const demo = await launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-vault-traffic') }, log: (m) => logs.push(m), simulatorCommand: working, vaultSimulatorCommand: working, vaultTraffic, alertReceiver: null });
    try {
      expect(logs.join('\n')).toContain('Simulated Vault clients could not make their calls (reading payments/payouts/webhook-secret: HTTP 503, expected 200); the sim-vault Access panels stay empty.');
      expect(demo.vaultChild!.exitCode).toBeNull();
    } finally {
      for (const child of [demo.child, demo.vaultChild]) {
        const exited = new Promise((resolve) => child!.once('exit', resolve));
        stopSimulator(child);
        await exited;
      }
    }
  });

  it('refuses when CONFIG_FILE is missing, before starting anything', async () => {
    await expect(launchDemoAws({ root: temp.dir, env: { DATA_DIR: path.join(temp.dir, 'data-3'), CONFIG_FILE: 'nowhere.yaml' }, simulatorCommand: working })).rejects.toThrow(/CONFIG_FILE points at .*nowhere\.yaml, but it does not exist/);
  });
});

describe("the demo Vault's clients", () => {
  it('read a few secrets as an AppRole service and a named token, and the token is refused one: what the audit file then holds, with no value or credential', async () => {
    const auditFile = path.join(temp.dir, 'vault-traffic', 'vault_audit.log');
    const sim = await startSimulatedVault({ latencyMs: 0, rootToken: 'demo-traffic-root', mounts: [{ path: 'secret', data: [{ kind: 'demo' }] }], audit: { path: auditFile } });
    try {
      const { approle, token } = DEMO_VAULT_CLIENTS;
      expect(await makeDemoVaultTraffic(sim.url)).toEqual({ reads: [...approle.reads, ...token.reads], refused: [token.refused] });
      expect(existsSync(auditFile)).toBe(true);
      const text = readFileSync(auditFile, 'utf8');
      const reads = text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.type === 'response' && entry.request.path.startsWith('secret/data/'))
        .map((entry) => [entry.auth?.display_name, entry.auth?.metadata?.role_name ?? null, entry.request.path, entry.error ? 'refused' : 'read']);
      expect(reads).toEqual([
        ...approle.reads.map((p) => ['approle', approle.roleName, `secret/data/${p}`, 'read']),
        ...token.reads.map((p) => [token.displayName, null, `secret/data/${p}`, 'read']),
        [token.displayName, null, `secret/data/${token.refused}`, 'refused'],
      ]);
      // Values are only ever HMAC'd in the audit file.
      expect(text).not.toContain('VAULTSIM-VALUE-SENTINEL');
    } finally {
      await sim.close();
    }
  });
});
