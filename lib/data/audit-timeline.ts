import 'server-only';
import { auditScope, canEverywhere } from '@/lib/auth/authorize';
import type { Principal } from '@/lib/auth/principal';
import { listAudit, type AuditEntry as OwnEntry } from '@/lib/audit/audit-log';
import { auditEventIndex } from '@/lib/cloudtrail/audit-events';
import { encodeCursor, type AuditEntry as TrailEntry, type ChartBucket } from '@/lib/cloudtrail/event-queries';
import type { AuditScope } from '@/lib/cloudtrail/event-scope';
import type { SourceState } from '@/lib/cloudtrail/types';
import { getStores } from '@/lib/stores/registry';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { mayRead, parseTarget } from './audit';

// One timeline of both audit sources: CloudTrail events (the event index) and the dashboard's own
// hash-chained log, merged newest first under one cursor that holds each source's own position, so
// paging never skips or repeats an entry of either. Both are cut to the caller's view-audit grants.
//
// Filters apply to both sources where they mean something: actor, event (the own log's action),
// access (the own log's reveals read; rotate, generate and import write; anything else has no
// access and is left out by that filter), item, path, store, time range and outcome. Source IP and
// error code exist only in CloudTrail, so those filters leave the own log out.

export const TIMELINE_PAGE_SIZE = 50;
/** Own-log rows read per batch while looking for entries that pass the filters. */
const OWN_BATCH = 500;
/** Own-log rows examined at most for one page; past it the page stops at the last row examined. */
const OWN_SCAN_LIMIT = 20_000;
const OWN_READS = new Set(['reveal']);
const OWN_WRITES = new Set(['rotate', 'generate', 'schedule-rotation', 'import']);

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
  /** Own-log seq of the last entry taken or examined; undefined: from the newest. */
  own?: number;
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
      (value.own === undefined || Number.isInteger(value.own));
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

function ownMatches(entry: OwnEntry, filters: AuditFilters): boolean {
  if (filters.ip || filters.error) return false;
  const target = parseTarget(entry.target);
  if (filters.actor) {
    const actor = entry.actor.toLowerCase();
    const wanted = filters.actor.toLowerCase();
    if (filters.actorMatch === 'exact' ? actor !== wanted : !actor.includes(wanted)) return false;
  }
  if (filters.event && !filters.event.includes(entry.action)) return false;
  if (filters.access && ownAccess(entry.action) !== filters.access) return false;
  if (filters.store && target?.storeId !== filters.store) return false;
  if (filters.item && target?.name !== filters.item) return false;
  if (filters.path && !target?.name.startsWith(filters.path)) return false;
  if (filters.from && entry.at < filters.from) return false;
  if (filters.to && entry.at > filters.to) return false;
  const failed = entry.outcome === 'denied' || entry.outcome === 'failure';
  if (filters.outcome === 'success' && failed) return false;
  if (filters.outcome === 'error' && !failed) return false;
  return true;
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

/** Own-log entries passing the filters and the grants, newest first, from a position on. */
async function ownCandidates(
  principal: Principal,
  filters: AuditFilters,
  before: number | undefined,
  limit: number,
): Promise<{ entries: OwnEntry[]; exhausted: boolean; lastExamined: number | undefined; horizon: string | null }> {
  const entries: OwnEntry[] = [];
  let cursor = before;
  let examined = 0;
  let horizon: string | null = null;
  while (entries.length < limit && examined < OWN_SCAN_LIMIT) {
    const batch = await listAudit(OWN_BATCH, cursor);
    if (batch.length === 0) return { entries, exhausted: true, lastExamined: cursor, horizon: null };
    for (const entry of batch) {
      examined++;
      cursor = entry.seq;
      horizon = entry.at;
      if (filters.from && entry.at < filters.from) return { entries, exhausted: true, lastExamined: cursor, horizon: null };
      if (ownMatches(entry, filters) && mayRead(principal, entry)) {
        entries.push(entry);
        if (entries.length >= limit) break;
      }
    }
    if (batch.length < OWN_BATCH && entries.length < limit) return { entries, exhausted: true, lastExamined: cursor, horizon: null };
  }
  // Stopped early: entries older than the last row examined are not known yet.
  return { entries, exhausted: false, lastExamined: cursor, horizon: entries.length >= limit ? null : horizon };
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

  const trailPage = position.trailDone
    ? { entries: [] as TrailEntry[], nextCursor: undefined }
    : await (await auditEventIndex()).queries.timeline(filters, await scopeFor(principal), { cursor: position.trail, limit });
  const own = position.ownDone
    ? { entries: [] as OwnEntry[], exhausted: true, lastExamined: position.own, horizon: null }
    : await ownCandidates(principal, filters, position.own, limit);

  // Merge newest first; ties go to CloudTrail first, then by id, so the order is total.
  const merged: ({ kind: 'trail'; entry: TrailEntry } | { kind: 'own'; entry: OwnEntry })[] = [
    ...trailPage.entries.map((entry) => ({ kind: 'trail' as const, entry })),
    ...own.entries.map((entry) => ({ kind: 'own' as const, entry })),
  ].sort((a, b) => {
    const ta = a.kind === 'trail' ? a.entry.time : a.entry.at;
    const tb = b.kind === 'trail' ? b.entry.time : b.entry.at;
    return ta === tb ? (a.kind === b.kind ? 0 : a.kind === 'trail' ? -1 : 1) : ta < tb ? 1 : -1;
  });

  const taken: typeof merged = [];
  for (const item of merged) {
    if (taken.length >= limit) break;
    const time = item.kind === 'trail' ? item.entry.time : item.entry.at;
    // Own entries beyond the rows examined may be newer than this one: stop at the horizon.
    if (own.horizon !== null && time < own.horizon) break;
    taken.push(item);
  }

  const next: Position = { ...position };
  const lastTrail = [...taken].reverse().find((t) => t.kind === 'trail');
  const lastOwn = [...taken].reverse().find((t) => t.kind === 'own');
  const trailAllTaken = taken.filter((t) => t.kind === 'trail').length === trailPage.entries.length;
  if (lastTrail) next.trail = encodeCursor((lastTrail.entry as TrailEntry).time, (lastTrail.entry as TrailEntry).id);
  if (trailAllTaken && !trailPage.nextCursor) next.trailDone = true;
  const ownAllTaken = taken.filter((t) => t.kind === 'own').length === own.entries.length;
  if (ownAllTaken) {
    next.own = own.lastExamined;
    if (own.exhausted) next.ownDone = true;
  } else if (lastOwn) {
    next.own = (lastOwn.entry as OwnEntry).seq;
  }
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

/** Reads and writes per hour or day of the filtered set (CloudTrail and the own log's reads and writes). */
export async function timelineChart(principal: Principal, filters: AuditFilters, bucket: ChartBucket): Promise<ChartPoint[]> {
  const chart = await (await auditEventIndex()).queries.chart(filters, await scopeFor(principal), bucket);
  const points = new Map(chart.points.map((p) => [p.start, { ...p }]));
  const width = bucket === 'hour' ? 13 : 10;
  let cursor: number | undefined;
  for (let examined = 0; examined < OWN_SCAN_LIMIT; ) {
    const batch = await listAudit(OWN_BATCH, cursor);
    if (batch.length === 0) break;
    for (const entry of batch) {
      examined++;
      cursor = entry.seq;
      const access = ownAccess(entry.action);
      if (!access || !ownMatches(entry, filters) || !mayRead(principal, entry)) continue;
      const start = bucketStart(entry.at, width);
      const point = points.get(start) ?? { start, reads: 0, writes: 0 };
      if (access === 'read') point.reads++;
      else point.writes++;
      points.set(start, point);
    }
  }
  return [...points.values()].sort((a, b) => (a.start < b.start ? -1 : 1));
}

function bucketStart(iso: string, width: number): string {
  const head = iso.slice(0, width);
  return width === 13 ? `${head}:00:00.000Z` : `${head}T00:00:00.000Z`;
}

/** CloudTrail sources' states, for auditors of everything (they name accounts and regions). */
export async function sourceStates(principal: Principal): Promise<SourceState[]> {
  if (!canEverywhere(principal, 'view-audit')) return [];
  return (await auditEventIndex()).listSourceStates();
}
