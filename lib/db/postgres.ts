import 'server-only';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';

// PostgreSQL for several replicas. Each area keeps to a schema of its own, the same split as the
// SQLite files under DATA_DIR (app, inventory, cloudtrail, builtin), with a small pool per area
// whose search_path is that schema (then public, where extensions live): queries written as plain
// SQL need no schema names, and the same SQL runs on both dialects.

// Dates stay ISO strings as on SQLite; bigint counts arrive as numbers (never past 2^53 here).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** A positive whole number from the environment, else the default (read when a pool is made, so tests can set it). */
function positiveEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

/** Connections per area per process: four areas, so a replica holds at most 4 × this. */
const poolSize = () => positiveEnv('DATABASE_POOL_SIZE', 5);
/** How long opening one new connection may take before it fails (an unreachable host, a server that never answers). */
const connectTimeoutMs = () => positiveEnv('DATABASE_CONNECT_TIMEOUT_MS', 10_000);

/**
 * pg-pool uses one timeout both for opening a connection and for waiting in its queue for a free
 * one. Waiting has none here: with many stores walking at once (80 in an organisation of 20
 * accounts x 2 regions) work queues behind a small pool instead of failing with "timeout exceeded
 * when trying to connect". Opening a connection keeps its timeout, set on each client instead.
 */
function timedConnectClient(timeoutMs: number): new (config?: pg.ClientConfig) => pg.Client {
  return class TimedConnectClient extends pg.Client {
    constructor(config?: pg.ClientConfig) {
      super({ ...config, connectionTimeoutMillis: timeoutMs });
    }
  };
}

export class DatabaseStartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatabaseStartError';
  }
}

interface PoolEntry {
  pool: pg.Pool;
  db: Kysely<unknown>;
  checked?: Promise<void>;
}

const globalForPg = globalThis as unknown as { __pgPools?: Map<string, PoolEntry> };
const pools = (globalForPg.__pgPools ??= new Map());

function entryFor(url: string, schema = 'public'): PoolEntry {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const key = `${schema}\n${url}`;
  let entry = pools.get(key);
  if (!entry) {
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize(),
      Client: timedConnectClient(connectTimeoutMs()),
      // No limit on waiting for a free connection (see TimedConnectClient).
      connectionTimeoutMillis: 0,
      idleTimeoutMillis: 30_000,
      // Command-line tools end when their work is done, not when idle connections time out.
      allowExitOnIdle: true,
      options: `-c search_path=${schema},public`,
      application_name: `secrets-dashboard:${schema}`,
    });
    // An idle client whose server went away must not crash the process; the next query reconnects.
    pool.on('error', () => undefined);
    entry = { pool, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) }) };
    pools.set(key, entry);
  }
  return entry;
}

/** The process's kysely over DATABASE_URL for one area's schema (created by its migrations). */
export function postgresDb<DB>(url: string, schema: string): Kysely<DB> {
  return entryFor(url, schema).db as Kysely<DB>;
}

/** The raw pool of an area, for what kysely does not cover (streaming, a connection held for a lock). */
export function postgresPool(url: string, schema: string): pg.Pool {
  return entryFor(url, schema).pool;
}

/** Where DATABASE_URL points, without the password, for messages. */
export function describeDatabaseUrl(url: string): { host: string; port: string; database: string; user: string } {
  const u = new URL(url);
  return { host: u.hostname, port: u.port || '5432', database: decodeURIComponent(u.pathname.slice(1)), user: decodeURIComponent(u.username) };
}

/** One message naming what failed (host, authentication, database) and what to do. Never the password. */
export function explainConnectionError(url: string, error: unknown): DatabaseStartError {
  const { host, port, database, user } = describeDatabaseUrl(url);
  const code = (error as { code?: string }).code ?? '';
  const where = `${host}:${port}`;
  switch (code) {
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new DatabaseStartError(`DATABASE_URL: the host ${host} was not found (DNS). Check the host name in DATABASE_URL.`);
    case 'ECONNREFUSED':
      return new DatabaseStartError(`DATABASE_URL: nothing accepts connections at ${where}. Check the host and port, and that PostgreSQL is running.`);
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new DatabaseStartError(`DATABASE_URL: ${where} could not be reached (${code}). Check the host, port and network path.`);
    case '28P01':
    case '28000':
      return new DatabaseStartError(
        `DATABASE_URL: PostgreSQL at ${where} refused user "${user}" (authentication failed). Check the user name and password in DATABASE_URL.`,
      );
    case '3D000':
      return new DatabaseStartError(`DATABASE_URL: the database "${database}" does not exist on ${where}. Create it (createdb ${database}) or fix the name.`);
    case '42501':
      return new DatabaseStartError(`DATABASE_URL: user "${user}" may not create what the dashboard needs in "${database}" (permission denied). Grant it CREATE on the database.`);
    default: {
      const timedOut = error instanceof Error && /timeout/i.test(error.message);
      if (timedOut) return new DatabaseStartError(`DATABASE_URL: ${where} did not answer in time. Check the host, port and network path.`);
      // pg's own messages name the cause and never carry the password.
      const reason = error instanceof Error ? error.message : String(error);
      return new DatabaseStartError(`DATABASE_URL: connecting to ${where}/${database} as "${user}" failed: ${reason}${code ? ` (${code})` : ''}.`);
    }
  }
}

/** Connects once before anything else, so a wrong URL stops start-up with its cause and nothing is written. */
export function checkPostgres(url: string): Promise<void> {
  const entry = entryFor(url);
  entry.checked ??= (async () => {
    try {
      const client = await entry.pool.connect();
      try {
        await client.query('SELECT 1');
      } finally {
        client.release();
      }
    } catch (error) {
      entry.checked = undefined;
      throw explainConnectionError(url, error);
    }
  })();
  return entry.checked;
}

/** Ends every pool (tests, command-line tools). */
export async function closePostgres(): Promise<void> {
  const all = [...pools.values()];
  pools.clear();
  await Promise.all(all.map((e) => e.pool.end().catch(() => undefined)));
}
