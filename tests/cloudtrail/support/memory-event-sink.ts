import type { EventSink, SourceLocation } from '@/lib/cloudtrail/sync';
import type { CloudTrailRecord, CloudTrailSourceKind, IngestResult, SourceState, SourceStatePatch, StoreLocator } from '@/lib/cloudtrail/types';

// An in-memory event sink with the index's semantics: a page's events (deduplicated by eventID)
// and the source's new state are applied together or not at all; a failed page records an error
// and leaves the state. `snapshot()`/`fromSnapshot` stand in for a restart on the same DATA_DIR.

export interface SinkSnapshot {
  events: [string, CloudTrailRecord][];
  sources: [string, SourceState][];
  readFiles?: [string, string[]][];
}

export class MemoryEventSink implements EventSink {
  readonly events = new Map<string, CloudTrailRecord>();
  readonly sources = new Map<string, SourceState>();
  /** Per source: the S3 log file keys remembered as read. */
  readonly readFiles = new Map<string, Set<string>>();
  ingests = 0;
  /** Throw from the next N ingests (as a failing database would). */
  failIngests = 0;

  static fromSnapshot(snapshot: SinkSnapshot): MemoryEventSink {
    const sink = new MemoryEventSink();
    for (const [k, v] of snapshot.events) sink.events.set(k, v);
    for (const [k, v] of snapshot.sources) sink.sources.set(k, structuredClone(v));
    for (const [k, v] of snapshot.readFiles ?? []) sink.readFiles.set(k, new Set(v));
    return sink;
  }

  snapshot(): SinkSnapshot {
    return structuredClone({ events: [...this.events], sources: [...this.sources], readFiles: [...this.readFiles].map(([k, v]) => [k, [...v]] as [string, string[]]) });
  }

  private state(sourceId: string, kind: CloudTrailSourceKind, where: SourceLocation): SourceState {
    return (
      this.sources.get(sourceId) ?? {
        sourceId,
        kind,
        account: where.account,
        region: where.region,
        cursor: null,
        lastEventTime: null,
        lastSuccessAt: null,
        eventsIndexed: 0,
        lastError: null,
      }
    );
  }

  async registerSource(sourceId: string, kind: CloudTrailSourceKind, where: SourceLocation): Promise<void> {
    this.sources.set(sourceId, { ...this.state(sourceId, kind, where), kind, ...where });
  }

  async ingest(
    sourceId: string,
    kind: CloudTrailSourceKind,
    where: SourceLocation,
    records: CloudTrailRecord[],
    patch: SourceStatePatch,
    _stores: readonly StoreLocator[],
  ): Promise<IngestResult> {
    this.ingests++;
    if (this.failIngests > 0) {
      this.failIngests--;
      throw new Error('simulated database failure');
    }
    const fresh = new Map<string, CloudTrailRecord>();
    let duplicates = 0;
    for (const record of records) {
      const id = String(record.eventID);
      if (this.events.has(id) || fresh.has(id)) duplicates++;
      else fresh.set(id, structuredClone(record));
    }
    const before = this.state(sourceId, kind, where);
    const next: SourceState = {
      ...before,
      cursor: structuredClone(patch.cursor),
      lastEventTime: patch.lastEventTime === undefined ? before.lastEventTime : patch.lastEventTime,
      lastSuccessAt: patch.lastSuccessAt ?? before.lastSuccessAt,
      lastError: patch.lastSuccessAt ? null : before.lastError,
      eventsIndexed: before.eventsIndexed + fresh.size,
    };
    for (const [id, record] of fresh) this.events.set(id, record);
    this.sources.set(sourceId, next);
    if (patch.readFile !== undefined) {
      let keys = this.readFiles.get(sourceId);
      if (!keys) this.readFiles.set(sourceId, (keys = new Set()));
      keys.add(patch.readFile);
    }
    return { inserted: fresh.size, duplicates };
  }

  async recordSourceError(sourceId: string, message: string, source?: { kind: CloudTrailSourceKind } & SourceLocation): Promise<void> {
    const before = this.state(sourceId, source?.kind ?? 'lookup-events', source ?? { account: null, region: '' });
    this.sources.set(sourceId, { ...before, lastError: { message, at: new Date().toISOString() } });
  }

  async readFileKeys(sourceId: string, after: string, upTo: string): Promise<string[]> {
    return [...(this.readFiles.get(sourceId) ?? [])].filter((k) => k > after && k <= upTo).sort();
  }

  async forgetReadFiles(sourceId: string, from: string, before: string): Promise<number> {
    const keys = this.readFiles.get(sourceId);
    let n = 0;
    for (const k of [...(keys ?? [])]) if (k >= from && k < before && keys!.delete(k)) n++;
    return n;
  }

  async sourceState(sourceId: string): Promise<SourceState | null> {
    const state = this.sources.get(sourceId);
    return state ? structuredClone(state) : null;
  }
}
