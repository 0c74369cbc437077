import { sql, type Expression, type ExpressionBuilder, type Kysely, type RawBuilder, type SqlBool } from 'kysely';
import { dialectOf, type DialectName } from '@/lib/db/dialect';
import { prefixEnd } from '@/lib/db/prefix-range';
import { z } from 'zod';
import { failingSql, freshnessColumnsOf, statusConditionSql, statusesSql, statusSql } from '@/lib/freshness/columns';
import { freshnessPolicies, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { nameRangesBelow, prefixIsExact, type NameRanges } from '@/lib/auth/path-glob';
import { nameScopeBranches } from '@/lib/db/name-scope';
import { itemFreshness, type ItemFreshnessDetail } from '@/lib/freshness/status';
import { FRESHNESS_STATUSES, type AgeBucket, type FreshnessStatus } from '@/lib/freshness/types';
import { AGE_BUCKETS, ageThreshold, decodeWorstCursor, encodeWorstCursor, MAX_RANK, STATUS_RANK, type WorstKey } from '@/lib/freshness/worst-order';
import type { SortKey } from '@/lib/validations/browse';
import { ancestorsOf, folderOf, leafOf } from '@/lib/validations/item-name';
import type { InventoryExtra, InventoryRecord } from './records';
import { toInventoryRow } from './records';
import type { InventoryDatabase, InventorySyncRecord } from './schema';

// Queries over an inventory: folder pages (keyset-paged, sorted and filtered in SQL), folder
// children with counts, search, and each store's sync record. Grants arrive as a regular
// expression over names with the index ranges those names lie in (see lib/auth/path-glob.ts): every
// page and count is cut to them in SQL, seeking the ranges and matching the expression only inside
// ranges that hold names the grants do not.
// The same answers on SQLite and PostgreSQL: text compares bytewise on both (the columns are
// COLLATE "C" there), sort columns are never NULL, and search matches the same substrings.

export const MAX_SEARCH_QUERY = 200;
export const MAX_CHILD_FOLDERS = 1000;
/** Past this many ranges a short search on PostgreSQL is one query (see firstByName). */
const MAX_POSTGRES_WALKS = 8;

export interface IndexedItem {
  storeId: string;
  name: string;
  folder: string;
  leaf: string;
  kind: string;
  description: string | null;
  tags: Record<string, string>;
  kmsKeyId: string | null;
  lastChangedAt: string;
  lastChangedBy: string | null;
  version: string;
  labels: string[];
  extra: InventoryExtra;
  /** Status, reason and dates at the time of the query. */
  freshness: ItemFreshnessDetail;
}

export interface FolderPageQuery {
  storeId: string;
  folder: string;
  recursive?: boolean;
  sort?: SortKey;
  dir?: 'asc' | 'desc';
  /** Part of the item's last level, any case. */
  q?: string;
  cursor?: string;
  limit: number;
  /** Only names matching this expression (the caller's grants); null for all. */
  namePattern: string | null;
  /** Where the pattern's names lie (lib/auth/path-glob.ts nameRanges): only a faster way to the same rows. */
  nameRanges?: NameRanges | null;
  /** Only items in these freshness statuses (all when absent). */
  statuses?: FreshnessStatus[];
  /** The time statuses are computed for (now when absent). */
  now?: Date;
}

export interface FolderPage {
  items: IndexedItem[];
  nextCursor?: string;
}

export interface ChildFolder {
  path: string;
  name: string;
  totalItems: number;
}

export interface SearchScope {
  storeId: string;
  namePattern: string | null;
  /** Where the pattern's names lie (lib/auth/path-glob.ts nameRanges): only a faster way to the same rows. */
  nameRanges?: NameRanges | null;
}

export interface SearchHit extends IndexedItem {
  matchedIn: 'name' | 'description' | 'tags';
}

export interface FreshnessSummary {
  counts: Record<FreshnessStatus, number>;
  total: number;
  ages: AgeBucket[];
}

export interface WorstPageQuery {
  storeId: string;
  /** The caller's grants; null for all. */
  namePattern: string | null;
  /** Where the grants' names lie (lib/auth/path-glob.ts nameRanges): only a faster way to the same rows. */
  nameRanges?: NameRanges | null;
  statuses?: FreshnessStatus[];
  /** From worstPage, or the data layer's cursor over several stores (it pins `now`). */
  cursor?: string;
  limit: number;
  /** Ignored when the cursor pins a time. */
  now: Date;
}

export interface WorstItem extends IndexedItem {
  worstKey: WorstKey;
}

export interface WorstPage {
  items: WorstItem[];
  /** Whether the store has more after these. */
  hasMore: boolean;
  /** For this store alone; across stores the data layer encodes its own from worstKey. */
  nextCursor?: string;
  /** The time the statuses were computed for (the cursor's when it had one). */
  now: Date;
}

export class CursorError extends Error {
  constructor() {
    super('The page position (cursor) is malformed or belongs to another sort order; start again from the first page.');
    this.name = 'CursorError';
  }
}

/** By name: the index may come from another bundled copy of this module (see lib/stores/errors.ts). */
export function isCursorError(error: unknown): error is CursorError {
  return error instanceof Error && error.name === 'CursorError';
}

const SORT_COLUMNS = {
  name: 'name',
  kind: 'kind',
  version: 'version_key',
  changed: 'last_changed_at',
  by: 'last_changed_by',
} as const satisfies Record<SortKey, keyof InventoryDatabase['inv_items']>;

const cursorSchema = z.tuple([z.enum(['name', 'kind', 'version', 'changed', 'by']), z.enum(['asc', 'desc']), z.string().max(4096), z.string().max(4096)]);

function encodeCursor(sort: SortKey, dir: 'asc' | 'desc', value: string, name: string): string {
  return Buffer.from(JSON.stringify([sort, dir, value, name]), 'utf8').toString('base64url');
}

function decodeCursor(raw: string, sort: SortKey, dir: 'asc' | 'desc'): { value: string; name: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(raw, 'base64url').toString('utf8'));
  } catch {
    throw new CursorError();
  }
  const result = cursorSchema.safeParse(parsed);
  if (!result.success || result.data[0] !== sort || result.data[1] !== dir) throw new CursorError();
  return { value: result.data[2], name: result.data[3] };
}

/** LIKE pattern for "contains", with LIKE's own wildcards taken literally. */
function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The column contains the text, in any case (ASCII). SQLite's LIKE ignores case already; PostgreSQL's
 * does not, so both sides are lowered there (lower(column) is what its trigram indexes hold).
 */
function containsSql(dialect: DialectName, column: string, text: string): RawBuilder<SqlBool> {
  const pattern = containsPattern(text);
  return dialect === 'postgres'
    ? sql<SqlBool>`lower(${sql.ref(column)}) LIKE lower(${pattern}) ESCAPE '\\'`
    : sql<SqlBool>`${sql.ref(column)} LIKE ${pattern} ESCAPE '\\'`;
}

/**
 * PostgreSQL: the column contains text too short for a trigram, in any case, as a condition no
 * trigram index answers. Given lower(name) LIKE '%q%', the planner read the whole trigram index
 * (every row of every store, about 0.9 s at 1,000,000 items) once per store or range searched,
 * instead of walking the name index up to the LIMIT.
 */
function containsUnindexedSql(column: string, text: string): RawBuilder<SqlBool> {
  return sql<SqlBool>`strpos(lower(${sql.ref(column)}), lower(${text})) > 0`;
}

/** FTS5 phrase: the text in double quotes (quotes doubled), so operators and syntax are plain text. */
function ftsPhrase(text: string): string {
  return `"${text.replace(/"/g, '""')}"`;
}

export function normalizeSearchQuery(raw: string): string {
  return raw.replace(/\s+/g, ' ').trim().slice(0, MAX_SEARCH_QUERY);
}

const ITEM_SELECT = [
  'store_id',
  'name',
  'folder',
  'leaf',
  'kind',
  'description',
  'tags',
  'kms_key_id',
  'last_changed_at',
  'last_changed_by',
  'version',
  'labels',
  'extra',
] as const;

type SelectedRow = Pick<InventoryDatabase['inv_items'], (typeof ITEM_SELECT)[number]>;

interface ReadContext {
  policies: FreshnessPolicySet;
  now: Date;
}

function toItem(row: SelectedRow, ctx: ReadContext): IndexedItem {
  const extra = JSON.parse(row.extra) as InventoryExtra;
  return {
    storeId: row.store_id,
    name: row.name,
    folder: row.folder,
    leaf: row.leaf,
    kind: row.kind,
    description: row.description,
    tags: JSON.parse(row.tags) as Record<string, string>,
    kmsKeyId: row.kms_key_id,
    lastChangedAt: row.last_changed_at,
    // Stored as '' so keyset paging never meets NULL.
    lastChangedBy: row.last_changed_by || null,
    version: row.version,
    labels: JSON.parse(row.labels) as string[],
    extra,
    freshness: itemFreshness({ storeId: row.store_id, name: row.name, lastChangedAt: row.last_changed_at, version: row.version, extra }, ctx.policies, ctx.now),
  };
}

type ItemsEb = ExpressionBuilder<InventoryDatabase, 'inv_items'>;

/** A condition as 0 or 1, to add up (PostgreSQL adds no booleans; SQLite's comparisons are 0/1 already). */
function asInt(dialect: DialectName, condition: RawBuilder<SqlBool>): RawBuilder<number> {
  return dialect === 'postgres' ? sql<number>`(${condition})::int` : sql<number>`(${condition})`;
}

/**
 * The caller's grants on one store as alternatives of one OR (lib/db/name-scope.ts): one per index
 * range of the (store_id, name) index the grants' names lie in, the regular expression only inside
 * ranges that hold names the grants do not; the whole store matched against it when no range bounds
 * the names. null: no cut (every name); an empty list: nothing. The alternatives never overlap, so
 * counts taken one at a time add up.
 */
function grantBranches(
  dialect: DialectName,
  storeId: string,
  namePattern: string | null,
  ranges: NameRanges | null | undefined,
  nameColumn: RawBuilder<string> = sql.ref('inv_items.name'),
): RawBuilder<SqlBool>[] | null {
  if (namePattern === null) return null;
  return nameScopeBranches(dialect, { storeId, namePattern, ranges }, sql.ref('inv_items.store_id'), nameColumn);
}

/**
 * The name column as a term SQLite will not look up in an index: its planner, guessing without
 * statistics, took a folder page's grant ranges to the (store_id, name) index and walked the whole
 * range (50,000 rows) instead of the folder's few through (store_id, folder, name).
 */
const NAME_NOT_SOUGHT = sql<string>`+inv_items.name`;

/** The branches as one condition; null for no cut. */
function anyOf(branches: RawBuilder<SqlBool>[] | null): RawBuilder<SqlBool> | null {
  if (branches === null) return null;
  if (branches.length === 0) return sql<SqlBool>`1 = 0`;
  return branches.length === 1 ? branches[0]! : sql<SqlBool>`(${sql.join(branches, sql` OR `)})`;
}

/**
 * The grants' cut of the names at or below a folder: the ranges narrowed to the folder first, so a
 * grant covering it whole needs no cut at all and ranges elsewhere are not walked.
 */
function grantCutBelow(
  dialect: DialectName,
  storeId: string,
  folder: string,
  namePattern: string | null,
  ranges: NameRanges | null | undefined,
  nameColumn?: RawBuilder<string>,
): RawBuilder<SqlBool>[] | null {
  if (namePattern === null) return null;
  if (!ranges) return grantBranches(dialect, storeId, namePattern, null, nameColumn);
  const below = nameRangesBelow(ranges, folder);
  if (below.exact && below.prefixes.includes(folder)) return null;
  return grantBranches(dialect, storeId, namePattern, below, nameColumn);
}

/** The rows of a folder page before paging: the folder (or everything below it), the name filter, the grants. */
function inFolder(dialect: DialectName, eb: ItemsEb, query: Omit<FolderPageQuery, 'cursor' | 'limit' | 'sort' | 'dir'>): Expression<SqlBool> {
  return eb.and([
    eb('store_id', '=', query.storeId),
    ...(query.recursive ? [eb('name', '>', query.folder), eb('name', '<', prefixEnd(query.folder))] : [eb('folder', '=', query.folder)]),
    ...(query.q ? [containsSql(dialect, 'inv_items.leaf', query.q)] : []),
    // One folder's items are read through the folder's indexes; on SQLite the ranges only filter them (see NAME_NOT_SOUGHT).
    anyOf(grantCutBelow(dialect, query.storeId, query.folder, query.namePattern, query.nameRanges, !query.recursive && dialect === 'sqlite' ? NAME_NOT_SOUGHT : undefined)) ??
      eb.lit(true),
    ...(query.statuses ? [statusesSql(dialect, query.statuses, (query.now ?? new Date()).toISOString()) ?? eb.lit(true)] : []),
  ]);
}

/** The rows of one rank of the worst-first order that are in a wanted status; null when none can be. */
function segmentCondition(dialect: DialectName, rank: number, wanted: Set<FreshnessStatus>, now: string): ReturnType<typeof sql<SqlBool>> | null {
  const statuses = FRESHNESS_STATUSES.filter((s) => wanted.has(s) && STATUS_RANK[s] === rank);
  if (statuses.length === 0) return null;
  // Each rank walks the index of the column it is ordered by, in that order (one range, no OR).
  if (rank === 0) return statusConditionSql(dialect, 'rotation-failing', now, 'fresh_failing_at');
  if (rank === 1 && statuses.length === 2) {
    return sql<SqlBool>`(inv_items.fresh_due_at <= ${now} AND NOT ${statusConditionSql(dialect, 'rotation-failing', now)})`;
  }
  return statusConditionSql(dialect, statuses[0]!, now, 'fresh_due_at');
}

export class InventoryIndex {
  private readonly dialect: DialectName;

  constructor(
    private readonly db: Kysely<InventoryDatabase>,
    /** The policies the rows' freshness columns were computed with (the process's, unless a test says otherwise). */
    readonly policies: FreshnessPolicySet = freshnessPolicies(),
  ) {
    this.dialect = dialectOf(db);
  }

  private read(now: Date = new Date()): ReadContext {
    return { policies: this.policies, now };
  }

  async folderPage(query: FolderPageQuery): Promise<FolderPage> {
    const sort = query.sort ?? 'name';
    const dir = query.dir ?? 'asc';
    const column = SORT_COLUMNS[sort];
    const after = query.cursor ? decodeCursor(query.cursor, sort, dir) : null;
    const cmp = dir === 'asc' ? '>' : '<';
    let select = this.db
      .selectFrom('inv_items')
      .select(ITEM_SELECT)
      .select(sql<string>`${sql.ref(column)}`.as('sort_value'))
      .where((eb) => inFolder(this.dialect, eb, query));
    if (after) {
      select =
        column === 'name'
          ? select.where('name', cmp, after.name)
          : select.where((eb) => eb.or([eb(column, cmp, after.value), eb.and([eb(column, '=', after.value), eb('name', cmp, after.name)])]));
    }
    const rows = await select
      .orderBy(column, dir)
      .$if(column !== 'name', (q) => q.orderBy('name', dir))
      .limit(query.limit + 1)
      .execute();
    const page = rows.slice(0, query.limit);
    const last = page.at(-1);
    return {
      items: page.map((row) => toItem(row, this.read(query.now))),
      nextCursor: rows.length > query.limit && last ? encodeCursor(sort, dir, String(last.sort_value ?? ''), last.name) : undefined,
    };
  }

  /** How many items a folder page would hold in all (same filters, no paging). */
  async countItems(query: Omit<FolderPageQuery, 'cursor' | 'limit' | 'sort' | 'dir'>): Promise<number> {
    const row = await this.db
      .selectFrom('inv_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where((eb) => inFolder(this.dialect, eb, query))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async getFolder(storeId: string, path: string): Promise<{ directItems: number; totalItems: number } | null> {
    const row = await this.db
      .selectFrom('inv_folders')
      .select(['direct_items', 'total_items'])
      .where('store_id', '=', storeId)
      .where('path', '=', path)
      .executeTakeFirst();
    return row ? { directItems: row.direct_items, totalItems: row.total_items } : null;
  }

  async childFolders(storeId: string, path: string): Promise<ChildFolder[]> {
    const rows = await this.db
      .selectFrom('inv_folders')
      .select(['path', 'total_items'])
      .where('store_id', '=', storeId)
      .where('parent', '=', path)
      .orderBy('path')
      .limit(MAX_CHILD_FOLDERS)
      .execute();
    return rows.map((r) => ({ path: r.path, name: leafOf(r.path), totalItems: r.total_items }));
  }

  /** Whether any item the pattern allows lies at or below a folder: one index range at a time, stopping at the first item. */
  async anyItemBelow(storeId: string, path: string, namePattern: string | null, nameRanges?: NameRanges | null): Promise<boolean> {
    const branches = grantCutBelow(this.dialect, storeId, path, namePattern, nameRanges) ?? [sql<SqlBool>`1 = 1`];
    for (const branch of branches) {
      const row = await this.db
        .selectFrom('inv_items')
        .select('id')
        .where('store_id', '=', storeId)
        .where('name', '>', path)
        .where('name', '<', prefixEnd(path))
        .where(branch)
        .limit(1)
        .executeTakeFirst();
      if (row) return true;
    }
    return false;
  }

  async getItem(storeId: string, name: string, now?: Date): Promise<IndexedItem | null> {
    const row = await this.db.selectFrom('inv_items').select(ITEM_SELECT).where('store_id', '=', storeId).where('name', '=', name).executeTakeFirst();
    return row ? toItem(row, this.read(now)) : null;
  }

  /** Every item of a store in name order, a batch at a time (the findings' evaluation reads a whole store), with when its tags were read (Parameter Store lists carry none). */
  async *eachItem(storeId: string, now: Date, batch = 2000): AsyncGenerator<(IndexedItem & { tagsReadAt: string | null })[]> {
    let after: string | null = null;
    for (;;) {
      const rows = await this.db
        .selectFrom('inv_items')
        .select([...ITEM_SELECT, 'tags_synced_at'])
        .where('store_id', '=', storeId)
        .$if(after !== null, (q) => q.where('name', '>', after!))
        .orderBy('name')
        .limit(batch)
        .execute();
      if (rows.length === 0) return;
      const ctx = this.read(now);
      yield rows.map((row) => ({ ...toItem(row, ctx), tagsReadAt: row.tags_synced_at }));
      if (rows.length < batch) return;
      after = rows.at(-1)!.name;
    }
  }

  /** The named items of a store that exist, a batch at a time (an incremental findings evaluation reads only the items that moved). */
  async *itemsNamed(storeId: string, names: readonly string[], now: Date, batch = 500): AsyncGenerator<(IndexedItem & { tagsReadAt: string | null })[]> {
    for (let i = 0; i < names.length; i += batch) {
      const rows = await this.db
        .selectFrom('inv_items')
        .select([...ITEM_SELECT, 'tags_synced_at'])
        .where('store_id', '=', storeId)
        .where('name', 'in', names.slice(i, i + batch))
        .execute();
      const ctx = this.read(now);
      if (rows.length > 0) yield rows.map((row) => ({ ...toItem(row, ctx), tagsReadAt: row.tags_synced_at }));
    }
  }

  /**
   * What each item's findings depend on in its row, as one string per name: the walk's fingerprint,
   * the tags (Parameter Store's are fetched after the walk, outside the fingerprint), whether they
   * were read, and the freshness columns. A name whose string changed between two calls changed.
   */
  async itemStamps(storeId: string): Promise<Map<string, string>> {
    // One column per row, joined in SQL: two values a row cost far less to hand over than nine.
    const { rows } = await sql<{ name: string; stamp: string }>`
      SELECT name, fingerprint || '|' || CASE WHEN tags_synced_at IS NULL THEN '0' ELSE '1' END || '|' || coalesce(fresh_due_at, '') || '|' || coalesce(fresh_warn_at, '')
        || '|' || coalesce(fresh_failing_at, '') || '|' || coalesce(CAST(fresh_first_version AS TEXT), '') || '|' || coalesce(fresh_age_from, '') || '|' || tags AS stamp
      FROM inv_items WHERE store_id = ${storeId}`.execute(this.db);
    return new Map(rows.map((r) => [r.name, r.stamp]));
  }

  /**
   * Items whose name (first) or description or tags contain the text, in the given stores and
   * cut to each store's pattern. Three characters or more go through the trigram index; shorter
   * text is matched against names only.
   */
  async search(scopes: SearchScope[], rawQuery: string, limit: number, now?: Date): Promise<SearchHit[]> {
    const ctx = this.read(now);
    const text = normalizeSearchQuery(rawQuery);
    if (!text || scopes.length === 0) return [];
    const branches = scopes.flatMap((s) => grantBranches(this.dialect, s.storeId, s.namePattern, s.nameRanges) ?? [sql<SqlBool>`inv_items.store_id = ${s.storeId}`]);
    const inScope = anyOf(branches)!;
    const base = () => this.db.selectFrom('inv_items').select(ITEM_SELECT.map((c) => `inv_items.${c}` as const));
    const wide = limit * 10;

    // Candidates come in the same order on both dialects, so a limit cuts the same rows (they are
    // ranked below): in id order through the trigram index (the order FTS5 yields its matches in,
    // no sort on SQLite), by name for short text (the order SQLite's (store_id, name) index reads).
    let byName: SelectedRow[];
    let other: SelectedRow[] = [];
    if (this.dialect === 'postgres') {
      // The trigram indexes on lower(column) serve these; the matches are the FTS5 phrase's (a substring, any case).
      const contains = (column: 'name' | 'description' | 'tag_text') => containsSql(this.dialect, `inv_items.${column}`, text);
      byName =
        text.length >= 3
          ? await base().where(contains('name')).where(inScope).orderBy('inv_items.id').limit(wide).execute()
          : await this.firstByName(scopes, containsUnindexedSql('inv_items.name', text), wide);
      if (text.length >= 3 && byName.length < limit) {
        other = await base()
          .where((eb) => eb.or([contains('description'), contains('tag_text')]))
          .where(inScope)
          .orderBy('inv_items.id')
          .limit(limit)
          .execute();
      }
    } else if (text.length >= 3) {
      const phrase = ftsPhrase(text);
      const fts = (columns: string) =>
        base()
          .innerJoin('inv_search', 'inv_search.rowid', 'inv_items.id')
          .where(sql<SqlBool>`inv_search MATCH ${`{${columns}} : ${phrase}`}`)
          .where(inScope)
          .orderBy('inv_search.rowid');
      byName = await fts('name').limit(wide).execute();
      if (byName.length < limit) other = await fts('description tag_text').limit(limit).execute();
    } else {
      byName = await this.firstByName(scopes, containsSql(this.dialect, 'inv_items.name', text), wide);
    }

    const needle = text.toLowerCase();
    const rank = (row: SelectedRow) => {
      const leaf = row.leaf.toLowerCase();
      return leaf === needle ? 0 : leaf.startsWith(needle) ? 1 : leaf.includes(needle) ? 2 : 3;
    };
    const hits: SearchHit[] = byName
      .sort((a, b) => rank(a) - rank(b) || a.name.length - b.name.length || (a.name < b.name ? -1 : 1))
      .slice(0, limit)
      .map((row) => ({ ...toItem(row, ctx), matchedIn: 'name' as const }));
    const seen = new Set(hits.map((h) => `${h.storeId}\n${h.name}`));
    for (const row of other) {
      if (hits.length >= limit) break;
      if (seen.has(`${row.store_id}\n${row.name}`)) continue;
      const item = toItem(row, ctx);
      const inDescription = item.description?.toLowerCase().includes(needle) ?? false;
      hits.push({ ...item, matchedIn: inDescription ? 'description' : 'tags' });
    }
    return hits;
  }

  /**
   * The first rows in (store_id, name) order that satisfy `condition` within the scopes: their ranges
   * (every store whole, or each range of a grant cut, each exact name) are disjoint, so walking them
   * one after another in that order through the (store_id, name) index, each walk stopping at what
   * is still wanted, gives those rows and stops as soon as there are enough. (One OR over them all
   * made SQLite gather and sort every row of the ranges, 2.4 s for two letters at 1,000,000 items;
   * a merge of all the walks at once first walks each range to its first match.)
   */
  private async firstByName(scopes: SearchScope[], condition: RawBuilder<SqlBool>, limit: number): Promise<SelectedRow[]> {
    const walks: { storeId: string; start: string; cut: RawBuilder<SqlBool> }[] = [];
    for (const scope of scopes) {
      const { storeId, namePattern, nameRanges: ranges } = scope;
      if (namePattern === null || !ranges) {
        const cut = grantBranches(this.dialect, storeId, namePattern, null)?.[0] ?? sql<SqlBool>`inv_items.store_id = ${storeId}`;
        walks.push({ storeId, start: '', cut });
        continue;
      }
      const one = (start: string, range: NameRanges) => walks.push({ storeId, start, cut: grantBranches(this.dialect, storeId, namePattern, range)![0]! });
      for (const prefix of ranges.prefixes) one(prefix, { prefixes: [prefix], names: [], exact: prefixIsExact(ranges, prefix) });
      for (const name of ranges.names) one(name, { prefixes: [], names: [name], exact: true });
    }
    // PostgreSQL walks one OR of many ranges well enough (in order, or a parallel scan for text in
    // none), where 120 walks one by one took 5 s for a letter no name holds at 1,000,000 items.
    if (this.dialect === 'postgres' && walks.length > MAX_POSTGRES_WALKS) {
      return this.db
        .selectFrom('inv_items')
        .select(ITEM_SELECT.map((c) => `inv_items.${c}` as const))
        .where(condition)
        .where(anyOf(walks.map((w) => w.cut))!)
        .orderBy('inv_items.store_id')
        .orderBy('inv_items.name')
        .limit(limit)
        .execute();
    }
    // Both databases order these columns byte by byte (UTF-8), as Buffer.compare does.
    const bytes = (text: string) => Buffer.from(text, 'utf8');
    walks.sort((x, y) => Buffer.compare(bytes(x.storeId), bytes(y.storeId)) || Buffer.compare(bytes(x.start), bytes(y.start)));
    const rows: SelectedRow[] = [];
    for (const { cut } of walks) {
      if (rows.length >= limit) break;
      rows.push(
        ...(await this.db
          .selectFrom('inv_items')
          .select(ITEM_SELECT.map((c) => `inv_items.${c}` as const))
          .where(condition)
          .where(cut)
          .orderBy('inv_items.store_id')
          .orderBy('inv_items.name')
          .limit(limit - rows.length)
          .execute()),
      );
    }
    return rows;
  }

  /** Folders whose path contains the text, in the given stores (grants are checked by the caller). */
  async searchFolders(storeIds: string[], rawQuery: string, limit: number): Promise<{ storeId: string; path: string; totalItems: number }[]> {
    const text = normalizeSearchQuery(rawQuery);
    if (!text || storeIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('inv_folders')
      .select(['store_id', 'path', 'total_items'])
      .where('store_id', 'in', storeIds)
      .where('path', '!=', '/')
      .where(containsSql(this.dialect, 'path', text))
      // The primary key's order: no sort on SQLite, and the same rows on both dialects.
      .orderBy('store_id')
      .orderBy('path')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ storeId: r.store_id, path: r.path, totalItems: r.total_items }));
  }

  async syncRecord(storeId: string): Promise<InventorySyncRecord | null> {
    return (await this.db.selectFrom('inv_sync').selectAll().where('store_id', '=', storeId).executeTakeFirst()) ?? null;
  }

  /**
   * Many stores' sync records and root item counts in one query (every page's header shows the
   * status of every store the caller may see: 80 stores were 160 queries a page). Stores without a
   * record are absent from the map.
   */
  async syncRecordsWithRootItems(storeIds: readonly string[]): Promise<Map<string, { record: InventorySyncRecord; rootItems: number | null }>> {
    const found = new Map<string, { record: InventorySyncRecord; rootItems: number | null }>();
    if (storeIds.length === 0) return found;
    const rows = await this.db
      .selectFrom('inv_sync as s')
      .leftJoin('inv_folders as f', (join) => join.onRef('f.store_id', '=', 's.store_id').on('f.path', '=', '/'))
      .selectAll('s')
      .select('f.total_items as root_items')
      .where('s.store_id', 'in', [...storeIds])
      .execute();
    for (const { root_items, ...record } of rows) found.set(record.store_id, { record: record as InventorySyncRecord, rootItems: root_items ?? null });
    return found;
  }

  /**
   * Counts by freshness status and the age histogram of a store at `now`, cut to a name pattern.
   * Without a pattern each figure is a range count over one of the (store_id, fresh_*) indexes;
   * with one, a single pass over the store's rows matches the pattern once per row.
   */
  async freshnessSummary(storeId: string, namePattern: string | null, now: Date, nameRanges?: NameRanges | null): Promise<FreshnessSummary> {
    const branches = grantBranches(this.dialect, storeId, namePattern, nameRanges);
    return branches === null ? this.summaryByIndex(storeId, now) : this.summaryByScan(storeId, branches, now);
  }

  async freshnessCounts(storeId: string, namePattern: string | null, now: Date): Promise<{ counts: Record<FreshnessStatus, number>; total: number }> {
    const { counts, total } = await this.freshnessSummary(storeId, namePattern, now);
    return { counts, total };
  }

  async ageHistogram(storeId: string, namePattern: string | null, now: Date): Promise<AgeBucket[]> {
    return (await this.freshnessSummary(storeId, namePattern, now)).ages;
  }

  private async summaryByIndex(storeId: string, now: Date): Promise<FreshnessSummary> {
    const t = now.toISOString();
    const count = async (condition: ReturnType<typeof sql<SqlBool>>) => {
      const row = await sql<{ n: number }>`SELECT count(*) AS n FROM inv_items WHERE store_id = ${storeId} AND ${condition}`.execute(this.db);
      return Number(row.rows[0]?.n ?? 0);
    };
    const thresholds = AGE_BUCKETS.slice(1).map((b) => ageThreshold(now, b.minDays));
    const [total, dueRow, warned, failing, ages] = await Promise.all([
      // The store's folder counts hold its total.
      this.getFolder(storeId, '/').then((root) => root?.totalItems ?? 0),
      // Overdue and first values in one walk of the due index (it carries fresh_first_version).
      sql<{ n: number; first: number | null }>`
        SELECT count(*) AS n, sum(${asInt(this.dialect, sql<SqlBool>`inv_items.fresh_first_version = 1`)}) AS first
        FROM inv_items WHERE store_id = ${storeId} AND inv_items.fresh_due_at <= ${t}`.execute(this.db),
      count(sql<SqlBool>`inv_items.fresh_warn_at <= ${t}`),
      // Failing items are few: read how they split over the other statuses' conditions.
      sql<{ due: number; first: number; warned: number; n: number }>`
        SELECT ${asInt(this.dialect, sql<SqlBool>`inv_items.fresh_due_at <= ${t}`)} AS due, coalesce(inv_items.fresh_first_version, 0) AS first,
          ${asInt(this.dialect, sql<SqlBool>`inv_items.fresh_warn_at <= ${t}`)} AS warned, count(*) AS n
        FROM inv_items WHERE store_id = ${storeId} AND ${failingSql(this.dialect, t)} GROUP BY 1, 2, 3`.execute(this.db),
      // One range over the age index: everything at least 30 days old, split further by the older thresholds.
      sql<Record<string, number>>`
        SELECT count(*) AS a0, ${sql.join(thresholds.slice(1).map((th, i) => sql`coalesce(sum(${asInt(this.dialect, sql<SqlBool>`inv_items.fresh_age_from <= ${th}`)}), 0) AS ${sql.ref(`a${i + 1}`)}`))}
        FROM inv_items WHERE store_id = ${storeId} AND inv_items.fresh_age_from <= ${thresholds[0]!}`.execute(this.db),
    ]);
    const due = Number(dueRow.rows[0]?.n ?? 0);
    const dueFirst = Number(dueRow.rows[0]?.first ?? 0);
    let failingTotal = 0;
    let failingOverdue = 0;
    let failingNever = 0;
    let failingSoon = 0;
    for (const r of failing.rows) {
      const n = Number(r.n);
      failingTotal += n;
      if (r.due) (r.first ? (failingNever += n) : (failingOverdue += n));
      else if (r.warned) failingSoon += n;
    }
    const counts: Record<FreshnessStatus, number> = {
      'rotation-failing': failingTotal,
      overdue: due - dueFirst - failingOverdue,
      'never-rotated': dueFirst - failingNever,
      'due-soon': warned - due - failingSoon,
      fresh: 0,
    };
    counts.fresh = total - counts['rotation-failing'] - counts.overdue - counts['never-rotated'] - counts['due-soon'];
    // at[i]: items at least AGE_BUCKETS[i].minDays old.
    const agesRow = ages.rows[0] ?? {};
    const atLeast = [total, ...thresholds.map((_, i) => Number(agesRow[`a${i}`] ?? 0))];
    return { counts, total, ages: AGE_BUCKETS.map((b, i) => ({ ...b, count: atLeast[i]! - (atLeast[i + 1] ?? 0) })) };
  }

  private async summaryByScan(storeId: string, branches: RawBuilder<SqlBool>[], now: Date): Promise<FreshnessSummary> {
    const t = now.toISOString();
    const thresholds = AGE_BUCKETS.slice(1).map((b) => ageThreshold(now, b.minDays));
    // Bucket index: how many thresholds the item is at least as old as.
    const bucket = sql<number>`(${sql.join(thresholds.map((th) => asInt(this.dialect, sql<SqlBool>`inv_items.fresh_age_from <= ${th}`)), sql` + `)})`;
    const scan = (branch: RawBuilder<SqlBool>) =>
      sql<{ status: FreshnessStatus; bucket: number; n: number }>`
        SELECT ${statusSql(this.dialect, t)} AS status, ${bucket} AS bucket, count(*) AS n
        FROM inv_items WHERE store_id = ${storeId} AND ${branch}
        GROUP BY 1, 2`.execute(this.db);
    // Several ranges ORed together make SQLite walk the whole store; one query per (disjoint) range
    // walks only that range of the name index.
    const results = await Promise.all(branches.map(scan));
    const counts = Object.fromEntries(FRESHNESS_STATUSES.map((st) => [st, 0])) as Record<FreshnessStatus, number>;
    const ages = AGE_BUCKETS.map((b) => ({ ...b, count: 0 }));
    let total = 0;
    for (const r of results.flatMap((result) => result.rows)) {
      const n = Number(r.n);
      counts[r.status] += n;
      ages[Number(r.bucket ?? 0)]!.count += n;
      total += n;
    }
    return { counts, total, ages };
  }

  /**
   * Items worst first (see lib/freshness/worst-order.ts), keyset-paged: one query per status rank,
   * each walking an index in the order it returns rows. The cursor may come from a page over several
   * stores: items of this store that sort after its position follow.
   */
  async worstPage(query: WorstPageQuery): Promise<WorstPage> {
    const position = query.cursor ? decodeWorstCursor(query.cursor) : null;
    if (query.cursor && !position) throw new CursorError();
    const now = position ? new Date(position.now) : query.now;
    const t = now.toISOString();
    const wanted = new Set(query.statuses?.length ? query.statuses : FRESHNESS_STATUSES);
    const ctx = this.read(now);
    const found: WorstItem[] = [];
    const startRank = position?.after.rank ?? 0;
    const cut = anyOf(grantBranches(this.dialect, query.storeId, query.namePattern, query.nameRanges));
    for (let rank = startRank; rank <= MAX_RANK && found.length <= query.limit; rank++) {
      const segment = segmentCondition(this.dialect, rank, wanted, t);
      if (!segment) continue;
      const timeColumn = rank === 0 ? 'fresh_failing_at' : 'fresh_due_at';
      const time = sql.ref(`inv_items.${timeColumn}`);
      let after: ReturnType<typeof sql<SqlBool>> | null = null;
      if (position && rank === position.after.rank) {
        const { time: at, storeId, name } = position.after;
        // Same time: a store sorting before the cursor's has nothing left there, one after it everything.
        const nameAfter = query.storeId < storeId ? '' : query.storeId > storeId ? '' : name;
        after = sql<SqlBool>`(${time} >= ${at} AND (${time} > ${at} OR inv_items.name > ${nameAfter}))`;
      }
      const rows = await this.db
        .selectFrom('inv_items')
        .select(ITEM_SELECT)
        .select(['fresh_failing_at', 'fresh_due_at'])
        .where('store_id', '=', query.storeId)
        .$if(cut !== null, (q) => q.where(cut!))
        .where(segment)
        .$if(after !== null, (q) => q.where(after!))
        .orderBy(timeColumn)
        .orderBy('name')
        .limit(query.limit + 1 - found.length)
        .execute();
      for (const row of rows) {
        found.push({
          ...toItem(row, ctx),
          worstKey: { rank, time: (rank === 0 ? row.fresh_failing_at : row.fresh_due_at) ?? '', storeId: query.storeId, name: row.name },
        });
      }
    }
    const items = found.slice(0, query.limit);
    const hasMore = found.length > query.limit;
    const last = items.at(-1);
    return { items, hasMore, nextCursor: hasMore && last ? encodeWorstCursor({ now: t, after: last.worstKey }) : undefined, now };
  }

  async countStore(storeId: string): Promise<number> {
    const row = await this.db
      .selectFrom('inv_items')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('store_id', '=', storeId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }
}

/**
 * Writes one item into an inventory inside the caller's transaction (the built-in store calls it
 * from its own writes, so its inventory is never behind). New items count into every ancestor folder.
 */
export async function upsertInventoryItem(
  db: Kysely<InventoryDatabase>,
  storeId: string,
  record: InventoryRecord,
  policies: FreshnessPolicySet = freshnessPolicies(),
): Promise<void> {
  const row = toInventoryRow(storeId, record);
  const values = { ...row, ...freshnessColumnsOf(row, policies) };
  // Insert unless it is there (no read first, so two writers of a new item cannot both insert).
  const inserted = await db
    .insertInto('inv_items')
    .values(values)
    .onConflict((oc) => oc.columns(['store_id', 'name']).doNothing())
    .executeTakeFirst();
  if (Number(inserted.numInsertedOrUpdatedRows ?? 0) === 0) {
    await db.updateTable('inv_items').set(values).where('store_id', '=', storeId).where('name', '=', record.name).execute();
    return;
  }
  const folder = folderOf(record.name);
  const folders = ancestorsOf(folder).map((path) => ({
    store_id: storeId,
    path,
    parent: path === '/' ? '' : folderOf(path.slice(0, -1)),
    direct_items: path === folder ? 1 : 0,
    total_items: 1,
  }));
  await db
    .insertInto('inv_folders')
    .values(folders)
    .onConflict((oc) =>
      oc.columns(['store_id', 'path']).doUpdateSet((eb) => ({
        direct_items: eb('inv_folders.direct_items', '+', eb.ref('excluded.direct_items')),
        total_items: eb('inv_folders.total_items', '+', 1),
      })),
    )
    .execute();
}
