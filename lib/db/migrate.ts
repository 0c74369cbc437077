import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import { dialectOf, type DialectName } from './dialect';
import { isSqliteBusy } from './sqlite-file';

// One set of migrations per area (app, inventory, cloudtrail, builtin) for both dialects, run by
// kysely's Migrator at start. On SQLite an area is a file under DATA_DIR; on PostgreSQL a schema.
// Every pending migration of an area runs in one transaction (PostgreSQL and SQLite both roll DDL
// back), so a failing one leaves nothing half-applied; on PostgreSQL the Migrator also takes an
// advisory lock, so replicas starting together apply each migration once.

export interface AreaMigration {
  /** `dialect`: for the few statements that differ (FTS5 on SQLite, pg_trgm on PostgreSQL). */
  up(db: Kysely<any>, dialect: DialectName): Promise<void>; // eslint-disable-line @typescript-eslint/no-explicit-any
}

export class MigrationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MigrationError';
  }
}

const SQLITE_BUSY_RETRIES = 40;

/**
 * Applies an area's pending migrations (names sort in order: '0001-initial', '0002-…').
 * `schema`: the PostgreSQL schema of the area (created when missing); ignored on SQLite.
 */
export async function migrateArea(db: Kysely<any>, area: string, migrations: Record<string, AreaMigration>, schema?: string): Promise<void> { // eslint-disable-line @typescript-eslint/no-explicit-any
  const dialect = dialectOf(db);
  if (dialect === 'postgres') {
    if (!schema) throw new Error(`migrations of ${area} on PostgreSQL need a schema`);
    // IF NOT EXISTS is no guard against a replica doing the same at the same moment (both see no
    // schema, the second insert fails on the catalog's unique index): take turns. Even in turn, a
    // connection's catalog cache may still say "no schema" inside its transaction (invalidations
    // are read at transaction start, not when an advisory lock is granted), so the loser's
    // duplicate-key error means the schema is there.
    try {
      await db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(hashtextextended(${`create-schema:${schema}`}, 0))`.execute(trx);
        await sql`CREATE SCHEMA IF NOT EXISTS ${sql.id(schema)}`.execute(trx);
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code !== '23505' && code !== '42P06') throw error;
    }
  }
  const provider: MigrationProvider = {
    getMigrations: async () =>
      Object.fromEntries(Object.entries(migrations).map(([name, m]): [string, Migration] => [name, { up: (trx) => m.up(trx, dialect) }])),
  };
  const migrator = new Migrator({
    db,
    provider,
    // One bookkeeping table per migration set, so two sets can share a schema (the built-in store's
    // tables and its inventory's).
    migrationTableName: `migrations_${area.replace(/[^a-z0-9]+/gi, '_')}`,
    migrationLockTableName: `migrations_${area.replace(/[^a-z0-9]+/gi, '_')}_lock`,
    ...(dialect === 'postgres' ? { migrationTableSchema: schema } : {}),
  });
  let { error, results } = await migrator.migrateToLatest();
  // Two processes opening one new SQLite file (the server and a command-line tool) both start a
  // migration: the later one's transaction cannot take the write lock and fails at once with
  // SQLITE_BUSY (no busy wait on a lock upgrade). It rolled back whole, so running it again is
  // safe, and then finds the other's migrations applied.
  for (let attempt = 1; error && dialect === 'sqlite' && isSqliteBusy(error) && attempt <= SQLITE_BUSY_RETRIES; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 25 * attempt + Math.random() * 50));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    const reason = error instanceof Error ? error.message : String(error);
    throw new MigrationError(
      `Updating the ${area} database failed${failed ? ` at migration ${failed}` : ''}: ${reason}. Nothing of it was applied; fix the cause and start again.`,
    );
  }
}
