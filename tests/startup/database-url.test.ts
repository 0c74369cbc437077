import { randomBytes } from 'node:crypto';
import { freePort } from '@/scripts/free-port';
import path from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { resetGrantRules } from '@/lib/auth/effective-grants';
import { DATA_AREAS } from '@/lib/db/areas';
import { closePostgres } from '@/lib/db/postgres';
import { openStoresOrExit } from '@/lib/startup';
import { createTestDatabase, postgresAdminUrl } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// An unreachable or wrong DATABASE_URL stops start-up before anything else, with a message that
// names the cause (the host and port, the host name, authentication, the database) and never the
// password.

const PASSWORD = 'the-password-never-printed-7731';
const saved = { ...process.env };
const temp = makeTempDir('secrets-startup-db-');

afterEach(async () => {
  process.env = { ...saved };
  vi.restoreAllMocks();
  delete (globalThis as { __appDb?: unknown }).__appDb;
  await closePostgres();
});
afterAll(() => temp.cleanup());

async function startWith(databaseUrl: string, env: Record<string, string> = {}): Promise<{ exitCode: number | null; errors: string; logs: string }> {
  delete (globalThis as { __storeRegistry?: unknown }).__storeRegistry;
  delete (globalThis as { __appDb?: unknown }).__appDb;
  resetGrantRules();
  delete process.env.CONFIG_FILE;
  delete process.env.MASTER_KEY;
  Object.assign(process.env, {
    DATA_DIR: path.join(temp.dir, 'data'),
    DEMO_DATA: '0',
    ADMIN_EMAIL: 'admin@example.com',
    ADMIN_PASSWORD: 'long-enough-password',
    DATABASE_URL: databaseUrl,
    ...env,
  });
  let exitCode: number | null = null;
  const errors: string[] = [];
  const logs: string[] = [];
  vi.spyOn(process, 'exit').mockImplementation(((code?: number) => {
    exitCode = code ?? 0;
    return undefined as never;
  }) as typeof process.exit);
  vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void errors.push(args.join(' ')));
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logs.push(args.join(' ')));
  await openStoresOrExit();
  return { exitCode, errors: errors.join('\n'), logs: logs.join('\n') };
}

function adminUrlWith(change: (url: URL) => void): string {
  const url = new URL(postgresAdminUrl());
  change(url);
  return url.toString();
}

describe('start-up on PostgreSQL', () => {
  it("migrates every area's schema before serving, on an empty database", async () => {
    const database = await createTestDatabase();
    try {
      const { exitCode, errors } = await startWith(database.url, { MASTER_KEY: randomBytes(32).toString('base64'), NEXTAUTH_SECRET: randomBytes(32).toString('base64') });
      expect(errors).toBe('');
      expect(exitCode).toBeNull();
      const client = new pg.Client({ connectionString: database.url });
      await client.connect();
      try {
        for (const area of DATA_AREAS) {
          for (const set of area.migrationSets) {
            const table = `migrations_${set.name.replace(/[^a-z0-9]+/gi, '_')}`;
            const { rows } = await client.query(`SELECT name FROM ${area.schema}.${table} ORDER BY name`);
            expect(rows.map((r) => r.name), `${area.schema}.${table}`).toEqual(Object.keys(set.migrations).sort());
          }
        }
      } finally {
        await client.end();
      }
    } finally {
      await closePostgres();
      await database.drop();
    }
  });
});

describe('start-up with a bad DATABASE_URL', () => {
  it('names host and port when nothing listens there', async () => {
    const port = await freePort();
    const { exitCode, errors } = await startWith(`postgres://dashboard:${PASSWORD}@127.0.0.1:${port}/dashboard`);
    expect(exitCode).toBe(1);
    expect(errors).toMatch(new RegExp(`cannot start:\\s+DATABASE_URL: nothing accepts connections at 127\\.0\\.0\\.1:${port}\\. Check the host and port`));
    expect(errors).not.toContain(PASSWORD);
  });

  it('names the host when it does not resolve', async () => {
    const { exitCode, errors } = await startWith(`postgres://dashboard:${PASSWORD}@db.nowhere.invalid:5432/dashboard`);
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/cannot start:\s+DATABASE_URL: the host db\.nowhere\.invalid was not found \(DNS\)/);
    expect(errors).not.toContain(PASSWORD);
  });

  it('names authentication and the user on a wrong password', async () => {
    const { exitCode, errors } = await startWith(adminUrlWith((u) => (u.password = PASSWORD)));
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/cannot start:\s+DATABASE_URL: PostgreSQL at 127\.0\.0\.1:\d+ refused user "postgres" \(authentication failed\)/);
    expect(errors).not.toContain(PASSWORD);
  });

  it('names the database when it does not exist', async () => {
    const { exitCode, errors } = await startWith(adminUrlWith((u) => (u.pathname = '/no_such_dashboard_db')));
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/cannot start:\s+DATABASE_URL: the database "no_such_dashboard_db" does not exist on 127\.0\.0\.1:\d+\. Create it/);
    expect(errors).not.toContain(new URL(postgresAdminUrl()).password);
  });

  it('stops on a DATABASE_URL that is not a PostgreSQL URL, saying what one looks like', async () => {
    const { exitCode, errors } = await startWith(`mysql://dashboard:${PASSWORD}@db/dashboard`);
    expect(exitCode).toBe(1);
    expect(errors).toMatch(/DATABASE_URL must be a PostgreSQL URL: postgres:\/\/user:password@host:5432\/database/);
    expect(errors).not.toContain(PASSWORD);
  });
});
