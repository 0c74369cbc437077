import type Database from 'better-sqlite3';
import { registerRegexp } from '@/lib/db/sqlite-regexp';

// The event index's tables (DATA_DIR/audit-events.db). Plain SQL types, so PostgreSQL can follow.
//
// ct_events holds each CloudTrail event once (its id for dedupe, the guarded raw JSON).
// ct_entries holds what reviewers filter on, one row per item the event touched (one row with no
// item when it touched none). One row per item rather than a side table of items because every
// question reviewers ask is per item (who read this secret, what may this auditor see): the
// timeline, the grants cut and the Access panel then each read one table through one index, and a
// GetParameters of ten names reads as ten reads, which is what it was. The event's columns are
// copied into each of its rows (GetParameters and BatchGetSecretValue name at most 10 and 20);
// the raw JSON is stored once.

export interface EventRow {
  id: number;
  event_id: string;
  source_id: string;
  event_time: string;
  raw: string;
  ingested_at: string;
}

export interface EntryRow {
  id: number;
  event_pk: number;
  event_time: string;
  event_source: string | null;
  event_name: string | null;
  /** 1 read, 0 write. */
  read_only: number;
  actor_arn: string | null;
  actor_type: string | null;
  actor_role_arn: string | null;
  principal: string | null;
  source_ip: string | null;
  user_agent: string | null;
  error_code: string | null;
  account: string | null;
  region: string | null;
  /** null when no configured store holds the item, or the event names no item. */
  store_id: string | null;
  item_name: string | null;
  /** For folder rows (GetParametersByPath): 1 recursive, 0 direct items only; null for items. */
  path_recursive: number | null;
}

export interface SourceRow {
  source_id: string;
  kind: string;
  account: string | null;
  region: string;
  cursor: string | null;
  last_event_time: string | null;
  last_success_at: string | null;
  events_indexed: number;
  last_error_message: string | null;
  last_error_at: string | null;
}

// Every timeline filter that narrows sharply has an index that ends in (event_time, id), so
// "newest first, 50 after this position" walks an index in order and stops after 50 rows.
export const EVENT_SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS ct_events (
  id INTEGER PRIMARY KEY,
  event_id TEXT NOT NULL UNIQUE,
  source_id TEXT NOT NULL,
  event_time TEXT NOT NULL,
  raw TEXT NOT NULL,
  ingested_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ct_events_time ON ct_events (event_time);
CREATE TABLE IF NOT EXISTS ct_entries (
  id INTEGER PRIMARY KEY,
  event_pk INTEGER NOT NULL,
  event_time TEXT NOT NULL,
  event_source TEXT,
  event_name TEXT,
  read_only INTEGER NOT NULL,
  actor_arn TEXT,
  actor_type TEXT,
  actor_role_arn TEXT,
  principal TEXT,
  source_ip TEXT,
  user_agent TEXT,
  error_code TEXT,
  account TEXT,
  region TEXT,
  store_id TEXT,
  item_name TEXT,
  path_recursive INTEGER
);
CREATE INDEX IF NOT EXISTS ct_entries_time ON ct_entries (event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_event ON ct_entries (event_pk);
CREATE INDEX IF NOT EXISTS ct_entries_item ON ct_entries (item_name, event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_principal ON ct_entries (principal, event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_actor ON ct_entries (actor_arn, event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_name ON ct_entries (event_name, event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_ip ON ct_entries (source_ip, event_time, id);
CREATE INDEX IF NOT EXISTS ct_entries_error ON ct_entries (error_code, event_time, id) WHERE error_code IS NOT NULL;
-- Every distinct (principal, actor ARN), so an actor substring resolves to a few principals
-- whose own index walks are merged, instead of a scan of every row.
CREATE TABLE IF NOT EXISTS ct_actors (
  principal TEXT NOT NULL,
  actor_arn TEXT NOT NULL,
  PRIMARY KEY (principal, actor_arn)
);
CREATE TABLE IF NOT EXISTS ct_sources (
  source_id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  account TEXT,
  region TEXT NOT NULL,
  cursor TEXT,
  last_event_time TEXT,
  last_success_at TEXT,
  events_indexed INTEGER NOT NULL DEFAULT 0,
  last_error_message TEXT,
  last_error_at TEXT
);
`;

/**
 * Sets up a connection: the tables, and REGEXP for the grants cut (path globs compiled as in
 * lib/inventory/schema.ts globsToRegex), so pages are cut inside SQL and keyset paging stays exact.
 */
export function prepareEventConnection(conn: Database.Database): void {
  registerRegexp(conn);
  conn.exec(EVENT_SCHEMA_SQL);
}
