// The straightforward way to answer the freshness questions, for npm run bench:freshness to compare
// against: per request, read every row of the caller's items (the columns needed, cut to their grants
// with the same regular expression folder pages use), compute each item's status in JS with the
// same pure functions the inventory's columns come from (freshnessSchedule, statusAt), then count and
// sort. Kept generous: plain better-sqlite3 statements, the reason sentence only for the rows returned.
import Database from 'better-sqlite3';
import { registerRegexp } from '@/lib/db/sqlite-regexp';
import { resolvePolicy, type FreshnessPolicySet } from '@/lib/freshness/policies';
import { ageDays, freshnessReason, freshnessSchedule, statusAt, type FreshnessSchedule, type FreshnessSubject } from '@/lib/freshness/status';
import { FRESHNESS_STATUSES, type AgeBucket, type FreshnessStatus } from '@/lib/freshness/types';
import { AGE_BUCKETS, compareWorst, decodeWorstCursor, STATUS_RANK, type WorstKey } from '@/lib/freshness/worst-order';
import type { InventoryExtra } from '@/lib/inventory/records';

/** One store the caller may list, with their names as a regular expression (null: every name). */
export interface NaiveScope {
  storeId: string;
  pattern: string | null;
}

interface Row {
  store_id: string;
  name: string;
  kind: string;
  tags: string;
  last_changed_at: string;
  version: string;
  extra: string;
}

interface Computed {
  subject: FreshnessSubject;
  row: Row;
  schedule: FreshnessSchedule;
  status: FreshnessStatus;
  key: WorstKey;
}

export interface NaiveRow {
  storeId: string;
  name: string;
  status: FreshnessStatus;
  reason: string;
  ageDays: number;
  owner: string | null;
}

export interface NaiveSummary {
  storeId: string;
  counts: Record<FreshnessStatus, number>;
  total: number;
  ages: AgeBucket[];
}

const COLUMNS = 'store_id, name, kind, tags, last_changed_at, version, extra';
const NEEDS_ATTENTION = FRESHNESS_STATUSES.filter((s) => s !== 'fresh');

export class NaiveFreshness {
  private readonly conn: Database.Database;

  constructor(
    file: string,
    private readonly policies: FreshnessPolicySet,
  ) {
    this.conn = new Database(file, { readonly: true });
    registerRegexp(this.conn);
  }

  close(): void {
    this.conn.close();
  }

  private read(scope: NaiveScope, where = '', params: unknown[] = []): Row[] {
    const grant = scope.pattern === null ? '' : ' AND name REGEXP ?';
    return this.conn
      .prepare(`SELECT ${COLUMNS} FROM inv_items WHERE store_id = ?${grant}${where}`)
      .all(scope.storeId, ...(scope.pattern === null ? [] : [scope.pattern]), ...params) as Row[];
  }

  private compute(rows: Row[], now: Date): Computed[] {
    return rows.map((row) => {
      const subject = { storeId: row.store_id, name: row.name, lastChangedAt: row.last_changed_at, version: row.version, extra: JSON.parse(row.extra) as InventoryExtra };
      const schedule = freshnessSchedule(subject, resolvePolicy(this.policies, row.store_id, row.name));
      const status = statusAt(schedule, now);
      const rank = STATUS_RANK[status];
      return { subject, row, schedule, status, key: { rank, time: (rank === 0 ? schedule.failingAt : schedule.dueAt) ?? '', storeId: row.store_id, name: row.name } };
    });
  }

  private toRow(item: Computed, now: Date): NaiveRow {
    const tags = JSON.parse(item.row.tags) as Record<string, string>;
    return {
      storeId: item.row.store_id,
      name: item.row.name,
      status: item.status,
      reason: freshnessReason(item.subject, item.schedule, item.status, now),
      ageDays: ageDays(item.schedule.ageFrom, now),
      owner: tags.owner || tags.team || null,
    };
  }

  /** What the overview shows: counts and ages per store, the worst `worstLimit` items that are not fresh. */
  overview(scopes: NaiveScope[], now: Date, worstLimit: number): { stores: NaiveSummary[]; worst: NaiveRow[] } {
    const stores: NaiveSummary[] = [];
    const attention: Computed[] = [];
    for (const scope of scopes) {
      const counts = Object.fromEntries(FRESHNESS_STATUSES.map((s) => [s, 0])) as Record<FreshnessStatus, number>;
      const ages = AGE_BUCKETS.map((b) => ({ ...b, count: 0 }));
      const items = this.compute(this.read(scope), now);
      for (const item of items) {
        counts[item.status]++;
        const days = ageDays(item.schedule.ageFrom, now);
        ages.find((b) => days >= b.minDays && (b.maxDays === null || days < b.maxDays))!.count++;
        if (item.status !== 'fresh') attention.push(item);
      }
      stores.push({ storeId: scope.storeId, counts, total: items.length, ages });
    }
    attention.sort((a, b) => compareWorst(a.key, b.key));
    return { stores, worst: attention.slice(0, worstLimit).map((item) => this.toRow(item, now)) };
  }

  /** One page of items worst first, in the statuses asked for, after a cursor of the data layer's. */
  worstPage(scopes: NaiveScope[], now: Date, query: { statuses?: FreshnessStatus[]; cursor?: string; limit: number }): NaiveRow[] {
    const position = query.cursor ? decodeWorstCursor(query.cursor) : null;
    const at = position ? new Date(position.now) : now;
    const wanted = new Set(query.statuses?.length ? query.statuses : FRESHNESS_STATUSES);
    const items = scopes
      .flatMap((scope) => this.compute(this.read(scope), at))
      .filter((item) => wanted.has(item.status) && (!position || compareWorst(item.key, position.after) > 0));
    items.sort((a, b) => compareWorst(a.key, b.key));
    return items.slice(0, query.limit).map((item) => this.toRow(item, at));
  }

  /** A folder page filtered by status: the folder's rows (or everything below it), sorted by name, and how many match. */
  folderPage(scope: NaiveScope, folder: string, recursive: boolean, statuses: FreshnessStatus[], limit: number, now: Date): { names: string[]; total: number } {
    const rows = recursive ? this.read(scope, ' AND name > ? AND name < ?', [folder, `${folder}\x7f`]) : this.read(scope, ' AND folder = ?', [folder]);
    const wanted = new Set(statuses);
    const items = this.compute(rows, now).filter((item) => wanted.has(item.status));
    items.sort((a, b) => (a.row.name < b.row.name ? -1 : a.row.name > b.row.name ? 1 : 0));
    return { names: items.slice(0, limit).map((item) => item.row.name), total: items.length };
  }
}

export { NEEDS_ATTENTION };
