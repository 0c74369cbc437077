// Seeds the audit benchmark's data straight into the app's own tables (created by the app's
// migrations before this runs): CloudTrail events into the event index (ct_events, ct_entries,
// ct_actors, ct_sources) and the dashboard's own log (audit_log, audit_anchors), whose links are
// computed here exactly as appendAudit computes them (keyedEntryHash under the deployment's audit
// chain key), so the chain verifies. Ingesting 10,000,000 events through the index's ingest, or
// 1,000,000 appends one by one, would take hours; this takes minutes:
//   - the secondary indexes of the big tables are dropped, the rows written in big batches (SQLite:
//     prepared statements, 50,000 rows a transaction; PostgreSQL: INSERT ... SELECT FROM unnest of
//     column arrays), and the indexes built again from their own definitions (sqlite_master.sql,
//     pg_indexes.indexdef), so the schema afterwards is exactly the migrations';
//   - the planner's statistics are refreshed as a running deployment's would be.
import Database from 'better-sqlite3';
import path from 'node:path';
import pg from 'pg';
import { keyedEntryHash, GENESIS_HASH } from '@/lib/audit/entry-hash';
import { actorRows, cloudTrailRows, ENTRY_COLUMNS, EVENT_COLUMNS, OWN_COLUMNS, ownLogEntries, sourceRows } from './audit-data';

const BATCH = 50_000;
const ANCHOR_EVERY = 1000;
const log = (line: string) => process.stderr.write(`${line}\n`);

export interface SeedTarget {
  dialect: 'sqlite' | 'postgres';
  /** SQLite: DATA_DIR. PostgreSQL: DATABASE_URL. */
  where: string;
}

export interface SeedResult {
  events: number;
  ownEntries: number;
  cloudTrailSeconds: number;
  ownLogSeconds: number;
  indexSeconds: number;
}

interface Writer {
  /** The table's CREATE INDEX statements, dropped until `restoreIndexes`. */
  dropIndexes(table: string): Promise<string[]>;
  restoreIndexes(statements: string[]): Promise<void>;
  insert(table: string, columns: readonly string[], rows: unknown[][]): Promise<void>;
  finish(): Promise<void>;
}

function sqliteWriter(file: string): Writer {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = OFF');
  db.pragma('cache_size = -1000000');
  db.pragma('temp_store = MEMORY');
  const statements = new Map<string, Database.Statement>();
  return {
    async dropIndexes(table) {
      const rows = db.prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL`).all(table) as { name: string; sql: string }[];
      for (const r of rows) db.exec(`DROP INDEX ${r.name}`);
      return rows.map((r) => r.sql);
    },
    async restoreIndexes(list) {
      for (const statement of list) db.exec(statement);
    },
    async insert(table, columns, rows) {
      const key = `${table}:${columns.length}`;
      let statement = statements.get(key);
      if (!statement) {
        statement = db.prepare(`INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
        statements.set(key, statement);
      }
      const run = statement;
      db.transaction(() => {
        for (const row of rows) run.run(row);
      })();
    },
    async finish() {
      // As the index's own PRAGMA optimize does after many rows (analysis_limit 1000: sampled).
      db.pragma('analysis_limit = 1000');
      db.exec('ANALYZE');
      db.pragma('wal_checkpoint(TRUNCATE)');
      db.close();
    },
  };
}

/** PostgreSQL's type of each column the benchmark writes (for the unnest casts). */
const PG_TYPES: Record<string, string> = {
  id: 'bigint', event_pk: 'bigint', read_only: 'integer', path_recursive: 'integer', seq: 'bigint', events_indexed: 'bigint',
};

async function postgresWriter(url: string, schema: string): Promise<Writer> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`SET search_path TO ${schema}`);
  await client.query(`SET maintenance_work_mem = '1GB'`);
  await client.query('SET synchronous_commit = off');
  return {
    async dropIndexes(table) {
      const { rows } = await client.query<{ indexname: string; indexdef: string }>(
        `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2
           AND indexname NOT IN (SELECT conname FROM pg_constraint WHERE connamespace = $1::regnamespace)`,
        [schema, table],
      );
      for (const r of rows) await client.query(`DROP INDEX ${schema}.${r.indexname}`);
      return rows.map((r) => r.indexdef);
    },
    async restoreIndexes(list) {
      for (const statement of list) await client.query(statement);
    },
    async insert(table, columns, rows) {
      const arrays = columns.map((_, c) => rows.map((r) => r[c]));
      const casts = columns.map((name, c) => `$${c + 1}::${PG_TYPES[name] ?? 'text'}[]`).join(', ');
      await client.query(`INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${casts})`, arrays);
    },
    async finish() {
      for (const table of ['ct_events', 'ct_entries', 'ct_actors', 'ct_sources']) {
        await client.query(`SELECT setval(pg_get_serial_sequence('cloudtrail.${table}', 'id'), (SELECT coalesce(max(id), 1) FROM cloudtrail.${table}))`).catch(() => undefined);
      }
      await client.query(`SELECT setval(pg_get_serial_sequence('app.audit_log', 'seq'), (SELECT coalesce(max(seq), 1) FROM app.audit_log))`);
      await client.query('ANALYZE cloudtrail.ct_events, cloudtrail.ct_entries, cloudtrail.ct_actors, cloudtrail.ct_sources, app.audit_log, app.audit_anchors');
      await client.end();
    },
  };
}

/** CloudTrail events and own-log entries into tables the app's migrations made (empty). */
export async function seedAuditData(target: SeedTarget, counts: { events: number; own: number }, now: number, chainKey: Buffer, deployment: string): Promise<SeedResult> {
  const trail = target.dialect === 'sqlite' ? sqliteWriter(path.join(target.where, 'audit-events.db')) : await postgresWriter(target.where, 'cloudtrail');
  const own = target.dialect === 'sqlite' ? sqliteWriter(path.join(target.where, 'app.db')) : await postgresWriter(target.where, 'app');

  let started = performance.now();
  let indexSeconds = 0;
  const eventIndexes = await trail.dropIndexes('ct_events');
  const entryIndexes = await trail.dropIndexes('ct_entries');
  let written = 0;
  const perSource = new Map<string, number>();
  // One batch in flight while the next is generated (PostgreSQL writes in its own process meanwhile).
  let inflight: Promise<void> = Promise.resolve();
  for (const b of cloudTrailRows(counts.events, now, BATCH, perSource)) {
    await inflight;
    inflight = (async () => {
      await trail.insert('ct_events', EVENT_COLUMNS, b.events);
      await trail.insert('ct_entries', ENTRY_COLUMNS, b.entries);
      written += b.events.length;
      if (written % 1_000_000 < BATCH) log(`  ${written.toLocaleString('en')} CloudTrail events written, ${((performance.now() - started) / 1000).toFixed(0)} s`);
    })();
  }
  await inflight;
  await trail.insert('ct_actors', ['principal', 'actor_arn'], actorRows());
  await trail.insert('ct_sources', ['source_id', 'kind', 'account', 'region', 'cursor', 'last_event_time', 'last_success_at', 'events_indexed', 'last_error_message', 'last_error_at'], sourceRows(now, perSource));
  const indexStart = performance.now();
  await trail.restoreIndexes([...eventIndexes, ...entryIndexes]);
  indexSeconds += (performance.now() - indexStart) / 1000;
  log(`  CloudTrail indexes built in ${((performance.now() - indexStart) / 1000).toFixed(0)} s`);
  await trail.finish();
  const cloudTrailSeconds = (performance.now() - started) / 1000;

  started = performance.now();
  const ownIndexes = await own.dropIndexes('audit_log');
  let prev = GENESIS_HASH;
  let rows: unknown[][] = [];
  const anchors: unknown[][] = [];
  for (const entry of ownLogEntries(counts.own, now)) {
    const { seq, ...fields } = entry;
    const hash = keyedEntryHash(chainKey, prev, fields);
    rows.push([seq, fields.at, fields.actor, fields.action, fields.target, fields.outcome, fields.details, prev, hash]);
    prev = hash;
    // As appendAudit schedules one every AUDIT_ANCHOR_EVERY entries (1000 by default).
    if (seq % ANCHOR_EVERY === 0) anchors.push([seq, hash, fields.at, fields.at, deployment, 'every', null, null, null]);
    if (rows.length >= BATCH) {
      await own.insert('audit_log', OWN_COLUMNS, rows);
      rows = [];
    }
  }
  if (rows.length) await own.insert('audit_log', OWN_COLUMNS, rows);
  if (anchors.length) await own.insert('audit_anchors', ['seq', 'hash', 'entry_at', 'anchored_at', 'deployment', 'reason', 's3_url', 'object_lock_until', 's3_error'], anchors);
  const ownIndexStart = performance.now();
  await own.restoreIndexes(ownIndexes);
  indexSeconds += (performance.now() - ownIndexStart) / 1000;
  await own.finish();
  const ownLogSeconds = (performance.now() - started) / 1000;
  return { events: counts.events, ownEntries: counts.own, cloudTrailSeconds, ownLogSeconds, indexSeconds };
}
