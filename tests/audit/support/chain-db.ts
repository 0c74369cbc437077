import path from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, sql } from 'kysely';
import { legacyEntryHash, GENESIS_HASH } from '@/lib/audit/entry-hash';
import type { ChainRow } from '@/lib/audit/verify-chain';
import { APP_DB_FILE, APP_SCHEMA, appDb, type AppDatabase } from '@/lib/db/app-db';
import { migrateArea } from '@/lib/db/migrate';
import { APP_MIGRATIONS } from '@/lib/db/migrations/app';
import { postgresDb } from '@/lib/db/postgres';
import { sqliteDialect } from '@/lib/db/sqlite-dialect';

// What an attacker with write access to the app database does, on whichever database the app
// points at (DATA_DIR/app.db, or DATABASE_URL's app schema): raw statements, reading the chain,
// and re-chaining it with a link function of their choosing.

const appFile = () => path.join(path.resolve(process.env.DATA_DIR!), APP_DB_FILE);

/** Runs statements on the app database directly (not through the app). */
export async function tamper(...statements: string[]): Promise<void> {
  if (process.env.DATABASE_URL) {
    const db = await appDb();
    for (const statement of statements) await sql.raw(statement).execute(db);
    return;
  }
  const conn = new Database(appFile());
  try {
    for (const statement of statements) conn.exec(statement);
  } finally {
    conn.close();
  }
}

export async function chainRows(): Promise<ChainRow[]> {
  const rows = await (await appDb())
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor', 'action', 'target', 'outcome', 'details', 'prev_hash', 'hash'])
    .orderBy('seq')
    .execute();
  return rows.map((r) => ({ ...r, seq: Number(r.seq) }));
}

/**
 * Rewrites entry `seq` with `change`, then recomputes its link and every later one with `link`
 * (what someone editing the log does to hide it).
 */
export async function editAndRechain(seq: number, change: Partial<ChainRow>, link: (prevHash: string, row: ChainRow) => string, untilSeq = Infinity): Promise<void> {
  const rows = await chainRows();
  const statements: string[] = [];
  const quote = (v: string) => `'${v.replace(/'/g, "''")}'`;
  let prev = seq > 1 ? rows.find((r) => r.seq === seq - 1)!.hash : GENESIS_HASH;
  for (const row of rows.filter((r) => r.seq >= seq && r.seq <= untilSeq)) {
    const edited = row.seq === seq ? { ...row, ...change } : row;
    const hash = link(prev, { ...edited, prev_hash: prev });
    statements.push(
      `UPDATE audit_log SET actor = ${quote(edited.actor)}, target = ${quote(edited.target)}, details = ${quote(edited.details)}, prev_hash = ${quote(prev)}, hash = ${quote(hash)} WHERE seq = ${row.seq}`,
    );
    prev = hash;
  }
  await tamper(...statements);
}

/** The app migrations of the versions before the keyed chain. */
const PRE_KEYED = Object.fromEntries(Object.entries(APP_MIGRATIONS).filter(([name]) => name < '0004'));

/**
 * An app database as a version before the keyed chain left it, where the app points: migrations
 * up to 0003 and `count` entries linked with plain SHA-256. Returns their hashes.
 */
export async function writeLegacyLog(count: number): Promise<string[]> {
  let db: Kysely<AppDatabase>;
  let conn: Database.Database | null = null;
  if (process.env.DATABASE_URL) {
    db = postgresDb<AppDatabase>(process.env.DATABASE_URL, APP_SCHEMA);
    await migrateArea(db, 'app', PRE_KEYED, APP_SCHEMA);
  } else {
    const { mkdirSync } = await import('node:fs');
    mkdirSync(path.dirname(appFile()), { recursive: true });
    conn = new Database(appFile());
    conn.pragma('journal_mode = WAL');
    db = new Kysely<AppDatabase>({ dialect: sqliteDialect(conn) });
    await migrateArea(db, 'app', PRE_KEYED);
  }
  const hashes: string[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= count; seq++) {
    const row = { at: new Date(Date.UTC(2025, 0, seq)).toISOString(), actor: 'old@example.com', action: 'sign-in', target: 'dashboard', outcome: 'success', details: JSON.stringify({ seq }) };
    const hash = legacyEntryHash(prev, row);
    await db.insertInto('audit_log').values({ seq, ...row, prev_hash: prev, hash }).execute();
    hashes.push(hash);
    prev = hash;
  }
  if (conn) await db.destroy();
  return hashes;
}
