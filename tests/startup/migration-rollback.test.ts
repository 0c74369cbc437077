import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { dialectOf } from '@/lib/db/dialect';
import { migrateArea, MigrationError, type AreaMigration } from '@/lib/db/migrate';
import { closePostgres, postgresDb } from '@/lib/db/postgres';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';
import { createTestDatabase, DATABASES, type DatabaseKind } from '../support/databases';
import { makeTempDir } from '../support/temp-dir';

// A migration that fails rolls back: the run's earlier migrations too, so start-up never leaves a
// database half-updated, and the next start applies the whole run again.

const temp = makeTempDir('secrets-migration-rollback-');
const dropped: (() => Promise<void>)[] = [];
afterAll(async () => {
  await closePostgres();
  for (const drop of dropped) await drop();
  temp.cleanup();
});

const SCHEMA = 'rollback_test';
let opened = 0;

/* eslint-disable @typescript-eslint/no-explicit-any */
async function openDatabase(kind: DatabaseKind): Promise<Kysely<any>> {
  if (kind === 'sqlite') return new Kysely<any>({ dialect: sqliteDialect(new Database(path.join(temp.dir, `area-${++opened}.db`))) });
  const database = await createTestDatabase();
  dropped.push(database.drop);
  return postgresDb<any>(database.url, SCHEMA);
}

async function tableNames(db: Kysely<any>): Promise<string[]> {
  const rows =
    dialectOf(db) === 'postgres'
      ? await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ${SCHEMA}`.execute(db)
      : await sql<{ name: string }>`SELECT name FROM sqlite_master WHERE type = 'table'`.execute(db);
  return rows.rows.map((r) => r.name).sort();
}

/** The names the bookkeeping table lists as applied (none when the table is not there). */
async function appliedMigrations(db: Kysely<any>, set: string): Promise<string[]> {
  if (!(await tableNames(db)).includes(`migrations_${set}`)) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM ${sql.table(`migrations_${set}`)}`.execute(db);
  return rows.rows.map((r) => r.name);
}

const createTable = (name: string): AreaMigration => ({
  async up(db) {
    await db.schema.createTable(name).addColumn('id', 'integer', (c) => c.primaryKey()).execute();
    await db.insertInto(name).values({ id: 1 }).execute();
  },
});

describe.each(DATABASES)('a failing migration rolls back (%s)', (kind) => {
  it('a second migration that throws takes the first one with it', async () => {
    const db = await openDatabase(kind);
    const migrations: Record<string, AreaMigration> = {
      '0001-first': createTable('first_table'),
      '0002-second': {
        async up(trx) {
          await trx.schema.createTable('second_table').addColumn('id', 'integer').execute();
          throw new Error('the second migration went wrong');
        },
      },
    };
    await expect(migrateArea(db, 'rollback', migrations, SCHEMA)).rejects.toThrow(MigrationError);
    await expect(migrateArea(db, 'rollback', migrations, SCHEMA)).rejects.toThrow(
      /Updating the rollback database failed at migration 0002-second: the second migration went wrong\. Nothing of it was applied/,
    );
    const tables = await tableNames(db);
    expect(tables).not.toContain('first_table');
    expect(tables).not.toContain('second_table');
    expect(await appliedMigrations(db, 'rollback')).toEqual([]);

    // Fixed, the whole run applies on the next start.
    await migrateArea(db, 'rollback', { ...migrations, '0002-second': createTable('second_table') }, SCHEMA);
    expect(await tableNames(db)).toEqual(expect.arrayContaining(['first_table', 'second_table']));
    expect((await appliedMigrations(db, 'rollback')).sort()).toEqual(['0001-first', '0002-second']);
    if (kind === 'sqlite') await db.destroy();
  });

  it('a single migration that fails half-way leaves no table', async () => {
    const db = await openDatabase(kind);
    const migrations: Record<string, AreaMigration> = {
      '0001-half': {
        async up(trx) {
          await trx.schema.createTable('half_table').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
          await trx.insertInto('half_table').values({ id: 1 }).execute();
          await trx.insertInto('half_table').values({ id: 1 }).execute(); // a unique violation: the database's own error
        },
      },
    };
    await expect(migrateArea(db, 'half', migrations, SCHEMA)).rejects.toThrow(/Updating the half database failed at migration 0001-half: .*(UNIQUE|unique|duplicate)/);
    expect(await tableNames(db)).not.toContain('half_table');
    expect(await appliedMigrations(db, 'half')).toEqual([]);
    if (kind === 'sqlite') await db.destroy();
  });
});

describe('replicas migrating one new PostgreSQL database at the same moment', () => {
  it('all succeed, and each migration is applied once', async () => {
    const database = await createTestDatabase();
    dropped.push(database.drop);
    let applied = 0;
    const migrations: Record<string, AreaMigration> = {
      '0001-create': {
        async up(db) {
          applied++;
          await db.schema.createTable('shared').addColumn('id', 'integer', (c) => c.primaryKey()).execute();
        },
      },
    };
    // Several pools (as several replicas have) racing to create the schema and apply the set.
    const replicas = ['race_a', 'race_b', 'race_c', 'race_d'].map(() => postgresDb<any>(database.url, 'race'));
    await Promise.all(replicas.map((db) => migrateArea(db, 'race', migrations, 'race')));
    expect(applied).toBe(1);
    const rows = await sql<{ name: string }>`SELECT name FROM race.migrations_race`.execute(replicas[0]!);
    expect(rows.rows.map((r) => r.name)).toEqual(['0001-create']);
  });
});
