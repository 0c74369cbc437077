import 'server-only';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type pg from 'pg';
import { verifyChainIn, verifyChainInPostgres, type ChainVerdict } from '@/lib/audit/verify-chain';
import { auditChainKey, closeKeyrings } from '@/lib/crypto/keyring';
import { KMS_KEY_FILE, MASTER_KEY_KMS_META, parseSealed, serializeSealed } from '@/lib/crypto/master-key';
import type { AppDatabase } from './app-db';
import { DATA_AREAS, type DataArea } from './areas';
import {
  copyTableRows,
  countPostgresRows,
  countSqliteRows,
  inDependencyOrder,
  postgresTableHasRows,
  postgresTables,
  resetSequences,
  sqliteTables,
  type SkippedTable,
} from './copy-tables';
import { migrateArea } from './migrate';
import { checkPostgres, postgresDb, postgresPool } from './postgres';

// `npm run migrate-data`: a SQLite deployment (DATA_DIR) copied into an empty PostgreSQL database.
// Every area whose file exists is read in a snapshot, its schema is made by the same migrations the
// server runs, and the rows of every area go over in ONE PostgreSQL transaction: a failure leaves
// no row behind, so the copy can simply be run again. Then counts and the audit chain are compared
// (verified on both sides with the copied deployment's audit chain key).

/** Nothing was written: the arguments, the SQLite files or the target do not allow a copy. */
export class CopyRefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyRefusedError';
  }
}

/** The copy failed part-way and was rolled back: PostgreSQL holds none of its rows. */
export class CopyFailedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CopyFailedError';
  }
}

export interface TableCount {
  area: string;
  schema: string;
  table: string;
  sqliteRows: number;
  postgresRows: number;
}

export interface AreaCopy {
  area: DataArea;
  file: string;
  /** SQLite tables left out on purpose (search indexes, staging). */
  skipped: SkippedTable[];
  /** SQLite tables PostgreSQL has no table for (not copied). */
  withoutTwin: string[];
  /** SQLite columns PostgreSQL's table does not have (not copied). */
  withoutTwinColumns: { table: string; columns: string[] }[];
}

export interface ChainComparison {
  sqlite: ChainVerdict;
  postgres: ChainVerdict;
  /** Both intact, with the same number of entries and the same head hash. */
  same: boolean;
}

export interface CopyResult {
  areas: AreaCopy[];
  counts: TableCount[];
  /** null when the data directory has no app.db (no audit log to compare). */
  chain: ChainComparison | null;
}

/** The areas with a file under `dataDir`, in DATA_AREAS order. */
export function areasIn(dataDir: string): { area: DataArea; file: string }[] {
  return DATA_AREAS.map((area) => ({ area, file: path.join(dataDir, area.sqliteFile) })).filter(({ file }) => existsSync(file));
}

function openReadOnly(file: string): Database.Database {
  let conn: Database.Database | undefined;
  try {
    conn = new Database(file, { readonly: true, fileMustExist: true });
    conn.pragma('busy_timeout = 5000');
    conn.prepare('SELECT count(*) FROM sqlite_master').get(); // reads the header: not a database fails here
    return conn;
  } catch (error) {
    conn?.close();
    throw new CopyRefusedError(`Cannot read ${file} as a SQLite database: ${(error as Error).message}. Nothing was written.`);
  }
}

/** The bookkeeping table of a migration set (as lib/db/migrate.ts names it). */
const bookkeepingTable = (set: string) => `migrations_${set.replace(/[^a-z0-9]+/gi, '_')}`;

/**
 * Refuses a file whose migrations are not exactly this version's: PostgreSQL's tables are made by
 * this version's migrations, so an older file (columns missing, values not yet brought up to date)
 * or a newer one would not copy faithfully. Starting this version on the SQLite data once updates it.
 */
function refuseUnlessUpToDate(conn: Database.Database, area: DataArea, file: string): void {
  for (const set of area.migrationSets) {
    const table = bookkeepingTable(set.name);
    const known = Object.keys(set.migrations);
    const hasTable = conn.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(table);
    const applied = hasTable ? (conn.prepare(`SELECT name FROM "${table}"`).all() as { name: string }[]).map((r) => r.name) : [];
    const missing = known.filter((name) => !applied.includes(name));
    const unknown = applied.filter((name) => !known.includes(name));
    if (unknown.length) {
      throw new CopyRefusedError(
        `${file} was written by a newer version of the dashboard (migration ${unknown.join(', ')} of ${set.name} is unknown here). ` +
          'Run migrate-data from that version. Nothing was written.',
      );
    }
    if (missing.length) {
      throw new CopyRefusedError(
        `${file} lacks this version's migration ${missing.join(', ')} of ${set.name}. Start this version of the dashboard on the ` +
          'SQLite data once (it brings the files up to date), stop it, then copy. Nothing was written.',
      );
    }
  }
}

/** Refuses unless every table already in the target's area schemas is empty (nothing is written before). */
async function refuseUnlessEmpty(client: pg.ClientBase, areas: { area: DataArea }[]): Promise<void> {
  for (const { area } of areas) {
    for (const table of (await postgresTables(client, area.schema)).keys()) {
      if (await postgresTableHasRows(client, area.schema, table)) {
        throw new CopyRefusedError(
          `PostgreSQL already holds data in ${area.schema}.${table}; migrate-data copies into an empty database only. ` +
            'Nothing was written. Point --to at a new database (createdb), or drop what is there first if it is not needed.',
        );
      }
    }
  }
}

async function copyArea(
  conn: Database.Database,
  client: pg.ClientBase,
  area: DataArea,
  file: string,
  progress: (line: string) => void,
): Promise<{ copy: AreaCopy; sqliteCounts: Map<string, number> }> {
  const { tables, skipped } = sqliteTables(conn);
  const target = await postgresTables(client, area.schema);
  const copy: AreaCopy = { area, file, skipped, withoutTwin: [], withoutTwinColumns: [] };
  const twins = tables.filter((t) => target.has(t.name));
  copy.withoutTwin = tables.filter((t) => !target.has(t.name)).map((t) => t.name);
  const sqliteCounts = new Map<string, number>();
  for (const name of await inDependencyOrder(client, area.schema, twins.map((t) => t.name))) {
    const source = twins.find((t) => t.name === name)!;
    const columns = target.get(name)!.filter((c) => !c.generated && source.columns.includes(c.name));
    const missing = source.columns.filter((c) => !columns.some((pc) => pc.name === c));
    if (missing.length) copy.withoutTwinColumns.push({ table: name, columns: missing });
    // Checked again inside the transaction: a dashboard started on the target meanwhile would have written.
    if (await postgresTableHasRows(client, area.schema, name)) {
      throw new CopyFailedError(`${area.schema}.${name} received rows while the copy ran (is a dashboard running on the target?)`);
    }
    const rows = await copyTableRows(conn, client, area.schema, name, columns);
    await resetSequences(client, area.schema, name, columns);
    sqliteCounts.set(name, countSqliteRows(conn, name));
    progress(`  ${area.schema}.${name}: ${rows} row(s)`);
  }
  return { copy, sqliteCounts };
}

function chainOnSqlite(file: string, key: Buffer): ChainVerdict {
  // A connection of its own: verifyChainIn reads in a transaction of its own.
  const conn = openReadOnly(file);
  try {
    return verifyChainIn(conn, key);
  } finally {
    conn.close();
  }
}

/**
 * The audit chain key of the deployment in `from`: its keyring is `from`/secrets.db, opened with
 * the master key as the server would (MASTER_KEY, `from`/master.key, or KMS). The keyring follows
 * DATA_DIR and DATABASE_URL, so they point at `from` while it opens (DATABASE_URL is the target here).
 */
export async function chainKeyOfDeployment(from: string): Promise<Buffer> {
  if (!existsSync(path.join(from, 'secrets.db'))) {
    throw new Error(`${from} has no secrets.db, where the audit chain key is kept (sealed under the master key)`);
  }
  const saved = { DATA_DIR: process.env.DATA_DIR, DATABASE_URL: process.env.DATABASE_URL };
  process.env.DATA_DIR = from;
  delete process.env.DATABASE_URL;
  try {
    return await auditChainKey();
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}

async function chainKeyFor(from: string, app: Database.Database, chainKey: (from: string) => Promise<Buffer>): Promise<Buffer> {
  // An empty log verifies under any key: a deployment that never logged needs no keyring.
  if (!app.prepare('SELECT 1 FROM audit_log LIMIT 1').get()) return randomBytes(32);
  try {
    return await chainKey(from);
  } catch (error) {
    throw new CopyRefusedError(
      `The audit log cannot be checked without its key: ${(error as Error).message}. Set MASTER_KEY (or the KMS settings) as the ` +
        'dashboard on this data directory runs with. Nothing was written.',
    );
  }
}

/**
 * A master key sealed by KMS lives in `from`/master.key.kms on SQLite and in the builtin schema's
 * meta row on PostgreSQL (replicas share no folder): the sealed key (KMS ciphertext only) moves
 * with the copy, so the same KMS settings open the store on PostgreSQL.
 */
async function carrySealedMasterKey(client: pg.ClientBase, from: string, hasBuiltin: boolean, progress: (line: string) => void): Promise<void> {
  const file = path.join(from, KMS_KEY_FILE);
  if (!hasBuiltin || !existsSync(file)) return;
  const sealed = parseSealed(readFileSync(file, 'utf8'), file);
  const schema = DATA_AREAS.find((a) => a.name === 'builtin')!.schema;
  await client.query(`INSERT INTO ${schema}.meta (key, value) VALUES ($1, $2)`, [MASTER_KEY_KMS_META, serializeSealed(sealed)]);
  progress(`  ${schema}.meta: the master key sealed by KMS (${sealed.kmsKeyId}) from ${file}`);
}

/**
 * Copies the SQLite deployment in `from` into the empty PostgreSQL database `to`.
 * Throws DatabaseStartError (target unreachable), CopyRefusedError (nothing written),
 * MigrationError (the schema could not be made; no row written) or CopyFailedError (rolled back).
 */
export async function copySqliteToPostgres(
  from: string,
  to: string,
  progress: (line: string) => void = () => undefined,
  chainKey: (from: string) => Promise<Buffer> = chainKeyOfDeployment,
): Promise<CopyResult> {
  const present = areasIn(from);
  if (!present.length) throw new CopyRefusedError(`${from} holds none of ${DATA_AREAS.map((a) => a.sqliteFile).join(', ')}. Nothing was written.`);
  await checkPostgres(to);
  const opened: { area: DataArea; file: string; conn: Database.Database }[] = [];
  const client = await postgresPool(to, 'public').connect();
  try {
    for (const { area, file } of present) {
      const conn = openReadOnly(file);
      opened.push({ area, file, conn });
      refuseUnlessUpToDate(conn, area, file);
    }
    await refuseUnlessEmpty(client, present);
    const appConn = opened.find((o) => o.area.name === 'app')?.conn;
    // Before anything is written: without the key the copy could not be checked.
    const key = appConn ? await chainKeyFor(from, appConn, chainKey) : null;

    // The schemas, exactly as the server makes them at start (each set in a transaction of its own).
    for (const { area } of present) {
      const db = postgresDb(to, area.schema);
      for (const set of area.migrationSets) await migrateArea(db, set.name, set.migrations, area.schema);
      progress(`${area.name}: schema ${area.schema} migrated`);
    }

    const areas: AreaCopy[] = [];
    const sqliteCounts = new Map<string, Map<string, number>>();
    await client.query('BEGIN');
    try {
      for (const { area, file, conn } of opened) {
        conn.exec('BEGIN'); // one snapshot per file: rows and counts agree even if something writes
        try {
          progress(`${area.name}: copying ${file}`);
          const result = await copyArea(conn, client, area, file, progress);
          areas.push(result.copy);
          sqliteCounts.set(area.name, result.sqliteCounts);
        } finally {
          conn.exec('COMMIT');
        }
      }
      await carrySealedMasterKey(client, from, opened.some((o) => o.area.name === 'builtin'), progress);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      const reason = error instanceof Error ? error.message : String(error);
      throw new CopyFailedError(`The copy failed and was rolled back (PostgreSQL holds none of its rows): ${reason}`);
    }

    const counts: TableCount[] = [];
    for (const copy of areas) {
      for (const [table, sqliteRows] of sqliteCounts.get(copy.area.name)!) {
        counts.push({ area: copy.area.name, schema: copy.area.schema, table, sqliteRows, postgresRows: await countPostgresRows(client, copy.area.schema, table) });
      }
    }

    const app = opened.find((o) => o.area.name === 'app');
    let chain: ChainComparison | null = null;
    if (app && key) {
      const sqlite = chainOnSqlite(app.file, key);
      const postgres = await verifyChainInPostgres(postgresDb<AppDatabase>(to, app.area.schema), key);
      const same = sqlite.intact && postgres.intact && sqlite.entries === postgres.entries && sqlite.head === postgres.head;
      chain = { sqlite, postgres, same };
    }
    return { areas, counts, chain };
  } finally {
    client.release();
    for (const { conn } of opened) conn.close();
    await closeKeyrings();
  }
}
