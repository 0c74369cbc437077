import 'server-only';
import type Database from 'better-sqlite3';
import type pg from 'pg';

// The table-level half of `npm run migrate-data`: which tables of a SQLite file are data of their
// own, what the PostgreSQL schema (made by the same migrations) has, and copying one table's rows
// column by column in batches. Written against the catalogues of both sides, not a list of
// tables, so every area's migrations are covered as they are.

/** Rows per INSERT (fewer when a table has so many columns that PostgreSQL's 65,535 parameters would not do). */
export const COPY_BATCH_ROWS = 1000;
const MAX_PARAMETERS = 65_535;

export interface SkippedTable {
  table: string;
  why: string;
}

export interface SqliteTable {
  name: string;
  columns: string[];
}

/** A column of a PostgreSQL table, as much as the copy needs to know. */
export interface PostgresColumn {
  name: string;
  /** information_schema data_type, e.g. 'text', 'bigint', 'bytea', 'boolean'. */
  dataType: string;
  /** Identity or serial (nextval default): its sequence is moved past the copied values. */
  sequenced: boolean;
  /** GENERATED ALWAYS AS IDENTITY: an INSERT with explicit values needs OVERRIDING SYSTEM VALUE. */
  identityAlways: boolean;
  /** A generated (computed) column: PostgreSQL fills it, nothing may be written to it. */
  generated: boolean;
}

/** kysely's Migrator bookkeeping (one pair per migration set). */
export const isBookkeepingTable = (name: string): boolean => /^(migrations_|schema_migrations|kysely_migration)/.test(name);

export const quoteId = (name: string): string => `"${name.replace(/"/g, '""')}"`;

/**
 * The tables of a SQLite file that hold data of their own, and those that do not: SQLite's own,
 * the migrations' bookkeeping, FTS5 indexes and their shadow tables (PostgreSQL has its own
 * search indexes, built from the copied rows), and a sync's staging rows (scratch while it runs).
 */
export function sqliteTables(conn: Database.Database): { tables: SqliteTable[]; skipped: SkippedTable[] } {
  const all = conn.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY name").all() as { name: string; sql: string | null }[];
  const virtual = all.filter((t) => /^\s*CREATE\s+VIRTUAL\s+TABLE/i.test(t.sql ?? '')).map((t) => t.name);
  const tables: SqliteTable[] = [];
  const skipped: SkippedTable[] = [];
  for (const { name } of all) {
    if (name.startsWith('sqlite_')) continue; // SQLite's own (sqlite_sequence, sqlite_stat1)
    if (isBookkeepingTable(name)) continue; // PostgreSQL's own come from running the migrations there
    if (virtual.includes(name)) {
      skipped.push({ table: name, why: 'full-text index (PostgreSQL indexes the copied rows itself)' });
    } else if (virtual.some((v) => name.startsWith(`${v}_`))) {
      continue; // an FTS5 shadow table of one named above
    } else if (/_staging$/.test(name)) {
      skipped.push({ table: name, why: "a sync's scratch rows (the next sync refills them)" });
    } else if (/_rollup_(hour|day|state|names)$/.test(name)) {
      // Counts kept from other tables' rows: the target's migrations leave them at "nothing counted",
      // so the dashboard recounts them from the copied rows when it opens them.
      skipped.push({ table: name, why: 'counts kept from the copied rows (recounted from them on first use)' });
    } else {
      const columns = (conn.prepare(`SELECT name FROM pragma_table_info(?) ORDER BY cid`).all(name) as { name: string }[]).map((c) => c.name);
      tables.push({ name, columns });
    }
  }
  return { tables, skipped };
}

/** The base tables of a PostgreSQL schema (bookkeeping left out) and their columns. */
export async function postgresTables(client: pg.ClientBase, schema: string): Promise<Map<string, PostgresColumn[]>> {
  const { rows } = await client.query<{
    table_name: string;
    column_name: string;
    data_type: string;
    column_default: string | null;
    is_identity: string;
    identity_generation: string | null;
    is_generated: string;
  }>(
    `SELECT c.table_name, c.column_name, c.data_type, c.column_default, c.is_identity, c.identity_generation, c.is_generated
       FROM information_schema.columns c
       JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
      WHERE c.table_schema = $1 AND t.table_type = 'BASE TABLE'
      ORDER BY c.table_name, c.ordinal_position`,
    [schema],
  );
  const tables = new Map<string, PostgresColumn[]>();
  for (const r of rows) {
    if (isBookkeepingTable(r.table_name)) continue;
    const columns = tables.get(r.table_name) ?? [];
    columns.push({
      name: r.column_name,
      dataType: r.data_type,
      sequenced: r.is_identity === 'YES' || /^nextval\(/i.test(r.column_default ?? ''),
      identityAlways: r.identity_generation === 'ALWAYS',
      generated: r.is_generated === 'ALWAYS',
    });
    tables.set(r.table_name, columns);
  }
  return tables;
}

/** `names` ordered so a table comes after the tables its foreign keys point to (users before api_tokens). */
export async function inDependencyOrder(client: pg.ClientBase, schema: string, names: string[]): Promise<string[]> {
  const { rows } = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent
       FROM pg_constraint k
       JOIN pg_class c ON c.oid = k.conrelid
       JOIN pg_class p ON p.oid = k.confrelid
       JOIN pg_namespace n ON n.oid = k.connamespace
      WHERE k.contype = 'f' AND n.nspname = $1`,
    [schema],
  );
  const parents = new Map<string, Set<string>>(names.map((n) => [n, new Set<string>()]));
  for (const { child, parent } of rows) if (child !== parent && parents.has(child) && parents.has(parent)) parents.get(child)!.add(parent);
  const ordered: string[] = [];
  const placed = new Set<string>();
  const visiting = new Set<string>();
  const visit = (name: string) => {
    if (placed.has(name) || visiting.has(name)) return; // a cycle: left to the constraint check
    visiting.add(name);
    for (const parent of [...parents.get(name)!].sort()) visit(parent);
    visiting.delete(name);
    placed.add(name);
    ordered.push(name);
  };
  for (const name of [...names].sort()) visit(name);
  return ordered;
}

/** A SQLite value as PostgreSQL takes it for a column of `dataType`. */
function toPostgresValue(value: unknown, dataType: string): unknown {
  // Integers arrive as BigInt (exact past 2^53); as text they fit integer, bigint, numeric and boolean ('0'/'1') columns.
  if (typeof value === 'bigint') return value.toString();
  if (dataType === 'bytea' && typeof value === 'string') return Buffer.from(value, 'utf8');
  if (dataType !== 'bytea' && Buffer.isBuffer(value)) return value.toString('utf8');
  return value;
}

/**
 * Copies every row of a SQLite table into the PostgreSQL table of the same name (already empty),
 * `columns` only, in batches of at most COPY_BATCH_ROWS rows: memory stays bounded whatever the
 * table's size. Runs inside the caller's transaction on `client`. Returns the rows copied.
 */
export async function copyTableRows(
  conn: Database.Database,
  client: pg.ClientBase,
  schema: string,
  table: string,
  columns: PostgresColumn[],
): Promise<number> {
  const names = columns.map((c) => c.name);
  const select = conn.prepare(`SELECT ${names.map(quoteId).join(', ')} FROM ${quoteId(table)}`).raw(true).safeIntegers(true);
  const batchRows = Math.max(1, Math.min(COPY_BATCH_ROWS, Math.floor(MAX_PARAMETERS / names.length)));
  const overriding = columns.some((c) => c.identityAlways) ? ' OVERRIDING SYSTEM VALUE' : '';
  const head = `INSERT INTO ${quoteId(schema)}.${quoteId(table)} (${names.map(quoteId).join(', ')})${overriding} VALUES `;
  const insert = async (batch: unknown[][]) => {
    const params: unknown[] = [];
    const tuples = batch.map((row) => `(${row.map((value, i) => (params.push(toPostgresValue(value, columns[i]!.dataType)), `$${params.length}`)).join(', ')})`);
    await client.query(head + tuples.join(', '), params);
  };
  let copied = 0;
  let batch: unknown[][] = [];
  for (const row of select.iterate() as IterableIterator<unknown[]>) {
    batch.push(row);
    if (batch.length === batchRows) {
      await insert(batch);
      copied += batch.length;
      batch = [];
    }
  }
  if (batch.length) {
    await insert(batch);
    copied += batch.length;
  }
  return copied;
}

/** Moves identity/serial sequences past the copied ids, so the next insert does not collide. */
export async function resetSequences(client: pg.ClientBase, schema: string, table: string, columns: PostgresColumn[]): Promise<void> {
  const qualified = `${quoteId(schema)}.${quoteId(table)}`;
  for (const column of columns.filter((c) => c.sequenced)) {
    await client.query(
      `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT max(${quoteId(column.name)}) FROM ${qualified}), 0) + 1, false)`,
      [qualified, column.name],
    );
  }
}

export function countSqliteRows(conn: Database.Database, table: string): number {
  return Number((conn.prepare(`SELECT count(*) AS n FROM ${quoteId(table)}`).get() as { n: number }).n);
}

export async function countPostgresRows(client: pg.ClientBase, schema: string, table: string): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${quoteId(schema)}.${quoteId(table)}`);
  return Number(rows[0]!.n);
}

/** Whether a PostgreSQL table holds any row. */
export async function postgresTableHasRows(client: pg.ClientBase, schema: string, table: string): Promise<boolean> {
  const { rows } = await client.query(`SELECT 1 FROM ${quoteId(schema)}.${quoteId(table)} LIMIT 1`);
  return rows.length > 0;
}
