// The event index's tables as audit-events.db files held them before migrations (lib/cloudtrail/
// event-schema.ts EVENT_SCHEMA_SQL, run on every open), for the test that such a file is adopted.
export const LEGACY_EVENT_SCHEMA_SQL = `
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
