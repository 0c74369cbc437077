// npm run report -- [--store ID]... [--overdue] [--due-soon] [--never-rotated] [--rotation-failing] [--fresh]
//                   [--status a,b] [--format json|csv] [--output FILE]
// Every item's freshness, worst first, from the inventory in DATA_DIR or DATABASE_URL (the stores CONFIG_FILE names),
// as JSON or CSV on standard output or into FILE. It reads the inventory only: no AWS call, no value.
// It runs on the server's machine as its operator, so it sees every store (a viewer on every path).
// Exit codes: 0 written, 1 failed while reading or writing, 2 bad arguments or nothing to read.
import { createWriteStream, existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Writable } from 'node:stream';
import { cliActor } from '@/lib/audit/cli-actor';
import { ConfigError, readEnv } from '@/lib/config/env';
import { loadStoreConfigs } from '@/lib/config/stores';
import { FRESHNESS_LABELS } from '@/lib/freshness/types';
import { parseReportArgs, REPORT_USAGE } from '@/lib/report/report-args';
import { writeReport } from '@/lib/report/write-report';
import { DB_FILE } from '@/lib/stores/embedded/open';
import { getStores } from '@/lib/stores/registry';

/** Exit 2: bad arguments (shown with the usage) or nothing to read. */
class UsageError extends Error {
  readonly showUsage: boolean;
  constructor(message: string, showUsage = false) {
    super(message);
    this.showUsage = showUsage;
  }
}

async function main(): Promise<number> {
  const args = parseReportArgs(process.argv.slice(2));
  if (!args.ok) throw new UsageError(args.message, true);
  if ('help' in args) {
    console.log(REPORT_USAGE);
    return 0;
  }
  const options = args.value;

  // A report never creates or seeds anything: no demo data, and the data directory must be the server's.
  process.env.DEMO_DATA = '0';
  let env;
  let configs;
  try {
    env = readEnv();
    configs = loadStoreConfigs(env);
  } catch (error) {
    if (error instanceof ConfigError) throw new UsageError(error.message);
    throw error;
  }
  // With DATABASE_URL everything is in PostgreSQL; otherwise DATA_DIR must be the server's.
  const dataDir = path.resolve(env.DATA_DIR);
  if (!env.DATABASE_URL && (!existsSync(dataDir) || !statSync(dataDir).isDirectory())) {
    throw new UsageError(`DATA_DIR ${dataDir} does not exist; set DATA_DIR to the dashboard server's data directory.`);
  }
  if (!env.DATABASE_URL && configs.some((c) => c.kind === 'local') && !existsSync(path.join(dataDir, DB_FILE))) {
    throw new UsageError(`DATA_DIR ${dataDir} holds no built-in store (${DB_FILE}); set DATA_DIR to the dashboard server's data directory.`);
  }
  const known = configs.map((c) => c.id);
  const unknown = options.stores.filter((id) => !known.includes(id));
  if (unknown.length > 0) {
    throw new UsageError(`--store: no store ${unknown.map((id) => `"${id}"`).join(', ')}; the configured stores are ${known.join(', ')}.`);
  }

  await getStores();
  const out: Writable = options.output ? createWriteStream(options.output, { flags: 'w', mode: 0o600 }) : process.stdout;
  const failed = options.output ? new Promise<never>((_, reject) => out.once('error', reject)) : null;
  const work = writeReport(out, options, cliActor());
  const count = await (failed ? Promise.race([work, failed]) : work);
  if (options.output) {
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  }
  const which = options.statuses.length ? options.statuses.map((s) => FRESHNESS_LABELS[s].toLowerCase()).join(', ') : 'every status';
  const where = options.stores.length ? options.stores.join(', ') : 'every store';
  console.error(`${count} item(s) (${which}; ${where})${options.output ? ` written to ${options.output}` : ''}.`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    if (error instanceof UsageError) {
      console.error(error.showUsage ? `${error.message}\n${REPORT_USAGE}` : error.message);
      process.exitCode = 2;
      return;
    }
    console.error(`Report failed: ${error.message}`);
    process.exitCode = 1;
  },
);
