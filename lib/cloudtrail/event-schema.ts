import type { Generated } from 'kysely';

// The event index's tables: DATA_DIR/audit-events.db, or the "cloudtrail" schema of DATABASE_URL
// (lib/db/migrations/cloudtrail.ts). Plain SQL types, the same values on both dialects.
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
  /** The version a read named (event-mapping.ts VersionRef); null when it read the current one. Recorded from migration 0002 on. */
  version_ref: string | null;
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

/** The index's tables for kysely (the migrations in lib/db/migrations/cloudtrail.ts make them). */
export interface CloudTrailDatabase {
  ct_events: Omit<EventRow, 'id'> & { id: Generated<number> };
  ct_entries: Omit<EntryRow, 'id'> & { id: Generated<number> };
  ct_actors: { principal: string; actor_arn: string };
  ct_sources: Omit<SourceRow, 'events_indexed'> & { events_indexed: Generated<number> };
  /** S3 sources' log files read inside their lookback window (migration 0003). */
  ct_s3_read_files: { source_id: string; file_key: string; read_at: string };
}
