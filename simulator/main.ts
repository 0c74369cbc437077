import { fstatSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { closeOnSignals } from './sim-http';
import { cloudTrailLogFile } from './simulated-s3';
import { GENERATED_REGIONS, generatedOrganisation, startSimulatedOrganisation, type SimulatedAccountSpec } from './simulated-organisation';
import { DEFAULT_QUOTAS, startSimulatedAws, type ItemSet, type ParameterInput, type QuotaOverrides, type SecretInput } from './simulated-aws';
import type { LambdaFunctionInput, TaskDefinitionInput } from './simulated-compute';
import { startSimulatedKms, type SimKmsKey } from './simulated-kms';
import { startVault, vaultDataSet, VAULT_USAGE } from './vault/vault-main';

// The simulator as a process: the demo organisation (what scripts/start.mjs runs for DEMO_DATA=1), an
// organisation from a file, or one service alone (Parameter Store + Secrets Manager for the browser
// tests and benchmarks, KMS for trying the master key, a HashiCorp Vault node). The first line on stdout is exactly
// `SIMULATOR_URL=http://127.0.0.1:<port>`; everything else goes to stderr. It closes on SIGTERM/SIGINT,
// and when its stdin closes (a launcher's pipe: it never outlives whoever started it).

const USAGE = `Usage: node --import tsx simulator/main.ts (--demo | --accounts FILE | --org AxR | --aws | --kms | --vault) [options]

  --demo                   the demo organisation (simulator/demo): prod 111111111111 us-east-1, staging 222222222222 eu-west-1
  --accounts FILE          an organisation of your own: a JSON list of accounts (SimulatedAccountSpec; a trail
                           object is { bucket, key, records: [CloudTrail records] }, gzipped as CloudTrail writes it;
                           taskDefinitions and functions are TaskDefinitionInput and LambdaFunctionInput lists)
  --org AxR                a generated organisation: A accounts (ids 900000000001…, aliases acct01…, access key
                           AKIAORG<13-digit index>, secret key "bench") in R regions each (${GENERATED_REGIONS.join(', ')}),
                           every account and region holding the --ssm and --secrets sets (generated lazily)
  --aws                    Parameter Store and Secrets Manager of one account, alone (control endpoints under /__)
  --kms                    KMS of one account, alone
  --vault                  a HashiCorp Vault node (KV v2, token/AppRole/Kubernetes auth, policies, audit file)
  --port N                 port on the host (default 0: a free one)
  --host H                 address to listen on (default 127.0.0.1)
  --latency MS             latency of every answer (default: each service's own, 5 to 30 ms)

Organisation (--demo, --accounts, --org):
  --no-record              do not record the calls made to it in CloudTrail
  --trail-delivery MS      how often recorded calls are delivered to the trail buckets (default 300000)
  --now MS                 the "now" the demo's data is generated for (epoch ms; default the start time)

One service (--aws, --kms):
  --account ID             the account in every ARN (default 123456789012)
  --region R               the region in every ARN (default us-east-1; KMS refuses requests scoped to another)
  --seed S                 seed of the generated fields (--aws, a number, default 1) or mixed into each key's secret (--kms)

--aws (--ssm and --secrets also for --org, in every account and region):
  --ssm PATTERN:COUNT      Parameter Store set, repeatable: hierarchy:N, hierarchy:<root>:N, flat:<folder>:N
  --secrets PATTERN:COUNT  Secrets Manager set, repeatable (same patterns)
                           (with none of --ssm, --secrets, --data: --ssm hierarchy:1000 --secrets hierarchy:200)
  --data MODULE            a .ts/.js/.json module exporting { parameters, secrets } (ParameterInput[],
                           SecretInput[]; named exports or the default export), added to the sets
  --rotation-delay MS      how long the simulated rotation function takes (default 1500)
  --record-calls           record every call for GET /__calls (off by default, so benchmarks stay lean)
  --history-value TEXT     every GetParameterHistory entry carries TEXT as its Value
  --quota GROUP=RATE       override a quota (requests/s; "off" = unlimited), repeatable; GROUP is below or service:Operation
  --deny-tags-every N      ListTagsForResource is denied for every Nth parameter
  --deny-tags NAME,...     ListTagsForResource is denied for these parameters
  --deny-history-every N   GetParameterHistory is denied (kms:Decrypt) for every Nth parameter
  --deny-history NAME,...  GetParameterHistory is denied (kms:Decrypt) for these parameters
  --fail-all TYPE          every call fails with TYPE (e.g. AccessDeniedException)
  --scan-window N          names one listing call examines at most (default 1000)

--kms:
  --key ID[:ALIAS,...]     a key (uuid) and its aliases; repeatable (default: one key with alias alias/secrets-dashboard)
  --kms-quota RATE         cryptographic operations per second, shared (default 5500; "off" = unlimited)

${VAULT_USAGE}

Quota groups of --aws (default requests/s):
${DEFAULT_QUOTAS.map((q) => `  ${q.group.padEnd(56)} ${q.ratePerSecond}`).join('\n')}
  --help
`;

function fail(message: string, code = 2): never {
  process.stderr.write(`simulator: ${message}\n${code === 2 ? `\n${USAGE}` : ''}`);
  process.exit(code);
}

const wholeNumber = (what: string, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${what} must be a whole number`)
    .transform(Number)
    .refine((n) => n <= max, `${what} must be at most ${max}`);
const rate = (what: string) => z.union([z.literal('off').transform(() => null), wholeNumber(what, 1_000_000)]);
const names = z.string().transform((list) => list.split(',').filter(Boolean));
const itemSet = z
  .string()
  .regex(/^.+:\d+$/, 'a set is PATTERN:COUNT')
  .transform((spec): ItemSet => ({ pattern: spec.slice(0, spec.lastIndexOf(':')), count: Number(spec.slice(spec.lastIndexOf(':') + 1)) }));
const kmsKey = z.string().transform((spec): SimKmsKey => {
  const [keyId = '', aliases = ''] = spec.split(':');
  return { keyId, aliases: aliases.split(',').filter(Boolean) };
});

const argsSchema = z
  .object({
    demo: z.boolean(),
    accounts: z.string().min(1),
    org: z
      .string()
      .regex(/^\d{1,3}x\d$/, '--org is ACCOUNTSxREGIONS, e.g. 20x2')
      .transform((spec) => ({ accounts: Number(spec.split('x')[0]), regions: Number(spec.split('x')[1]) }))
      .refine((o) => o.accounts >= 1 && o.regions >= 1 && o.regions <= GENERATED_REGIONS.length, `--org needs at least 1 account and 1 to ${GENERATED_REGIONS.length} regions`),
    aws: z.boolean(),
    kms: z.boolean(),
    vault: z.boolean(),
    'vault-data': z.array(z.string().refine((spec) => typeof vaultDataSet(spec) !== 'string', '--vault-data is demo or generated:N')),
    'vault-token': z.string().min(1),
    'vault-audit': z.string().min(1),
    'vault-rate': wholeNumber('--vault-rate', 1_000_000),
    'vault-config': z.string().min(1),
    port: wholeNumber('--port', 65_535),
    host: z.string().min(1),
    latency: wholeNumber('--latency', 60_000),
    'no-record': z.boolean(),
    'trail-delivery': wholeNumber('--trail-delivery', 86_400_000),
    now: wholeNumber('--now', 8_640_000_000_000_000),
    account: z.string(),
    region: z.string(),
    seed: z.string(),
    ssm: z.array(itemSet),
    secrets: z.array(itemSet),
    data: z.string().min(1),
    'rotation-delay': wholeNumber('--rotation-delay', 600_000),
    'record-calls': z.boolean(),
    'history-value': z.string(),
    quota: z.array(z.string().regex(/^[^=]+=(off|\d+)$/, '--quota is GROUP=RATE')),
    'deny-tags-every': wholeNumber('--deny-tags-every', 1_000_000),
    'deny-tags': names,
    'deny-history-every': wholeNumber('--deny-history-every', 1_000_000),
    'deny-history': names,
    'fail-all': z.string(),
    'scan-window': wholeNumber('--scan-window', 1_000_000),
    key: z.array(kmsKey),
    'kms-quota': rate('--kms-quota'),
    help: z.boolean(),
  })
  .partial()
  .refine((v) => v['deny-tags'] === undefined || v['deny-tags-every'] === undefined, 'use either --deny-tags or --deny-tags-every')
  .refine((v) => v['deny-history'] === undefined || v['deny-history-every'] === undefined, 'use either --deny-history or --deny-history-every');
type Args = z.infer<typeof argsSchema>;

const text = { type: 'string' } as const;
const flag = { type: 'boolean' } as const;
const many = { type: 'string', multiple: true } as const;
const OPTIONS = {
  demo: flag, accounts: text, org: text, aws: flag, kms: flag, vault: flag, 'vault-data': many, 'vault-token': text, 'vault-audit': text,
  'vault-rate': text, 'vault-config': text, port: text, host: text, latency: text, 'no-record': flag, 'trail-delivery': text, now: text,
  account: text, region: text, seed: text, ssm: many, secrets: many, data: text, 'rotation-delay': text, 'record-calls': flag, 'history-value': text,
  quota: many, 'deny-tags-every': text, 'deny-tags': text, 'deny-history-every': text, 'deny-history': text, 'fail-all': text,
  'scan-window': text, key: many, 'kms-quota': text, help: flag,
} as const;

const record = z.record(z.string(), z.unknown());
const accountsFileSchema = z.array(
  z.object({
    account: z.string(),
    alias: z.string(),
    region: z.string(),
    accessKeyId: z.string(),
    secretAccessKey: z.string(),
    principalArn: z.string(),
    parameters: z.array(record.and(z.object({ Name: z.string() }))).default([]),
    secrets: z.array(record.and(z.object({ Name: z.string() }))).default([]),
    events: z.array(record).default([]),
    trailBucket: z.string(),
    trailObjects: z.array(z.object({ bucket: z.string(), key: z.string(), records: z.array(record) })).default([]),
    trailPrefix: z.string().optional(),
    // Checked by the simulated ECS and Lambda as they load them.
    taskDefinitions: z.array(record).default([]),
    functions: z.array(record).default([]),
  }),
);

/** An organisation from a JSON file (tests, custom set-ups); the organisation checks the rest. */
function accountsFrom(file: string): SimulatedAccountSpec[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`--accounts ${file}: ${(error as Error).message}`);
  }
  const checked = accountsFileSchema.safeParse(parsed);
  if (!checked.success) fail(`--accounts ${file}: ${checked.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return checked.data.map((a) => ({
    ...a,
    parameters: a.parameters as unknown as ParameterInput[],
    secrets: a.secrets as unknown as SecretInput[],
    events: a.events as CloudTrailRecord[],
    trailObjects: a.trailObjects.map((o) => ({ bucket: o.bucket, key: o.key, body: cloudTrailLogFile(o.records as CloudTrailRecord[]) })),
    taskDefinitions: a.taskDefinitions as unknown as TaskDefinitionInput[],
    functions: a.functions as unknown as LambdaFunctionInput[],
  }));
}

/** A data set module: { parameters, secrets } as named exports or as its default export; each item's fields are checked as it loads. */
async function loadData(path: string): Promise<{ parameters: ParameterInput[]; secrets: SecretInput[] }> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href, path.endsWith('.json') ? { with: { type: 'json' } } : undefined)) as Record<string, unknown>;
  } catch (error) {
    fail(`cannot load --data ${path}: ${(error as Error).message}`);
  }
  const source = loaded.parameters !== undefined || loaded.secrets !== undefined ? loaded : (loaded.default ?? {});
  const items = z.array(z.object({ Name: z.string() }).passthrough()).default([]);
  const data = z.object({ parameters: items, secrets: items }).safeParse(source);
  if (!data.success) fail(`--data ${path} must export { parameters, secrets }, lists of items with a Name: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { parameters: data.data.parameters as unknown as ParameterInput[], secrets: data.data.secrets as unknown as SecretInput[] };
}

/** Parameter Store and Secrets Manager alone, as the browser tests' and benchmarks' stores reach them. */
async function startAws(v: Args, port: number, host: string) {
  const noData = v.ssm === undefined && v.secrets === undefined && v.data === undefined;
  const data = v.data !== undefined ? await loadData(v.data) : { parameters: [], secrets: [] };
  const quotas: QuotaOverrides = {};
  for (const q of v.quota ?? []) quotas[q.slice(0, q.lastIndexOf('='))] = q.endsWith('=off') ? null : Number(q.slice(q.lastIndexOf('=') + 1));
  const seed = v.seed === undefined ? undefined : Number(v.seed);
  if (seed !== undefined && !Number.isInteger(seed)) fail('--seed must be a whole number with --aws');
  const deny = (every: number | undefined, list: string[] | undefined) => (every !== undefined ? { every } : (list ?? null));
  const sim = await startSimulatedAws({
    port,
    host,
    account: v.account,
    region: v.region,
    ssm: v.ssm ?? (noData ? [{ pattern: 'hierarchy', count: 1000 }] : []),
    secretsmanager: v.secrets ?? (noData ? [{ pattern: 'hierarchy', count: 200 }] : []),
    extraParameters: data.parameters,
    extraSecrets: data.secrets,
    rotationDelayMs: v['rotation-delay'],
    recordCalls: v['record-calls'] === true,
    historyValue: v['history-value'],
    latencyMs: v.latency,
    quotas,
    denyTags: deny(v['deny-tags-every'], v['deny-tags']),
    denyHistory: deny(v['deny-history-every'], v['deny-history']),
    failAll: v['fail-all'] ?? null,
    scanWindow: v['scan-window'],
    seed,
  });
  const s = sim.stats();
  return {
    ...sim,
    summary: [
      `simulated AWS listening on ${sim.url} (${s.parameters} parameters, ${s.secrets} secrets)`,
      `latency ${s.latencyMs} ms; quotas (requests/s): ${s.quotas.map((q) => `${q.group}=${q.ratePerSecond ?? 'off'}`).join(', ')}`,
      `control: GET /__health, GET /__stats, POST /__stats/reset, POST /__control, GET /__calls, GET /__values?service=&name=, POST /__reset`,
      `failures: point a client at ${sim.url}/fail/<access-denied|throttled|not-found|expired-token|timeout>; any other path is a scope recorded with the call`,
    ],
  };
}

async function startKms(v: Args, port: number, host: string) {
  const keys = v.key ?? [{ keyId: '5e4b1d0a-7c1f-4b8e-9a53-2f6d8c0e1a21', aliases: ['alias/secrets-dashboard'] }];
  const sim = await startSimulatedKms({ port, host, keys, latencyMs: v.latency, cryptoQuotaPerSecond: v['kms-quota'], seed: v.seed, account: v.account, region: v.region });
  return {
    ...sim,
    summary: [
      `simulated KMS listening on ${sim.url}`,
      ...keys.map((k) => `  key ${sim.keyArn(k.keyId)}${k.aliases?.length ? ` aliases ${k.aliases.join(', ')}` : ''}`),
      'control: GET /__health, GET /__stats, POST /__stats/reset, POST /__control',
    ],
  };
}

async function startOrganisation(v: Args, port: number, host: string) {
  // --now: the demo launcher keeps one "now" per data directory, so a restart serves the same organisation.
  const now = v.now ?? Date.now();
  // Loaded only for --demo: building the demo's data is most of the start-up.
  const accounts = v.demo
    ? (await import('./demo/organisation')).demoOrganisation(now)
    : v.org
      ? generatedOrganisation({ ...v.org, ssmSets: v.ssm ?? [], secretSets: v.secrets ?? [] })
      : accountsFrom(v.accounts!);
  const org = await startSimulatedOrganisation({ accounts, host, port, now, latencyMs: v.latency, recordCalls: !v['no-record'], trailDeliveryMs: v['trail-delivery'] });
  return {
    ...org,
    summary: [
      `simulated AWS organisation listening on ${org.url}`,
      ...org.accounts.map((a) => {
        const stats = org.aws(a.account, a.region).stats();
        const events = org.cloudTrail.count({ account: a.account, region: a.region });
        return `  ${a.alias.padEnd(10)} ${a.account} ${a.region}: ${stats.parameters} parameters, ${stats.secrets} secrets, ${events} CloudTrail events`;
      }),
      'control: GET /__health, GET /__stats, POST /__control',
    ],
  };
}

/** Whether stdin is a pipe or socket someone holds (a launcher), not a terminal or /dev/null. */
function stdinIsHeld(): boolean {
  try {
    const stat = fstatSync(0);
    return stat.isFIFO() || stat.isSocket();
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  let v: Args;
  try {
    const checked = argsSchema.safeParse(parseArgs({ options: OPTIONS, strict: true, allowPositionals: false }).values);
    if (!checked.success) fail(checked.error.issues.map((i) => i.message).join('; '));
    v = checked.data;
  } catch (error) {
    fail((error as Error).message);
  }
  if (v.help) return void process.stdout.write(USAGE);
  if ([v.demo, v.accounts, v.org, v.aws, v.kms, v.vault].filter(Boolean).length !== 1) fail('give one of --demo, --accounts FILE, --org AxR, --aws, --kms, --vault');
  if (!v.vault && Object.keys(v).some((k) => k.startsWith('vault-'))) fail('the --vault-… options go with --vault');
  if (v.vault && v.seed !== undefined && !/^\d+$/.test(v.seed)) fail('--seed must be a whole number with --vault');
  if ((v.ssm || v.secrets) && !(v.aws || v.org)) fail('--ssm and --secrets go with --aws or --org');

  const started = Date.now();
  const host = v.host ?? '127.0.0.1';
  const port = v.port ?? 0;
  let sim: { url: string; summary: string[]; close(): Promise<void> };
  try {
    sim = v.vault
      ? await startVault({ data: v['vault-data'], token: v['vault-token'], audit: v['vault-audit'], rate: v['vault-rate'], config: v['vault-config'], seed: v.seed === undefined ? undefined : Number(v.seed), latencyMs: v.latency }, port, host)
      : await (v.aws ? startAws : v.kms ? startKms : startOrganisation)(v, port, host);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${port} on ${host} is taken (another simulator or server listens there); choose another with --port, or 0 for a free one`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') fail(`cannot listen on ${host}:${port} (${code})`, 1);
    fail((error as Error).message, 1);
  }
  process.stdout.write(`SIMULATOR_URL=${sim.url}\n`);
  const [first, ...rest] = sim.summary;
  process.stderr.write(`${first} (ready in ${Date.now() - started} ms, ${Math.round(process.memoryUsage().rss / 1_048_576)} MB RSS)\n${rest.join('\n')}\n`);

  const stop = closeOnSignals('simulator', () => sim.close());
  if (stdinIsHeld()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => stop('stdin closed'));
    process.stdin.on('error', () => stop('stdin closed'));
  }
}

void main();
