import 'server-only';
import { logger } from '@/lib/logger';
import { realClock, type Clock } from '@/lib/inventory/rate-limiter';
import type { CloudTrailRecord, CloudTrailSourceKind, IngestResult, SourceState, SourceStatePatch, StoreLocator } from './types';

// The background CloudTrail sync: every source now, then every interval, one run at a time per
// source. Sources run at once: each LookupEvents source is paced by its own account and region's
// budget (createLookupSources shares one only between sources of the same account and region), so
// many accounts and regions walk in parallel, each within AWS's 2 calls a second. A source fetches pages and hands each to the sink (the event index) with its new
// position; the sink writes both in one transaction, so a stop at any point resumes exactly where
// the last written page ended. A source writes its pages one at a time, in order. Sources never throw out of a run: a failed page is recorded on the
// source (recordSourceError) and retried on the next run from the position it kept.

export interface SourceLocation {
  account: string | null;
  region: string;
}

/** What the sync needs of the event index (lib/cloudtrail/event-index.ts satisfies it). */
export interface EventSink {
  /** The page's events and the source's new state, in one transaction (all or nothing). */
  ingest(
    sourceId: string,
    kind: CloudTrailSourceKind,
    where: SourceLocation,
    records: CloudTrailRecord[],
    state: SourceStatePatch,
    stores: readonly StoreLocator[],
  ): Promise<IngestResult>;
  recordSourceError(sourceId: string, message: string, source?: { kind: CloudTrailSourceKind } & SourceLocation): Promise<void>;
  sourceState(sourceId: string): Promise<SourceState | null>;
  /** S3 sources: the file keys remembered as read (SourceStatePatch.readFile) with after < key <= upTo, in key order. */
  readFileKeys(sourceId: string, after: string, upTo: string): Promise<string[]>;
  /** S3 sources: forgets the read file keys with from <= key < before (day prefixes the lookback window no longer reaches); how many went. */
  forgetReadFiles(sourceId: string, from: string, before: string): Promise<number>;
  registerSource?(sourceId: string, kind: CloudTrailSourceKind, where: SourceLocation): Promise<void>;
}

export interface SourceRunContext {
  sink: EventSink;
  stores: readonly StoreLocator[];
  /** True once stop() was called: finish the page in hand, write it, return. */
  stopped(): boolean;
  clock: Clock;
  /** Wall-clock time (epoch ms). */
  now(): number;
}

export interface SourceRunResult {
  pages: number;
  inserted: number;
  duplicates: number;
  /** Why the run ended early, if it did (also recorded on the source). */
  error: string | null;
  throttled: number;
}

export interface CloudTrailSource {
  readonly id: string;
  readonly kind: CloudTrailSourceKind;
  readonly where: SourceLocation;
  /** Fetches everything new once. Never throws: failures are recorded on the source. */
  run(context: SourceRunContext): Promise<SourceRunResult>;
}

export interface CloudTrailSyncOptions {
  intervalMs: number;
  stores: readonly StoreLocator[];
  clock?: Clock;
  now?: () => number;
}

interface Slot {
  source: CloudTrailSource;
  run: Promise<SourceRunResult> | null;
  last: (SourceRunResult & { finishedAt: string }) | null;
}

export class CloudTrailSync {
  private readonly slots = new Map<string, Slot>();
  private timer: NodeJS.Timeout | null = null;
  private stopping = false;
  private readonly context: SourceRunContext;

  constructor(
    private readonly sink: EventSink,
    sources: readonly CloudTrailSource[],
    private readonly options: CloudTrailSyncOptions,
  ) {
    for (const source of sources) {
      if (this.slots.has(source.id)) throw new Error(`Two CloudTrail sources share the id "${source.id}".`);
      this.slots.set(source.id, { source, run: null, last: null });
    }
    this.context = {
      sink,
      stores: options.stores,
      stopped: () => this.stopping,
      clock: options.clock ?? realClock,
      now: options.now ?? Date.now,
    };
  }

  get sourceIds(): string[] {
    return [...this.slots.keys()];
  }

  /** Every source now (once registered, so each shows before its first page), then every interval (a source still running is left to finish). */
  start(): void {
    const registered = [...this.slots.values()].map(async ({ source }) => {
      try {
        await this.sink.registerSource?.(source.id, source.kind, source.where);
      } catch (error) {
        // Its first page registers it too; the run records what fails.
        logger.warn({ source: source.id, err: error instanceof Error ? error.message : String(error) }, 'cloudtrail source could not be registered');
      }
    });
    void Promise.all(registered).then(() => this.runAll());
    this.timer = setInterval(() => this.runAll(), this.options.intervalMs);
    this.timer.unref();
  }

  /** Stops after the pages in hand are written. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await Promise.allSettled([...this.slots.values()].map((s) => s.run));
  }

  /** Starts a run of one source unless one is under way; resolves when that run ends. */
  runSource(sourceId: string): Promise<SourceRunResult> | null {
    const slot = this.slots.get(sourceId);
    if (!slot || this.stopping) return null;
    if (slot.run) return slot.run;
    const started = this.context.now();
    slot.run = slot.source
      .run(this.context)
      .catch(async (error: unknown): Promise<SourceRunResult> => {
        // A bug, not an AWS failure: keep the sync alive, show it on the source.
        const message = `The ${slot.source.kind} sync failed unexpectedly (${error instanceof Error ? error.name : 'error'}); see the server log.`;
        logger.error({ source: sourceId, err: error instanceof Error ? error.message : String(error) }, 'cloudtrail source run failed');
        try {
          await this.sink.recordSourceError(sourceId, message, { kind: slot.source.kind, ...slot.source.where });
        } catch {
          // The index itself is failing; the log line above is all there is.
        }
        return { pages: 0, inserted: 0, duplicates: 0, error: message, throttled: 0 };
      })
      .then((result) => {
        slot.last = { ...result, finishedAt: new Date(this.context.now()).toISOString() };
        const fields = { source: sourceId, pages: result.pages, inserted: result.inserted, duplicates: result.duplicates, throttled: result.throttled, ms: this.context.now() - started };
        if (result.error) logger.warn({ ...fields, error: result.error }, 'cloudtrail source run ended with an error');
        else logger.info(fields, 'cloudtrail source synced');
        return result;
      })
      .finally(() => {
        slot.run = null;
      });
    return slot.run;
  }

  /** Runs every source (those not already running) and waits for all of them. */
  async runOnce(): Promise<Map<string, SourceRunResult>> {
    const runs = [...this.slots.keys()].map(async (id) => [id, await this.runSource(id)] as const);
    const results = new Map<string, SourceRunResult>();
    for (const [id, result] of await Promise.all(runs)) if (result) results.set(id, result);
    return results;
  }

  /** Resolves when no source is running. */
  async idle(): Promise<void> {
    for (;;) {
      const runs = [...this.slots.values()].flatMap((s) => (s.run ? [s.run] : []));
      if (runs.length === 0) return;
      await Promise.allSettled(runs);
    }
  }

  /** Whether a source is running now and how its last run ended (the index keeps the rest). */
  status(sourceId: string): { running: boolean; last: Slot['last'] } | null {
    const slot = this.slots.get(sourceId);
    return slot ? { running: slot.run !== null, last: slot.last } : null;
  }

  private runAll(): void {
    for (const id of this.slots.keys()) void this.runSource(id);
  }
}

/** "Name: message" of an SDK error, short and without anything secret (AWS messages name ARNs, not values). */
export function describeAwsError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const text = `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  return text.length > 500 ? `${text.slice(0, 499)}…` : text;
}

/** Throttled by AWS (any service's spelling of it). */
export function isThrottle(error: unknown): boolean {
  const name = (error as { name?: string } | null)?.name ?? '';
  const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  return ['ThrottlingException', 'Throttling', 'ThrottledException', 'TooManyRequestsException', 'RequestLimitExceeded', 'SlowDown'].includes(name) || status === 429;
}

/** Worth another try soon: 5xx, timeouts, dropped connections. */
export function isTransient(error: unknown): boolean {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  return ['TimeoutError', 'RequestTimeout', 'ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT'].includes(e?.name ?? e?.code ?? '');
}
