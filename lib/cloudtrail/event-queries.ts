import 'server-only';
import type Database from 'better-sqlite3';
import { z } from 'zod';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { VALUE_READ_EVENTS } from './event-mapping';
import { redactOtherItems } from './event-redaction';
import type { EntryRow } from './event-schema';
import { anyOf, coversItemBranches, isFullScope, scopeAllows, scopeForItem, scopeSql, underPathBranches, type AuditScope, type SqlPart } from './event-scope';

// Reviewers' questions over the event index: the filtered timeline (newest first, keyset pages on
// (time, id)), its chart, the export of exactly that set, and one item's Access panel. Every
// filter and the caller's grants are conditions in one SQL statement over ct_entries.

export const MAX_PAGE_SIZE = 500;
export const EXPORT_PAGE_SIZE = 500;
export const PANEL_RECENT_EVENTS = 20;
export const DEFAULT_NEW_READER_DAYS = 7;
/** A reader is new when not seen on the item in this many days before their first recent read. */
export const NEW_READER_LOOKBACK_DAYS = 90;

const DAY_MS = 86_400_000;

export interface AuditEntry {
  /** The row's id: with `time`, the keyset position. */
  id: number;
  eventId: string;
  time: string;
  eventSource: string | null;
  eventName: string | null;
  access: 'read' | 'write';
  actorArn: string | null;
  actorType: string | null;
  /** The role behind an assumed-role session. */
  actorRoleArn: string | null;
  /** Who is behind the call: the session's role, else the identity (see MappedEvent.principal). */
  principal: string | null;
  sourceIp: string | null;
  userAgent: string | null;
  errorCode: string | null;
  errorMessage: string | null;
  account: string | null;
  region: string | null;
  /** null: the event maps to no item of a configured store. */
  storeId: string | null;
  /** Item name, or a folder's (ending in '/') for GetParametersByPath; null when the event names none. */
  itemName: string | null;
  /** For folder rows: whether the read was recursive. */
  recursive: boolean | null;
  /** The CloudTrail source that delivered it. */
  sourceId: string;
  /** The CloudTrail record as stored (value-like keys dropped; other items' names dropped for scoped callers). */
  raw: Record<string, unknown>;
}

export interface TimelinePage {
  entries: AuditEntry[];
  /** Present when there may be more: pass it back as `cursor`. */
  nextCursor?: string;
}

export interface PageOptions {
  cursor?: string;
  /** 1..MAX_PAGE_SIZE; 50 when absent. */
  limit?: number;
}

export type ChartBucket = 'hour' | 'day';

export interface ActivityPoint {
  /** Start of the bucket (ISO). */
  start: string;
  reads: number;
  writes: number;
}

export interface ActivityChart {
  bucket: ChartBucket;
  /** Buckets with at least one event, oldest first (the chart fills gaps). */
  points: ActivityPoint[];
}

export interface Reader {
  principal: string | null;
  reads: number;
  lastReadAt: string;
  /** Not seen reading the item in the 90 days before their first read of the last `newReaderDays`. */
  isNew: boolean;
}

export interface AccessPanel {
  /** The newest successful value read (GetParameter(s), GetParametersByPath on a parent folder, GetSecretValue, BatchGetSecretValue, Decrypt). */
  lastRead: AuditEntry | null;
  readers30: Reader[];
  readers90: Reader[];
  /** Readers first seen within the last `newReaderDays` and not in the 90 days before. */
  newReaders: { principal: string | null; firstReadAt: string }[];
  /** The item's newest events of any kind. */
  recent: AuditEntry[];
  newReaderDays: number;
}

export interface AccessPanelOptions {
  now?: Date;
  newReaderDays?: number;
}

export class AuditCursorError extends Error {
  constructor() {
    super('The page position (cursor) is malformed; start again from the first page.');
    this.name = 'AuditCursorError';
  }
}

/** By name: the index may come from another bundled copy of this module. */
export function isAuditCursorError(error: unknown): error is AuditCursorError {
  return error instanceof Error && error.name === 'AuditCursorError';
}

const cursorSchema = z.tuple([z.string().max(40), z.number().int().nonnegative()]);

export function encodeCursor(time: string, id: number): string {
  return Buffer.from(JSON.stringify([time, id]), 'utf8').toString('base64url');
}

export function decodeCursor(raw: string): { time: string; id: number } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new AuditCursorError();
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success) throw new AuditCursorError();
  return { time: result.data[0], id: result.data[1] };
}

const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');
const READ_LIST = `(${VALUE_READ_EVENTS.map((e) => `'${e}'`).join(', ')})`;

/** Beyond this many alternatives a plan is one condition (one walk) instead. */
const MAX_BRANCHES = 48;
/** An actor substring matching more principals than this is filtered row by row instead. */
export const MAX_ACTOR_BRANCHES = 24;

/**
 * A query over ct_entries: conditions every row meets, and disjoint alternatives (an item and its
 * folders, a principal or a session ARN, ...). Each alternative walks its own index newest first
 * and stops after a page; the walks are merged. Without alternatives, one walk.
 */
export interface QueryPlan {
  common: SqlPart;
  branches: SqlPart[] | null;
}

function crossProduct(groups: SqlPart[][]): SqlPart[] {
  return groups.reduce<SqlPart[]>(
    (acc, group) => acc.flatMap((a) => group.map((g) => ({ sql: `${a.sql} AND ${g.sql}`, params: [...a.params, ...g.params] }))),
    [{ sql: '1 = 1', params: [] }],
  );
}

/**
 * The filters and the scope as a plan. `actorPrincipals`: the principals an actor substring
 * matches (see EventQueries.principalsMatching), or null to filter it row by row.
 */
export function planOf(filters: AuditFilters, scope: AuditScope, actorPrincipals: string[] | null = null): QueryPlan {
  const common: string[] = [];
  const params: unknown[] = [];
  const add = (part: SqlPart) => {
    common.push(part.sql);
    params.push(...part.params);
  };
  const groups: SqlPart[][] = [];
  if (filters.actor !== undefined) {
    if (filters.actorMatch === 'exact') {
      groups.push([
        { sql: 'principal = ?', params: [filters.actor] },
        { sql: '(actor_arn = ? AND (principal IS NULL OR principal <> ?))', params: [filters.actor, filters.actor] },
      ]);
    } else {
      add({ sql: "(actor_arn LIKE ? ESCAPE '\\' OR principal LIKE ? ESCAPE '\\')", params: [likeContains(filters.actor), likeContains(filters.actor)] });
      if (actorPrincipals) groups.push(actorPrincipals.map((p) => (p === '' ? { sql: 'principal IS NULL', params: [] } : { sql: 'principal = ?', params: [p] })));
    }
  }
  if (filters.event?.length) add({ sql: `event_name IN (${placeholders(filters.event.length)})`, params: filters.event });
  if (filters.access) add({ sql: 'read_only = ?', params: [filters.access === 'read' ? 1 : 0] });
  if (filters.item !== undefined) groups.push(coversItemBranches(filters.item));
  if (filters.path !== undefined) groups.push(underPathBranches(filters.path));
  if (filters.store !== undefined) add({ sql: 'store_id = ?', params: [filters.store] });
  if (filters.ip !== undefined) add({ sql: 'source_ip = ?', params: [filters.ip] });
  if (filters.from !== undefined) add({ sql: 'event_time >= ?', params: [filters.from] });
  if (filters.to !== undefined) add({ sql: 'event_time <= ?', params: [filters.to] });
  if (filters.error !== undefined) add({ sql: 'error_code = ?', params: [filters.error] });
  else if (filters.outcome === 'success') add({ sql: 'error_code IS NULL', params: [] });
  else if (filters.outcome === 'error') add({ sql: 'error_code IS NOT NULL', params: [] });
  add(scopeSql(filters.item !== undefined ? scopeForItem(scope, filters.item) : scope));

  // A group with no alternative (an actor substring no principal matches) matches nothing; as an
  // empty cross product it would also leave no statement to run.
  if (groups.some((g) => g.length === 0)) return { common: { sql: [...common, '0 = 1'].join(' AND '), params }, branches: null };
  const size = groups.reduce((n, g) => n * g.length, 1);
  if (groups.length > 0 && size <= MAX_BRANCHES) return { common: { sql: common.join(' AND '), params }, branches: crossProduct(groups) };
  for (const group of groups) add(anyOf(group));
  return { common: { sql: common.join(' AND '), params }, branches: null };
}

/**
 * The plan's alternatives each as its own statement (so each uses its own index), joined by
 * UNION ALL; the alternatives are disjoint, so totals over the union are exact.
 */
export function eachAlternative(plan: QueryPlan, statement: (where: string) => string, extra: SqlPart = { sql: '1 = 1', params: [] }): SqlPart {
  const parts = (plan.branches ?? [null]).map((b) => {
    const where = b === null ? plan.common : { sql: `${b.sql} AND ${plan.common.sql}`, params: [...b.params, ...plan.common.params] };
    return { sql: statement(`${where.sql} AND ${extra.sql}`), params: [...where.params, ...extra.params] };
  });
  return { sql: parts.map((p) => p.sql).join(' UNION ALL '), params: parts.flatMap((p) => p.params) };
}

type PageRow = EntryRow & { event_id: string; source_id: string; raw: string };

function toEntry(row: PageRow, raw: Record<string, unknown>): AuditEntry {
  return {
    id: row.id,
    eventId: row.event_id,
    time: row.event_time,
    eventSource: row.event_source,
    eventName: row.event_name,
    access: row.read_only ? 'read' : 'write',
    actorArn: row.actor_arn,
    actorType: row.actor_type,
    actorRoleArn: row.actor_role_arn,
    principal: row.principal,
    sourceIp: row.source_ip,
    userAgent: row.user_agent,
    errorCode: row.error_code,
    errorMessage: typeof raw.errorMessage === 'string' ? raw.errorMessage : null,
    account: row.account,
    region: row.region,
    storeId: row.store_id,
    itemName: row.item_name,
    recursive: row.path_recursive === null ? null : row.path_recursive === 1,
    sourceId: row.source_id,
    raw,
  };
}

export class EventQueries {
  constructor(private readonly conn: Database.Database) {}

  /** One page of the filtered timeline, newest first. Throws AuditCursorError for a bad cursor. */
  async timeline(filters: AuditFilters, scope: AuditScope, page: PageOptions = {}): Promise<TimelinePage> {
    return this.timelineSync(filters, scope, page);
  }

  /** Reads and writes per hour or day over exactly the filtered set. */
  async chart(filters: AuditFilters, scope: AuditScope, bucket: ChartBucket): Promise<ActivityChart> {
    const width = bucket === 'hour' ? 13 : 10;
    const parts = eachAlternative(
      this.plan(filters, scope),
      (where) => `SELECT * FROM (SELECT substr(event_time, 1, ${width}) AS b, sum(read_only) AS reads, count(*) AS n FROM ct_entries WHERE ${where} GROUP BY b)`,
    );
    const rows = this.conn
      .prepare(`SELECT b, sum(reads) AS reads, sum(n) - sum(reads) AS writes FROM (${parts.sql}) GROUP BY b ORDER BY b`)
      .all(...parts.params) as { b: string; reads: number; writes: number }[];
    const suffix = bucket === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
    return { bucket, points: rows.map((r) => ({ start: `${r.b}${suffix}`, reads: r.reads, writes: r.writes })) };
  }

  /** The principals an actor substring matches (through ct_actors), or null when too many to walk one by one. */
  principalsMatching(text: string): string[] | null {
    const pattern = likeContains(text);
    const found = this.conn
      .prepare(`SELECT DISTINCT principal FROM ct_actors WHERE principal LIKE ? ESCAPE '\\' OR actor_arn LIKE ? ESCAPE '\\' LIMIT ?`)
      .pluck()
      .all(pattern, pattern, MAX_ACTOR_BRANCHES + 1) as string[];
    return found.length > MAX_ACTOR_BRANCHES ? null : found;
  }

  private plan(filters: AuditFilters, scope: AuditScope): QueryPlan {
    const principals = filters.actor !== undefined && filters.actorMatch !== 'exact' ? this.principalsMatching(filters.actor) : null;
    return planOf(filters, scope, principals);
  }

  /**
   * Every entry of the filtered set, newest first, fetched page by page (constant memory; the
   * event loop gets a turn between pages). Rows written while it runs above its position are not
   * included: the export is the set as of its first page.
   */
  async *exportEntries(filters: AuditFilters, scope: AuditScope, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<AuditEntry> {
    const bound = this.conn.prepare('SELECT event_time, id FROM ct_entries ORDER BY event_time DESC, id DESC LIMIT 1').get() as
      | { event_time: string; id: number }
      | undefined;
    if (!bound) return;
    // Start just above the newest row at the start, so the walk is one fixed set.
    let cursor: string | undefined = encodeCursor(bound.event_time, bound.id + 1);
    while (cursor) {
      const page = this.timelineSync(filters, scope, { cursor, limit: pageSize });
      for (const entry of page.entries) yield entry;
      cursor = page.nextCursor;
      if (cursor) await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /**
   * One item's Access panel. The caller has already authorized 'view-audit' on the item; the rows
   * include reads of its parent folders (GetParametersByPath) whatever their grants.
   */
  async accessPanel(storeId: string, itemName: string, options: AccessPanelOptions = {}): Promise<AccessPanel> {
    const now = (options.now ?? new Date()).getTime();
    const newReaderDays = options.newReaderDays ?? DEFAULT_NEW_READER_DAYS;
    const only = (extra: string): QueryPlan => ({
      common: { sql: `store_id = ?${extra}`, params: [storeId] },
      branches: coversItemBranches(itemName),
    });
    const item = only('');
    const readPlan = only(` AND event_name IN ${READ_LIST} AND error_code IS NULL`);
    const since = (days: number) => new Date(now - days * DAY_MS).toISOString();

    const [lastRead] = this.pageOf(readPlan, 1);
    const recent = this.pageOf(item, PANEL_RECENT_EVENTS);

    const readersSince = (days: number) => {
      const parts = eachAlternative(
        readPlan,
        (where) => `SELECT * FROM (SELECT principal, count(*) AS n, max(event_time) AS last, min(event_time) AS first FROM ct_entries WHERE ${where} GROUP BY principal)`,
        { sql: 'event_time >= ?', params: [since(days)] },
      );
      return this.conn
        .prepare(`SELECT principal, sum(n) AS reads, max(last) AS last, min(first) AS first FROM (${parts.sql}) GROUP BY principal ORDER BY reads DESC, last DESC`)
        .all(...parts.params) as { principal: string | null; reads: number; last: string; first: string }[];
    };

    const seenBefore = (principal: string | null, from: string, to: string) => {
      const parts = eachAlternative(readPlan, (where) => `SELECT * FROM (SELECT 1 FROM ct_entries WHERE ${where} LIMIT 1)`, {
        sql: 'principal IS ? AND event_time >= ? AND event_time < ?',
        params: [principal, from, to],
      });
      return this.conn.prepare(`${parts.sql} LIMIT 1`).get(...parts.params) !== undefined;
    };
    const newReaders = readersSince(newReaderDays)
      .filter((r) => !seenBefore(r.principal, new Date(Date.parse(r.first) - NEW_READER_LOOKBACK_DAYS * DAY_MS).toISOString(), r.first))
      .map((r) => ({ principal: r.principal, firstReadAt: r.first }));
    const isNew = new Set(newReaders.map((r) => r.principal));
    const toReaders = (rows: ReturnType<typeof readersSince>): Reader[] =>
      rows.map((r) => ({ principal: r.principal, reads: r.reads, lastReadAt: r.last, isNew: isNew.has(r.principal) }));

    return { lastRead: lastRead ?? null, readers30: toReaders(readersSince(30)), readers90: toReaders(readersSince(90)), newReaders, recent, newReaderDays };
  }

  private timelineSync(filters: AuditFilters, scope: AuditScope, page: PageOptions): TimelinePage {
    const limit = Math.min(Math.max(1, Math.floor(page.limit ?? 50)), MAX_PAGE_SIZE);
    const plan = this.plan(filters, scope);
    if (page.cursor) {
      const after = decodeCursor(page.cursor);
      plan.common = { sql: `${plan.common.sql} AND (event_time, id) < (?, ?)`, params: [...plan.common.params, after.time, after.id] };
    }
    const rows = this.fetch(plan, limit + 1);
    const kept = rows.slice(0, limit);
    const last = kept.at(-1);
    return {
      entries: this.toEntries(kept, scope),
      nextCursor: rows.length > limit && last ? encodeCursor(last.event_time, last.id) : undefined,
    };
  }

  /** The newest `limit` rows matching, with their events (the panel is for an authorized item: full raw). */
  private pageOf(plan: QueryPlan, limit: number): AuditEntry[] {
    return this.fetch(plan, limit).map((row) => toEntry(row, JSON.parse(row.raw) as Record<string, unknown>));
  }

  /**
   * The newest `limit` rows of a plan: each alternative's own walk, newest first, cut at `limit`,
   * then merged; only then are the page's events joined.
   */
  private fetch(plan: QueryPlan, limit: number): PageRow[] {
    const walk = (where: SqlPart) => ({
      sql: `SELECT * FROM (SELECT * FROM ct_entries WHERE ${where.sql} ORDER BY event_time DESC, id DESC LIMIT ?)`,
      params: [...where.params, limit],
    });
    const walks = (plan.branches ?? [null]).map((b) =>
      walk(b === null ? plan.common : { sql: `${b.sql} AND ${plan.common.sql}`, params: [...b.params, ...plan.common.params] }),
    );
    const merged = walks.length === 1 ? walks[0]! : { sql: walks.map((w) => w.sql).join(' UNION ALL '), params: walks.flatMap((w) => w.params) };
    return this.conn
      .prepare(
        `SELECT e.*, ev.event_id, ev.source_id, ev.raw
         FROM (${merged.sql} ORDER BY event_time DESC, id DESC LIMIT ?) e
         JOIN ct_events ev ON ev.id = e.event_pk
         ORDER BY e.event_time DESC, e.id DESC`,
      )
      .all(...merged.params, limit) as PageRow[];
  }

  /** Rows to entries; for scoped callers, raw events naming several items name only the visible ones. */
  private toEntries(rows: PageRow[], scope: AuditScope): AuditEntry[] {
    if (rows.length === 0) return [];
    const visibleByEvent = new Map<number, Set<string>>();
    if (!isFullScope(scope)) {
      const pks = [...new Set(rows.map((r) => r.event_pk))];
      const siblings = this.conn
        .prepare(`SELECT event_pk, store_id, item_name FROM ct_entries WHERE event_pk IN (${placeholders(pks.length)})`)
        .all(...pks) as { event_pk: number; store_id: string | null; item_name: string | null }[];
      const counts = new Map<number, number>();
      for (const s of siblings) counts.set(s.event_pk, (counts.get(s.event_pk) ?? 0) + 1);
      for (const s of siblings) {
        if ((counts.get(s.event_pk) ?? 0) < 2) continue;
        const visible = visibleByEvent.get(s.event_pk) ?? new Set<string>();
        if (s.item_name !== null && scopeAllows(scope, s.store_id, s.item_name)) visible.add(s.item_name);
        visibleByEvent.set(s.event_pk, visible);
      }
    }
    return rows.map((row) => {
      const raw = JSON.parse(row.raw) as Record<string, unknown>;
      const visible = visibleByEvent.get(row.event_pk);
      return toEntry(row, visible ? redactOtherItems(raw, visible) : raw);
    });
  }
}
