// npm run audit:verify
// Recomputes the hash chain of the dashboard's own audit log (DATA_DIR/app.db, or PostgreSQL's app
// schema when DATABASE_URL is set), streaming it in seq
// order, and names the first entry that does not verify. Safe while the server runs (it reads a
// snapshot). Exit codes: 0 intact, 1 broken, 2 nothing to check (bad DATA_DIR, no app.db).
import { ConfigError, readEnv } from '@/lib/config/env';
import { sql } from 'kysely';
import { APP_DB_FILE, APP_SCHEMA, type AppDatabase } from '@/lib/db/app-db';
import { checkPostgres, closePostgres, DatabaseStartError, postgresDb } from '@/lib/db/postgres';
import { ChainUnreadableError, openChainDatabase, verifyChainIn, verifyChainInPostgres, type ChainVerdict } from '@/lib/audit/verify-chain';

function report(verdict: ChainVerdict): number {
  if (verdict.intact) {
    console.log(`Audit chain intact: ${verdict.entries} entries, head ${verdict.head}`);
    return 0;
  }
  const { seq, at, action, message } = verdict.broken;
  const which = at === null ? `entry #${seq}` : `entry #${seq} (${at}, ${action})`;
  console.error(`Audit chain BROKEN at ${which}: ${message}`);
  console.error(`${verdict.entriesVerified} entries before it verify.`);
  return 1;
}

/** With DATABASE_URL: the chain in PostgreSQL's app schema (never created here: an empty database is an error). */
async function verifyPostgres(url: string): Promise<number> {
  try {
    await checkPostgres(url);
    const db = postgresDb<AppDatabase>(url, APP_SCHEMA);
    const table = await sql<{ n: number }>`SELECT count(*)::int AS n FROM information_schema.tables WHERE table_schema = ${APP_SCHEMA} AND table_name = 'audit_log'`.execute(db);
    if (!table.rows[0]?.n) {
      console.error('DATABASE_URL holds no dashboard audit log (no app.audit_log table): is it the dashboard\'s database?');
      return 2;
    }
    return report(await verifyChainInPostgres(db));
  } catch (error) {
    console.error(error instanceof DatabaseStartError ? error.message : `Audit verification failed: ${(error as Error).message}`);
    return 2;
  } finally {
    await closePostgres();
  }
}

async function main(): Promise<number> {
  let dataDir: string;
  let databaseUrl: string | undefined;
  try {
    ({ DATA_DIR: dataDir, DATABASE_URL: databaseUrl } = readEnv());
  } catch (error) {
    console.error(error instanceof ConfigError ? error.message : `Cannot read the settings: ${(error as Error).message}`);
    return 2;
  }
  if (databaseUrl) return verifyPostgres(databaseUrl);
  let conn;
  try {
    conn = openChainDatabase(dataDir, APP_DB_FILE);
  } catch (error) {
    if (error instanceof ChainUnreadableError) {
      console.error(error.message);
      return 2;
    }
    throw error;
  }
  try {
    return report(verifyChainIn(conn));
  } finally {
    conn.close();
  }
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    console.error(`Audit verification failed: ${error.message}`);
    process.exitCode = 2;
  },
);
