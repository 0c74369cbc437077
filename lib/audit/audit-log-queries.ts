import 'server-only';
import { sql, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { canEverywhere } from '@/lib/auth/authorize';
import { grantCoversSubtree, type Grant } from '@/lib/auth/grants';
import { compileGlob, globsPattern, nameRanges } from '@/lib/auth/path-glob';
import type { Principal } from '@/lib/auth/principal';
import { roleAllows } from '@/lib/auth/roles';
import { appDb, type AppDatabase } from '@/lib/db/app-db';
import { dialectOf, regexpMatch, type DialectName } from '@/lib/db/dialect';
import { nameScopeBranches } from '@/lib/db/name-scope';
import { prefixEnd } from '@/lib/db/prefix-range';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { auditEntryOf, type AuditEntry, type AuditRow } from './audit-log';

// Reviewers' questions over the dashboard's own log (audit_log), for the /audit timeline: a page of
// the filtered set, newest first, and its reads and writes per hour or day. Every filter and the
// caller's view-audit grants are conditions in SQL (one statement, or on PostgreSQL one per grant
// alternative joined by UNION), so pages and counts are exact at any size. An entry's target is
// "store:/name" for an item or folder (lib/data/audit.ts parseTarget), anything else for
// dashboard-wide entries; its store and name are taken apart in SQL by the same expressions the
// indexes of migration 0007-audit-log-filters are built on (a query uses an expression index only
// when it spells the expression the same way).

/** Own-log actions that read a value, and those that write one (the timeline's access filter). */
export const OWN_READ_ACTIONS = ['reveal'] as const;
export const OWN_WRITE_ACTIONS = ['rotate', 'generate', 'schedule-rotation', 'import'] as const;

type Condition = RawBuilder<SqlBool>;
const ALWAYS: Condition = sql<SqlBool>`1 = 1`;
const NEVER: Condition = sql<SqlBool>`1 = 0`;
const allOf = (parts: Condition[]): Condition => (parts.length ? sql<SqlBool>`(${sql.join(parts, sql` AND `)})` : ALWAYS);
const anyOf = (parts: Condition[]): Condition => (parts.length ? sql<SqlBool>`(${sql.join(parts, sql` OR `)})` : NEVER);

/** The target taken apart, per dialect: the same text as the migration's index expressions. */
interface TargetSql {
  /** The whole target, compared bytewise. */
  target: RawBuilder<string>;
  /** The part before the first ":" (a store id when the target parses). */
  store: RawBuilder<string>;
  /** The part after the first ":" (an item or folder name when the target parses), compared bytewise. */
  name: RawBuilder<string>;
  /** The target parses as parseTarget decides: ^[a-z0-9][a-z0-9-]{0,62}:/ and no line terminator after. */
  parsed: Condition;
  /** The name is a folder's (ends in "/"). */
  folder: Condition;
}

/** Line terminators: JavaScript's "." (parseTarget's ".*") stops at them, so a target holding one does not parse. */
const LINE_TERMINATORS = '\n\r\u2028\u2029';
/** What a store id may begin with, and hold (lib/data/audit.ts parseTarget: [a-z0-9][a-z0-9-]{0,62}). */
const STORE_FIRST = 'abcdefghijklmnopqrstuvwxyz0123456789';
const STORE_CHARS = `${STORE_FIRST}-`;

function targetSql(dialect: DialectName): TargetSql {
  if (dialect === 'postgres') {
    return {
      target: sql<string>`(target COLLATE "C")`,
      store: sql<string>`split_part(target, ':', 1)`,
      name: sql<string>`(substr(target, strpos(target, ':') + 1) COLLATE "C")`,
      // Built-in string functions: the one regular expression for this costs PostgreSQL about 14 µs a row.
      parsed: sql<SqlBool>`(strpos(target, ':') BETWEEN 2 AND 64 AND strpos(${STORE_FIRST}, substr(target, 1, 1)) > 0
        AND ltrim(substr(target, 1, strpos(target, ':') - 1), ${STORE_CHARS}) = '' AND substr(target, strpos(target, ':') + 1, 1) = '/'
        AND ${sql.join([...LINE_TERMINATORS].map((c) => sql`strpos(target, ${c}) = 0`), sql` AND `)})`,
      folder: sql<SqlBool>`right(target, 1) = '/'`,
    };
  }
  // SQLite: built-in functions only (a REGEXP call per row would cost a JavaScript call each).
  return {
    target: sql<string>`target`,
    store: sql<string>`substr(target, 1, instr(target, ':') - 1)`,
    name: sql<string>`substr(target, instr(target, ':') + 1)`,
    parsed: sql<SqlBool>`(instr(target, ':') BETWEEN 2 AND 64 AND substr(target, 1, 1) GLOB '[a-z0-9]'
      AND substr(target, 1, instr(target, ':') - 1) NOT GLOB '*[^a-z0-9-]*' AND substr(target, instr(target, ':') + 1, 1) = '/'
      AND target NOT GLOB ${`*[${LINE_TERMINATORS}]*`})`,
    folder: sql<SqlBool>`substr(target, -1) = '/'`,
  };
}

/** `%text%` for LIKE, with LIKE's own characters escaped (ESCAPE '\'). */
const likeContains = (text: string) => `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/**
 * The filters as a condition on audit_log, or null when the own log cannot match them (source IP
 * and error code exist only in CloudTrail). The same decisions as the timeline made in JavaScript
 * before: actor contains (ASCII case ignored, as the CloudTrail side) or equals (lower() both
 * sides), action, access by action, store, item and path by the parsed target, time range, outcome.
 */
export function ownFilterCondition(dialect: DialectName, filters: AuditFilters, options: { byReach?: boolean } = {}): Condition | null {
  if (filters.ip !== undefined || filters.error !== undefined) return null;
  const t = targetSql(dialect);
  const parts: Condition[] = [];
  // byReach: a name or target range (the caller's grants, a store, item or path) is the narrower
  // way in; SQLite, whose sampled statistics cannot tell, would take the action or outcome index
  // (a fifth of the log) and test the rest on every row of it. A unary + keeps a column's index out of its choice (PostgreSQL chooses by statistics).
  const steer = options.byReach && dialect === 'sqlite' ? sql.raw('+') : sql.raw('');
  const action = sql`${steer}action`;
  const outcome = sql`${steer}outcome`;
  if (filters.actor !== undefined) {
    if (filters.actorMatch === 'exact') parts.push(sql<SqlBool>`lower(actor) = lower(${filters.actor})`);
    else parts.push(sql<SqlBool>`actor ${sql.raw(dialect === 'postgres' ? 'ILIKE' : 'LIKE')} ${likeContains(filters.actor)} ESCAPE '\\'`);
  }
  if (filters.event?.length) parts.push(sql<SqlBool>`${action} IN (${sql.join(filters.event)})`);
  if (filters.access) parts.push(sql<SqlBool>`${action} IN (${sql.join([...(filters.access === 'read' ? OWN_READ_ACTIONS : OWN_WRITE_ACTIONS)])})`);
  if (filters.store !== undefined || filters.item !== undefined || filters.path !== undefined) {
    parts.push(t.parsed);
    // With a store, the whole target ("store:/name") is one index range; without, the name is.
    const head = filters.store !== undefined ? `${filters.store}:` : null;
    const column = head !== null ? t.target : t.name;
    if (filters.item !== undefined) parts.push(sql<SqlBool>`${column} = ${`${head ?? ''}${filters.item}`}`);
    if (filters.path !== undefined) {
      const prefix = `${head ?? ''}${filters.path}`;
      parts.push(sql<SqlBool>`${column} >= ${prefix} AND ${column} < ${prefixEnd(prefix)}`);
    }
    if (filters.item === undefined && filters.path === undefined && head !== null) {
      const prefix = `${head}/`;
      parts.push(sql<SqlBool>`${t.target} >= ${prefix} AND ${t.target} < ${prefixEnd(prefix)}`);
    }
  }
  if (filters.from !== undefined) parts.push(sql<SqlBool>`at >= ${filters.from}`);
  if (filters.to !== undefined) parts.push(sql<SqlBool>`at <= ${filters.to}`);
  if (filters.outcome === 'success') parts.push(sql<SqlBool>`${outcome} NOT IN ('denied', 'failure')`);
  if (filters.outcome === 'error') parts.push(sql<SqlBool>`${outcome} IN ('denied', 'failure')`);
  return allOf(parts);
}

/** What of the own log a caller may read: every entry, or what their view-audit grants reach. */
export type OwnLogReach = { all: true } | { all: false; grants: Grant[] };

export function ownLogReach(principal: Principal): OwnLogReach {
  if (canEverywhere(principal, 'view-audit')) return { all: true };
  return { all: false, grants: principal.grants.filter((g) => roleAllows(g.role, 'view-audit')) };
}

/**
 * The folders whose whole subtree the globs cover, exactly as lib/auth/path-glob.ts
 * globCoversSubtree decides: a glob whose levels after some literal or wildcard levels are all "**"
 * covers every folder those levels begin (its own and deeper ones). One alternative per such glob:
 * the names all begin with `prefix` (its literal levels), and match `pattern`.
 */
export function subtreeFolderAlternatives(globs: readonly string[]): { prefix: string; pattern: string }[] {
  return globs.flatMap(compileGlob).flatMap((c) => {
    const first = c.levels.findIndex((l) => l.anyDepth);
    if (first < 0 || !c.levels.slice(first).every((l) => l.anyDepth)) return [];
    const head = c.levels.slice(0, first) as { anyDepth: false; literal: string | null; source: string }[];
    const literals = head.findIndex((l) => l.literal === null);
    const prefix = `/${head.slice(0, literals < 0 ? head.length : literals).map((l) => `${l.literal}/`).join('')}`;
    return [{ prefix, pattern: `^/${head.map((l) => `${l.source}/`).join('')}(?:[^/]*/)*$` }];
  });
}

/** subtreeFolderAlternatives as one regular expression, or null when no glob covers any folder. */
export function subtreeFoldersPattern(globs: readonly string[]): string | null {
  const alternatives = subtreeFolderAlternatives(globs);
  return alternatives.length ? alternatives.map((a) => `(?:${a.pattern})`).join('|') : null;
}

/**
 * The caller's grants as a condition on audit_log: the same decision as lib/data/audit.ts mayRead.
 * An entry on an item: a grant covering its store and name (lib/db/name-scope.ts, the shared cut);
 * on a folder: a grant covering the folder's whole subtree; dashboard-wide entries (no store
 * target): auditors of everything only. Written as one OR of alternatives that each name an index
 * range (of the name, or of the whole target for a whole store), so the database looks up each
 * range instead of testing every row (SQLite does so only for an OR that is a term of its own).
 */
export function ownReachCondition(dialect: DialectName, reach: OwnLogReach): Condition {
  const branches = ownReachBranches(dialect, reach);
  return branches === null ? ALWAYS : allOf([targetSql(dialect).parsed, anyOf(branches)]);
}

/** ownReachCondition's alternatives (each holds only when the target parses, which they leave to the caller), or null for every entry. */
export function ownReachBranches(dialect: DialectName, reach: OwnLogReach): Condition[] | null {
  if (reach.all) return null;
  const t = targetSql(dialect);
  const item = sql<SqlBool>`NOT ${t.folder}`;
  const branches: Condition[] = [];
  for (const grant of reach.grants) {
    if (grantCoversSubtree(grant, '/')) {
      // Whole stores, items and folders alike (on every store it would be an auditor of everything).
      for (const storeId of grant.stores ?? []) {
        const head = `${storeId}:/`;
        branches.push(sql<SqlBool>`(${t.target} >= ${head} AND ${t.target} < ${prefixEnd(head)})`);
      }
      continue;
    }
    // A grant on every store: its store condition is always true ('' = '').
    const storeColumn = grant.stores === null ? sql<string>`''` : t.store;
    const scope = { namePattern: globsPattern(grant.paths), ranges: nameRanges(grant.paths) };
    for (const storeId of grant.stores ?? ['']) {
      for (const branch of nameScopeBranches(dialect, { storeId, ...scope }, storeColumn, t.name)) branches.push(sql<SqlBool>`(${branch} AND ${item})`);
    }
    const store = grant.stores === null ? [] : [sql<SqlBool>`${t.store} IN (${sql.join(grant.stores)})`];
    for (const folder of subtreeFolderAlternatives(grant.paths)) {
      const range = sql<SqlBool>`${t.name} >= ${folder.prefix} AND ${t.name} < ${prefixEnd(folder.prefix)}`;
      branches.push(allOf([range, t.folder, ...store, regexpMatch(dialect, t.name, folder.pattern)]));
    }
  }
  return branches;
}

/** Whether every alternative of the caller's grant cut is an index range (else it is tested row by row). */
export function reachIsIndexed(reach: OwnLogReach): boolean {
  return !reach.all && reach.grants.every((g) => grantCoversSubtree(g, '/') || nameRanges(g.paths) !== null);
}

/** Where a page starts: after this entry in newest-first order (time, then seq). */
export interface OwnLogPosition {
  at: string;
  seq: number;
}

/** Rows tested in time order before a page goes by index (see AuditLogQueries.page). */
const WALK = 2000;

export interface OwnLogQuery {
  filters: AuditFilters;
  reach: OwnLogReach;
}

export class AuditLogQueries {
  private readonly dialect: DialectName;

  /** `walk`: rows tested in time order before a page goes by index (0: by index at once, as tests check both ways). */
  constructor(
    private readonly db: Kysely<AppDatabase>,
    private readonly walk = WALK,
  ) {
    this.dialect = dialectOf(db);
  }

  /**
   * Whether the way in is a range of names or targets (a scoped caller's grants, a store, item or
   * path filter): SQLite's sampled statistics would otherwise take the action or outcome index.
   */
  private byName(query: OwnLogQuery): boolean {
    const { store, item, path } = query.filters;
    return reachIsIndexed(query.reach) || store !== undefined || item !== undefined || path !== undefined;
  }

  private where(query: OwnLogQuery, extra: Condition[] = []): Condition | null {
    const filters = ownFilterCondition(this.dialect, query.filters, { byReach: this.byName(query) });
    if (filters === null) return null;
    return allOf([filters, ownReachCondition(this.dialect, query.reach), ...extra]);
  }

  /**
   * The filtered rows the caller may read, as a statement selecting `columns`. On PostgreSQL a
   * scoped caller's grant alternatives are one SELECT each, joined by UNION (which also drops a row
   * two alternatives share): each is an index-only scan of its range, where one OR of them is a
   * bitmap scan that reads every candidate's table row (15 times slower at 1,000,000 entries).
   */
  private matching(query: OwnLogQuery, columns: RawBuilder<unknown>, extra: Condition[]): RawBuilder<unknown> | null {
    const where = this.where(query, extra);
    if (where === null) return null;
    const branches = ownReachBranches(this.dialect, query.reach);
    if (this.dialect === 'sqlite' || branches === null || branches.length < 2) return sql`SELECT ${columns} FROM audit_log WHERE ${where}`;
    const filters = ownFilterCondition(this.dialect, query.filters)!;
    const parsed = targetSql(this.dialect).parsed;
    return sql.join(
      branches.map((branch) => sql`SELECT ${columns} FROM audit_log WHERE ${allOf([filters, parsed, branch, ...extra])}`),
      sql` UNION `,
    );
  }

  /**
   * Up to `limit` entries of the filtered set the caller may read, newest first (by time, then
   * seq: the timeline merges by time), after `after`. First the newest WALK rows in that order are
   * tested, which is all a page takes when matches are common; only when they hold too few does
   * the query go on from there by its filters' and grants' indexes (few matches: a walk would be long).
   */
  async page(query: OwnLogQuery, limit: number, after?: OwnLogPosition): Promise<AuditEntry[]> {
    const filters = this.where(query);
    if (filters === null) return [];
    const columns = sql.raw('seq, at, actor, action, target, outcome, details, prev_hash, hash');
    const before = (position: OwnLogPosition | undefined, at = 'at') => (position ? sql<SqlBool>`(${sql.raw(at)}, seq) < (${position.at}, ${position.seq})` : ALWAYS);
    const recent = this.walk > 0 ? (await sql<AuditRow>`
      SELECT ${columns} FROM (SELECT ${columns} FROM audit_log WHERE ${before(after)} ORDER BY at DESC, seq DESC LIMIT ${this.walk}) AS recent
      WHERE ${filters} ORDER BY at DESC, seq DESC LIMIT ${limit}`.execute(this.db)).rows : [];
    if (recent.length >= limit) return recent.map(auditEntryOf);
    // The last row the walk examined: the rest is older than it.
    let from = after;
    if (this.walk > 0) {
      const { rows: edge } = await sql<{ at: string; seq: number | string }>`
        SELECT at, seq FROM audit_log WHERE ${before(after)} ORDER BY at DESC, seq DESC LIMIT 1 OFFSET ${this.walk - 1}`.execute(this.db);
      if (!edge[0]) return recent.map(auditEntryOf);
      from = { at: edge[0].at, seq: Number(edge[0].seq) };
    }
    // The page's seqs first (from the indexes alone, which carry what the conditions test), then its rows.
    // On SQLite the position stays out of the choice when name ranges are the way in (+at): it took
    // the time index from the position down instead, every older row (180 ms at 300,000 entries for
    // an auditor's filter that matches nothing, 240 ms for an actor substring).
    const byName = this.dialect === 'sqlite' && this.byName(query);
    const chosen = this.matching(query, sql.raw('seq, at'), [before(from, byName ? '+at' : 'at')])!;
    const { rows: rest } = await sql<AuditRow>`
      SELECT ${columns} FROM audit_log WHERE seq IN (
        SELECT seq FROM (${chosen}) AS chosen ORDER BY at DESC, seq DESC LIMIT ${limit - recent.length})
      ORDER BY at DESC, seq DESC`.execute(this.db);
    return [...recent, ...rest].map(auditEntryOf);
  }

  /** Reads and writes per hour or day (bucket start as the ISO prefix, 13 or 10 characters) of exactly the filtered set. */
  async chart(query: OwnLogQuery, bucket: 'hour' | 'day'): Promise<{ b: string; reads: number; writes: number }[]> {
    // As ownFilterCondition's byReach: a scoped caller's ranges are the way in, not the action index.
    const action = sql.raw(this.dialect === 'sqlite' && this.byName(query) ? '+action' : 'action');
    const counted = this.matching(query, sql.raw('seq, at, action'), [sql<SqlBool>`${action} IN (${sql.join([...OWN_READ_ACTIONS, ...OWN_WRITE_ACTIONS])})`]);
    if (counted === null) return [];
    const width = sql.raw(bucket === 'hour' ? '13' : '10');
    const reads = sql.join([...OWN_READ_ACTIONS]);
    const { rows } = await sql<{ b: string; reads: number | string; n: number | string }>`
      SELECT substr(at, 1, ${width}) AS b, sum(CASE WHEN action IN (${reads}) THEN 1 ELSE 0 END) AS reads, count(*) AS n
      FROM (${counted}) AS counted GROUP BY substr(at, 1, ${width}) ORDER BY 1`.execute(this.db);
    return rows.map((r) => ({ b: r.b, reads: Number(r.reads), writes: Number(r.n) - Number(r.reads) }));
  }
}

/** The own log's queries on the process's app database. */
export async function auditLogQueries(): Promise<AuditLogQueries> {
  return new AuditLogQueries(await appDb());
}
