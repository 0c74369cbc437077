import 'server-only';
import { auditScope, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import type { AuditEntry as OwnEntry } from '@/lib/audit/audit-log';
import { auditLogQueries, ownLogReach, OWN_READ_ACTIONS, OWN_WRITE_ACTIONS, type OwnLogPosition } from '@/lib/audit/audit-log-queries';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { encodeCursor, type AuditEntry as TrailEntry, type ChartBucket } from '@/lib/cloudtrail/event-queries';
import type { AuditScope } from '@/lib/cloudtrail/event-scope';
import type { SourceState } from '@/lib/cloudtrail/types';
import { getStores } from '@/lib/stores/registry';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { parseTarget } from './audit';

// One timeline of both audit sources: CloudTrail events (the event index) and the dashboard's own
// hash-chained log, merged newest first under one cursor that holds each source's own position, so
// paging never skips or repeats an entry of either. Both are cut to the caller's view-audit grants.
//
// Filters apply to both sources where they mean something: actor, event (the own log's action),
// access (the own log's reveals read; rotate, generate and import write; anything else has no
// access and is left out by that filter), item, path, store, time range and outcome. Source IP and
// error code exist only in CloudTrail, so those filters leave the own log out. Both sources filter
// and cut to grants in SQL (lib/cloudtrail/event-queries.ts, lib/audit/audit-log-queries.ts), so
// each page takes up to a page from each, a page is empty only when nothing is left, and the
// chart counts exactly the entries the pages hold.

export const TIMELINE_PAGE_SIZE = 50;
const OWN_READS = new Set<string>(OWN_READ_ACTIONS);
const OWN_WRITES = new Set<string>(OWN_WRITE_ACTIONS);

export interface TimelineEntry {
  /** Unique across both sources. */
  key: string;
  source: 'cloudtrail' | 'dashboard';
  time: string;
  action: string;
  access: 'read' | 'write' | null;
  actor: string;
  actorType: string | null;
  storeId: string | null;
  itemName: string | null;
  sourceIp: string | null;
  outcome: 'success' | 'error';
  /** CloudTrail's errorCode, or the own log's outcome when it is not a success (denied, failure). */
  errorCode: string | null;
  /** The CloudTrail source that delivered it, or "dashboard". */
  via: string;
  /** Own log: the reason the person gave (rotate, generate, schedule, reveal). */
  reason: string | null;
  /** Exports only: the CloudTrail record as stored (value-like keys dropped), or the own entry's details. */
  raw?: Record<string, unknown>;
}

export interface TimelinePage {
  entries: TimelineEntry[];
  nextCursor: string | null;
}

export class TimelineCursorError extends Error {
  readonly status = 400;
}

interface Position {
  /** CloudTrail's keyset cursor after the last entry taken; undefined: from the newest. */
  trail?: string;
  /** Own log: [at, seq] of the last entry taken; undefined: from the newest. */
  own?: [string, number];
  trailDone?: boolean;
  ownDone?: boolean;
}

function encodePosition(position: Position): string {
  return Buffer.from(JSON.stringify(position)).toString('base64url');
}

function decodePosition(cursor: string | undefined): Position {
  if (!cursor) return {};
  try {
    const value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Position;
    const ok =
      typeof value === 'object' &&
      value !== null &&
      (value.trail === undefined || typeof value.trail === 'string') &&
      (value.own === undefined ||
        (Array.isArray(value.own) && value.own.length === 2 && typeof value.own[0] === 'string' && value.own[0].length <= 40 && Number.isInteger(value.own[1])));
    if (ok) return value;
  } catch {
    // Fall through to the error below.
  }
  throw new TimelineCursorError('The page position (cursor) is malformed; start again from the newest entries.');
}

/** What of the CloudTrail index the caller may read (the open stores, not CONFIG_FILE read again). */
async function scopeFor(principal: Principal): Promise<AuditScope> {
  return auditScope(principal, (await getStores()).map((s) => s.id));
}

function ownAccess(action: string): 'read' | 'write' | null {
  return OWN_READS.has(action) ? 'read' : OWN_WRITES.has(action) ? 'write' : null;
}

function fromOwn(entry: OwnEntry, withRaw: boolean): TimelineEntry {
  const target = parseTarget(entry.target);
  const failed = entry.outcome === 'denied' || entry.outcome === 'failure';
  return {
    key: `d${entry.seq}`,
    source: 'dashboard',
    time: entry.at,
    action: entry.action,
    access: ownAccess(entry.action),
    actor: entry.actor,
    actorType: 'dashboard',
    storeId: target?.storeId ?? null,
    itemName: target?.name ?? (entry.target || null),
    sourceIp: null,
    outcome: failed ? 'error' : 'success',
    errorCode: failed ? entry.outcome : null,
    via: 'dashboard',
    reason: typeof entry.details.reason === 'string' ? entry.details.reason : null,
    ...(withRaw ? { raw: { seq: entry.seq, target: entry.target, outcome: entry.outcome, details: { ...entry.details }, hash: entry.hash } } : {}),
  };
}

function fromTrail(entry: TrailEntry, withRaw: boolean): TimelineEntry {
  return {
    key: `c${entry.id}`,
    source: 'cloudtrail',
    time: entry.time,
    action: entry.eventName ?? '(no event name)',
    access: entry.access,
    actor: entry.actorArn ?? entry.principal ?? '(unknown)',
    actorType: entry.actorType,
    storeId: entry.storeId,
    itemName: entry.itemName,
    sourceIp: entry.sourceIp,
    outcome: entry.errorCode ? 'error' : 'success',
    errorCode: entry.errorCode,
    via: entry.sourceId,
    reason: null,
    ...(withRaw ? { raw: entry.raw } : {}),
  };
}

/** One page of the merged timeline, newest first (call after authorize 'view-audit'). */
export async function timelinePage(
  principal: Principal,
  filters: AuditFilters,
  options: { cursor?: string; limit?: number; withRaw?: boolean } = {},
): Promise<TimelinePage> {
  const limit = options.limit ?? TIMELINE_PAGE_SIZE;
  const position = decodePosition(options.cursor);
  const withRaw = options.withRaw ?? false;

  const [trailPage, ownRows] = await Promise.all([
    position.trailDone
      ? { entries: [] as TrailEntry[], nextCursor: undefined }
      : auditEventIndex().then(async (index) => index.queries.timeline(filters, await scopeFor(principal), { cursor: position.trail, limit })),
    position.ownDone
      ? ([] as OwnEntry[])
      : auditLogQueries().then((queries) => {
          const after: OwnLogPosition | undefined = position.own ? { at: position.own[0], seq: position.own[1] } : undefined;
          // One more than a page: whether any is left after it.
          return queries.page({ filters, reach: ownLogReach(principal) }, limit + 1, after);
        }),
  ]);
  const ownMore = ownRows.length > limit;
  const ownEntries = ownRows.slice(0, limit);

  // Merge newest first; ties go to CloudTrail first, then each source's own order, so the order is total.
  const merged: ({ kind: 'trail'; entry: TrailEntry } | { kind: 'own'; entry: OwnEntry })[] = [
    ...trailPage.entries.map((entry) => ({ kind: 'trail' as const, entry })),
    ...ownEntries.map((entry) => ({ kind: 'own' as const, entry })),
  ].sort((a, b) => {
    const ta = a.kind === 'trail' ? a.entry.time : a.entry.at;
    const tb = b.kind === 'trail' ? b.entry.time : b.entry.at;
    return ta === tb ? (a.kind === b.kind ? 0 : a.kind === 'trail' ? -1 : 1) : ta < tb ? 1 : -1;
  });
  const taken = merged.slice(0, limit);

  // Each source goes on after the last of its entries taken; what was fetched and not taken is
  // fetched again next time. A source is done when all it had is taken and it had no more.
  const next: Position = { ...position };
  const trailTaken = taken.filter((t): t is { kind: 'trail'; entry: TrailEntry } => t.kind === 'trail');
  const ownTaken = taken.filter((t): t is { kind: 'own'; entry: OwnEntry } => t.kind === 'own');
  const lastTrail = trailTaken.at(-1);
  const lastOwn = ownTaken.at(-1);
  if (lastTrail) next.trail = encodeCursor(lastTrail.entry.time, lastTrail.entry.id);
  if (lastOwn) next.own = [lastOwn.entry.at, lastOwn.entry.seq];
  if (trailTaken.length === trailPage.entries.length && !trailPage.nextCursor) next.trailDone = true;
  if (ownTaken.length === ownEntries.length && !ownMore) next.ownDone = true;
  const done = next.trailDone && next.ownDone;
  return {
    entries: taken.map((t) => (t.kind === 'trail' ? fromTrail(t.entry, withRaw) : fromOwn(t.entry, withRaw))),
    nextCursor: done ? null : encodePosition(next),
  };
}

/** Every entry of the filtered set, newest first, page by page (constant memory), for exports. */
export async function* exportTimeline(principal: Principal, filters: AuditFilters): AsyncGenerator<TimelineEntry> {
  let cursor: string | undefined;
  for (;;) {
    const page = await timelinePage(principal, filters, { cursor, limit: 500, withRaw: true });
    yield* page.entries;
    if (!page.nextCursor) return;
    cursor = page.nextCursor;
  }
}

export interface ChartPoint {
  start: string;
  reads: number;
  writes: number;
}

/** Days the chart covers when the filters give no time range (its counts stay exact for that window). */
export const CHART_DEFAULT_DAYS = 90;

/**
 * The filters the /audit chart is drawn under: the page's own, with the last CHART_DEFAULT_DAYS
 * days when they set neither from nor to. A log kept for years would otherwise be counted whole on
 * every view (and drawn as a thousand bars); a time range charts any period. The list is not cut.
 */
export function chartFilters(filters: AuditFilters, now = new Date()): AuditFilters {
  if (filters.from || filters.to) return filters;
  return { ...filters, from: new Date(now.getTime() - CHART_DEFAULT_DAYS * 86_400_000).toISOString() };
}

/**
 * Reads and writes per hour or day of the filtered set: CloudTrail's and the own log's reads and
 * writes, each counted in SQL under the same filters and grants as the pages, so the totals equal
 * the entries with an access that a full paging returns.
 */
export async function timelineChart(principal: Principal, filters: AuditFilters, bucket: ChartBucket): Promise<ChartPoint[]> {
  const [chart, own] = await Promise.all([
    auditEventIndex().then(async (index) => index.queries.chart(filters, await scopeFor(principal), bucket)),
    auditLogQueries().then((queries) => queries.chart({ filters, reach: ownLogReach(principal) }, bucket)),
  ]);
  const points = new Map(chart.points.map((p) => [p.start, { ...p }]));
  const suffix = bucket === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
  for (const row of own) {
    const start = `${row.b}${suffix}`;
    const point = points.get(start) ?? { start, reads: 0, writes: 0 };
    point.reads += row.reads;
    point.writes += row.writes;
    points.set(start, point);
  }
  return [...points.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
}

/** CloudTrail sources' states, for auditors of everything (they name accounts and regions). */
export async function sourceStates(principal: Principal): Promise<SourceState[]> {
  if (!canEverywhere(principal, 'view-audit')) return [];
  return (await auditEventIndex()).listSourceStates();
}
