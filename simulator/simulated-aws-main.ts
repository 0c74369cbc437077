import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import {
  DEFAULT_LATENCY_MS,
  DEFAULT_QUOTAS,
  DEFAULT_ROTATION_DELAY_MS,
  DEFAULT_SCAN_WINDOW,
  SIM_ACCOUNT,
  SIM_REGION,
  startSimulatedAws,
  type ItemSet,
  type ParameterInput,
  type QuotaOverrides,
  type SecretInput,
} from './simulated-aws';
import { closeOnSignals } from './sim-http';

// Runs the simulated AWS until SIGTERM/SIGINT. The first line on stdout is the URL; a summary
// (item counts, memory, quotas) goes to stderr.
//
//   node --import tsx simulator/simulated-aws-main.ts --port 3298 \
//     --ssm hierarchy:20000 --ssm flat:bulk:5000 --secrets hierarchy:2000 --latency 30

const USAGE = `Usage: node --import tsx simulator/simulated-aws-main.ts [options]

  --port N                 port on 127.0.0.1 (default 0: a free one)
  --host H                 address to listen on (default 127.0.0.1)
  --account ID             the account in every ARN (default ${SIM_ACCOUNT})
  --region R               the region in every ARN (default ${SIM_REGION})
  --ssm PATTERN:COUNT      Parameter Store set, repeatable: hierarchy:N, hierarchy:<root>:N, flat:<folder>:N
  --secrets PATTERN:COUNT  Secrets Manager set, repeatable (same patterns)
                           (with none of --ssm, --secrets, --data: --ssm hierarchy:1000 --secrets hierarchy:200)
  --data MODULE            a .ts/.js/.json module exporting { parameters, secrets } (ParameterInput[],
                           SecretInput[]; named exports or the default export), added to the sets
  --rotation-delay MS      how long the simulated rotation function takes (default ${DEFAULT_ROTATION_DELAY_MS})
  --record-calls           record every call for GET /__calls (off by default, so benchmarks stay lean)
  --history-value TEXT     every GetParameterHistory entry carries TEXT as its Value
  --latency MS             fixed latency per call (default ${DEFAULT_LATENCY_MS})
  --jitter MS              extra random latency 0..MS (default 0)
  --quota GROUP=RATE       override a quota (requests/s; "off" = unlimited), repeatable;
                           GROUP is a group below or service:Operation
  --deny-tags-every N      ListTagsForResource is denied for every Nth parameter
  --deny-tags NAME,...     ListTagsForResource is denied for these parameters
  --deny-history-every N   GetParameterHistory is denied (kms:Decrypt) for every Nth parameter
  --deny-history NAME,...  GetParameterHistory is denied (kms:Decrypt) for these parameters
  --fail-all TYPE          every call fails with TYPE (e.g. AccessDeniedException)
  --scan-window N          names one listing call examines at most (default ${DEFAULT_SCAN_WINDOW})
  --seed N                 seed of the generated fields (default 1)
  --help

Quota groups (default requests/s):
${DEFAULT_QUOTAS.map((q) => `  ${q.group.padEnd(56)} ${q.ratePerSecond}`).join('\n')}
`;

function fail(message: string): never {
  process.stderr.write(`simulated-aws: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseSet(spec: string): ItemSet {
  const cut = spec.lastIndexOf(':');
  const count = Number(spec.slice(cut + 1));
  if (cut <= 0 || !Number.isInteger(count) || count < 0) fail(`a set is PATTERN:COUNT, not "${spec}"`);
  return { pattern: spec.slice(0, cut), count };
}

function parseNumber(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`${what} must be a number >= 0, not "${value}"`);
  return n;
}

/** A data set module: { parameters, secrets } as named exports or as its default export. */
async function loadData(path: string): Promise<{ parameters: ParameterInput[]; secrets: SecretInput[] }> {
  let loaded: Record<string, unknown>;
  try {
    loaded = (await import(pathToFileURL(resolve(path)).href, path.endsWith('.json') ? { with: { type: 'json' } } : undefined)) as Record<string, unknown>;
  } catch (error) {
    fail(`cannot load --data ${path}: ${(error as Error).message}`);
  }
  const source = loaded.parameters !== undefined || loaded.secrets !== undefined ? loaded : (loaded.default ?? {});
  // The shape here; each item's fields are checked by the simulator as it loads them.
  const shape = z.object({ parameters: z.array(z.object({ Name: z.string() }).passthrough()).default([]), secrets: z.array(z.object({ Name: z.string() }).passthrough()).default([]) });
  const data = shape.safeParse(source);
  if (!data.success) fail(`--data ${path} must export { parameters, secrets }, lists of items with a Name: ${data.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { parameters: data.data.parameters as unknown as ParameterInput[], secrets: data.data.secrets as unknown as SecretInput[] };
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        account: { type: 'string' },
        region: { type: 'string' },
        data: { type: 'string' },
        'rotation-delay': { type: 'string' },
        'record-calls': { type: 'boolean' },
        'history-value': { type: 'string' },
        ssm: { type: 'string', multiple: true },
        secrets: { type: 'string', multiple: true },
        latency: { type: 'string' },
        jitter: { type: 'string' },
        quota: { type: 'string', multiple: true },
        'deny-tags-every': { type: 'string' },
        'deny-tags': { type: 'string' },
        'deny-history-every': { type: 'string' },
        'deny-history': { type: 'string' },
        'fail-all': { type: 'string' },
        'scan-window': { type: 'string' },
        seed: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const v = parsed.values;
  if (v.help) {
    process.stdout.write(USAGE);
    return;
  }

  const noData = v.ssm === undefined && v.secrets === undefined && v.data === undefined;
  const data = v.data !== undefined ? await loadData(v.data) : { parameters: [], secrets: [] };
  const ssm = (v.ssm ?? (noData ? ['hierarchy:1000'] : [])).map(parseSet);
  const secretsmanager = (v.secrets ?? (noData ? ['hierarchy:200'] : [])).map(parseSet);

  const quotas: QuotaOverrides = {};
  for (const q of v.quota ?? []) {
    const eq = q.lastIndexOf('=');
    if (eq <= 0) fail(`--quota is GROUP=RATE, not "${q}"`);
    const rate = q.slice(eq + 1);
    quotas[q.slice(0, eq)] = rate === 'off' ? null : parseNumber(rate, `--quota ${q}`)!;
  }
  const denyEvery = parseNumber(v['deny-tags-every'], '--deny-tags-every');
  const denyHistoryEvery = parseNumber(v['deny-history-every'], '--deny-history-every');
  if (denyEvery !== undefined && v['deny-tags'] !== undefined) fail('use either --deny-tags or --deny-tags-every');
  if (denyHistoryEvery !== undefined && v['deny-history'] !== undefined) fail('use either --deny-history or --deny-history-every');

  const started = performance.now();
  let sim;
  try {
    sim = await startSimulatedAws({
      port: parseNumber(v.port, '--port'),
      host: v.host,
      account: v.account,
      region: v.region,
      ssm,
      secretsmanager,
      extraParameters: data.parameters,
      extraSecrets: data.secrets,
      rotationDelayMs: parseNumber(v['rotation-delay'], '--rotation-delay'),
      recordCalls: v['record-calls'] === true,
      historyValue: v['history-value'],
      latencyMs: parseNumber(v.latency, '--latency'),
      latencyJitterMs: parseNumber(v.jitter, '--jitter'),
      quotas,
      denyTags: denyEvery !== undefined ? { every: denyEvery } : v['deny-tags'] !== undefined ? v['deny-tags'].split(',').filter(Boolean) : null,
      denyHistory:
        denyHistoryEvery !== undefined ? { every: denyHistoryEvery } : v['deny-history'] !== undefined ? v['deny-history'].split(',').filter(Boolean) : null,
      failAll: v['fail-all'] ?? null,
      scanWindow: parseNumber(v['scan-window'], '--scan-window'),
      seed: parseNumber(v.seed, '--seed'),
    });
  } catch (error) {
    fail((error as Error).message);
  }

  const s = sim.stats();
  const mb = (n: number) => `${Math.round(n / 1048576)} MB`;
  process.stdout.write(`${sim.url}\n`);
  process.stderr.write(
    [
      `simulated AWS listening on ${sim.url} (${s.parameters} parameters, ${s.secrets} secrets, generated in ${Math.round(performance.now() - started)} ms, rss ${mb(process.memoryUsage().rss)})`,
      `latency ${s.latencyMs} ms; quotas (requests/s): ${s.quotas.map((q) => `${q.group}=${q.ratePerSecond ?? 'off'}`).join(', ')}`,
      `control: GET ${sim.url}/__health, GET ${sim.url}/__stats, POST ${sim.url}/__stats/reset, POST ${sim.url}/__control, GET ${sim.url}/__calls, GET ${sim.url}/__values?service=&name=, POST ${sim.url}/__reset`,
      `failures: point a client at ${sim.url}/fail/<access-denied|throttled|not-found|expired-token|timeout>; any other path is a scope recorded with the call`,
      '',
    ].join('\n'),
  );

  closeOnSignals('simulated-aws', () => sim.close());
}

void main();
