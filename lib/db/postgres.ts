import 'server-only';
import { Kysely, PostgresDialect, type PostgresPool } from 'kysely';
import pg from 'pg';
import { z } from 'zod';
import { isLoneRead } from './lone-read';

// PostgreSQL for several replicas. Each area keeps to a schema of its own, the same split as the
// SQLite files under DATA_DIR (app, inventory, cloudtrail, builtin), with a small pool per area
// whose search_path is that schema (then public, where extensions live): queries written as plain
// SQL need no schema names, and the same SQL runs on both dialects.

// Dates stay ISO strings as on SQLite; bigint counts arrive as numbers (never past 2^53 here).
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

const positiveInt = (fallback: number, max: number) =>
  z.preprocess((v) => (v === undefined || v === '' ? undefined : Number(v)), z.number().int().positive().max(max).default(fallback));

/** The pools' settings, read when a pool is made (so tests can set them). */
const poolSettingsSchema = z.object({
  /** Connections per area per process for everything but lone reads: writes, transactions, the sync. */
  DATABASE_POOL_SIZE: positiveInt(5, 1000),
  /**
   * Connections per area per process kept for reads outside a transaction (pages, the API), so a page
   * never waits behind the sync's staging writes queued for the other pool. Four areas, so a replica
   * holds at most 4 × (DATABASE_POOL_SIZE + this).
   */
  DATABASE_READ_POOL_SIZE: positiveInt(3, 1000),
  /** How long opening one new connection may take before it fails (an unreachable host, a server that never answers). */
  DATABASE_CONNECT_TIMEOUT_MS: positiveInt(10_000, 600_000),
});

export type PoolSettings = z.infer<typeof poolSettingsSchema>;

/** The pools' settings from the environment; a value that is not a positive whole number stops start-up with its name. */
export function readPoolSettings(env: Record<string, string | undefined> = process.env): PoolSettings {
  const parsed = poolSettingsSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  throw new DatabaseStartError(`${String(issue.path[0])} must be a positive whole number (${issue.message}).`);
}

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
  /** Writes, transactions and everything that asks for the raw pool. */
  pool: pg.Pool;
  /** Lone reads only (see ReadFirstPools). */
  reads: pg.Pool;
  db: Kysely<unknown>;
  checked?: Promise<void>;
}

/**
 * What kysely takes for a pool: a connection handed out at once, that picks its pool with its first
 * statement. A lone read takes one of the read pool's connections, anything else (a transaction, a
 * write) the main pool's, and every later statement on it uses the same connection. So the page's
 * reads wait only behind other reads, never behind the sync's staging writes and swaps queued for
 * the main pool (80 stores walking at once keep that pool busy).
 */
class ReadFirstPools {
  constructor(
    private readonly writes: pg.Pool,
    private readonly reads: pg.Pool,
  ) {}

  async connect(): Promise<RoutedClient> {
    return new RoutedClient(this.writes, this.reads);
  }

  async end(): Promise<void> {
    await Promise.all([this.writes.end(), this.reads.end()]);
  }
}

class RoutedClient {
  private client: Promise<pg.PoolClient> | null = null;

  constructor(
    private readonly writes: pg.Pool,
    private readonly reads: pg.Pool,
  ) {}

  async query(sqlText: string, parameters: unknown[]): Promise<pg.QueryResult> {
    this.client ??= (isLoneRead(sqlText) ? this.reads : this.writes).connect();
    const client = await this.client.catch((error: unknown) => {
      this.client = null;
      throw error;
    });
    return client.query(sqlText, parameters);
  }

  release(destroy?: boolean): void {
    const client = this.client;
    this.client = null;
    void client?.then(
      (c) => c.release(destroy),
      () => undefined,
    );
  }
}

function newPool(url: string, schema: string, max: number, connectTimeoutMs: number, role: string): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    Client: timedConnectClient(connectTimeoutMs),
    // No limit on waiting for a free connection (see TimedConnectClient).
    connectionTimeoutMillis: 0,
    idleTimeoutMillis: 30_000,
    // Command-line tools end when their work is done, not when idle connections time out.
    allowExitOnIdle: true,
    options: `-c search_path=${schema},public`,
    application_name: `secrets-dashboard:${schema}${role}`,
  });
  // An idle client whose server went away must not crash the process; the next query reconnects.
  pool.on('error', () => undefined);
  return pool;
}

const globalForPg = globalThis as unknown as { __pgPools?: Map<string, PoolEntry> };
const pools = (globalForPg.__pgPools ??= new Map());

function entryFor(url: string, schema = 'public'): PoolEntry {
  if (!SCHEMA_NAME.test(schema)) throw new Error(`not a schema name: ${schema}`);
  const key = `${schema}\n${url}`;
  let entry = pools.get(key);
  if (!entry) {
    const settings = readPoolSettings();
    const pool = newPool(url, schema, settings.DATABASE_POOL_SIZE, settings.DATABASE_CONNECT_TIMEOUT_MS, '');
    const reads = newPool(url, schema, settings.DATABASE_READ_POOL_SIZE, settings.DATABASE_CONNECT_TIMEOUT_MS, ':reads');
    const routed = new ReadFirstPools(pool, reads) as unknown as PostgresPool;
    entry = { pool, reads, db: new Kysely<unknown>({ dialect: new PostgresDialect({ pool: routed }) }) };
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
  await Promise.all(all.flatMap((e) => [e.pool.end().catch(() => undefined), e.reads.end().catch(() => undefined)]));
}
