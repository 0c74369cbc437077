import { parseArgs } from 'node:util';
import { KMS_CRYPTO_QUOTA_PER_SECOND, KMS_DEFAULT_LATENCY_MS, KMS_SIM_ACCOUNT, KMS_SIM_REGION, startSimulatedKms, type SimKmsKey } from './simulated-kms';
import { closeOnSignals } from './sim-http';

// Runs the simulated KMS until SIGTERM/SIGINT. The first line on stdout is the URL; the keys go to stderr.
//
//   node --import tsx simulator/simulated-kms-main.ts --port 3299 \
//     --key 1234abcd-12ab-34cd-56ef-1234567890ab:alias/secrets-dashboard

const USAGE = `Usage: node --import tsx simulator/simulated-kms-main.ts [options]

  --port N            port on 127.0.0.1 (default 0: a free one)
  --host H            address to listen on (default 127.0.0.1)
  --key ID[:ALIAS...] a key (uuid) and its aliases, comma-separated after the colon; repeatable
                      (default: one key with alias alias/secrets-dashboard)
  --latency MS        latency per call (default ${KMS_DEFAULT_LATENCY_MS})
  --quota RATE        cryptographic operations per second, shared (default ${KMS_CRYPTO_QUOTA_PER_SECOND}; "off" = unlimited)
  --seed TEXT         mixed into each key's secret (default empty)
  --account ID        the account in every key ARN (default ${KMS_SIM_ACCOUNT})
  --region R          the region in every ARN, the only one a request may be signed for (default ${KMS_SIM_REGION})
  --help
`;

const DEFAULT_KEY: SimKmsKey = { keyId: '5e4b1d0a-7c1f-4b8e-9a53-2f6d8c0e1a21', aliases: ['alias/secrets-dashboard'] };

function fail(message: string): never {
  process.stderr.write(`simulated-kms: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseKey(spec: string): SimKmsKey {
  const cut = spec.indexOf(':');
  const keyId = cut < 0 ? spec : spec.slice(0, cut);
  const aliases = cut < 0 ? [] : spec.slice(cut + 1).split(',').filter(Boolean);
  return { keyId, aliases };
}

function parseNumber(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) fail(`${what} must be a number >= 0, not "${value}"`);
  return n;
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      options: {
        port: { type: 'string' },
        host: { type: 'string' },
        key: { type: 'string', multiple: true },
        latency: { type: 'string' },
        quota: { type: 'string' },
        seed: { type: 'string' },
        account: { type: 'string' },
        region: { type: 'string' },
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
  const keys = v.key ? v.key.map(parseKey) : [DEFAULT_KEY];
  let sim;
  try {
    sim = await startSimulatedKms({
      port: parseNumber(v.port, '--port'),
      host: v.host,
      keys,
      latencyMs: parseNumber(v.latency, '--latency'),
      cryptoQuotaPerSecond: v.quota === 'off' ? null : parseNumber(v.quota, '--quota'),
      seed: v.seed,
      account: v.account,
      region: v.region,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  process.stdout.write(`${sim.url}\n`);
  process.stderr.write(
    [
      `simulated KMS listening on ${sim.url} (account ${v.account ?? KMS_SIM_ACCOUNT}, region ${v.region ?? KMS_SIM_REGION})`,
      ...keys.map((k) => `  key ${sim.keyArn(k.keyId)}${k.aliases?.length ? ` aliases ${k.aliases.join(', ')}` : ''}`),
      `control: GET ${sim.url}/__health, GET ${sim.url}/__stats, POST ${sim.url}/__stats/reset, POST ${sim.url}/__control`,
      '',
    ].join('\n'),
  );
  closeOnSignals('simulated-kms', () => sim.close());
}

void main();
