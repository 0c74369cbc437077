import 'server-only';
import { openPostgresArea, openSqliteArea } from '@/lib/db/area-db';
import { Kysely, sql, type Transaction } from 'kysely';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { migrateArea } from '@/lib/db/migrate';
import { CLOUDTRAIL_MIGRATIONS } from '@/lib/db/migrations/cloudtrail';
import { eventIdOf, guardRecord } from './event-guard';
import { mapRecord } from './event-mapping';
import { EventQueries } from './event-queries';
import { catchUpRollup, countWritten, rollupIsCurrent, uncountEvents } from './event-rollup';
import type { CloudTrailDatabase, EntryRow, SourceRow } from './event-schema';
import type { CloudTrailRecord, CloudTrailSourceKind, IngestResult, SourceState, SourceStatePatch, StoreLocator } from './types';

// The CloudTrail event index: DATA_DIR/audit-events.db, or the "cloudtrail" schema of DATABASE_URL.
// On SQLite a file of its own, like the inventory, so sources writing in bulk never hold up
// app.db's audit-log transaction. Each page of a source is written with the source's new position
// in one transaction: a restart resumes exactly where the last page ended, and an event delivered
// twice (an overlap, a second source, a retried page) is stored once, by its eventID.

export const AUDIT_EVENTS_DB_FILE = 'audit-events.db';
export const CLOUDTRAIL_SCHEMA = 'cloudtrail';
export const MAX_SOURCE_ERROR_LENGTH = 1000;
/** Rows deleted per transaction by the retention purge, so sources are never held up long. */
const PURGE_BATCH = 5000;
/** Refresh SQLite's planner statistics after this many new rows (cheap with analysis_limit). PostgreSQL's autovacuum does its own. */
const OPTIMIZE_EVERY_ROWS = 100_000;
/** Rows per INSERT statement: well under both dialects' limits on bound values (18 columns × 500). */
const INSERT_CHUNK = 500;
/** PostgreSQL: two sources delivering the same events at once may deadlock on the eventID index; the loser is tried again. */
const INGEST_ATTEMPTS = 3;
const RETRYABLE_PG_CODES = new Set(['40P01', '40001']);

export interface EventIndexOptions {
  /** Events older than this are not kept (AUDIT_RETENTION_DAYS). */
  retentionDays: number;
  /** For tests: the clock. */
  now?: () => Date;
}

export interface SourceLocation {
  account: string | null;
  region: string;
}

const DAY_MS = 86_400_000;

function toSourceState(row: SourceRow): SourceState {
  return {
    sourceId: row.source_id,
    kind: row.kind as CloudTrailSourceKind,
    account: row.account,
    region: row.region,
    cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as SourceState['cursor']),
    lastEventTime: row.last_event_time,
    lastSuccessAt: row.last_success_at,
    eventsIndexed: Number(row.events_indexed),
    lastError: row.last_error_message !== null && row.last_error_at !== null ? { message: row.last_error_message, at: row.last_error_at } : null,
  };
}

/** PostgreSQL's text cannot hold U+0000 (SQLite's functions stop at it); a failed call's logged
 * parameters could carry one, and the page would then never be written. Both dialects store U+FFFD. */
function textOf<T extends string | null>(value: T): T {
  return (value === null || !value.includes('\u0000') ? value : value.replaceAll('\u0000', '\uFFFD')) as T;
}

function chunks<T>(list: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

type Db = Kysely<CloudTrailDatabase> | Transaction<CloudTrailDatabase>;

export class EventIndex {
  readonly queries: EventQueries;
  readonly dialect: DialectName;
  private readonly now: () => Date;
  private rowsSinceOptimize = 0;

  /** `db`: the migrated tables (see open / openPostgres); on SQLite its connection has REGEXP registered. */
  constructor(
    readonly db: Kysely<CloudTrailDatabase>,
    private readonly options: EventIndexOptions,
    private readonly ownsDb = false,
  ) {
    this.dialect = dialectOf(db);
    this.now = options.now ?? (() => new Date());
    this.queries = new EventQueries(db);
  }

  /** DATA_DIR/audit-events.db, created or brought up to date. */
  static async open(dataDir: string, options: EventIndexOptions): Promise<EventIndex> {
    const db = await openSqliteArea<CloudTrailDatabase>(
      dataDir,
      AUDIT_EVENTS_DB_FILE,
      async (d) => {
        await migrateArea(d, 'cloudtrail', CLOUDTRAIL_MIGRATIONS);
        await catchUpRollup(d, 'sqlite');
        await sql`PRAGMA optimize`.execute(d);
      },
      { pragmas: ['synchronous = NORMAL', 'analysis_limit = 1000'] },
    );
    return new EventIndex(db, options, true);
  }

  /** The "cloudtrail" schema of a PostgreSQL database, migrated (once across replicas: the Migrator locks). */
  static async openPostgres(url: string, options: EventIndexOptions): Promise<EventIndex> {
    const db = await openPostgresArea<CloudTrailDatabase>(url, CLOUDTRAIL_SCHEMA, async (d) => {
      await migrateArea(d, 'cloudtrail', CLOUDTRAIL_MIGRATIONS, CLOUDTRAIL_SCHEMA);
      await catchUpRollup(d, 'postgres');
    });
    return new EventIndex(db, options);
  }

  /** Closes a SQLite file; PostgreSQL's pool is the process's (lib/db/postgres.ts closePostgres ends it). */
  async close(): Promise<void> {
    if (this.ownsDb) await this.db.destroy();
  }

  /** Makes a source known (it shows on the audit page before its first page arrives). */
  async registerSource(sourceId: string, kind: CloudTrailSourceKind, where: SourceLocation, db: Db = this.db): Promise<void> {
    await db
      .insertInto('ct_sources')
      .values({ source_id: sourceId, kind, account: where.account, region: where.region, cursor: null, last_event_time: null, last_success_at: null, last_error_message: null, last_error_at: null })
      .onConflict((oc) =>
        oc.column('source_id').doUpdateSet((eb) => ({ kind: eb.ref('excluded.kind'), account: eb.ref('excluded.account'), region: eb.ref('excluded.region') })),
      )
      .execute();
  }

  /**
   * One page of a source: its events (deduplicated by eventID, value-like keys dropped, mapped to
   * items) and its new state, in one transaction. Events older than the retention are skipped.
   */
  async ingest(
    sourceId: string,
    kind: CloudTrailSourceKind,
    where: SourceLocation,
    records: CloudTrailRecord[],
    state: SourceStatePatch,
    stores: readonly StoreLocator[],
  ): Promise<IngestResult> {
    const now = this.now();
    const ingestedAt = now.toISOString();
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS).toISOString();
    const context = { account: where.account, region: where.region, ingestedAt };

    // Guarded and mapped before the transaction: it holds the database only for the writes.
    let expired = 0;
    let repeated = 0;
    const fresh = new Map<string, { raw: string; mapped: ReturnType<typeof mapRecord> }>();
    for (const record of records) {
      const guarded = guardRecord(record);
      const mapped = mapRecord(guarded, context, stores);
      if (mapped.time < cutoff) {
        expired++;
        continue;
      }
      const eventId = textOf(eventIdOf(guarded));
      if (fresh.has(eventId)) repeated++;
      else fresh.set(eventId, { raw: JSON.stringify(guarded), mapped });
    }

    const write = (trx: Transaction<CloudTrailDatabase>) => this.writePage(trx, sourceId, kind, where, fresh, state, ingestedAt);
    for (let attempt = 1; ; attempt++) {
      try {
        const { inserted, rows } = await this.db.transaction().execute(write);
        this.rowsSinceOptimize += rows;
        if (this.dialect === 'sqlite' && this.rowsSinceOptimize >= OPTIMIZE_EVERY_ROWS) await this.optimize();
        return { inserted, duplicates: fresh.size - inserted + repeated, expired };
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        if (attempt >= INGEST_ATTEMPTS || typeof code !== 'string' || !RETRYABLE_PG_CODES.has(code)) throw error;
      }
    }
  }

  private async writePage(
    trx: Transaction<CloudTrailDatabase>,
    sourceId: string,
    kind: CloudTrailSourceKind,
    where: SourceLocation,
    fresh: Map<string, { raw: string; mapped: ReturnType<typeof mapRecord> }>,
    state: SourceStatePatch,
    ingestedAt: string,
  ): Promise<{ inserted: number; rows: number }> {
    // First: on PostgreSQL this takes the chart rollup's lock, so pages are counted one at a time.
    const countRollup = await rollupIsCurrent(trx, this.dialect);
    // Exactly once by eventID: an event already stored (by this page's earlier delivery, another
    // source, or another replica) is not inserted, and so gets no rows either.
    const pks = new Map<string, number>();
    for (const chunk of chunks([...fresh], INSERT_CHUNK)) {
      const returned = await trx
        .insertInto('ct_events')
        .values(chunk.map(([eventId, e]) => ({ event_id: eventId, source_id: sourceId, event_time: textOf(e.mapped.time), raw: e.raw, ingested_at: ingestedAt })))
        .onConflict((oc) => oc.column('event_id').doNothing())
        .returning(['id', 'event_id'])
        .execute();
      for (const r of returned) pks.set(r.event_id, Number(r.id));
    }

    const entries: Omit<EntryRow, 'id'>[] = [];
    // '' stands for "none" here: the table's key cannot hold NULLs. Sorted, so concurrent pages take locks in one order.
    const actors = new Map<string, { principal: string; actor_arn: string }>();
    for (const [eventId, { mapped }] of fresh) {
      const eventPk = pks.get(eventId);
      if (eventPk === undefined) continue;
      const actor = { principal: textOf(mapped.principal ?? ''), actor_arn: textOf(mapped.actorArn ?? '') };
      actors.set(JSON.stringify(actor), actor);
      const targets: { storeId: string | null; itemName: string | null; recursive: boolean | null; version?: string }[] =
        mapped.items.length > 0 ? mapped.items : [{ storeId: null, itemName: null, recursive: null }];
      for (const item of targets) {
        entries.push({
          event_pk: eventPk,
          event_time: textOf(mapped.time),
          event_source: textOf(mapped.eventSource),
          event_name: textOf(mapped.eventName),
          read_only: mapped.readOnly ? 1 : 0,
          actor_arn: textOf(mapped.actorArn),
          actor_type: textOf(mapped.actorType),
          actor_role_arn: textOf(mapped.actorRoleArn),
          principal: textOf(mapped.principal),
          source_ip: textOf(mapped.sourceIp),
          user_agent: textOf(mapped.userAgent),
          error_code: textOf(mapped.errorCode),
          account: textOf(mapped.account),
          region: textOf(mapped.region),
          store_id: item.storeId,
          item_name: textOf(item.itemName),
          path_recursive: item.recursive === null ? null : item.recursive ? 1 : 0,
          version_ref: item.version === undefined ? null : textOf(item.version),
        });
      }
    }
    const sortedActors = [...actors.values()].sort((a, b) => (a.principal === b.principal ? (a.actor_arn < b.actor_arn ? -1 : 1) : a.principal < b.principal ? -1 : 1));
    for (const chunk of chunks(sortedActors, INSERT_CHUNK)) await trx.insertInto('ct_actors').values(chunk).onConflict((oc) => oc.doNothing()).execute();
    let maxEntryId = 0;
    for (const chunk of chunks(entries, INSERT_CHUNK)) {
      const ids = await trx.insertInto('ct_entries').values(chunk).returning('id').execute();
      for (const r of ids) maxEntryId = Math.max(maxEntryId, Number(r.id));
    }
    if (countRollup) await countWritten(trx, entries, maxEntryId);

    await this.registerSource(sourceId, kind, where, trx);
    await trx
      .updateTable('ct_sources')
      .set({
        cursor: JSON.stringify(state.cursor),
        events_indexed: sql<number>`events_indexed + ${pks.size}`,
        ...(state.lastEventTime !== undefined ? { last_event_time: state.lastEventTime } : {}),
        // A successful page clears the error shown since the last one.
        ...(state.lastSuccessAt !== undefined ? { last_success_at: state.lastSuccessAt, last_error_message: null, last_error_at: null } : {}),
      })
      .where('source_id', '=', sourceId)
      .execute();
    if (state.readFile !== undefined) {
      await trx
        .insertInto('ct_s3_read_files')
        .values({ source_id: sourceId, file_key: textOf(state.readFile), read_at: ingestedAt })
        .onConflict((oc) => oc.columns(['source_id', 'file_key']).doNothing())
        .execute();
    }
    return { inserted: pks.size, rows: entries.length };
  }

  /** Refreshes the query planner's statistics (SQLite: sampled, so cheap; the index does it itself every 100,000 rows. PostgreSQL: ANALYZE). */
  async optimize(): Promise<void> {
    this.rowsSinceOptimize = 0;
    if (this.dialect === 'sqlite') await sql`PRAGMA optimize`.execute(this.db);
    else await sql`ANALYZE ct_events, ct_entries, ct_actors`.execute(this.db);
  }

  /** A failed page: the position stays, the error shows until the next successful page. */
  async recordSourceError(sourceId: string, message: string, source?: { kind: CloudTrailSourceKind } & SourceLocation): Promise<void> {
    const text = textOf(message.length > MAX_SOURCE_ERROR_LENGTH ? `${message.slice(0, MAX_SOURCE_ERROR_LENGTH - 1)}…` : message);
    const at = this.now().toISOString();
    await this.db.transaction().execute(async (trx) => {
      if (source) await this.registerSource(sourceId, source.kind, source, trx);
      // A source that failed before it was ever registered still shows, with what is known.
      await trx
        .insertInto('ct_sources')
        .values({ source_id: sourceId, kind: 'lookup-events', account: null, region: '', cursor: null, last_event_time: null, last_success_at: null, last_error_message: text, last_error_at: at })
        .onConflict((oc) => oc.column('source_id').doUpdateSet({ last_error_message: text, last_error_at: at }))
        .execute();
    });
  }

  async sourceState(sourceId: string): Promise<SourceState | null> {
    const row = await this.db.selectFrom('ct_sources').selectAll().where('source_id', '=', sourceId).executeTakeFirst();
    return row ? toSourceState(row) : null;
  }

  async readFileKeys(sourceId: string, after: string, upTo: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('ct_s3_read_files')
      .select('file_key')
      .where('source_id', '=', sourceId)
      .where('file_key', '>', after)
      .where('file_key', '<=', upTo)
      .orderBy('file_key')
      .execute();
    return rows.map((r) => r.file_key);
  }

  async forgetReadFiles(sourceId: string, from: string, before: string): Promise<number> {
    const result = await this.db
      .deleteFrom('ct_s3_read_files')
      .where('source_id', '=', sourceId)
      .where('file_key', '>=', from)
      .where('file_key', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  async listSourceStates(): Promise<SourceState[]> {
    return (await this.db.selectFrom('ct_sources').selectAll().orderBy('source_id').execute()).map(toSourceState);
  }

  /** Deletes events older than `days` (in batches of their own transactions); returns how many events went. */
  async purgeOlderThan(days: number): Promise<number> {
    const cutoff = new Date(this.now().getTime() - days * DAY_MS).toISOString();
    // Actors stay: a name without rows only costs the substring lookup an extra candidate.
    let total = 0;
    for (;;) {
      const deleted = await this.db.transaction().execute(async (trx) => {
        const ids = (await trx.selectFrom('ct_events').select('id').where('event_time', '<', cutoff).orderBy('event_time').limit(PURGE_BATCH).execute()).map((r) => r.id);
        if (ids.length === 0) return 0;
        await uncountEvents(trx, this.dialect, ids);
        await trx.deleteFrom('ct_entries').where('event_pk', 'in', ids).execute();
        await trx.deleteFrom('ct_events').where('id', 'in', ids).execute();
        return ids.length;
      });
      if (deleted === 0) break;
      total += deleted;
    }
    return total;
  }

  /** Totals for the audit page's header and the benchmark. */
  async counts(): Promise<{ events: number; entries: number }> {
    const [events, entries] = await Promise.all([
      this.db.selectFrom('ct_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
      this.db.selectFrom('ct_entries').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow(),
    ]);
    return { events: Number(events.n), entries: Number(entries.n) };
  }
}
