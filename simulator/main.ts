import { fstatSync, readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import type { CloudTrailRecord } from '@/lib/cloudtrail/types';
import { closeOnSignals } from './sim-http';
import { cloudTrailLogFile } from './simulated-s3';
import { startSimulatedOrganisation, type SimulatedAccountSpec } from './simulated-organisation';
import type { ParameterInput, SecretInput } from './simulated-aws';

// The simulator process scripts/start.mjs runs for DEMO_DATA=1: the simulated AWS organisation on
// one loopback port. The first line on stdout is exactly `SIMULATOR_URL=http://127.0.0.1:<port>`;
// everything else goes to stderr. It closes on SIGTERM/SIGINT, and when its stdin closes (the
// launcher's pipe: it never outlives whoever started it).
//
//   node --import tsx simulator/main.ts --demo [--port N] [--latency MS]
//   node --import tsx simulator/main.ts --accounts accounts.json     (SimulatedAccountSpec[] as JSON)

const USAGE = `Usage: node --import tsx simulator/main.ts (--demo | --accounts FILE) [options]

  --demo                 the demo organisation (simulator/demo): prod 111111111111 us-east-1, staging 222222222222 eu-west-1
  --accounts FILE        an organisation of your own: a JSON list of accounts (SimulatedAccountSpec; a trail
                         object is { bucket, key, records: [CloudTrail records] }, gzipped as CloudTrail writes it)
  --port N               port on the host (default 0: a free one)
  --host H               address to listen on (default 127.0.0.1)
  --latency MS           latency of every answer (default: each service's own, 5 to 30 ms)
  --no-record            do not record the calls made to it in CloudTrail
  --trail-delivery MS    how often recorded calls are delivered to the trail buckets (default 300000)
  --now MS               the "now" the demo's data is generated for (epoch ms; default the start time)
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

const argsSchema = z.object({
  demo: z.boolean().optional(),
  accounts: z.string().min(1).optional(),
  port: wholeNumber('--port', 65_535).optional(),
  host: z.string().min(1).optional(),
  latency: wholeNumber('--latency', 60_000).optional(),
  'no-record': z.boolean().optional(),
  'trail-delivery': wholeNumber('--trail-delivery', 86_400_000).optional(),
  now: wholeNumber('--now', 8_640_000_000_000_000).optional(),
  help: z.boolean().optional(),
});

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
  }));
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
  let values: z.infer<typeof argsSchema>;
  try {
    const { values: raw } = parseArgs({
      options: {
        demo: { type: 'boolean' },
        accounts: { type: 'string' },
        port: { type: 'string' },
        host: { type: 'string' },
        latency: { type: 'string' },
        'no-record': { type: 'boolean' },
        'trail-delivery': { type: 'string' },
        now: { type: 'string' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    });
    const checked = argsSchema.safeParse(raw);
    if (!checked.success) fail(checked.error.issues.map((i) => i.message).join('; '));
    values = checked.data;
  } catch (error) {
    fail((error as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  if (Boolean(values.demo) === Boolean(values.accounts)) fail('give either --demo or --accounts FILE');

  const started = Date.now();
  // --now: the demo launcher keeps one "now" per data directory, so a restart serves the same organisation.
  const now = values.now ?? started;
  // Loaded only for --demo: building the demo's data is most of the start-up.
  const accounts = values.demo ? (await import('./demo/organisation')).demoOrganisation(now) : accountsFrom(values.accounts!);
  const host = values.host ?? '127.0.0.1';
  let org;
  try {
    org = await startSimulatedOrganisation({
      accounts,
      host,
      port: values.port ?? 0,
      now,
      ...(values.latency !== undefined ? { latencyMs: values.latency } : {}),
      recordCalls: !values['no-record'],
      ...(values['trail-delivery'] !== undefined ? { trailDeliveryMs: values['trail-delivery'] } : {}),
    });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') fail(`port ${values.port} on ${host} is taken (another simulator or server listens there); choose another with --port, or 0 for a free one`, 1);
    if (code === 'EADDRNOTAVAIL' || code === 'EACCES') fail(`cannot listen on ${host}:${values.port ?? 0} (${code})`, 1);
    fail((error as Error).message, 1);
  }
  process.stdout.write(`SIMULATOR_URL=${org.url}\n`);

  const health = org.accounts.map((a) => {
    const stats = org.aws(a.account, a.region).stats();
    return `  ${a.alias.padEnd(10)} ${a.account} ${a.region}: ${stats.parameters} parameters, ${stats.secrets} secrets, ${org.cloudTrail.count({ account: a.account, region: a.region })} CloudTrail events`;
  });
  process.stderr.write(
    [
      `simulated AWS organisation listening on ${org.url} (ready in ${Date.now() - started} ms, ${Math.round(process.memoryUsage().rss / 1_048_576)} MB RSS)`,
      ...health,
      `control: GET ${org.url}/__health, GET ${org.url}/__stats, POST ${org.url}/__control`,
      '',
    ].join('\n'),
  );

  let closing = false;
  const shutdown = (why: string) => {
    if (closing) return;
    closing = true;
    process.stderr.write(`simulator: ${why}, closing\n`);
    void org.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  closeOnSignals('simulator', async () => {
    closing = true;
    await org.close();
  });
  if (stdinIsHeld()) {
    process.stdin.on('data', () => {});
    process.stdin.on('end', () => shutdown('stdin closed'));
    process.stdin.on('error', () => shutdown('stdin closed'));
  }
}

void main();
