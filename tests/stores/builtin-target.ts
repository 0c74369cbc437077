import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { OpenOptions } from '@/lib/stores/embedded/open';
import { BUILTIN_SCHEMA } from '@/lib/stores/embedded/open';
import { createTestDatabase, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// Where the built-in store's tests open it: a data directory of their own on SQLite; on
// PostgreSQL a database of their own (made once per suite) whose "builtin" schema is dropped
// between tests, so each test starts with no store.

export interface BuiltinTarget {
  kind: DatabaseKind;
  /** Options that open a new, empty store (until reset, the same one on every call). */
  options(masterKeyBase64?: string): OpenOptions;
  /** Forgets the store (the next options() open a fresh one). */
  reset(): Promise<void>;
  /** Everything the store holds (PostgreSQL: every row of its schema; SQLite: the folder's files): proof nothing changed. */
  snapshot(): Promise<string[]>;
  /** A plain client on the test database (PostgreSQL only), search_path at the store's schema. */
  client(): Promise<pg.Client>;
  /** The data directory of the current store (SQLite; PostgreSQL keeps its key file questions there). */
  dataDir(): string;
  cleanup(): Promise<void>;
}

export async function builtinTarget(kind: DatabaseKind): Promise<BuiltinTarget> {
  let temp = makeTempDir();
  const database = kind === 'postgres' ? await createTestDatabase() : undefined;
  const connect = async () => {
    const client = new pg.Client({ connectionString: database!.url, options: `-c search_path=${BUILTIN_SCHEMA}` });
    await client.connect();
    return client;
  };
  return {
    kind,
    options: (masterKeyBase64) => ({ dataDir: temp.dir, masterKeyBase64, databaseUrl: database?.url }),
    dataDir: () => temp.dir,
    client: connect,
    async reset() {
      temp.cleanup();
      temp = makeTempDir();
      if (!database) return;
      const client = await connect();
      try {
        await client.query(`DROP SCHEMA IF EXISTS ${BUILTIN_SCHEMA} CASCADE`);
      } finally {
        await client.end();
      }
    },
    async snapshot() {
      const { readdirSync, readFileSync, statSync } = await import('node:fs');
      const path = await import('node:path');
      const files = readdirSync(temp.dir)
        .sort()
        .map((f) => `file ${f}:${statSync(path.join(temp.dir, f)).size}:${createHash('sha256').update(readFileSync(path.join(temp.dir, f))).digest('hex')}`);
      if (!database) return files;
      const client = await connect();
      try {
        const lines = [...files];
        const schemas = await client.query<{ n: string }>('SELECT count(*) AS n FROM pg_namespace WHERE nspname = $1', [BUILTIN_SCHEMA]);
        lines.push(`schema ${BUILTIN_SCHEMA}: ${schemas.rows[0]!.n}`);
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
    },
    async cleanup() {
      temp.cleanup();
      await database?.drop();
    },
  };
}

export const newKey = () => randomBytes(32).toString('base64');
