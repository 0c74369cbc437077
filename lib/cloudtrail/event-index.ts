import 'server-only';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { eventIdOf, guardRecord } from './event-guard';
import { mapRecord } from './event-mapping';
import { EventQueries } from './event-queries';
import { prepareEventConnection, type SourceRow } from './event-schema';
import type { CloudTrailRecord, CloudTrailSourceKind, IngestResult, SourceState, SourceStatePatch, StoreLocator } from './types';

// The CloudTrail event index: DATA_DIR/audit-events.db. A file of its own, like the inventory,
// because sources write in bulk in synchronous transactions (never held across an await), so
// app.db's audit-log transaction never waits on them. Each page of a source is written with the
// source's new position in one transaction: a restart resumes exactly where the last page ended.

export const AUDIT_EVENTS_DB_FILE = 'audit-events.db';
export const MAX_SOURCE_ERROR_LENGTH = 1000;
/** Rows deleted per transaction by the retention purge, so sources are never held up long. */
const PURGE_BATCH = 5000;
/** Refresh the planner's statistics after this many new rows (cheap with analysis_limit). */
const OPTIMIZE_EVERY_ROWS = 100_000;

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
    eventsIndexed: row.events_indexed,
    lastError: row.last_error_message !== null && row.last_error_at !== null ? { message: row.last_error_message, at: row.last_error_at } : null,
  };
}

export class EventIndex {
  readonly queries: EventQueries;
  private readonly now: () => Date;
  private readonly statements;
  private rowsSinceOptimize = 0;

  constructor(
    private readonly conn: Database.Database,
    private readonly options: EventIndexOptions,
  ) {
    prepareEventConnection(conn);
    this.now = options.now ?? (() => new Date());
    this.queries = new EventQueries(conn);
    this.statements = {
      insertEvent: conn.prepare(
        'INSERT INTO ct_events (event_id, source_id, event_time, raw, ingested_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
      ),
      insertEntry: conn.prepare(
        `INSERT INTO ct_entries (event_pk, event_time, event_source, event_name, read_only, actor_arn, actor_type, actor_role_arn, principal,
           source_ip, user_agent, error_code, account, region, store_id, item_name, path_recursive)
         VALUES (@eventPk, @time, @eventSource, @eventName, @readOnly, @actorArn, @actorType, @actorRoleArn, @principal,
           @sourceIp, @userAgent, @errorCode, @account, @region, @storeId, @itemName, @recursive)`,
      ),
      insertActor: conn.prepare('INSERT INTO ct_actors (principal, actor_arn) VALUES (?, ?) ON CONFLICT DO NOTHING'),
      registerSource: conn.prepare(
        `INSERT INTO ct_sources (source_id, kind, account, region) VALUES (?, ?, ?, ?)
         ON CONFLICT (source_id) DO UPDATE SET kind = excluded.kind, account = excluded.account, region = excluded.region`,
      ),
      writeState: conn.prepare(
        `UPDATE ct_sources SET cursor = @cursor,
           last_event_time = CASE WHEN @keepEventTime THEN last_event_time ELSE @lastEventTime END,
           last_success_at = COALESCE(@lastSuccessAt, last_success_at),
           last_error_message = CASE WHEN @lastSuccessAt IS NULL THEN last_error_message END,
           last_error_at = CASE WHEN @lastSuccessAt IS NULL THEN last_error_at END,
           events_indexed = events_indexed + @inserted
         WHERE source_id = @sourceId`,
      ),
      sourceState: conn.prepare('SELECT * FROM ct_sources WHERE source_id = ?'),
      listSources: conn.prepare('SELECT * FROM ct_sources ORDER BY source_id'),
    };
  }

  static open(dataDir: string, options: EventIndexOptions): EventIndex {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    const conn = new Database(path.join(dataDir, AUDIT_EVENTS_DB_FILE));
    conn.pragma('journal_mode = WAL');
    conn.pragma('synchronous = NORMAL');
    conn.pragma('analysis_limit = 1000');
    const index = new EventIndex(conn, options);
    conn.pragma('optimize');
    return index;
  }

  close(): void {
    this.conn.close();
  }

  /** Makes a source known (it shows on the audit page before its first page arrives). */
  registerSource(sourceId: string, kind: CloudTrailSourceKind, where: SourceLocation): void {
    this.statements.registerSource.run(sourceId, kind, where.account, where.region);
  }

  /**
   * One page of a source: its events (deduplicated by eventID, value-like keys dropped, mapped to
   * items) and its new state, in one transaction. Events older than the retention are skipped.
   */
  ingest(
    sourceId: string,
    kind: CloudTrailSourceKind,
    where: SourceLocation,
    records: CloudTrailRecord[],
    state: SourceStatePatch,
    stores: readonly StoreLocator[],
  ): IngestResult {
    const now = this.now();
    const ingestedAt = now.toISOString();
    const cutoff = new Date(now.getTime() - this.options.retentionDays * DAY_MS).toISOString();
    const cursor = JSON.stringify(state.cursor);
    const context = { account: where.account, region: where.region, ingestedAt };
    const run = this.conn.transaction((): IngestResult => {
      const result = { inserted: 0, duplicates: 0, expired: 0 };
      let rows = 0;
      for (const record of records) {
        const guarded = guardRecord(record);
        const mapped = mapRecord(guarded, context, stores);
        if (mapped.time < cutoff) {
          result.expired++;
          continue;
        }
        const { changes, lastInsertRowid } = this.statements.insertEvent.run(eventIdOf(guarded), sourceId, mapped.time, JSON.stringify(guarded), ingestedAt);
        if (changes === 0) {
          result.duplicates++;
          continue;
        }
        result.inserted++;
        const { items, readOnly, ...columns } = mapped;
        // '' stands for "none" here: the table's key cannot hold NULLs.
        this.statements.insertActor.run(mapped.principal ?? '', mapped.actorArn ?? '');
        const targets = items.length > 0 ? items : [{ storeId: null, itemName: null, recursive: null }];
        for (const item of targets) {
          this.statements.insertEntry.run({
            ...columns,
            eventPk: lastInsertRowid,
            readOnly: readOnly ? 1 : 0,
            storeId: item.storeId,
            itemName: item.itemName,
            recursive: item.recursive === null ? null : item.recursive ? 1 : 0,
          });
          rows++;
        }
      }
      this.statements.registerSource.run(sourceId, kind, where.account, where.region);
      this.statements.writeState.run({
        sourceId,
        cursor,
        keepEventTime: state.lastEventTime === undefined ? 1 : 0,
        lastEventTime: state.lastEventTime ?? null,
        lastSuccessAt: state.lastSuccessAt ?? null,
        inserted: result.inserted,
      });
      this.rowsSinceOptimize += rows;
      return result;
    });
    const result = run();
    if (this.rowsSinceOptimize >= OPTIMIZE_EVERY_ROWS) this.optimize();
    return result;
  }

  /** Refreshes the query planner's statistics (sampled, so cheap); the index does it itself every 100,000 rows. */
  optimize(): void {
    this.rowsSinceOptimize = 0;
    this.conn.pragma('optimize');
  }

  /** A failed page: the position stays, the error shows until the next successful page. */
  recordSourceError(sourceId: string, message: string, source?: { kind: CloudTrailSourceKind } & SourceLocation): void {
    const text = message.length > MAX_SOURCE_ERROR_LENGTH ? `${message.slice(0, MAX_SOURCE_ERROR_LENGTH - 1)}…` : message;
    const at = this.now().toISOString();
    this.conn.transaction(() => {
      if (source) this.registerSource(sourceId, source.kind, source);
      const updated = this.conn.prepare('UPDATE ct_sources SET last_error_message = ?, last_error_at = ? WHERE source_id = ?').run(text, at, sourceId).changes;
      // A source that failed before it was ever registered still shows, with what is known.
      if (updated === 0) {
        this.conn
          .prepare("INSERT INTO ct_sources (source_id, kind, region, last_error_message, last_error_at) VALUES (?, 'lookup-events', '', ?, ?)")
          .run(sourceId, text, at);
      }
    })();
  }

  sourceState(sourceId: string): SourceState | null {
    const row = this.statements.sourceState.get(sourceId) as SourceRow | undefined;
    return row ? toSourceState(row) : null;
  }

  listSourceStates(): SourceState[] {
    return (this.statements.listSources.all() as SourceRow[]).map(toSourceState);
  }

  /** Deletes events older than `days` (in batches); returns how many events went. */
  purgeOlderThan(days: number): number {
    const cutoff = new Date(this.now().getTime() - days * DAY_MS).toISOString();
    const pick = this.conn.prepare('SELECT id FROM ct_events WHERE event_time < ? ORDER BY event_time LIMIT ?').pluck();
    const deleteEntries = this.conn.prepare('DELETE FROM ct_entries WHERE event_pk = ?');
    const deleteEvent = this.conn.prepare('DELETE FROM ct_events WHERE id = ?');
    const batch = this.conn.transaction((ids: number[]) => {
      for (const id of ids) {
        deleteEntries.run(id);
        deleteEvent.run(id);
      }
    });
    // Actors stay: a name without rows only costs the substring lookup an extra candidate.
    let total = 0;
    for (;;) {
      const ids = pick.all(cutoff, PURGE_BATCH) as number[];
      if (ids.length === 0) break;
      batch(ids);
      total += ids.length;
    }
    return total;
  }

  /** Totals for the audit page's header and the benchmark. */
  counts(): { events: number; entries: number } {
    return {
      events: this.conn.prepare('SELECT count(*) FROM ct_events').pluck().get() as number,
      entries: this.conn.prepare('SELECT count(*) FROM ct_entries').pluck().get() as number,
    };
  }
}
