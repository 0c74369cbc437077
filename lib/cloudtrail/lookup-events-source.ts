import 'server-only';
import { CloudTrailClient, LookupEventsCommand, type Event as LookupEvent } from '@aws-sdk/client-cloudtrail';
import { z } from 'zod';
import { RateLimiter, realClock, type Clock } from '@/lib/inventory/rate-limiter';
import { createCloudTrailClient } from '@/lib/stores/aws-clients';
import { connectionKey, type LookupEventsSourceConfig } from './sources-config';
import { describeAwsError, isThrottle, isTransient, type CloudTrailSource, type SourceLocation, type SourceRunContext, type SourceRunResult } from './sync';
import type { CloudTrailRecord, SourceCursor } from './types';

// One account and region's CloudTrail through LookupEvents: three lookups (EventSource = ssm,
// secretsmanager, kms), 50 events a call, under ONE token bucket per account and region shared
// by the three. AWS allows 2 calls a second there and answers a third within a second with
// ThrottlingException; the bucket never lets 3 calls into one second and halves on a throttle.
//
// Each lookup walks a time window newest first: the first window reaches 90 days back (or the
// index's retention, if shorter); each later one starts at the newest event time the previous
// walk saw minus an overlap, because CloudTrail delivers late. Dedupe by eventID (the index)
// absorbs the overlap. Every page is written with the lookup's position (window, NextToken,
// newest and oldest times reached), so a restart resumes at the next page; if the saved
// NextToken is no longer accepted, the window is walked again from the oldest time reached.

export const AUDITED_EVENT_SOURCES = ['ssm.amazonaws.com', 'secretsmanager.amazonaws.com', 'kms.amazonaws.com'] as const;
export type AuditedEventSource = (typeof AUDITED_EVENT_SOURCES)[number];

/** AWS's hard limit per account and region. */
export const LOOKUP_CALLS_PER_SECOND = 2;
/**
 * What the bucket runs at. RateLimiter also holds any second to its ceiling (a call waits until the
 * one `ceiling` calls earlier is a second and a margin old), so 3 calls always span over a second.
 */
export const LOOKUP_PACED_RATE = LOOKUP_CALLS_PER_SECOND;
export const LOOKUP_PAGE_SIZE = 50;
export const LOOKUP_MAX_DAYS = 90;
export const DEFAULT_OVERLAP_MS = 5 * 60_000;
const DAY_MS = 86_400_000;
/** Throttles in a row on one page before the run gives up on that lookup (it resumes next run). */
const MAX_THROTTLES_PER_PAGE = 12;
const MAX_TRANSIENT_ATTEMPTS = 3;

const isoTime = z.iso.datetime({ offset: true });
const walkSchema = z.object({
  start: isoTime,
  end: isoTime,
  nextToken: z.string().nullable(),
  /** Newest and oldest event times this walk has seen (ISO), null before its first event. */
  newest: isoTime.nullable(),
  oldest: isoTime.nullable(),
});
const lookupCursorSchema = z.object({
  walk: walkSchema.nullable(),
  /** Where the next walk starts (ISO); null = the full 90 days. */
  resumeFrom: isoTime.nullable(),
  /** Newest event time ever seen by this lookup. */
  newest: isoTime.nullable(),
});
const cursorSchema = z.object({
  version: z.literal(1),
  lookups: z.partialRecord(z.enum(AUDITED_EVENT_SOURCES), lookupCursorSchema),
});

export type LookupWalk = z.infer<typeof walkSchema>;
export type LookupCursor = z.infer<typeof lookupCursorSchema>;
export type LookupEventsCursor = z.infer<typeof cursorSchema>;

const EMPTY_LOOKUP: LookupCursor = { walk: null, resumeFrom: null, newest: null };

/** The saved cursor, or a fresh one when there is none or it is not ours (never a crash). */
export function parseLookupCursor(raw: SourceCursor | null | undefined): LookupEventsCursor {
  const parsed = cursorSchema.safeParse(raw);
  return parsed.success ? parsed.data : { version: 1, lookups: {} };
}

const laterOf = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a > b ? a : b);
const earlierOf = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : a < b ? a : b);

/**
 * The CloudTrail record of one LookupEvents event: its parsed CloudTrailEvent, with the top-level
 * fields filling any gap. An event whose CloudTrailEvent is missing or not JSON is still kept,
 * built from the top-level fields and marked so.
 */
export function recordOfLookupEvent(event: LookupEvent): CloudTrailRecord {
  let parsed: CloudTrailRecord | null = null;
  if (typeof event.CloudTrailEvent === 'string') {
    try {
      const value: unknown = JSON.parse(event.CloudTrailEvent);
      if (value && typeof value === 'object' && !Array.isArray(value)) parsed = value as CloudTrailRecord;
    } catch {
      parsed = null;
    }
  }
  const time = event.EventTime instanceof Date && !Number.isNaN(event.EventTime.getTime()) ? event.EventTime.toISOString() : undefined;
  const record: CloudTrailRecord = parsed
    ? { ...parsed }
    : {
        dashboardNote: 'CloudTrailEvent was missing or not JSON; built from the LookupEvents fields',
        ...(event.Username ? { userIdentity: { type: 'Unknown', principalId: event.Username } } : {}),
        ...(event.ReadOnly !== undefined ? { readOnly: event.ReadOnly === 'true' } : {}),
        ...(event.Resources?.length ? { resources: event.Resources.map((r) => ({ ARN: r.ResourceName, type: r.ResourceType })) } : {}),
      };
  if (record.eventID === undefined && event.EventId) record.eventID = event.EventId;
  if (record.eventTime === undefined && time) record.eventTime = time;
  if (record.eventName === undefined && event.EventName) record.eventName = event.EventName;
  if (record.eventSource === undefined && event.EventSource) record.eventSource = event.EventSource;
  return record;
}

/** Slack on top of a second, for timer granularity. */
const ANSWERED_WINDOW_MARGIN_MS = 20;

/**
 * AWS counts a call when it arrives, and a call can reach AWS well after its turn was taken: a
 * client's first call opens a connection, and a busy event loop (other sources writing pages, many
 * accounts and regions at once) holds requests back, so two calls taken apart can arrive together.
 * Here a call starts only once the call `perSecond` calls before it was answered more than a
 * second ago: that one arrived before its answer, so the two are over a second apart at AWS, what
 * ever the delays. Shared like the rate limiter, per account and region.
 */
export class AnsweredCallWindow {
  /** When the latest calls were answered, in the order they started (pending while in flight). */
  private readonly answers: Promise<number>[] = [];

  constructor(
    readonly perSecond: number = LOOKUP_CALLS_PER_SECOND,
    private readonly clock: Clock = realClock,
  ) {}

  /** Waits for this call's turn; call the returned function once the call is answered (or failed). */
  async enter(): Promise<() => void> {
    const earlier = this.answers.length >= this.perSecond ? this.answers[this.answers.length - this.perSecond] : undefined;
    let answered!: (at: number) => void;
    this.answers.push(new Promise<number>((resolve) => (answered = resolve)));
    if (this.answers.length > 2 * this.perSecond) this.answers.splice(0, this.answers.length - this.perSecond);
    if (earlier) {
      const wait = (await earlier) + 1000 + ANSWERED_WINDOW_MARGIN_MS - this.clock.now();
      if (wait > 0) await this.clock.sleep(wait);
    }
    return () => answered(this.clock.now());
  }
}

export interface LookupEventsSourceOptions {
  /** Shared by every source of the same account and region. */
  limiter: RateLimiter;
  /** Shared like the limiter (default: one of this source's own). */
  window?: AnsweredCallWindow;
  client?: CloudTrailClient;
  overlapMs?: number;
  /** The index keeps no event older than this; the first walk goes no further back. */
  retentionDays?: number;
  clock?: Clock;
}

export class LookupEventsSource implements CloudTrailSource {
  readonly kind = 'lookup-events' as const;
  readonly id: string;
  readonly where: SourceLocation;
  private readonly client: CloudTrailClient;
  private readonly limiter: RateLimiter;
  private readonly window: AnsweredCallWindow;
  private readonly overlapMs: number;
  private readonly clock: Clock;
  /** The position as last written to the index (or read from it). */
  private cursor: LookupEventsCursor | null = null;
  /** Lookups whose last page failed: while any is, pages do not mark the source healthy. */
  private readonly failing = new Set<AuditedEventSource>();
  /** The last write to the index, which the next one waits for (see inTurn). */
  private writes: Promise<unknown> = Promise.resolve();

  constructor(
    readonly config: LookupEventsSourceConfig,
    private readonly options: LookupEventsSourceOptions,
  ) {
    this.id = config.id;
    this.where = { account: config.account, region: config.connection.region };
    // One attempt per send: retries go through the shared bucket here, never around it.
    this.client = options.client ?? createCloudTrailClient(config.connection, { maxAttempts: 1 });
    this.limiter = options.limiter;
    this.window = options.window ?? new AnsweredCallWindow(LOOKUP_CALLS_PER_SECOND, options.clock ?? realClock);
    // The bucket is taken right before the request goes on the wire (after credentials, signing),
    // so what it counts is what AWS sees: the SDK's first call of a client can take tens of
    // milliseconds to get there, enough to put a third call into AWS's second otherwise. The
    // answered-call window covers the delays that remain (see AnsweredCallWindow).
    const paced = (next: (args: object) => Promise<unknown>) => async (args: object) => {
      await this.limiter.take();
      const answered = await this.window.enter();
      try {
        return await next(args);
      } finally {
        answered();
      }
    };
    // (The stack's overloaded generic signature is not worth spelling out for a pass-through.)
    this.client.middlewareStack.addRelativeTo(paced as never, { name: 'auditLookupRateLimit', relation: 'after', toMiddleware: 'httpSigningMiddleware', override: true });
    this.overlapMs = options.overlapMs ?? DEFAULT_OVERLAP_MS;
    this.clock = options.clock ?? realClock;
  }

  async run(context: SourceRunContext): Promise<SourceRunResult> {
    // Re-read each run: the index is the truth (another process may have moved it).
    this.cursor = parseLookupCursor((await context.sink.sourceState(this.id))?.cursor);
    const results = await Promise.all(AUDITED_EVENT_SOURCES.map((eventSource) => this.walkLookup(eventSource, context)));
    return results.reduce(
      (sum, r) => ({
        pages: sum.pages + r.pages,
        inserted: sum.inserted + r.inserted,
        duplicates: sum.duplicates + r.duplicates,
        throttled: sum.throttled + r.throttled,
        error: sum.error ?? r.error,
      }),
      { pages: 0, inserted: 0, duplicates: 0, throttled: 0, error: null },
    );
  }

  private lookup(eventSource: AuditedEventSource): LookupCursor {
    return this.cursor!.lookups[eventSource] ?? EMPTY_LOOKUP;
  }

  /** The window of a new walk: from the saved resume point (or 90 days / the retention back) to now. */
  private newWalk(lookup: LookupCursor, now: number): LookupWalk {
    const days = Math.min(LOOKUP_MAX_DAYS, this.options.retentionDays ?? LOOKUP_MAX_DAYS);
    // A minute inside the 90 days, so the oldest moment is never outside what AWS keeps.
    const oldest = now - days * DAY_MS + 60_000;
    const resume = lookup.resumeFrom ? Date.parse(lookup.resumeFrom) : oldest;
    return { start: new Date(Math.max(oldest, Math.min(resume, now))).toISOString(), end: new Date(now).toISOString(), nextToken: null, newest: null, oldest: null };
  }

  private async walkLookup(eventSource: AuditedEventSource, context: SourceRunContext): Promise<SourceRunResult> {
    const result: SourceRunResult = { pages: 0, inserted: 0, duplicates: 0, error: null, throttled: 0 };
    let walk = this.lookup(eventSource).walk ?? this.newWalk(this.lookup(eventSource), context.now());
    let tokenRetried = false;
    while (!context.stopped()) {
      let events: LookupEvent[];
      let nextToken: string | undefined;
      try {
        ({ events, nextToken } = await this.page(eventSource, walk, result, context));
      } catch (error) {
        if (error instanceof StoppedError) break;
        if ((error as { name?: string }).name === 'InvalidNextTokenException' && walk.nextToken && !tokenRetried) {
          // The saved token expired: walk the rest of the window again from the oldest time
          // reached (inclusive; dedupe absorbs the events at that second already indexed).
          tokenRetried = true;
          walk = { ...walk, end: walk.oldest ?? walk.end, nextToken: null };
          continue;
        }
        result.error = `LookupEvents ${eventSource}: ${describeAwsError(error)}${this.placeOf(error)}`;
        this.failing.add(eventSource);
        await this.recordError(context, result.error);
        break;
      }
      tokenRetried = false;
      const records = events.map(recordOfLookupEvent);
      const times = events.flatMap((e) => (e.EventTime instanceof Date && !Number.isNaN(e.EventTime.getTime()) ? [e.EventTime.toISOString()] : []));
      const pageNewest = times.reduce<string | null>((a, t) => laterOf(a, t), null);
      const pageOldest = times.reduce<string | null>((a, t) => earlierOf(a, t), null);
      const walked: LookupWalk = { ...walk, nextToken: nextToken ?? null, newest: laterOf(walk.newest, pageNewest), oldest: earlierOf(walk.oldest, pageOldest) };
      try {
        await this.inTurn(async () => {
          // The source's cursor as last written, with this lookup's new position.
          const previous = this.lookup(eventSource);
          const next: LookupCursor = nextToken
            ? { ...previous, walk: walked, newest: laterOf(previous.newest, pageNewest) }
            : { walk: null, resumeFrom: this.resumePoint(walked), newest: laterOf(previous.newest, pageNewest) };
          const cursor: LookupEventsCursor = { version: 1, lookups: { ...this.cursor!.lookups, [eventSource]: next } };
          this.failing.delete(eventSource);
          const newest = Object.values(cursor.lookups).reduce<string | null>((a, l) => laterOf(a, l?.newest ?? null), null);
          const ingested = await context.sink.ingest(
            this.id,
            this.kind,
            this.where,
            records,
            { cursor, lastEventTime: newest, ...(this.failing.size === 0 ? { lastSuccessAt: new Date(context.now()).toISOString() } : {}) },
            context.stores,
          );
          result.inserted += ingested.inserted;
          result.duplicates += ingested.duplicates;
          this.cursor = cursor;
        });
      } catch (error) {
        // Not written, so not moved: the same page comes again next run.
        result.error = `Indexing LookupEvents ${eventSource} failed: ${error instanceof Error ? error.message : String(error)}`;
        this.failing.add(eventSource);
        await this.recordError(context, result.error);
        break;
      }
      result.pages++;
      if (!nextToken) break;
      walk = walked;
    }
    return result;
  }

  /** Where the next walk starts: the newest event seen minus the overlap (never before this walk's start). */
  private resumePoint(walk: LookupWalk): string {
    const reached = Date.parse(walk.newest ?? walk.end);
    return new Date(Math.max(Date.parse(walk.start), reached - this.overlapMs)).toISOString();
  }

  /** One LookupEvents call under the shared bucket; throttles back off and retry, transient errors retry a little. */
  private async page(eventSource: AuditedEventSource, walk: LookupWalk, result: SourceRunResult, context: SourceRunContext) {
    let throttles = 0;
    for (let attempt = 1; ; attempt++) {
      if (context.stopped()) throw new StoppedError();
      try {
        const out = await this.client.send(
          new LookupEventsCommand({
            LookupAttributes: [{ AttributeKey: 'EventSource', AttributeValue: eventSource }],
            StartTime: new Date(walk.start),
            EndTime: new Date(walk.end),
            MaxResults: LOOKUP_PAGE_SIZE,
            ...(walk.nextToken ? { NextToken: walk.nextToken } : {}),
          }),
        );
        this.limiter.succeeded();
        return { events: out.Events ?? [], nextToken: out.NextToken || undefined };
      } catch (error) {
        if (isThrottle(error)) {
          this.limiter.throttled();
          result.throttled++;
          if (++throttles < MAX_THROTTLES_PER_PAGE) continue;
        } else if (isTransient(error) && attempt < MAX_TRANSIENT_ATTEMPTS) {
          await this.clock.sleep(500 * 2 ** attempt);
          continue;
        }
        throw error;
      }
    }
  }

  /** Where the call went, for the source's error: the account (when known) and region, and why a region may refuse. */
  private placeOf(error: unknown): string {
    const disabled = (error as { name?: string } | null)?.name === 'UnrecognizedClientException';
    const hint = disabled ? ' (a region that is not enabled for the account refuses its credentials so: enable the region, or remove the stores and sources that name it)' : '';
    return `${hint} [account ${this.where.account ?? 'of the default credentials'}, region ${this.where.region}]`;
  }

  private async recordError(context: SourceRunContext, message: string): Promise<void> {
    try {
      await this.inTurn(() => context.sink.recordSourceError(this.id, message, { kind: this.kind, ...this.where }));
    } catch {
      // The index is failing too; the sync's log line carries the message.
    }
  }

  /**
   * The three lookups write one at a time, in the order they ask: each page carries the whole
   * source's cursor built from the last one written (so none overwrites another's position), and a
   * page marked healthy never lands after a lookup's error (which would clear it).
   */
  private inTurn<T>(write: () => Promise<T>): Promise<T> {
    const turn = this.writes.then(write);
    this.writes = turn.catch(() => undefined);
    return turn;
  }
}

class StoppedError extends Error {}

/** Which bucket a source draws from: its account (or its credentials, when the account is unknown) and region. */
export function limiterKey(config: LookupEventsSourceConfig): string {
  return `${config.account ?? connectionKey(config.connection)}@${config.connection.region}`;
}

/**
 * LookupEvents sources with one bucket (and answered-call window) per account and region shared
 * among them. Sources of different accounts or regions share nothing: the sync runs them at once,
 * each at up to its own 2 calls a second.
 */
export function createLookupSources(
  configs: readonly LookupEventsSourceConfig[],
  options: Omit<LookupEventsSourceOptions, 'limiter' | 'window' | 'client'> & { clientFor?: (config: LookupEventsSourceConfig) => CloudTrailClient; rate?: number } = {},
): LookupEventsSource[] {
  const pacing = new Map<string, { limiter: RateLimiter; window: AnsweredCallWindow }>();
  const clock = options.clock ?? realClock;
  return configs.map((config) => {
    const key = limiterKey(config);
    let shared = pacing.get(key);
    if (!shared) {
      const rate = options.rate ?? LOOKUP_PACED_RATE;
      // The window follows the pace (tests pace faster than AWS allows on purpose).
      shared = { limiter: new RateLimiter(rate, clock, 0.25), window: new AnsweredCallWindow(Math.max(LOOKUP_CALLS_PER_SECOND, Math.ceil(rate)), clock) };
      pacing.set(key, shared);
    }
    return new LookupEventsSource(config, { ...options, ...shared, ...(options.clientFor ? { client: options.clientFor(config) } : {}) });
  });
}
