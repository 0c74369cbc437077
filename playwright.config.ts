import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { defineConfig } from '@playwright/test';
import { ADMIN } from './e2e/support/accounts';
import { demoGrantsYaml } from './e2e/support/demo-grants';
import { OIDC_CLIENT, OIDC_GRANTS_YAML } from './e2e/support/oidc-accounts';
import { HISTORY_SENTINEL, KMS_DENIED_EVERY } from './e2e/support/aws-fixtures';
import { awsStoresYaml, REGION, revealStoresYaml, SCALE_STORE, SLOW_LATENCY_MS, SLOW_SCAN_WINDOW, SLOW_STORE } from './e2e/support/aws-stores';
import { REPLICA_AUTH_SECRET, REPLICA_MASTER_KEY } from './e2e/support/replicas';
import { ALERTS_ENV, ALERTS_RECEIVER_URL, alertsConfigYaml } from './e2e/support/alerts-e2e';
import { DENIED_TOKEN, DENIED_TOKEN_ENV, EXPIRING_TOKEN, EXPIRING_TOKEN_ENV, faultsVaultConfig, VAULT_AUDIT_FILE, VAULT_TOKEN, VAULT_TOKEN_ENV, vaultStoresYaml } from './e2e/support/vault-stores';

// Browser tests run against the production build on a fresh data directory with demo data.
// Workers re-read this file, so the data directory is chosen once and passed on in the environment.
process.env.E2E_DATA_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-'));
const port = Number(process.env.E2E_PORT ?? 3210);
const baseURL = `http://127.0.0.1:${port}`;

// The 'aws' project: a second server of the same build whose CONFIG_FILE adds AWS stores against the
// project's simulated AWS (simulator/main.ts --aws) holding the browser tests' data set
// (e2e/support/aws-fixtures.ts): healthy ones and one per injected failure.
process.env.E2E_AWS_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-aws-'));
const awsPort = Number(process.env.E2E_AWS_PORT ?? 3211);
const awsBaseURL = `http://127.0.0.1:${awsPort}`;
const simulatedAwsPort = Number(process.env.E2E_SIMULATED_AWS_PORT ?? 3299);
process.env.E2E_SIMULATED_AWS_URL = `http://127.0.0.1:${simulatedAwsPort}`;
// Two simulated AWS processes (simulator) for scale: a 20,000-item folder, and a slow first sync.
const scalePort = Number(process.env.E2E_SCALE_AWS_PORT ?? 3296);
const slowPort = Number(process.env.E2E_SLOW_AWS_PORT ?? 3295);
process.env.E2E_SCALE_AWS_URL = `http://127.0.0.1:${scalePort}`;
process.env.E2E_SLOW_AWS_URL = `http://127.0.0.1:${slowPort}`;
const awsConfigFile = path.join(process.env.E2E_AWS_DIR, 'stores.yaml');
if (!existsSync(awsConfigFile))
  writeFileSync(awsConfigFile, awsStoresYaml(process.env.E2E_SIMULATED_AWS_URL, process.env.E2E_SCALE_AWS_URL, process.env.E2E_SLOW_AWS_URL));
// Matched against absolute paths: only spec files whose own name starts with aws-.
const AWS_SPECS = /(^|[\\/])aws-[^\\/]*\.spec\.ts$/;

// The 'reveal' project: a fourth server with ALLOW_REVEAL=1 over the same simulated AWS (writable stores),
// for the spec that rotates and then reveals; the 'aws' server keeps reveal off.
process.env.E2E_REVEAL_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-reveal-'));
const revealPort = Number(process.env.E2E_REVEAL_PORT ?? 3213);
const revealBaseURL = `http://127.0.0.1:${revealPort}`;
const revealConfigFile = path.join(process.env.E2E_REVEAL_DIR, 'stores.yaml');
if (!existsSync(revealConfigFile)) writeFileSync(revealConfigFile, revealStoresYaml(process.env.E2E_SIMULATED_AWS_URL));
const REVEAL_SPECS = /(^|[\\/])reveal-[^\\/]*\.spec\.ts$/;

// The 'oidc' project: a third server that signs people in through a real OpenID Connect provider
// on loopback (e2e/support/oidc-provider-main.ts), with their groups mapped to roles by CONFIG_FILE.
process.env.E2E_OIDC_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-oidc-'));
const oidcPort = Number(process.env.E2E_OIDC_PORT ?? 3212);
const oidcBaseURL = `http://127.0.0.1:${oidcPort}`;
const issuerPort = Number(process.env.E2E_ISSUER_PORT ?? 3297);
const oidcConfigFile = path.join(process.env.E2E_OIDC_DIR, 'dashboard.yaml');
if (!existsSync(oidcConfigFile)) writeFileSync(oidcConfigFile, `stores:\n  - id: local\n    kind: local\n${OIDC_GRANTS_YAML}`);
const OIDC_SPECS = /(^|[\\/])oidc-[^\\/]*\.spec\.ts$/;

// The 'replicas' project: two servers on one PostgreSQL database (a fresh one on the server that
// E2E_DATABASE_URL names, an admin's URL; npm test starts a throwaway one). Without it the project
// does not run.
const REPLICA_SPECS = /(^|[\\/])replicas-[^\\/]*\.spec\.ts$/;
const replicaPorts = [Number(process.env.E2E_REPLICA_A_PORT ?? 3214), Number(process.env.E2E_REPLICA_B_PORT ?? 3215)] as const;
process.env.E2E_REPLICA_A_URL = `http://127.0.0.1:${replicaPorts[0]}`;
process.env.E2E_REPLICA_B_URL = `http://127.0.0.1:${replicaPorts[1]}`;

// The 'demo' project: the README's first command, `DEMO_DATA=1 npm start`, on a fresh data folder: the built-in
// store's demo items and the simulated AWS organisation (scripts/demo-aws.mjs starts simulator/main.ts beside
// the server). Its first CloudTrail walk takes a minute or two; the project runs last, while it fills.
process.env.E2E_DEMO_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-demo-'));
const demoOrgPort = Number(process.env.E2E_DEMO_PORT ?? 3216);
const demoOrgBaseURL = `http://127.0.0.1:${demoOrgPort}`;
const DEMO_SPECS = /(^|[\\/])demo-[^\\/]*\.spec\.ts$/;
// Its CONFIG_FILE only adds a grant (a reviewer held to one team's paths); the launcher merges the demo's stores into it.
const demoConfigFile = path.join(process.env.E2E_DEMO_DIR, 'dashboard.yaml');
if (!existsSync(demoConfigFile)) writeFileSync(demoConfigFile, demoGrantsYaml());

// The 'alerts' project: a server whose CONFIG_FILE has an alerts: section (a signed webhook channel
// to a receiver on loopback, e2e/support/alerts-receiver-main.ts, started first; one rule on three
// stale demo items): the server's own conditions raise the alerts and its worker delivers them.
process.env.E2E_ALERTS_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-alerts-'));
const alertsPort = Number(process.env.E2E_ALERTS_PORT ?? 3217);
const alertsBaseURL = `http://127.0.0.1:${alertsPort}`;
const alertsConfigFile = path.join(process.env.E2E_ALERTS_DIR, 'dashboard.yaml');
if (!existsSync(alertsConfigFile)) writeFileSync(alertsConfigFile, alertsConfigYaml());
const ALERTS_SPECS = /(^|[\\/])alerts[^\\/]*\.spec\.ts$/;

// The 'vault' project: a server whose CONFIG_FILE has a writable and a read-only Vault store on the simulated
// Vault (simulator/main.ts --vault, the simulator's demo set of 300 secrets), its requests recorded for the specs
// and written to its file audit device, which CONFIG_FILE names as the writable store's access source.
process.env.E2E_VAULT_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-vault-'));
const vaultPort = Number(process.env.E2E_VAULT_PORT ?? 3218);
const vaultBaseURL = `http://127.0.0.1:${vaultPort}`;
const simulatedVaultPort = Number(process.env.E2E_SIMULATED_VAULT_PORT ?? 3293);
process.env.E2E_SIMULATED_VAULT_URL = `http://127.0.0.1:${simulatedVaultPort}`;
// A second simulated Vault whose state e2e/vault-errors.spec.ts flips (sealed, standby, an expired token), with
// a KV v1 mount and a token refused one folder: the stores on it show each failure's banner.
const simulatedVaultFaultsPort = Number(process.env.E2E_SIMULATED_VAULT_FAULTS_PORT ?? 3292);
process.env.E2E_SIMULATED_VAULT_FAULTS_URL = `http://127.0.0.1:${simulatedVaultFaultsPort}`;
const faultsVaultConfigFile = path.join(process.env.E2E_VAULT_DIR, 'faults-vault.json');
if (!existsSync(faultsVaultConfigFile)) writeFileSync(faultsVaultConfigFile, JSON.stringify(faultsVaultConfig()));
const vaultConfigFile = path.join(process.env.E2E_VAULT_DIR, 'stores.yaml');
if (!existsSync(vaultConfigFile)) writeFileSync(vaultConfigFile, vaultStoresYaml(process.env.E2E_SIMULATED_VAULT_URL, process.env.E2E_SIMULATED_VAULT_FAULTS_URL));
const VAULT_SPECS = /(^|[\\/])vault-[^\\/]*\.spec\.ts$/;

/** Projects named with --project (Playwright matches them case-insensitively, with * wildcards); null for all. */
function selectedProjects(argv = process.argv): string[] | null {
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg.startsWith('--project=')) names.push(arg.slice('--project='.length));
    else if (arg === '--project') while (argv[i + 1] && !argv[i + 1]!.startsWith('-')) names.push(argv[++i]!);
  }
  return names.length > 0 ? names : null;
}
const selected = selectedProjects();
const runs = (project: string) =>
  !selected ||
  selected.some((name) => new RegExp(`^${name.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`, 'i').test(project));

/** A process the browser tests need: started by `command`, up once `url` answers, after the servers whose URLs `after` names. */
interface TestServer {
  name: string;
  command: string;
  url: string;
  env?: Record<string, string>;
  stdout?: 'pipe';
  after?: string[];
}

/**
 * A dashboard server of the production build (as `npm start` runs it) on `port`, whose first start creates
 * the tests' admin; `env` adds what the project needs (data folder, CONFIG_FILE, log level, …).
 */
function dashboardServer(name: string, base: string, port: number, env: Record<string, string>, extra: Pick<TestServer, 'stdout' | 'after'> = {}): TestServer {
  return {
    name,
    command: 'node scripts/start.mjs',
    url: `${base}/api/health`,
    ...extra,
    // DEMO_AWS=0: these servers keep DEMO_DATA=1's built-in items without the simulated AWS organisation
    // (the 'demo' project runs that one).
    env: { PORT: String(port), ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password, NEXT_TELEMETRY_DISABLED: '1', DEMO_AWS: '0', ...env },
  };
}

const demoServer = dashboardServer('demo', baseURL, port, { DATA_DIR: process.env.E2E_DATA_DIR, DEMO_DATA: '1', LOG_LEVEL: 'warn' }, { stdout: 'pipe' });
// The simulated AWS of the 'aws' and 'reveal' servers: its calls recorded for the specs (GET /__calls),
// every history entry carrying a sentinel as its Value, the data set's KMS-denied parameter, and
// rotations finishing after 1.5 s.
const simulatedAwsServer: TestServer = {
  name: 'simulated-aws',
  command: [
    `node --import tsx simulator/main.ts --aws --port ${simulatedAwsPort} --data e2e/support/aws-fixtures.ts`,
    `--latency 0 --record-calls --history-value ${HISTORY_SENTINEL} --deny-history-every ${KMS_DENIED_EVERY} --rotation-delay 1500`,
  ].join(' '),
  url: `${process.env.E2E_SIMULATED_AWS_URL}/__health`,
};
const simulators: TestServer[] = [
  {
    name: 'scale-aws',
    command: `node --import tsx simulator/main.ts --aws --port ${scalePort} --ssm flat:bulk:${SCALE_STORE.folderItems} --ssm hierarchy:500 --latency 2 --quota ssm:DescribeParameters=400`,
    url: `${process.env.E2E_SCALE_AWS_URL}/__health`,
  },
  {
    name: 'slow-aws',
    command: `node --import tsx simulator/main.ts --aws --port ${slowPort} --ssm hierarchy:${SLOW_STORE.items} --latency ${SLOW_LATENCY_MS} --scan-window ${SLOW_SCAN_WINDOW} --quota ssm:DescribeParameters=400`,
    url: `${process.env.E2E_SLOW_AWS_URL}/__health`,
  },
];
const awsServer = dashboardServer('aws', awsBaseURL, awsPort, {
  DATA_DIR: path.join(process.env.E2E_AWS_DIR, 'data'),
  CONFIG_FILE: awsConfigFile,
  DEMO_DATA: '1',
  // Store failures are expected here; warnings about them would only clutter the output.
  LOG_LEVEL: 'error',
  // Dummy credentials, signed into every request; nothing here can reach real AWS.
  ...simulatedAwsEnv(process.env.E2E_AWS_DIR),
  // The timeout store never answers: give up after 1 s per attempt instead of 10 s.
  AWS_REQUEST_TIMEOUT_MS: '1000',
  // Failing stores should show their sync failure within seconds, not after 8 patient retries.
  SYNC_MAX_ATTEMPTS: '2',
}, { after: [simulatedAwsServer, ...simulators].map((s) => s.url) });

/** The AWS settings both servers on the simulated AWS run with: dummy credentials, nothing reaches real AWS. */
function simulatedAwsEnv(dir: string) {
  return {
    AWS_ACCESS_KEY_ID: 'AKIAFAKEE2E000000000',
    AWS_SECRET_ACCESS_KEY: 'fake-secret-access-key-for-browser-tests',
    AWS_SESSION_TOKEN: '',
    AWS_REGION: REGION,
    AWS_PROFILE: '',
    AWS_CONFIG_FILE: path.join(dir, 'no-aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, 'no-aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}
const revealServer = dashboardServer('reveal', revealBaseURL, revealPort, {
  DATA_DIR: path.join(process.env.E2E_REVEAL_DIR, 'data'),
  CONFIG_FILE: revealConfigFile,
  ALLOW_REVEAL: '1',
  LOG_LEVEL: 'error',
  ...simulatedAwsEnv(process.env.E2E_REVEAL_DIR),
}, { after: [simulatedAwsServer.url] });

const issuerServer: TestServer = {
  name: 'oidc-issuer',
  command: `node --import tsx e2e/support/oidc-provider-main.ts ${issuerPort} ${oidcBaseURL}`,
  url: `http://127.0.0.1:${issuerPort}/.well-known/openid-configuration`,
};
const oidcServer = dashboardServer('oidc', oidcBaseURL, oidcPort, {
  DATA_DIR: path.join(process.env.E2E_OIDC_DIR, 'data'),
  CONFIG_FILE: oidcConfigFile,
  DEMO_DATA: '1',
  OIDC_ISSUER: `http://127.0.0.1:${issuerPort}`,
  OIDC_CLIENT_ID: OIDC_CLIENT.id,
  OIDC_CLIENT_SECRET: OIDC_CLIENT.secret,
  OIDC_NAME: 'Test IdP',
  OIDC_SCOPE: 'openid email profile groups',
  LOG_LEVEL: 'warn',
}, { after: [issuerServer.url] });

const demoOrgServer = dashboardServer('demo-org', demoOrgBaseURL, demoOrgPort, {
  DATA_DIR: path.join(process.env.E2E_DEMO_DIR, 'data'),
  DEMO_DATA: '1',
  // Unlike the other servers: the simulated organisation too.
  DEMO_AWS: '1',
  CONFIG_FILE: demoConfigFile,
  LOG_LEVEL: 'warn',
  // The lead's rotation reaches the timeline within seconds instead of the demo's minute.
  CLOUDTRAIL_SYNC_INTERVAL_MINUTES: '0.1',
  // The demo's alerts are evaluated every 10 s rather than every minute (on-call's walk waits for one).
  ALERTS_EVALUATE_SECONDS: '10',
  // Nothing may reach real AWS: no instance metadata, and no user's AWS files (the demo brings its own).
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_CONFIG_FILE: path.join(process.env.E2E_DEMO_DIR, 'no-aws-config'),
  AWS_SHARED_CREDENTIALS_FILE: path.join(process.env.E2E_DEMO_DIR, 'no-aws-credentials'),
});

const alertsReceiver: TestServer = {
  name: 'alerts-receiver',
  command: 'node --import tsx e2e/support/alerts-receiver-main.ts',
  url: `${ALERTS_RECEIVER_URL}/__health`,
};
const alertsServer = dashboardServer('alerts', alertsBaseURL, alertsPort, {
  DATA_DIR: path.join(process.env.E2E_ALERTS_DIR, 'data'),
  CONFIG_FILE: alertsConfigFile,
  DEMO_DATA: '1',
  LOG_LEVEL: 'warn',
  ...ALERTS_ENV,
}, { after: [alertsReceiver.url] });

const simulatedVaultServer: TestServer = {
  name: 'simulated-vault',
  command: `node --import tsx simulator/main.ts --vault --vault-data demo --vault-token ${VAULT_TOKEN} --vault-audit ${path.join(process.env.E2E_VAULT_DIR, VAULT_AUDIT_FILE)} --port ${simulatedVaultPort} --latency 0`,
  url: `${process.env.E2E_SIMULATED_VAULT_URL}/__health`,
};
const simulatedVaultFaultsServer: TestServer = {
  name: 'simulated-vault-faults',
  command: `node --import tsx simulator/main.ts --vault --vault-config ${faultsVaultConfigFile} --port ${simulatedVaultFaultsPort} --latency 0`,
  url: `${process.env.E2E_SIMULATED_VAULT_FAULTS_URL}/__health`,
};
const vaultServer = dashboardServer('vault', vaultBaseURL, vaultPort, {
  DATA_DIR: path.join(process.env.E2E_VAULT_DIR, 'data'),
  CONFIG_FILE: vaultConfigFile,
  [VAULT_TOKEN_ENV]: VAULT_TOKEN,
  [DENIED_TOKEN_ENV]: DENIED_TOKEN,
  [EXPIRING_TOKEN_ENV]: EXPIRING_TOKEN,
  // Store failures are expected here (the faults simulator's); warnings about them would only clutter the output.
  LOG_LEVEL: 'error',
  // A sealed or standby Vault should fail its sync within a second or two, not after 8 patient retries.
  SYNC_MAX_ATTEMPTS: '2',
  // The audit file is read every 3 s (the least allowed) rather than every 5 minutes: a client's read reaches the pages within seconds.
  CLOUDTRAIL_SYNC_INTERVAL_MINUTES: '0.05',
}, { after: [simulatedVaultServer.url, simulatedVaultFaultsServer.url] });

function replicaServers(): TestServer[] {
  if (!process.env.E2E_DATABASE_URL) {
    console.warn('E2E_DATABASE_URL is not set: the replicas project (two servers on PostgreSQL) is skipped.');
    return [];
  }
  process.env.E2E_REPLICA_DATABASE_URL ??= execFileSync(process.execPath, ['--import', 'tsx', 'e2e/support/create-database-main.ts', process.env.E2E_DATABASE_URL], {
    encoding: 'utf8',
  }).trim();
  process.env.E2E_REPLICAS_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-replicas-'));
  // One after the other: the first migrates the database, creates the admin and seeds the demo data.
  const urls = replicaPorts.map((replicaPort) => `http://127.0.0.1:${replicaPort}`);
  return replicaPorts.map((replicaPort, i) =>
    dashboardServer(`replica-${i}`, urls[i]!, replicaPort, {
      DATA_DIR: path.join(process.env.E2E_REPLICAS_DIR!, `replica-${i}`),
      DATABASE_URL: process.env.E2E_REPLICA_DATABASE_URL!,
      MASTER_KEY: REPLICA_MASTER_KEY,
      NEXTAUTH_SECRET: REPLICA_AUTH_SECRET,
      DEMO_DATA: '1',
      LOG_LEVEL: 'warn',
      // Short leases, so the background work changes hands within seconds.
      LEASE_TTL_MS: '6000',
      LEASE_RENEW_MS: '2000',
    }, { after: i === 0 ? [] : [`${urls[i - 1]}/api/health`] }),
  );
}

/**
 * Playwright starts its webServer entries one after another, each waited for before the next: 13 start-ups
 * in a row on one core while the other idles. So here each entry is started without being waited for (no
 * url), behind what it needs (`after`), and one last entry waits for all of them; a first one builds the app
 * if it needs it, so no server builds. A server that exits before it is up is named in a file the last
 * entry watches.
 */
function startedTogether(servers: TestServer[]) {
  process.env.E2E_SERVERS_DIR ??= mkdtempSync(path.join(tmpdir(), 'secrets-dashboard-e2e-servers-'));
  const failed = path.join(process.env.E2E_SERVERS_DIR, 'failed');
  const waitFor = (urls: string[], options = '') => `node --import tsx e2e/support/wait-for-urls-main.ts ${options}${urls.join(' ')}`;
  const builder = { name: 'build', command: 'node e2e/support/build-main.mjs', wait: { stdout: /^build ready$/m }, timeout: 900_000, reuseExistingServer: false };
  const started = servers.map((server) => {
    const command = server.after?.length ? `${waitFor(server.after)} && ${server.command}` : server.command;
    return {
      name: server.name,
      command: `${command} || echo ${server.name} >> ${failed}`,
      env: server.env,
      stdout: server.stdout,
      reuseExistingServer: false,
    };
  });
  const waiter = {
    name: 'servers',
    command: waitFor(servers.map((server) => server.url), `--stay --timeout-ms 240000 --failed-file ${failed} `),
    wait: { stdout: /^ready: /m },
    timeout: 250_000,
    reuseExistingServer: false,
  };
  return [builder, ...started, waiter];
}

export default defineConfig({
  testDir: './e2e',
  fullyParallel: true,
  workers: 2,
  retries: process.env.CI ? 1 : 0,
  timeout: 60_000,
  reporter: process.env.CI ? [['list']] : [['list']],
  use: {
    baseURL,
    // Recorded on a retry only (CI retries once): recording every test for the few that fail cost about a
    // tenth of the browser tests' CPU.
    trace: 'on-first-retry',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    },
  },
  projects: [
    { name: 'chromium', testIgnore: [AWS_SPECS, OIDC_SPECS, REVEAL_SPECS, REPLICA_SPECS, DEMO_SPECS, ALERTS_SPECS, VAULT_SPECS], use: { browserName: 'chromium' } },
    { name: 'oidc', testMatch: OIDC_SPECS, use: { browserName: 'chromium', baseURL: oidcBaseURL } },
    { name: 'aws', testMatch: AWS_SPECS, use: { browserName: 'chromium', baseURL: awsBaseURL } },
    { name: 'reveal', testMatch: REVEAL_SPECS, use: { browserName: 'chromium', baseURL: revealBaseURL } },
    { name: 'alerts', testMatch: ALERTS_SPECS, use: { browserName: 'chromium', baseURL: alertsBaseURL } },
    { name: 'vault', testMatch: VAULT_SPECS, use: { browserName: 'chromium', baseURL: vaultBaseURL } },
    ...(process.env.E2E_DATABASE_URL
      ? [{ name: 'replicas', testMatch: REPLICA_SPECS, use: { browserName: 'chromium' as const, baseURL: process.env.E2E_REPLICA_A_URL } }]
      : []),
    { name: 'demo', testMatch: DEMO_SPECS, timeout: 300_000, use: { browserName: 'chromium', baseURL: demoOrgBaseURL, acceptDownloads: true } },
  ],
  webServer: startedTogether([
    // First, so the simulated organisation's sync runs while the other projects' servers start and their tests run.
    ...(runs('demo') ? [demoOrgServer] : []),
    ...(runs('chromium') ? [demoServer] : []),
    ...(runs('aws') || runs('reveal') ? [simulatedAwsServer] : []),
    ...(runs('aws') ? [...simulators, awsServer] : []),
    ...(runs('reveal') ? [revealServer] : []),
    ...(runs('oidc') ? [issuerServer, oidcServer] : []),
    ...(runs('alerts') ? [alertsReceiver, alertsServer] : []),
    ...(runs('vault') ? [simulatedVaultServer, simulatedVaultFaultsServer, vaultServer] : []),
    ...(runs('replicas') ? replicaServers() : []),
  ]),
});
