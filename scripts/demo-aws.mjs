// The demo's simulated AWS organisation, for `DEMO_DATA=1 npm start` (scripts/start.mjs): starts the
// simulator (simulator/main.ts --demo) as its own process on a free loopback port, writes the demo's
// own credentials file and a CONFIG_FILE that adds the simulated accounts' stores and trail buckets
// beside the user's, and tells the server which stores are simulated. The dashboard reaches the
// simulator exactly as it reaches AWS (endpoint, profile, region), and the user's own AWS files and
// environment are never changed. If the simulator cannot start or dies, the dashboard still serves
// everything else and the simulated stores show their errors as in a real outage.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import { DEMO_ALERTS_SECRET_ENV, DEMO_ALERTS_URL_ENV, demoAlertsSection, startDemoAlertReceiver } from './demo-alerts.mjs';
import { makeDemoVaultTraffic } from './demo-vault-traffic.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
export const ACCOUNTS_FILE = path.resolve(here, '..', 'simulator', 'demo', 'accounts.json');

/** The demo's store and audit-source ids; a user's CONFIG_FILE must not use them. */
export function demoIds(accounts) {
  return {
    stores: accounts.flatMap((a) => [`sim-${a.alias}-ssm`, `sim-${a.alias}-secrets`]),
    audit: accounts.map((a) => `sim-${a.alias}-trail`),
  };
}

export function readDemoAccounts(file = ACCOUNTS_FILE) {
  return JSON.parse(readFileSync(file, 'utf8')).accounts;
}

const isOn = (v) => v === '1' || v === 'true';

/** DEMO_DATA=1 starts the simulated AWS unless DEMO_AWS=0 (the browser tests' other servers set it). */
export function demoAwsWanted(env = process.env) {
  return isOn(env.DEMO_DATA) && !(env.DEMO_AWS === '0' || env.DEMO_AWS === 'false');
}

export class DemoConfigError extends Error {}

/** The demo's profiles, in the AWS shared-credentials format. */
export function credentialsText(accounts) {
  return accounts
    .map((a) => `[${profileOf(a)}]\naws_access_key_id = ${a.accessKeyId}\naws_secret_access_key = ${a.secretAccessKey}\n`)
    .join('\n');
}

export const profileOf = (account) => `simulated-${account.alias}`;

/**
 * The simulator's heap: small young generation and a bound, so its footprint stays near what it
 * holds (about 150 MB rather than 220 MB), keeping the demo under 500 MB with the server.
 */
export const SIMULATOR_NODE_ARGS = ['--max-semi-space-size=1', '--max-old-space-size=192'];

/** ListTagsForResource at AWS's quota rather than the default 4 a second, so owners appear within minutes. */
const DEMO_RATE_LIMITS = { DescribeParameters: 10, ListTagsForResource: 10, ListSecrets: 100 };

function demoStores(accounts, endpoint, credentialsFile) {
  return accounts.flatMap((a) => {
    const common = { region: a.region, profile: profileOf(a), credentialsFile, endpoint, writable: true };
    return [
      { id: `sim-${a.alias}-ssm`, kind: 'ssm', label: `${a.label}: Parameter Store`, ...common, rateLimits: DEMO_RATE_LIMITS },
      { id: `sim-${a.alias}-secrets`, kind: 'secretsmanager', label: `${a.label}: Secrets Manager`, ...common, rateLimits: DEMO_RATE_LIMITS },
    ];
  });
}

/** The demo Vault's store id, and the variable its token is handed to the server in (never written to a file). */
export const DEMO_VAULT_STORE = 'sim-vault';
export const DEMO_VAULT_TOKEN_ENV = 'DEMO_VAULT_TOKEN';
/** The demo Vault's audit source: its file audit device, under DATA_DIR/simulated-aws/vault-audit/. */
export const DEMO_VAULT_AUDIT = 'sim-vault-audit';

/** DEMO_DATA=1 also starts a simulated Vault (its demo set of 300 secrets) unless DEMO_VAULT=0. */
export function demoVaultWanted(env = process.env) {
  return !(env.DEMO_VAULT === '0' || env.DEMO_VAULT === 'false');
}

function demoVaultStore({ address }) {
  return {
    id: DEMO_VAULT_STORE,
    kind: 'vault',
    label: 'Demo Vault: KV v2 (secret/)',
    address,
    auth: { method: 'token', tokenEnv: DEMO_VAULT_TOKEN_ENV },
    writable: true,
    rate: 50,
  };
}

/** The demo Vault's file audit device as the sim-vault store's access source. */
function demoVaultAuditSource({ auditFile }) {
  return { id: DEMO_VAULT_AUDIT, kind: 'vault-file', store: DEMO_VAULT_STORE, path: auditFile };
}

function demoAuditSources(accounts, endpoint, credentialsFile) {
  return accounts.map((a) => ({
    id: `sim-${a.alias}-trail`,
    kind: 'cloudtrail-s3',
    region: a.region,
    profile: profileOf(a),
    credentialsFile,
    endpoint,
    bucket: a.trailBucket,
  }));
}

/**
 * The user's CONFIG_FILE (text, or null without one) with the demo's stores and audit sources added
 * beside theirs, and `alerts` (scripts/demo-alerts.mjs) when given and the user's file has none of
 * its own. Every other section is kept as it is; relative credentialsFile paths are made
 * absolute, since the merged file lives elsewhere. An id the demo needs that the user's file
 * already uses is refused.
 */
export function mergeDemoConfig({ userText, userPath, accounts, endpoint, credentialsFile, alerts = null, vault = null }) {
  let user = {};
  if (userText !== null && userText !== undefined) {
    const doc = parseDocument(userText, { uniqueKeys: true });
    if (doc.errors.length > 0) throw new DemoConfigError(`${userPath}: not valid YAML (${doc.errors[0].message.split('\n')[0]}); the dashboard would refuse it too.`);
    user = doc.toJS() ?? {};
    if (typeof user !== 'object' || Array.isArray(user)) throw new DemoConfigError(`${userPath}: the configuration must be a mapping with sections such as "stores:".`);
  }
  const ids = demoIds(accounts);
  if (vault) {
    ids.stores.push(DEMO_VAULT_STORE);
    ids.audit.push(DEMO_VAULT_AUDIT);
  }
  const clashes = [];
  const userStores = user.stores === undefined || user.stores === null ? null : user.stores;
  const userAudit = user.audit === undefined || user.audit === null ? [] : user.audit;
  if (userStores !== null && !Array.isArray(userStores)) throw new DemoConfigError(`${userPath}: "stores:" must be a list.`);
  if (!Array.isArray(userAudit)) throw new DemoConfigError(`${userPath}: "audit:" must be a list.`);
  (userStores ?? []).forEach((s, i) => {
    if ([...ids.stores, ...ids.audit].includes(s?.id)) clashes.push(`stores[${i}] uses the id "${s.id}"`);
  });
  userAudit.forEach((s, i) => {
    if ([...ids.stores, ...ids.audit].includes(s?.id)) clashes.push(`audit[${i}] uses the id "${s.id}"`);
  });
  if (clashes.length > 0)
    throw new DemoConfigError(
      `${userPath}: ${clashes.join('; ')}, which the demo's simulated AWS needs for its own stores and audit sources (${[...ids.stores, ...ids.audit].join(', ')}). Rename yours, or start without the simulated AWS: DEMO_AWS=0.`,
    );

  const absolute = (entry) =>
    entry && typeof entry === 'object' && typeof entry.credentialsFile === 'string' && userPath
      ? { ...entry, credentialsFile: path.resolve(path.dirname(path.resolve(userPath)), entry.credentialsFile) }
      : entry;
  // Without a stores list the dashboard shows the built-in store only: keep it beside the demo's.
  const stores = userStores === null ? [{ id: 'local', kind: 'local', label: 'Built-in encrypted store' }] : userStores.map(absolute);
  const merged = {
    ...user,
    stores: [...stores, ...demoStores(accounts, endpoint, credentialsFile), ...(vault ? [demoVaultStore(vault)] : [])],
    audit: [...userAudit.map(absolute), ...demoAuditSources(accounts, endpoint, credentialsFile), ...(vault ? [demoVaultAuditSource(vault)] : [])],
    // The demo's alerts only where the user has none of their own (theirs name their own channels).
    ...(alerts && (user.alerts === undefined || user.alerts === null) ? { alerts } : {}),
  };
  const header = `# Generated by scripts/demo-aws.mjs for DEMO_DATA=1 npm start: ${userPath ? userPath : 'no CONFIG_FILE'} plus the demo's\n# simulated AWS accounts (stores sim-*, audit sources sim-*-trail)${vault ? ` and simulated Vault (store ${DEMO_VAULT_STORE}, audit source ${DEMO_VAULT_AUDIT})` : ''}. Rewritten at every start; edit ${userPath ?? 'your own CONFIG_FILE'} instead.\n`;
  return { text: header + stringify(merged), storeIds: ids.stores, auditIds: ids.audit };
}

/**
 * The "now" the demo organisation is generated for, kept in DATA_DIR/simulated-aws/epoch from the
 * first start: a restart serves the same organisation, whose CloudTrail events the dashboard has
 * already indexed (same ids, same times), and time moves on from there as it does in AWS. A fresh
 * DATA_DIR starts a fresh organisation.
 */
export function demoEpoch(dir, now) {
  const file = path.join(dir, 'epoch');
  if (existsSync(file)) {
    const kept = Number(readFileSync(file, 'utf8').trim());
    if (Number.isSafeInteger(kept) && kept > 0 && kept <= now) return kept;
  }
  writeFileSync(file, `${now}\n`);
  return now;
}

/** A free port on loopback, `wanted` when it is free (the simulator listens there; a race with another process is handled as a failed start). */
export function freePort(wanted = 0) {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', (error) => (wanted !== 0 ? resolve(freePort(0)) : reject(error)));
    server.listen(wanted, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * The simulator's port, the same as last time when it is free: the stores' endpoint is part of
 * their LookupEvents source's id, so a new port would start that source's 90-day walk over.
 */
export async function demoPort(dir, name = 'port') {
  const file = path.join(dir, name);
  const last = existsSync(file) ? Number(readFileSync(file, 'utf8').trim()) : 0;
  const port = await freePort(Number.isInteger(last) && last > 1023 && last < 65536 ? last : 0);
  writeFileSync(file, `${port}\n`);
  return port;
}

function tsxAvailable(root) {
  try {
    createRequire(path.join(root, 'package.json')).resolve('tsx');
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts the simulator and waits (up to `timeoutMs`) for its first line, `SIMULATOR_URL=…`. Resolves
 * with the child and whether it is up; never rejects (a failed start leaves the stores erroring).
 */
export function startSimulator({ command, args, cwd, env, timeoutMs = 30_000, log = console.error, what = 'Simulated AWS', stores = 'simulated stores' }) {
  return new Promise((resolve) => {
    // stdin stays open: the simulator exits when it closes, so it never outlives this process.
    const child = spawn(command, args, { cwd, env, stdio: ['pipe', 'pipe', 'inherit'] });
    let settled = false;
    let buffered = '';
    const done = (up, why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (!up) log(`${what} did not start (${why}); the dashboard starts without it and shows the error on the ${stores}.`);
      resolve({ child, up });
    };
    const timer = setTimeout(() => done(false, `no SIMULATOR_URL within ${timeoutMs} ms`), timeoutMs);
    child.on('error', (error) => done(false, error.message));
    child.on('exit', (code, signal) => {
      if (!settled) done(false, `it exited with ${signal ?? `code ${code}`}`);
      else if (!stopping.has(child)) log(`${what} stopped (${signal ?? `code ${code}`}); errors now show on the ${stores}. Restart npm start to bring it back.`);
    });
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk) => {
      if (settled) return;
      buffered += chunk;
      const newline = buffered.indexOf('\n');
      if (newline === -1) return;
      const line = buffered.slice(0, newline).trim();
      if (line.startsWith('SIMULATOR_URL=')) done(true);
      else done(false, `its first line was not SIMULATOR_URL=…`);
    });
    child.stdin.on('error', () => {});
  });
}

const stopping = new WeakSet();

/** Stops the simulator: closes its stdin (it exits on that) and sends SIGTERM. */
export function stopSimulator(child) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  stopping.add(child);
  child.stdin?.end();
  child.kill('SIGTERM');
}

/**
 * Everything `npm start` needs for the demo's simulated AWS: starts the simulator, writes the files
 * under DATA_DIR/simulated-aws/, and returns the server's extra environment and the child to stop.
 * Throws DemoConfigError when the user's CONFIG_FILE cannot be merged.
 */
export async function launchDemoAws({ root, env = process.env, log = console.error, simulatorCommand, vaultSimulatorCommand, vaultTraffic = makeDemoVaultTraffic, timeoutMs, now = Date.now(), alertReceiver } = {}) {
  const accounts = readDemoAccounts();
  const dataDir = path.resolve(root, env.DATA_DIR || './data');
  const dir = path.join(dataDir, 'simulated-aws');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const credentialsFile = path.join(dir, 'credentials');
  writeFileSync(credentialsFile, credentialsText(accounts), { mode: 0o600 });
  chmodSync(credentialsFile, 0o600);

  const epoch = demoEpoch(dir, now);
  const userPath = env.CONFIG_FILE ? path.resolve(root, env.CONFIG_FILE) : null;
  if (userPath && !existsSync(userPath)) throw new DemoConfigError(`CONFIG_FILE points at ${userPath}, but it does not exist.`);
  const port = await demoPort(dir);
  const endpoint = `http://127.0.0.1:${port}`;
  // The demo Vault: a root token made for this start, handed to the server in its environment only.
  // Tests that start a stand-in for the AWS simulator start no Vault unless they give its command too.
  // Its file audit device writes under DATA_DIR (kept across restarts, as Vault's log is), read by audit source sim-vault-audit.
  const vaultCommand =
    vaultSimulatorCommand ??
    (simulatorCommand
      ? null
      : { command: process.execPath, args: (p, token, auditFile) => [...SIMULATOR_NODE_ARGS, '--import', 'tsx', path.join('simulator', 'main.ts'), '--vault', '--vault-data', 'demo', '--vault-token', token, '--vault-audit', auditFile, '--port', String(p)] });
  const vault = vaultCommand && demoVaultWanted(env) ? { port: await demoPort(dir, 'vault-port'), token: randomBytes(24).toString('hex'), auditFile: path.join(dir, 'vault-audit', 'vault_audit.log') } : null;
  if (vault) vault.address = `http://127.0.0.1:${vault.port}`;
  // The demo's alerts go to a receiver in this process (the launcher's), standing in for a chat or paging tool.
  const receiver = alertReceiver === null ? null : await (alertReceiver ?? startDemoAlertReceiver)({ log });
  const merged = mergeDemoConfig({ userText: userPath ? readFileSync(userPath, 'utf8') : null, userPath, accounts, endpoint, credentialsFile, alerts: receiver ? demoAlertsSection() : null, vault });
  const configFile = path.join(dir, 'config.yaml');
  writeFileSync(configFile, merged.text, { mode: 0o600 });

  // simulatorCommand: tests start a stand-in; args get the chosen port.
  const command = simulatorCommand ?? { command: process.execPath, args: (p, at) => [...SIMULATOR_NODE_ARGS, '--import', 'tsx', path.join('simulator', 'main.ts'), '--demo', '--port', String(p), '--now', String(at)] };
  let child = null;
  let vaultChild = null;
  if (!simulatorCommand && !tsxAvailable(root)) {
    log('Simulated AWS needs the dev dependencies (tsx): run `npm install`. The dashboard starts without it.');
  } else {
    // Both simulators start at once: the Vault's 300 secrets add no wait to the organisation's start.
    const simulatorEnv = { ...env, PORT: undefined };
    const [aws, demoVault] = await Promise.all([
      startSimulator({ command: command.command, args: command.args(port, epoch), cwd: root, env: simulatorEnv, timeoutMs, log }),
      vault
        ? startSimulator({ command: vaultCommand.command, args: vaultCommand.args(vault.port, vault.token, vault.auditFile), cwd: root, env: simulatorEnv, timeoutMs, log, what: 'Simulated Vault', stores: `store ${DEMO_VAULT_STORE}` })
        : null,
    ]);
    child = aws.child;
    vaultChild = demoVault?.child ?? null;
    // A few clients' reads and a refusal, so the demo Vault's Access panels have something to show.
    if (demoVault?.up) {
      try {
        const traffic = await vaultTraffic(vault.address);
        log(`Simulated Vault clients read ${traffic.reads.length} secrets and were refused ${traffic.refused.length} (audit file ${vault.auditFile}).`);
      } catch (error) {
        log(`Simulated Vault clients could not make their calls (${error instanceof Error ? error.message : String(error)}); the sim-vault Access panels stay empty.`);
      }
    }
  }
  log(`Simulated AWS organisation on ${endpoint}: stores ${merged.storeIds.filter((id) => id !== DEMO_VAULT_STORE).join(', ')} (config ${configFile}).`);
  if (vault) log(`Simulated Vault on ${vault.address}: store ${DEMO_VAULT_STORE} (KV v2 mount secret/, 300 demo secrets; access from audit source ${DEMO_VAULT_AUDIT}).`);
  return {
    child,
    vaultChild,
    receiver,
    endpoint,
    epoch,
    configFile,
    credentialsFile,
    serverEnv: {
      CONFIG_FILE: configFile,
      SIMULATED_AWS_STORES: merged.storeIds.filter((id) => id !== DEMO_VAULT_STORE).join(','),
      ...(vault ? { [DEMO_VAULT_TOKEN_ENV]: vault.token } : {}),
      // The lead's rotation shows in the audit timeline within a minute rather than five.
      CLOUDTRAIL_SYNC_INTERVAL_MINUTES: env.CLOUDTRAIL_SYNC_INTERVAL_MINUTES || '1',
      ...(receiver ? { [DEMO_ALERTS_URL_ENV]: receiver.url, [DEMO_ALERTS_SECRET_ENV]: receiver.secret } : {}),
    },
  };
}
