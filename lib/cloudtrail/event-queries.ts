import 'server-only';
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { z } from 'zod';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { VALUE_READ_EVENTS } from './event-mapping';
import { redactOtherItems } from './event-redaction';
import { rollupCondition, rollupCounts, rollupCurrent, type RollupSpan } from './event-rollup';
import { folderDayCounts, folderIndexCounts, scopeIsEmpty, splitScopeByFolder, type FolderGroup } from './name-rollup';
import type { CloudTrailDatabase, EntryRow } from './event-schema';
import {
  allOf,
  ALWAYS,
  anyOf,
  coversItemBranches,
  FULL_SCOPE,
  isFullScope,
  NEVER,
  scopeAllows,
  scopeForItem,
  scopeBranches,
  scopeSql,
  underPathBranches,
  UNINDEXED_COLUMNS,
  type AuditScope,
  type SqlCondition,
} from './event-scope';

// Reviewers' questions over the event index: the filtered timeline (newest first, keyset pages on
// (time, id)), its chart, the export of exactly that set, and one item's Access panel. Every
// filter and the caller's grants are conditions in one SQL statement over ct_entries. The SQL is
// written out (kysely `sql` templates, values bound) rather than built, because its shape is the
// query plan: one index walk per alternative, cut to a page, merged. It runs as it is on SQLite
// and PostgreSQL; the differences (case-insensitive LIKE, REGEXP) are chosen by dialect.

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

/** Reads of one item by one principal from one source, for the Used by panel. */
export interface ReaderSource {
  /** The role behind an assumed-role session, else the identity; null when CloudTrail names none. */
  principal: string | null;
  /** sourceIPAddress: an address, or the AWS service that read on the principal's behalf (ecs-tasks.amazonaws.com…). */
  source: string | null;
  reads: number;
  firstReadAt: string;
  lastReadAt: string;
}

/** Reads of one name (an item, or a folder read by path) by one principal. */
export interface StoreRead {
  itemName: string;
  /** A folder read with Recursive=true (it covers every level below). */
  recursive: boolean;
  principal: string | null;
  firstAt: string;
  lastAt: string;
}

/** A name (an item, or a folder read by path) and a principal, asked of EventQueries.wereRead. */
export interface ReadProbe {
  itemName: string;
  principal: string;
  /** Only a recursive folder read counts (one read recursively covers every level below). */
  recursiveOnly: boolean;
}

/** Probes per statement (two bound values each). */
const PROBE_BATCH = 500;

/** Reads of one item by one principal that named a version (not the current one by default), grouped per version. */
export interface VersionedRead {
  itemName: string;
  principal: string | null;
  /** event-mapping.ts VersionRef: `version:<n or id>` or `label:<label>`. */
  version: string;
  firstAt: string;
  lastAt: string;
  reads: number;
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

/** Lower case as LIKE (SQLite) and ILIKE over the "C" collation (PostgreSQL) fold it: ASCII letters only. */
const asciiLower = (text: string) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
/** The value reads, as a constant list in the SQL (the same text every time, so one cached plan). */
const READ_LIST = sql.raw(`(${VALUE_READ_EVENTS.map((e) => `'${e}'`).join(', ')})`);
/** LIKE ignores ASCII case on SQLite; PostgreSQL's ILIKE does the same over the "C" collation. */
const likeOperator = (dialect: DialectName) => sql.raw(dialect === 'postgres' ? 'ILIKE' : 'LIKE');

/** Rows after a page's cursor: older, or as old and written earlier (the timeline's order). */
const olderThan = (at: { time: string; id: number }) => sql<SqlBool>`(event_time, id) < (${at.time}, ${at.id})`;

/** Rows a path's page tests in time order before it goes by the path's index (see EventQueries.timeline). */
export const PATH_WALK = 5000;

/** Beyond this many alternatives a plan is one condition (one walk) instead. */
const MAX_BRANCHES = 48;
/** An actor substring matching more principals than this is filtered row by row instead. */
export const MAX_ACTOR_BRANCHES = 24;
/**
 * A chart needs no order, so it looks up up to this many principals an actor substring matches
 * (an IN list) before counting row by row: "person-12" matches 111 of the benchmark's 2,000, and
 * row by row the chart read every row (0.7 s at 1,000,000 events).
 */
export const MAX_CHART_PRINCIPALS = 2000;

/**
 * A query over ct_entries: conditions every row meets, and disjoint alternatives (an item and its
 * folders, a principal or a session ARN, ...). Each alternative walks its own index newest first
 * and stops after a page; the walks are merged. Without alternatives, one walk.
 */
export interface QueryPlan {
  common: SqlCondition;
  branches: SqlCondition[] | null;
}

function crossProduct(groups: SqlCondition[][]): SqlCondition[] {
  return groups.reduce<SqlCondition[][]>((acc, group) => acc.flatMap((a) => group.map((g) => [...a, g])), [[]]).map(allOf);
}

/**
 * The filters and the scope as a plan. `actorPrincipals`: the principals an actor substring
 * matches (see EventQueries.principalsMatching), or null to filter it row by row.
 */
export function planOf(filters: AuditFilters, scope: AuditScope, dialect: DialectName, actorPrincipals: string[] | null = null, scopeAsBranches = false): QueryPlan {
  const common: SqlCondition[] = [];
  const add = (part: SqlCondition) => common.push(part);
  const groups: SqlCondition[][] = [];
  const reach = filters.item !== undefined ? scopeForItem(scope, filters.item) : scope;
  // A count under a grant cut by name, on SQLite: the grant's name ranges (ct_entries_name_chart,
  // which holds all a count needs) are what an auditor's rows lie in, but without statistics of
  // ranges SQLite walked the event name's, the store's or the time's index instead, across every
  // name (0.7 s for an auditor's event chart at 1,000,000 events, 10x the range). A unary + keeps
  // those broad filters' indexes out, so the count costs at most the auditor's own rows; the
  // selective ones (actor, address, item, path) keep theirs.
  // A path is such a range too: under a grant cut, SQLite took the store index for the grant's
  // store list and the time range (every row of 80 stores, 18 s at 3,000,000 events) rather than
  // the path's range; the grant's store test is then made on the rows of the ranges (+store_id).
  const byName =
    scopeAsBranches && dialect === 'sqlite' && ((reach.stores !== 'all' && reach.stores.some((s) => s.namePattern !== null)) || filters.path !== undefined) &&
    filters.actor === undefined && filters.ip === undefined && filters.item === undefined;
  const broad = (column: string) => sql.raw(byName ? `+${column}` : column);
  // A count of an actor's or an address's rows: the indexes by (principal or address, item name)
  // carry what it counts, where the time-ordered ones send every row to the table (SQLite took
  // those for the time range a chart always has: 0.9-1.3 s for an actor substring at 3,000,000
  // events against 0.3 s from the index alone), so the time range is no way in there.
  const countsBy = scopeAsBranches && dialect === 'sqlite' && filters.item === undefined && (filters.actor !== undefined || filters.ip !== undefined);
  const time = sql.raw(byName || countsBy ? '+event_time' : 'event_time');
  if (filters.actor !== undefined) {
    const actor = filters.actor;
    if (filters.actorMatch === 'exact') {
      groups.push([sql<SqlBool>`principal = ${actor}`, sql<SqlBool>`(actor_arn = ${actor} AND (principal IS NULL OR principal <> ${actor}))`]);
    } else {
      const like = likeOperator(dialect);
      const pattern = likeContains(actor);
      const bySession = sql<SqlBool>`actor_arn ${like} ${pattern} ESCAPE '\\'`;
      if (actorPrincipals === null) add(sql<SqlBool>`(${bySession} OR principal ${like} ${pattern} ESCAPE '\\')`);
      else {
        // A principal whose own ARN holds the text (as LIKE and ILIKE over "C" see it: ASCII case
        // ignored) matches on every row of theirs, so those rows are counted from an index alone
        // (ct_entries_principal_name); the others' rows only where the session's ARN holds it.
        const text = asciiLower(actor);
        const whole = actorPrincipals.filter((p) => p !== '' && asciiLower(p).includes(text));
        const partly = actorPrincipals.filter((p) => !whole.includes(p));
        const one = (p: string) => (p === '' ? sql<SqlBool>`principal IS NULL` : sql<SqlBool>`principal = ${p}`);
        if (actorPrincipals.length > MAX_BRANCHES) {
          // A count's many principals (see MAX_CHART_PRINCIPALS): IN lists, each principal looked up in an index.
          const named = partly.filter((p) => p !== '');
          add(
            anyOf([
              ...(whole.length ? [sql<SqlBool>`principal IN (${sql.join(whole)})`] : []),
              ...(named.length ? [sql<SqlBool>`(principal IN (${sql.join(named)}) AND ${bySession})`] : []),
              ...(partly.includes('') ? [sql<SqlBool>`(principal IS NULL AND ${bySession})`] : []),
            ]),
          );
        } else groups.push([...whole.map(one), ...partly.map((p) => sql<SqlBool>`(${one(p)} AND ${bySession})`)]);
      }
    }
  }
  if (filters.event?.length) add(sql<SqlBool>`${broad('event_name')} IN (${sql.join(filters.event)})`);
  if (filters.access) add(sql<SqlBool>`read_only = ${filters.access === 'read' ? 1 : 0}`);
  if (filters.item !== undefined) groups.push(coversItemBranches(filters.item));
  if (filters.path !== undefined) groups.push(underPathBranches(filters.path, reach));
  if (filters.store !== undefined) add(sql<SqlBool>`${broad('store_id')} = ${filters.store}`);
  if (filters.ip !== undefined) add(sql<SqlBool>`source_ip = ${filters.ip}`);
  if (filters.from !== undefined) add(sql<SqlBool>`${time} >= ${filters.from}`);
  if (filters.to !== undefined) add(sql<SqlBool>`${time} <= ${filters.to}`);
  if (filters.error !== undefined) add(sql<SqlBool>`${broad('error_code')} = ${filters.error}`);
  else if (filters.outcome === 'success') add(sql<SqlBool>`error_code IS NULL`);
  else if (filters.outcome === 'error') add(sql<SqlBool>`${broad('error_code')} IS NOT NULL`);
  // Counting (the chart): each name range of the grants its own index range. A page keeps the cut
  // in the common part instead: its walk is in time order, and a range's rows are not.
  const reachBranches = scopeAsBranches ? scopeBranches(reach, dialect, byName ? NAME_FIRST_COLUMNS : undefined) : null;
  if (reachBranches) groups.push(reachBranches);
  else add(scopeSql(reach, dialect, dialect === 'sqlite' ? UNINDEXED_COLUMNS : undefined));

  // A group with no alternative (an actor substring no principal matches) matches nothing; as an
  // empty cross product it would also leave no statement to run.
  if (groups.some((g) => g.length === 0)) return { common: allOf([...common, NEVER]), branches: null };
  const size = groups.reduce((n, g) => n * g.length, 1);
  if (groups.length > 0 && size <= MAX_BRANCHES) return { common: allOf(common), branches: crossProduct(groups) };
  for (const group of groups) add(anyOf(group));
  return { common: allOf(common), branches: null };
}

const HOUR_MS = 3_600_000;

/** The scope's columns for a count whose way in is a name range: the store list tested on the range's rows. */
const NAME_FIRST_COLUMNS = { store: sql<string>`+store_id`, name: sql.ref('item_name') as RawBuilder<string> };

/**
 * A chart's time range [from, to] as whole days and hours for the rollup (keys of their width,
 * `to` exclusive) and the partial hours at its ends for the index (ISO bounds, `to` exclusive).
 */
export function splitForRollup(from: string | undefined, to: string | undefined, bucket: ChartBucket): { spans: RollupSpan[]; edges: { from?: string; to?: string }[] } {
  const iso = (ms: number) => new Date(ms).toISOString();
  const start = from === undefined ? null : Date.parse(from);
  const end = to === undefined ? null : Date.parse(to) + 1;
  const h1 = start === null ? null : Math.ceil(start / HOUR_MS) * HOUR_MS;
  const h2 = end === null ? null : Math.floor(end / HOUR_MS) * HOUR_MS;
  if (h1 !== null && h2 !== null && h1 >= h2) return { spans: [], edges: [{}] };
  const edges: { from?: string; to?: string }[] = [];
  if (h1 !== null && start !== null && start < h1) edges.push({ to: iso(h1) });
  if (h2 !== null && end !== null && h2 < end) edges.push({ from: iso(h2) });
  const hourKey = (ms: number | null) => (ms === null ? null : iso(ms).slice(0, 13));
  if (bucket === 'hour') return { spans: [{ width: 'hour', from: hourKey(h1), to: hourKey(h2) }], edges };
  const d1 = h1 === null ? null : Math.ceil(h1 / DAY_MS) * DAY_MS;
  const d2 = h2 === null ? null : Math.floor(h2 / DAY_MS) * DAY_MS;
  if (d1 !== null && d2 !== null && d1 >= d2) return { spans: [{ width: 'hour', from: hourKey(h1), to: hourKey(h2) }], edges };
  const spans: RollupSpan[] = [{ width: 'day', from: d1 === null ? null : iso(d1).slice(0, 10), to: d2 === null ? null : iso(d2).slice(0, 10) }];
  if (h1 !== null && d1 !== null && h1 < d1) spans.push({ width: 'hour', from: hourKey(h1), to: hourKey(d1) });
  if (h2 !== null && d2 !== null && d2 < h2) spans.push({ width: 'hour', from: hourKey(d2), to: hourKey(h2) });
  return { spans, edges };
}

/**
 * A time range [from, to] as whole days [span.from, span.to) for the name rollup ('YYYY-MM-DD',
 * null: open; null span: no whole day) and the conditions on event_time of the parts outside them.
 */
export function splitDays(from: string | undefined, to: string | undefined): { span: { from: string | null; to: string | null } | null; edges: { op: '<' | '>='; at: string }[] } {
  const iso = (ms: number) => new Date(ms).toISOString();
  const start = from === undefined ? null : Date.parse(from);
  const end = to === undefined ? null : Date.parse(to) + 1;
  const d1 = start === null ? null : Math.ceil(start / DAY_MS) * DAY_MS;
  const d2 = end === null ? null : Math.floor(end / DAY_MS) * DAY_MS;
  // No whole day: the range is all edge (every time is >= '').
  if (d1 !== null && d2 !== null && d1 >= d2) return { span: null, edges: [{ op: '>=', at: '' }] };
  const edges: { op: '<' | '>='; at: string }[] = [];
  if (d1 !== null && start !== null && start < d1) edges.push({ op: '<', at: iso(d1) });
  if (d2 !== null && end !== null && d2 < end) edges.push({ op: '>=', at: iso(d2) });
  return { span: { from: d1 === null ? null : iso(d1).slice(0, 10), to: d2 === null ? null : iso(d2).slice(0, 10) }, edges };
}

/** Each alternative's full condition (its branch, the common part, and `extra`). */
function alternatives(plan: QueryPlan, extra: SqlCondition = ALWAYS): SqlCondition[] {
  return (plan.branches ?? [null]).map((b) => allOf([...(b === null ? [] : [b]), plan.common, extra]));
}

/**
 * The plan's alternatives each as its own statement (so each uses its own index), joined by
 * UNION ALL; the alternatives are disjoint, so totals over the union are exact. Each statement is
 * a subquery of its own (aliased: PostgreSQL wants a name for every one).
 */
export function eachAlternative(plan: QueryPlan, statement: (where: SqlCondition) => RawBuilder<unknown>, extra: SqlCondition = ALWAYS): RawBuilder<unknown> {
  const parts = alternatives(plan, extra).map((where, i) => sql`SELECT * FROM (${statement(where)}) AS ${sql.raw(`alt${i}`)}`);
  return sql.join(parts, sql` UNION ALL `);
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
  private readonly dialect: DialectName;

  /** `walk`: the newest rows a path's page tests in time order before it goes by index (0: by index at once, as tests check both ways). */
  constructor(
    private readonly db: Kysely<CloudTrailDatabase>,
    private readonly walk = PATH_WALK,
  ) {
    this.dialect = dialectOf(db);
  }

  /** One page of the filtered timeline, newest first. Throws AuditCursorError for a bad cursor. */
  async timeline(filters: AuditFilters, scope: AuditScope, page: PageOptions = {}): Promise<TimelinePage> {
    const limit = Math.min(Math.max(1, Math.floor(page.limit ?? 50)), MAX_PAGE_SIZE);
    const after = page.cursor ? decodeCursor(page.cursor) : null;
    const plan = await this.plan(filters, scope);
    let rows: PageRow[] = [];
    let from = after;
    // An actor, an address or an item has an index in time order of its own, which a page walks.
    const pathLeads = filters.path !== undefined && filters.actor === undefined && filters.ip === undefined && filters.item === undefined;
    if (pathLeads && this.walk > 0) {
      // A path's rows are a range of names, not of times: its walk is every row of the range,
      // sorted (all of a team's folder, 300 ms at 3,000,000 events). When they are common among
      // the newest rows, those are all a page takes; only when they are not does the page go on
      // by the path's index, from where this walk stopped.
      // A path holding 1 % of the newest rows fills a page from them; a short page walks fewer.
      const recent = await this.fetchRecent(plan, after, limit + 1, Math.min(this.walk, (limit + 1) * 100));
      rows = recent.rows;
      if (rows.length > limit || recent.lastExamined === null) return this.toPage(rows, limit, scope);
      from = recent.lastExamined;
    }
    if (from) plan.common = allOf([plan.common, olderThan(from)]);
    rows = [...rows, ...(await this.fetch(plan, limit + 1 - rows.length))];
    return this.toPage(rows, limit, scope);
  }

  /** Up to `limit` rows of the page and whether there are more (`rows` holds one more when there are). */
  private async toPage(rows: PageRow[], limit: number, scope: AuditScope): Promise<TimelinePage> {
    const kept = rows.slice(0, limit);
    const last = kept.at(-1);
    return {
      entries: await this.toEntries(kept, scope),
      nextCursor: rows.length > limit && last ? encodeCursor(last.event_time, last.id) : undefined,
    };
  }

  /**
   * Reads and writes per hour or day over exactly the filtered set, as disjoint parts summed per
   * bucket: a day chart of a grant's exact folder ranges from the name rollup (name-rollup.ts),
   * the rest as chartParts counts it.
   */
  async chart(filters: AuditFilters, scope: AuditScope, bucket: ChartBucket): Promise<ActivityChart> {
    const principals = filters.actor !== undefined && filters.actorMatch !== 'exact' ? await this.principalsMatching(filters.actor, MAX_CHART_PRINCIPALS) : null;
    // A grant's exact folder ranges under the rollup's filters: the name rollup (name-rollup.ts) for them, the other ways for the rest.
    const byFolder = bucket === 'day' && rollupCondition(filters, FULL_SCOPE) !== null ? splitScopeByFolder(scope) : null;
    let parts: RawBuilder<unknown>[];
    if (byFolder !== null && (await rollupCurrent(this.db))) {
      parts = [...(scopeIsEmpty(byFolder.rest) ? [] : await this.chartParts(filters, byFolder.rest, bucket, principals)), ...this.folderParts(filters, byFolder.groups)];
    } else parts = await this.chartParts(filters, scope, bucket, principals);
    if (parts.length === 0) return { bucket, points: [] };
    const union = sql.join(
      parts.map((part, i) => sql`SELECT * FROM (${part}) AS ${sql.raw(`part${i}`)}`),
      sql` UNION ALL `,
    );
    const { rows } = await sql<{ b: string; reads: number; writes: number }>`
      SELECT b, sum(reads) AS reads, sum(n) - sum(reads) AS writes FROM (${union}) AS buckets GROUP BY b ORDER BY b`.execute(this.db);
    const suffix = bucket === 'hour' ? ':00:00.000Z' : 'T00:00:00.000Z';
    return { bucket, points: rows.map((r) => ({ start: `${r.b}${suffix}`, reads: Number(r.reads), writes: Number(r.writes) })) };
  }

  /**
   * The chart's counts (b, reads, n) without a name rollup: filters the rollup keeps sum it for
   * the whole hours and days of the range and count the index only for the partial hours at its
   * ends; others count the index, each grant range on its own.
   */
  private async chartParts(filters: AuditFilters, scope: AuditScope, bucket: ChartBucket, principals: string[] | null): Promise<RawBuilder<unknown>[]> {
    const chartWidth = bucket === 'hour' ? 13 : 10;
    const width = sql.raw(String(chartWidth));
    const plan = planOf(filters, scope, this.dialect, principals, true);
    const counted = (extra: SqlCondition = ALWAYS) =>
      eachAlternative(plan, (where) => sql`SELECT substr(event_time, 1, ${width}) AS b, sum(read_only) AS reads, count(*) AS n FROM ct_entries WHERE ${where} GROUP BY 1`, extra);
    const onRollup = rollupCondition(filters, scope);
    if (onRollup === null || !(await rollupCurrent(this.db))) return [counted()];
    const split = splitForRollup(filters.from, filters.to, bucket);
    return [
      ...split.spans.map((span) => rollupCounts(span, onRollup, chartWidth)),
      ...split.edges.map((edge) => counted(allOf([...(edge.from ? [sql<SqlBool>`event_time >= ${edge.from}`] : []), ...(edge.to ? [sql<SqlBool>`event_time < ${edge.to}`] : [])]))),
    ];
  }

  /**
   * A day chart's counts for grants' exact folder ranges (name-rollup.ts): whole days from the
   * name rollup, the partial days at the ends from the index item by item. Only for filters the
   * rollup keeps (no actor, address, item or path).
   */
  private folderParts(filters: AuditFilters, groups: FolderGroup[]): RawBuilder<unknown>[] {
    const onKeys = rollupCondition(filters, FULL_SCOPE)!;
    const days = splitDays(filters.from, filters.to);
    // On SQLite a unary + keeps the broad columns' indexes out, so each item's seek is the way in.
    const col = (name: string) => sql.raw(this.dialect === 'sqlite' ? `+${name}` : name);
    const rowFilters: SqlCondition[] = [];
    if (filters.event?.length) rowFilters.push(sql<SqlBool>`${col('event_name')} IN (${sql.join(filters.event)})`);
    if (filters.access) rowFilters.push(sql<SqlBool>`${col('read_only')} = ${filters.access === 'read' ? 1 : 0}`);
    if (filters.store !== undefined) rowFilters.push(sql<SqlBool>`${col('store_id')} = ${filters.store}`);
    // The time stays indexed: after an item's name and store it is the seek's range.
    if (filters.from !== undefined) rowFilters.push(sql<SqlBool>`event_time >= ${filters.from}`);
    if (filters.to !== undefined) rowFilters.push(sql<SqlBool>`event_time <= ${filters.to}`);
    if (filters.error !== undefined) rowFilters.push(sql<SqlBool>`${col('error_code')} = ${filters.error}`);
    else if (filters.outcome === 'success') rowFilters.push(sql<SqlBool>`${col('error_code')} IS NULL`);
    else if (filters.outcome === 'error') rowFilters.push(sql<SqlBool>`${col('error_code')} IS NOT NULL`);
    const edges = days.edges.map((edge) => sql<SqlBool>`event_time ${sql.raw(edge.op)} ${edge.at}`);
    return groups.flatMap((group) => [
      ...(days.span ? folderDayCounts(group, days.span.from, days.span.to, onKeys) : []),
      ...edges.flatMap((edge) => folderIndexCounts(group, allOf([...rowFilters, edge]), 10)),
    ]);
  }

  /** The principals an actor substring matches (through ct_actors), or null when too many to walk one by one. */
  async principalsMatching(text: string, max = MAX_ACTOR_BRANCHES): Promise<string[] | null> {
    const pattern = likeContains(text);
    const like = likeOperator(this.dialect);
    const { rows } = await sql<{ principal: string }>`
      SELECT DISTINCT principal FROM ct_actors WHERE principal ${like} ${pattern} ESCAPE '\\' OR actor_arn ${like} ${pattern} ESCAPE '\\'
      LIMIT ${max + 1}`.execute(this.db);
    return rows.length > max ? null : rows.map((r) => r.principal);
  }

  private async plan(filters: AuditFilters, scope: AuditScope): Promise<QueryPlan> {
    const principals = filters.actor !== undefined && filters.actorMatch !== 'exact' ? await this.principalsMatching(filters.actor) : null;
    return planOf(filters, scope, this.dialect, principals);
  }

  /**
   * Every entry of the filtered set, newest first, fetched page by page (constant memory; the
   * event loop gets a turn between pages). Rows written while it runs above its position are not
   * included: the export is the set as of its first page.
   */
  async *exportEntries(filters: AuditFilters, scope: AuditScope, pageSize = EXPORT_PAGE_SIZE): AsyncGenerator<AuditEntry> {
    const { rows } = await sql<{ event_time: string; id: number }>`SELECT event_time, id FROM ct_entries ORDER BY event_time DESC, id DESC LIMIT 1`.execute(this.db);
    const bound = rows[0];
    if (!bound) return;
    // Start just above the newest row at the start, so the walk is one fixed set.
    let cursor: string | undefined = encodeCursor(bound.event_time, bound.id + 1);
    while (cursor) {
      const page = await this.timeline(filters, scope, { cursor, limit: pageSize });
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
    const only = (...extra: SqlCondition[]): QueryPlan => ({
      common: allOf([sql<SqlBool>`store_id = ${storeId}`, ...extra]),
      branches: coversItemBranches(itemName),
    });
    const item = only();
    const readPlan = only(sql<SqlBool>`event_name IN ${READ_LIST}`, sql<SqlBool>`error_code IS NULL`);
    const since = (days: number) => new Date(now - days * DAY_MS).toISOString();

    const readersSince = async (days: number) => {
      const parts = eachAlternative(
        readPlan,
        (where) => sql`SELECT principal, count(*) AS n, max(event_time) AS last_at, min(event_time) AS first_at FROM ct_entries WHERE ${where} GROUP BY principal`,
        sql<SqlBool>`event_time >= ${since(days)}`,
      );
      // Ties (same count, same last read) in one order on both dialects: named principals first, by name.
      const { rows } = await sql<{ principal: string | null; reads: number; last_at: string; first_at: string }>`
        SELECT principal, sum(n) AS reads, max(last_at) AS last_at, min(first_at) AS first_at FROM (${parts}) AS readers
        GROUP BY principal ORDER BY reads DESC, last_at DESC, CASE WHEN principal IS NULL THEN 1 ELSE 0 END, principal`.execute(this.db);
      return rows.map((r) => ({ ...r, reads: Number(r.reads) }));
    };

    const seenBefore = async (principal: string | null, from: string, to: string) => {
      const who = principal === null ? sql<SqlBool>`principal IS NULL` : sql<SqlBool>`principal = ${principal}`;
      const parts = eachAlternative(readPlan, (where) => sql`SELECT 1 AS seen FROM ct_entries WHERE ${where} LIMIT 1`, allOf([who, sql<SqlBool>`event_time >= ${from}`, sql<SqlBool>`event_time < ${to}`]));
      const { rows } = await sql`${parts} LIMIT 1`.execute(this.db);
      return rows.length > 0;
    };

    const [[lastRead], recent, recentReaders, readers30, readers90] = await Promise.all([
      this.pageOf(readPlan, 1),
      this.pageOf(item, PANEL_RECENT_EVENTS),
      readersSince(newReaderDays),
      readersSince(30),
      readersSince(90),
    ]);
    const before = await Promise.all(
      recentReaders.map((r) => seenBefore(r.principal, new Date(Date.parse(r.first_at) - NEW_READER_LOOKBACK_DAYS * DAY_MS).toISOString(), r.first_at)),
    );
    const newReaders = recentReaders.filter((_, i) => !before[i]).map((r) => ({ principal: r.principal, firstReadAt: r.first_at }));
    const isNew = new Set(newReaders.map((r) => r.principal));
    const toReaders = (rows: typeof readers30): Reader[] => rows.map((r) => ({ principal: r.principal, reads: r.reads, lastReadAt: r.last_at, isNew: isNew.has(r.principal) }));

    return { lastRead: lastRead ?? null, readers30: toReaders(readers30), readers90: toReaders(readers90), newReaders, recent, newReaderDays };
  }

  /**
   * Who read one item's value (alone or through a parent folder) in the last `days`, grouped by
   * principal and source, most reads first: the Used by panel's CloudTrail half. The caller has
   * already authorized 'view-audit' on the item.
   */
  async readersBySource(storeId: string, itemName: string, options: { now?: Date; days?: number; limit?: number } = {}): Promise<ReaderSource[]> {
    const now = (options.now ?? new Date()).getTime();
    const since = new Date(now - (options.days ?? 90) * DAY_MS).toISOString();
    const plan: QueryPlan = {
      common: allOf([sql<SqlBool>`store_id = ${storeId}`, sql<SqlBool>`event_name IN ${READ_LIST}`, sql<SqlBool>`error_code IS NULL`]),
      branches: coversItemBranches(itemName),
    };
    const parts = eachAlternative(
      plan,
      (where) =>
        sql`SELECT principal, source_ip, count(*) AS n, min(event_time) AS first_at, max(event_time) AS last_at FROM ct_entries WHERE ${where} GROUP BY principal, source_ip`,
      sql<SqlBool>`event_time >= ${since}`,
    );
    const { rows } = await sql<{ principal: string | null; source_ip: string | null; reads: number; first_at: string; last_at: string }>`
      SELECT principal, source_ip, sum(n) AS reads, min(first_at) AS first_at, max(last_at) AS last_at FROM (${parts}) AS sources
      GROUP BY principal, source_ip
      ORDER BY reads DESC, last_at DESC, CASE WHEN principal IS NULL THEN 1 ELSE 0 END, principal, CASE WHEN source_ip IS NULL THEN 1 ELSE 0 END, source_ip
      LIMIT ${options.limit ?? 200}`.execute(this.db);
    return rows.map((r) => ({ principal: r.principal, source: r.source_ip, reads: Number(r.reads), firstReadAt: r.first_at, lastReadAt: r.last_at }));
  }

  /**
   * Successful value reads of a store's items and folders since `from`, per name and principal
   * (first and last read): one pass over the store's rows for the findings, which spread folder
   * reads (GetParametersByPath) to the items below themselves.
   */
  async readsOfStore(storeId: string, from: string): Promise<StoreRead[]> {
    const { rows } = await sql<{ item_name: string; recursive: number; principal: string | null; first_at: string; last_at: string }>`
      SELECT item_name, coalesce(path_recursive, 0) AS recursive, principal, min(event_time) AS first_at, max(event_time) AS last_at
      FROM ct_entries
      WHERE store_id = ${storeId} AND item_name IS NOT NULL AND event_name IN ${READ_LIST} AND error_code IS NULL AND event_time >= ${from}
      GROUP BY item_name, coalesce(path_recursive, 0), principal`.execute(this.db);
    return rows.map((r) => ({ itemName: r.item_name, recursive: Number(r.recursive) === 1, principal: r.principal, firstAt: r.first_at, lastAt: r.last_at }));
  }

  /**
   * readsOfStore over the rows after `afterId` only (and the highest id read): the findings' cache
   * of a store's reads takes in what was ingested since its last pass this way, in milliseconds.
   */
  async readsOfStoreAfter(storeId: string, from: string, afterId: number): Promise<{ reads: StoreRead[]; maxId: number }> {
    const [{ rows }, top] = await Promise.all([
      sql<{ item_name: string; recursive: number; principal: string | null; first_at: string; last_at: string }>`
        SELECT item_name, coalesce(path_recursive, 0) AS recursive, principal, min(event_time) AS first_at, max(event_time) AS last_at
        FROM ct_entries
        WHERE id > ${afterId} AND store_id = ${storeId} AND item_name IS NOT NULL AND event_name IN ${READ_LIST} AND error_code IS NULL AND event_time >= ${from}
        GROUP BY item_name, coalesce(path_recursive, 0), principal`.execute(this.db),
      sql<{ max_id: number | null }>`SELECT max(id) AS max_id FROM ct_entries`.execute(this.db),
    ]);
    const reads = rows.map((r) => ({ itemName: r.item_name, recursive: Number(r.recursive) === 1, principal: r.principal, firstAt: r.first_at, lastAt: r.last_at }));
    return { reads, maxId: Number(top.rows[0]?.max_id ?? 0) };
  }

  /**
   * For each (name, principal): whether the principal read that name successfully in [from, to)
   * (a folder's name: a GetParametersByPath of it; `recursiveOnly`: only a recursive one counts).
   * One statement per batch: the probes as a VALUES list, each an EXISTS that seeks ct_entries_item
   * by name and time and stops at its first row. new-reader's look-back for only the pairs read in
   * its window. (A UNION ALL of one SELECT per probe answers the same but costs SQLite six times as
   * long to prepare as to run.)
   */
  async wereRead(storeId: string, probes: readonly ReadProbe[], from: string, to: string): Promise<boolean[]> {
    const found = new Array<boolean>(probes.length).fill(false);
    // SQLite has no statistics to choose between the item and principal indexes; an item's rows are
    // the fewer (a role reads many items), so it is told. PostgreSQL chooses from its own.
    const entries = sql.raw(this.dialect === 'sqlite' ? 'ct_entries AS e INDEXED BY ct_entries_item' : 'ct_entries AS e');
    for (let start = 0; start < probes.length; start += PROBE_BATCH) {
      const batch = probes.slice(start, start + PROBE_BATCH);
      // VALUES columns are column1.. on both dialects; the key and the flag are literals (integers).
      const values = sql.join(batch.map((p, i) => sql`(${sql.lit(start + i)}, ${p.itemName}, ${p.principal}, ${sql.lit(p.recursiveOnly ? 1 : 0)})`));
      const { rows } = await sql<{ k: number }>`
        SELECT p.column1 AS k FROM (VALUES ${values}) AS p
        WHERE EXISTS (
          SELECT 1 FROM ${entries}
          WHERE e.item_name = p.column2 AND e.event_time >= ${from} AND e.event_time < ${to} AND e.principal = p.column3
          AND e.store_id = ${storeId} AND e.event_name IN ${READ_LIST} AND e.error_code IS NULL AND (p.column4 = 0 OR e.path_recursive = 1))`.execute(this.db);
      for (const r of rows) found[Number(r.k)] = true;
    }
    return found;
  }

  /**
   * Successful reads of the store's items since `from` that named a version ("name:3", versionStage),
   * per item, principal and version. Few rows (most reads ask for the current value), found through
   * the partial index ct_entries_version.
   */
  async versionedReadsOfStore(storeId: string, from: string): Promise<VersionedRead[]> {
    const { rows } = await sql<{ item_name: string; principal: string | null; version_ref: string; first_at: string; last_at: string; reads: number }>`
      SELECT item_name, principal, version_ref, min(event_time) AS first_at, max(event_time) AS last_at, count(*) AS reads
      FROM ct_entries
      WHERE store_id = ${storeId} AND version_ref IS NOT NULL AND item_name IS NOT NULL AND event_name IN ${READ_LIST} AND error_code IS NULL AND event_time >= ${from}
      GROUP BY item_name, principal, version_ref`.execute(this.db);
    return rows.map((r) => ({ itemName: r.item_name, principal: r.principal, version: r.version_ref, firstAt: r.first_at, lastAt: r.last_at, reads: Number(r.reads) }));
  }

  /** The oldest event the index holds about a store (what its reads can be known from), or null. */
  async storeCoverage(storeId: string): Promise<string | null> {
    const { rows } = await sql<{ since: string | null }>`SELECT min(event_time) AS since FROM ct_entries WHERE store_id = ${storeId}`.execute(this.db);
    return rows[0]?.since ?? null;
  }

  /** The newest `limit` rows matching, with their events (the panel is for an authorized item: full raw). */
  private async pageOf(plan: QueryPlan, limit: number): Promise<AuditEntry[]> {
    return (await this.fetch(plan, limit)).map((row) => toEntry(row, JSON.parse(row.raw) as Record<string, unknown>));
  }

  /**
   * The plan's rows among the newest `walk` rows after `after`, newest first, up to `limit`; and
   * the last row the walk examined (null when it reached the oldest row: nothing is left below).
   */
  private async fetchRecent(
    plan: QueryPlan,
    after: { time: string; id: number } | null,
    limit: number,
    walk: number,
  ): Promise<{ rows: PageRow[]; lastExamined: { time: string; id: number } | null }> {
    const position = after ? olderThan(after) : ALWAYS;
    const matches = allOf([plan.common, ...(plan.branches ? [anyOf(plan.branches)] : [])]);
    const { rows } = await sql<PageRow>`
      SELECT e.*, ev.event_id, ev.source_id, ev.raw
      FROM (SELECT * FROM (SELECT * FROM ct_entries WHERE ${position} ORDER BY event_time DESC, id DESC LIMIT ${walk}) AS recent
        WHERE ${matches} ORDER BY event_time DESC, id DESC LIMIT ${limit}) AS e
      JOIN ct_events ev ON ev.id = e.event_pk
      ORDER BY e.event_time DESC, e.id DESC`.execute(this.db);
    if (rows.length >= limit) return { rows, lastExamined: null };
    const { rows: edge } = await sql<{ event_time: string; id: number | string }>`
      SELECT event_time, id FROM ct_entries WHERE ${position} ORDER BY event_time DESC, id DESC LIMIT 1 OFFSET ${walk - 1}`.execute(this.db);
    return { rows, lastExamined: edge[0] ? { time: edge[0].event_time, id: Number(edge[0].id) } : null };
  }

  /**
   * The newest `limit` rows of a plan: each alternative's own walk, newest first, cut at `limit`,
   * then merged; only then are the page's events joined.
   */
  private async fetch(plan: QueryPlan, limit: number): Promise<PageRow[]> {
    const merged = eachAlternative(plan, (where) => sql`SELECT * FROM ct_entries WHERE ${where} ORDER BY event_time DESC, id DESC LIMIT ${limit}`);
    const { rows } = await sql<PageRow>`
      SELECT e.*, ev.event_id, ev.source_id, ev.raw
      FROM (${merged} ORDER BY event_time DESC, id DESC LIMIT ${limit}) AS e
      JOIN ct_events ev ON ev.id = e.event_pk
      ORDER BY e.event_time DESC, e.id DESC`.execute(this.db);
    return rows;
  }

  /**
   * Rows to entries. For scoped callers every raw event is cut to the items they may see (see
   * event-redaction.ts), whether it maps one item or many: its rows the scope allows, and the row
   * itself (shown, so already theirs). A name also carried by a row they may not see is hidden.
   */
  private async toEntries(rows: PageRow[], scope: AuditScope): Promise<AuditEntry[]> {
    if (rows.length === 0) return [];
    if (isFullScope(scope)) return rows.map((row) => toEntry(row, JSON.parse(row.raw) as Record<string, unknown>));
    const pks = [...new Set(rows.map((r) => r.event_pk))];
    const { rows: siblings } = await sql<{ event_pk: number; store_id: string | null; item_name: string | null }>`
      SELECT event_pk, store_id, item_name FROM ct_entries WHERE event_pk IN (${sql.join(pks)})`.execute(this.db);
    const byEvent = new Map<number, typeof siblings>();
    for (const s of siblings) byEvent.set(s.event_pk, [...(byEvent.get(s.event_pk) ?? []), s]);
    return rows.map((row) => {
      const raw = JSON.parse(row.raw) as Record<string, unknown>;
      const items = byEvent.get(row.event_pk) ?? [];
      const allowed = (s: (typeof siblings)[number]) =>
        (s.store_id === row.store_id && s.item_name === row.item_name) || (s.item_name !== null && scopeAllows(scope, s.store_id, s.item_name));
      const visible = new Set<string>();
      const hidden = new Set<string>();
      for (const s of items) if (s.item_name !== null) (allowed(s) ? visible : hidden).add(s.item_name);
      for (const name of hidden) visible.delete(name);
      if (row.item_name !== null) visible.add(row.item_name);
      return toEntry(row, redactOtherItems(raw, { visible, everyItemVisible: items.every(allowed) }));
    });
  }
}
