import { sql, type Kysely } from 'kysely';
import type { DialectName } from '../dialect';
import type { AreaMigration } from '../migrate';
import { NAME_ROLLUP_MIGRATION } from './cloudtrail-name-rollup';
import { IP_NAMES_MIGRATION } from './cloudtrail-ip-names';
import { PRINCIPAL_NAMES_MIGRATION } from './cloudtrail-principal-names';

// The CloudTrail event index (lib/cloudtrail/event-schema.ts describes the tables): DATA_DIR/
// audit-events.db, or the "cloudtrail" schema of DATABASE_URL. The first migration creates with
// IF NOT EXISTS, so audit-events.db files from before migrations are adopted as they are (their
// tables and indexes are exactly these; nothing was ever added to them later).
//
// PostgreSQL: text columns compare byte-wise (COLLATE "C"), as SQLite does. Keyset pages order by
// event_time, the path filters are index ranges on item_name (`>= prefix AND < prefix || U+10FFFF`),
// and under a language collation both would order differently from SQLite and from each other.

/** Every timeline filter that narrows sharply has an index ending in (event_time, id), so "newest
 * first, 50 after this position" walks an index in order and stops after 50 rows. */
function initialStatements(dialect: DialectName): string[] {
  const pg = dialect === 'postgres';
  const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
  const id = pg ? 'BIGSERIAL PRIMARY KEY' : 'INTEGER PRIMARY KEY';
  const ref = pg ? 'BIGINT' : 'INTEGER';
  const count = pg ? 'BIGINT' : 'INTEGER';
  return [
    `CREATE TABLE IF NOT EXISTS ct_events (
      id ${id},
      event_id ${text} NOT NULL UNIQUE,
      source_id ${text} NOT NULL,
      event_time ${text} NOT NULL,
      raw TEXT NOT NULL,
      ingested_at ${text} NOT NULL
    )`,
    'CREATE INDEX IF NOT EXISTS ct_events_time ON ct_events (event_time)',
    `CREATE TABLE IF NOT EXISTS ct_entries (
      id ${id},
      event_pk ${ref} NOT NULL,
      event_time ${text} NOT NULL,
      event_source ${text},
      event_name ${text},
      read_only INTEGER NOT NULL,
      actor_arn ${text},
      actor_type ${text},
      actor_role_arn ${text},
      principal ${text},
      source_ip ${text},
      user_agent ${text},
      error_code ${text},
      account ${text},
      region ${text},
      store_id ${text},
      item_name ${text},
      path_recursive INTEGER
    )`,
    'CREATE INDEX IF NOT EXISTS ct_entries_time ON ct_entries (event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_event ON ct_entries (event_pk)',
    'CREATE INDEX IF NOT EXISTS ct_entries_item ON ct_entries (item_name, event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_principal ON ct_entries (principal, event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_actor ON ct_entries (actor_arn, event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_name ON ct_entries (event_name, event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_ip ON ct_entries (source_ip, event_time, id)',
    'CREATE INDEX IF NOT EXISTS ct_entries_error ON ct_entries (error_code, event_time, id) WHERE error_code IS NOT NULL',
    // Every distinct (principal, actor ARN), so an actor substring resolves to a few principals
    // whose own index walks are merged, instead of a scan of every row.
    `CREATE TABLE IF NOT EXISTS ct_actors (
      principal ${text} NOT NULL,
      actor_arn ${text} NOT NULL,
      PRIMARY KEY (principal, actor_arn)
    )`,
    `CREATE TABLE IF NOT EXISTS ct_sources (
      source_id ${text} PRIMARY KEY,
      kind ${text} NOT NULL,
      account ${text},
      region ${text} NOT NULL,
      cursor TEXT,
      last_event_time ${text},
      last_success_at ${text},
      events_indexed ${count} NOT NULL DEFAULT 0,
      last_error_message TEXT,
      last_error_at ${text}
    )`,
  ];
}

/* eslint-disable @typescript-eslint/no-explicit-any */
export const CLOUDTRAIL_MIGRATIONS: Record<string, AreaMigration> = {
  '0001-initial': {
    async up(db: Kysely<any>, dialect) {
      for (const statement of initialStatements(dialect)) await sql.raw(statement).execute(db);
    },
  },
  // The version a read named ("name:3", versionStage AWSPREVIOUS), for the finding "old readers keep
  // reading an old version after a rotation". Rows indexed before stay null (their raw events keep
  // the parameters, but re-reading a year of events at start-up is not worth a finding about reads
  // long after a rotation, which are recent ones). The partial index keeps the findings' pass over
  // these few rows from touching the rest.
  '0002-version-ref': {
    async up(db: Kysely<any>, dialect) {
      const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
      await sql.raw(`ALTER TABLE ct_entries ADD COLUMN version_ref ${text}`).execute(db);
      await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_version ON ct_entries (store_id, item_name) WHERE version_ref IS NOT NULL').execute(db);
    },
  },
  // The trail log files an S3 source has read inside its lookback window (lib/cloudtrail/s3-source.ts):
  // re-listing a day prefix reads only the keys not here, so a file delivered late is read once.
  // Rows leave when their day prefix leaves the window; key ranges compare byte-wise on both dialects.
  '0003-s3-read-files': {
    async up(db: Kysely<any>, dialect) {
      const text = dialect === 'postgres' ? 'TEXT COLLATE "C"' : 'TEXT';
      await sql
        .raw(
          `CREATE TABLE IF NOT EXISTS ct_s3_read_files (
            source_id ${text} NOT NULL,
            file_key ${text} NOT NULL,
            read_at ${text} NOT NULL,
            PRIMARY KEY (source_id, file_key)
          )${dialect === 'postgres' ? '' : ' WITHOUT ROWID'}`,
        )
        .execute(db);
    },
  },
  // Counts of entries per hour and per day and per store, event name, read or write and error code
  // (lib/cloudtrail/event-rollup.ts), so the audit chart sums them instead of counting millions of
  // rows; and two indexes for what the rollup cannot answer. ct_rollup_state.counted_to is the highest entry id counted: 0 here, so an index that
  // already holds entries is counted once when it is next opened (catchUpRollup), not inside the
  // migration's transaction.
  '0004-chart-rollup': {
    async up(db: Kysely<any>, dialect) {
      const pg = dialect === 'postgres';
      const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
      const count = pg ? 'BIGINT' : 'INTEGER';
      for (const table of ['ct_rollup_hour', 'ct_rollup_day']) {
        await sql
          .raw(
            `CREATE TABLE IF NOT EXISTS ${table} (
              bucket ${text} NOT NULL,
              store_id ${text} NOT NULL,
              event_name ${text} NOT NULL,
              error_code ${text} NOT NULL,
              read_only INTEGER NOT NULL,
              n ${count} NOT NULL,
              PRIMARY KEY (bucket, store_id, event_name, error_code, read_only)
            )${pg ? '' : ' WITHOUT ROWID'}`,
          )
          .execute(db);
        // One store's (or a few stores') buckets without reading the others'.
        await sql.raw(`CREATE INDEX IF NOT EXISTS ${table}_store ON ${table} (store_id, bucket)`).execute(db);
      }
      // A store's newest rows (the store filter alone, or with a rarer one) without walking every store's.
      await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_store ON ct_entries (store_id, event_time, id)').execute(db);
      // A store and an event name it seldom or never has (GetParameter of a Secrets Manager store):
      // the store's index walked every row of the store for them.
      await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_store_event ON ct_entries (store_id, event_name, event_time, id)').execute(db);
      // And a store's failed calls of one code (partial: a few percent of the rows).
      await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_store_error ON ct_entries (store_id, error_code, event_time, id) WHERE error_code IS NOT NULL').execute(db);
      // A chart cut by name ranges (a path, a path-limited grant) counts from this index alone, with
      // no visit to the table per row, under the rollup's filters too (store, event, access, error).
      await sql
        .raw('CREATE INDEX IF NOT EXISTS ct_entries_name_chart ON ct_entries (item_name, store_id, event_time, read_only, event_name, error_code)')
        .execute(db);
      // Failed calls newest first (outcome=error): the error-code index holds them by code, so 50 of
      // them were every failed row sorted.
      await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_failed ON ct_entries (event_time, id) WHERE error_code IS NOT NULL').execute(db);
      await sql.raw(`CREATE TABLE IF NOT EXISTS ct_rollup_state (id INTEGER PRIMARY KEY, counted_to ${count} NOT NULL)`).execute(db);
      await sql.raw('INSERT INTO ct_rollup_state (id, counted_to) VALUES (1, 0)').execute(db);
    },
  },
  // The chart's counts by item folder for grants that cut by name (./cloudtrail-name-rollup.ts).
  '0005-name-rollup': NAME_ROLLUP_MIGRATION,
  // An actor's rows by name, for an actor's chart under a path-limited grant (./cloudtrail-principal-names.ts).
  '0006-principal-names': PRINCIPAL_NAMES_MIGRATION,
  // One address's rows by name, for an address's chart (./cloudtrail-ip-names.ts).
  '0007-ip-names': IP_NAMES_MIGRATION,
};
