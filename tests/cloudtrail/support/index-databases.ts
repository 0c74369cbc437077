import { sql } from 'kysely';
import { EventIndex, type EventIndexOptions } from '@/lib/cloudtrail/event-index';
import { createTestDatabase, type DatabaseKind } from '../../support/databases';
import { makeTempDir } from '../../support/temp-dir';

// A fresh event index on either dialect: SQLite in a temporary DATA_DIR, or PostgreSQL in a new
// database of the test server (its "cloudtrail" schema). `reopen` stands for a restart on the same
// data. Places are removed together by dropIndexPlaces() in afterAll: dropping a database ends
// every pool of the process, so one in the middle of a file would cut off the others.

export interface IndexPlace {
  kind: DatabaseKind;
  open(options: EventIndexOptions): Promise<EventIndex>;
}

const cleanups: (() => Promise<void> | void)[] = [];

export async function newIndexPlace(kind: DatabaseKind): Promise<IndexPlace> {
  if (kind === 'sqlite') {
    const temp = makeTempDir('ct-index-');
    cleanups.push(() => temp.cleanup());
    return { kind, open: (options) => EventIndex.open(temp.dir, options) };
  }
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return { kind, open: (options) => EventIndex.openPostgres(database.url, options) };
}

/** Removes every place made so far (call after closing their indexes). */
export async function dropIndexPlaces(): Promise<void> {
  for (const cleanup of cleanups.splice(0)) await cleanup();
}

/** Makes the next update of a source's cursor fail, as a full disk would, on either dialect. */
export async function failCursorUpdates(index: EventIndex): Promise<void> {
  if (index.dialect === 'sqlite') {
    await sql`CREATE TRIGGER fail_state BEFORE UPDATE OF cursor ON ct_sources BEGIN SELECT RAISE(ABORT, 'disk full'); END`.execute(index.db);
    return;
  }
  await sql`CREATE FUNCTION fail_state() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$`.execute(index.db);
  await sql`CREATE TRIGGER fail_state BEFORE UPDATE OF cursor ON ct_sources FOR EACH ROW EXECUTE FUNCTION fail_state()`.execute(index.db);
}
