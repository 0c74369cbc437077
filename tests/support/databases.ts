import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';

// The suites that run on both dialects: `describe.each(DATABASES)`, then `useDatabase(kind)` in
// beforeAll points the app at SQLite under DATA_DIR or at a fresh PostgreSQL database of its own.

export const DATABASES = ['sqlite', 'postgres'] as const;
export type DatabaseKind = (typeof DATABASES)[number];

export function postgresAdminUrl(): string {
  return inject('postgresAdminUrl');
}

/** A new, empty database on the test server; drop() removes it (and ends the app's pools first). */
export async function createTestDatabase(): Promise<{ url: string; name: string; drop: () => Promise<void> }> {
  const admin = new URL(postgresAdminUrl());
  const name = `t_${randomBytes(6).toString('hex')}`;
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(admin.toString());
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    drop: async () => {
      const { closePostgres } = await import('@/lib/db/postgres');
      await closePostgres();
      const c = new pg.Client({ connectionString: admin.toString() });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/**
 * Points the app at `kind`: for 'postgres' sets DATABASE_URL to a fresh database, for 'sqlite'
 * removes it (DATA_DIR is the caller's). Returns the undo.
 */
export async function useDatabase(kind: DatabaseKind): Promise<{ url?: string; cleanup: () => Promise<void> }> {
  const before = process.env.DATABASE_URL;
  const restore = () => {
    if (before === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = before;
  };
  if (kind === 'sqlite') {
    delete process.env.DATABASE_URL;
    return { cleanup: async () => restore() };
  }
  const database = await createTestDatabase();
  process.env.DATABASE_URL = database.url;
  // Replicas share no key file: on PostgreSQL the master key (and with it the audit chain key) comes from MASTER_KEY.
  const keyBefore = process.env.MASTER_KEY;
  if (!keyBefore) process.env.MASTER_KEY = randomBytes(32).toString('base64');
  return {
    url: database.url,
    cleanup: async () => {
      restore();
      if (keyBefore === undefined) delete process.env.MASTER_KEY;
      await database.drop();
    },
  };
}
