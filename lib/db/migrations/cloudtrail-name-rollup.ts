import { sql, type Kysely } from 'kysely';
import type { AreaMigration } from '../migrate';

// Migration 0005 of the CloudTrail index: the chart's counts for callers whose grants cut by item
// name (lib/cloudtrail/name-rollup.ts says how they are used).
//   ct_name_rollup_day: entries per day, per item's folder (the name up to its last "/"), store,
//     event name, error code and read or write. A grant's range of names beginning with a prefix
//     that ends in "/" holds an item exactly when it holds the item's folder, so the range is one
//     range of this table's key. Folder first: a grant's folders over 90 days are one walk.
//   ct_rollup_names: every (item name, store) the index has held, so the partial days at a chart's
//     ends count each of a grant's items through ct_entries_name_chart (name, store, time) instead
//     of every row of the grant's range. A superset after purges is harmless: it only says where to look.
// Both are kept with the existing rollup under one counted_to (ct_rollup_state), which goes back to
// 0 here so an index that already holds entries is recounted once when next opened (catchUpRollup).
// lib/db/copy-tables.ts leaves both out of migrate-data copies (names ending in _rollup_day and
// _rollup_names): the target recounts them.

/* eslint-disable @typescript-eslint/no-explicit-any */
export const NAME_ROLLUP_MIGRATION: AreaMigration = {
  async up(db: Kysely<any>, dialect) {
    const pg = dialect === 'postgres';
    const text = pg ? 'TEXT COLLATE "C"' : 'TEXT';
    const count = pg ? 'BIGINT' : 'INTEGER';
    const noRowid = pg ? '' : ' WITHOUT ROWID';
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ct_name_rollup_day (
          folder ${text} NOT NULL,
          store_id ${text} NOT NULL,
          bucket ${text} NOT NULL,
          event_name ${text} NOT NULL,
          error_code ${text} NOT NULL,
          read_only INTEGER NOT NULL,
          n ${count} NOT NULL,
          PRIMARY KEY (folder, store_id, bucket, event_name, error_code, read_only)
        )${noRowid}`,
      )
      .execute(db);
    await sql
      .raw(
        `CREATE TABLE IF NOT EXISTS ct_rollup_names (
          item_name ${text} NOT NULL,
          store_id ${text} NOT NULL,
          PRIMARY KEY (item_name, store_id)
        )${noRowid}`,
      )
      .execute(db);
    await sql.raw('UPDATE ct_rollup_state SET counted_to = 0').execute(db);
  },
};
