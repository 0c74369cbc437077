import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { decryptValue } from '@/lib/crypto/envelope';
import type { KmsSealConfig } from '@/lib/crypto/kms';
import { BUILTIN_SCHEMA, DB_FILE, type OpenOptions } from '@/lib/stores/embedded/open';
import { EmbeddedStore } from '@/lib/stores/embedded/store';
import { startSimulatedKms, type SimulatedKms } from '@/simulator/simulated-kms';

// Shared by the master key suites: a store with values in it, the raw versions rows (to prove which
// key wraps what), a simulated KMS, and the rotation CLI as a child process.

export const REPO = path.resolve(__dirname, '../..');
export const KMS_KEY_A = '0b6e3c52-6a4f-4d1e-9d2a-7f3e1c5b8a90';
export const KMS_KEY_B = '9c1d7e2f-3a4b-4c5d-8e6f-0a1b2c3d4e5f';
export const DEPLOYMENT = 'master-key-tests';

export const newKeyBase64 = () => randomBytes(32).toString('base64');

/** Test-only AWS credentials for the simulated KMS (the SDK's default chain reads them). */
export const AWS_TEST_ENV = { AWS_ACCESS_KEY_ID: 'AKIDSIMULATED', AWS_SECRET_ACCESS_KEY: 'simulated-secret', AWS_REGION: 'us-east-1' };

export async function startKms(): Promise<SimulatedKms> {
  return startSimulatedKms({
    keys: [
      { keyId: KMS_KEY_A, aliases: ['alias/dashboard'] },
      { keyId: KMS_KEY_B, aliases: ['alias/dashboard-next'] },
    ],
    latencyMs: 2,
  });
}

export function kmsConfig(kms: SimulatedKms, keyId = KMS_KEY_A): KmsSealConfig {
  return { keyId, region: 'us-east-1', endpoint: kms.url, deployment: DEPLOYMENT };
}

/** The values a store is seeded with: several items, several versions each. */
export function seedValues(items = 20, versionsPerItem = 3): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (let i = 0; i < items; i++)
    values.set(
      `/app/svc${i % 4}/key${i}`,
      Array.from({ length: versionsPerItem }, (_, v) => `value-${i}-${v}-${randomBytes(4).toString('hex')}`),
    );
  return values;
}

export async function seedStore(options: OpenOptions, values: Map<string, string[]>): Promise<void> {
  const { store } = await EmbeddedStore.open('local', 'Built-in', options);
  try {
    const inputs = [...values].flatMap(([name, versions]) => versions.map((value) => ({ name, value, actor: 'seed' })));
    // Batches keep each transaction small; versions of one item go in order.
    for (let i = 0; i < inputs.length; i += 100) await store.putMany(inputs.slice(i, i + 100));
  } finally {
    await store.close();
  }
}

/** Every version of every item reads back as seeded, through the store opened with `options`. */
export async function readAll(options: OpenOptions, values: Map<string, string[]>): Promise<Map<string, string[]>> {
  const { store } = await EmbeddedStore.open('local', 'Built-in', options);
  try {
    const read = new Map<string, string[]>();
    for (const [name, versions] of values) {
      const got: string[] = [];
      for (let v = 1; v <= versions.length; v++) got.push(await store.readValue(name, String(v)));
      read.set(name, got);
    }
    return read;
  } finally {
    await store.close();
  }
}

export interface RawVersion {
  name: string;
  version: number;
  ciphertext: Buffer;
  wrappedKey: Buffer;
}

/** The versions rows as stored (read-only; on SQLite a reader beside a writer's open transaction sees the last commit). */
export async function rawVersions(dataDir: string, databaseUrl?: string): Promise<RawVersion[]> {
  const query =
    'SELECT i.name AS name, v.version AS version, v.ciphertext AS ciphertext, v.wrapped_key AS wrapped_key FROM versions v JOIN items i ON i.id = v.item_id ORDER BY i.name, v.version';
  type Row = { name: string; version: number; ciphertext: Buffer; wrapped_key: Buffer };
  let rows: Row[];
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${BUILTIN_SCHEMA}` });
    await client.connect();
    try {
      rows = (await client.query<Row>(query)).rows;
    } finally {
      await client.end();
    }
  } else {
    const conn = new Database(path.join(dataDir, DB_FILE), { readonly: true, fileMustExist: true });
    try {
      rows = conn.prepare(query).all() as Row[];
    } finally {
      conn.close();
    }
  }
  return rows.map((r) => ({ name: r.name, version: Number(r.version), ciphertext: r.ciphertext, wrappedKey: r.wrapped_key }));
}

/** How many of the versions open with this key. */
export function openWith(versions: RawVersion[], key: Buffer): number {
  let n = 0;
  for (const v of versions) {
    try {
      decryptValue(key, { ciphertext: v.ciphertext, wrappedKey: v.wrappedKey }, `${v.name}#${v.version}`);
      n++;
    } catch {
      // wrapped under another key
    }
  }
  return n;
}

/** One meta row as stored. */
export async function metaRow(key: string, dataDir: string, databaseUrl?: string): Promise<string | undefined> {
  if (databaseUrl) {
    const client = new pg.Client({ connectionString: databaseUrl, options: `-c search_path=${BUILTIN_SCHEMA}` });
    await client.connect();
    try {
      return (await client.query<{ value: string }>('SELECT value FROM meta WHERE key = $1', [key])).rows[0]?.value;
    } finally {
      await client.end();
    }
  }
  const conn = new Database(path.join(dataDir, DB_FILE), { readonly: true, fileMustExist: true });
  try {
    return (conn.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined)?.value;
  } finally {
    conn.close();
  }
}

/** Name, size and hash of every file in a folder (absent folder: empty): proof nothing on disk changed. */
export function dirSnapshot(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.endsWith('-shm'))
    .sort()
    .map((f) => `${f}:${statSync(path.join(dir, f)).size}:${createHash('sha256').update(readFileSync(path.join(dir, f))).digest('hex')}`);
}

/** Every row of the built-in store's schema (PostgreSQL). */
export async function schemaSnapshot(databaseUrl: string): Promise<string[]> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const lines: string[] = [];
    const tables = await client.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name',
      [BUILTIN_SCHEMA],
    );
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`SELECT * FROM ${BUILTIN_SCHEMA}."${table_name}"`);
      lines.push(`table ${table_name}`, ...rows.rows.map((r) => JSON.stringify(r)).sort());
    }
    return lines;
  } finally {
    await client.end();
  }
}

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** The environment of a child process: just what the app reads, plus PATH/HOME. */
export function childEnv(vars: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_ENV: 'production', LOG_LEVEL: 'silent', ...AWS_TEST_ENV };
  for (const [k, v] of Object.entries(vars)) if (v !== undefined) env[k] = v;
  return env;
}

/**
 * npm run rotate-master-key as a child process. With `pauseAt` it runs with the test-only pause
 * (lib/crypto/rotate-master-key.ts TEST_ONLY_PAUSE_ENV) and is SIGKILLed once it says it paused;
 * `onPaused` runs first (to look at the store while the rotation holds its transaction open).
 */
export function runRotateCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  options: { pauseAt?: 'mid-rewrap' | 'after-commit'; onPaused?: () => Promise<void>; timeoutMs?: number } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=react-server', '--import', 'tsx', 'scripts/rotate-master-key.ts', ...args], {
      cwd: REPO,
      env: options.pauseAt ? { ...env, SECRETS_DASHBOARD_TEST_ONLY_ROTATION_PAUSE: options.pauseAt } : env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killing = false;
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`rotate-master-key did not finish in time\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, options.timeoutMs ?? 60_000);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (options.pauseAt && !killing && stderr.includes(`paused at ${options.pauseAt}`)) {
        killing = true;
        void (options.onPaused ?? (async () => undefined))()
          .catch((error: unknown) => {
            stderr += `\n[test] onPaused failed: ${(error as Error).message}`;
          })
          .finally(() => child.kill('SIGKILL'));
      }
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
