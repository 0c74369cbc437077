import { sql, type Kysely } from 'kysely';
import type { AreaMigration } from '../migrate';

// Migration 0006 of the CloudTrail index: a chart of an actor (a substring: the principals it
// matches, an IN list; or one exact ARN) under a path-limited auditor's grants. Each access path
// alone was every row of one side (the grant's name ranges, 93,000 rows at 3,000,000 events, or
// the principals', 130,000), each looked up in the table: 2 s. Here each principal's rows are
// ordered by name, so the grant's ranges are seeks inside each principal, and the count reads only
// the rows both cut (4,000), with what it counts in the index (the actor substring's second test,
// on actor_arn, reads the table for those rows only).

/* eslint-disable @typescript-eslint/no-explicit-any */
export const PRINCIPAL_NAMES_MIGRATION: AreaMigration = {
  async up(db: Kysely<any>) {
    await sql.raw('CREATE INDEX IF NOT EXISTS ct_entries_principal_name ON ct_entries (principal, item_name, store_id, event_time, read_only)').execute(db);
  },
};
