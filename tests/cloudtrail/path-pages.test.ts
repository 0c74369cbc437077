import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventIndex } from '@/lib/cloudtrail/event-index';
import { EventQueries } from '@/lib/cloudtrail/event-queries';
import { anyOf, FULL_SCOPE, pathMeetsScope, scopeSql, underPathBranches, type AuditScope } from '@/lib/cloudtrail/event-scope';
import type { AuditFilters } from '@/lib/validations/audit-filters';
import { DATABASES } from '../support/databases';
import { seedRecords, STORES, WHERE } from './index-fixtures';
import { scopeOf } from './support/audit-scopes';
import { dropIndexPlaces, newIndexPlace } from './support/index-databases';

// A path's timeline pages (lib/cloudtrail/event-queries.ts timeline): the newest rows tested in
// time order first, then the path's index from where that walk stopped; a path no grant of the
// caller reaches is not walked at all. Whatever the walk's length (none, a few rows, more than the
// index holds), paging gives every row of the path the grants allow once, newest first, exactly
// the rows plain SQL selects, on both databases.

afterAll(() => dropIndexPlaces());

const SCOPES: [string, AuditScope][] = [
  ['everything', FULL_SCOPE],
  ['payments parameters', scopeOf({ 'prod-params': ['/prod/payments/**'] })],
  ['web and a name', scopeOf({ 'prod-params': ['/prod/web/**', '/top'] })],
  ['a glob needing the pattern', scopeOf({ 'prod-params': ['/prod/*/a'] })],
  ['one whole store', scopeOf({ 'prod-params': null })],
  ['dev folders, unmapped too', scopeOf({ 'prod-params': ['/dev/**'] }, true)],
];
const PATHS = ['/prod/', '/prod/payments/', '/prod/payments/deep/', '/prod/web/', '/dev/', '/', '/nowhere/'];

describe.each(DATABASES)("a path's pages (%s)", (kind) => {
  let index: EventIndex;

  beforeAll(async () => {
    index = await (await newIndexPlace(kind)).open({ retentionDays: 400, now: () => new Date('2026-04-01T00:00:00Z') });
    const records = seedRecords(1500, 17);
    for (let i = 0; i < records.length; i += 250) await index.ingest('le-eu', 'lookup-events', WHERE, records.slice(i, i + 250), { cursor: { i } }, STORES);
  }, 120_000);
  afterAll(async () => {
    await index.close();
  });

  async function pageAll(queries: EventQueries, filters: AuditFilters, scope: AuditScope): Promise<number[]> {
    const ids: number[] = [];
    let cursor: string | undefined;
    do {
      const page = await queries.timeline(filters, scope, { cursor, limit: 7 });
      ids.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    return ids;
  }

  async function plainIds(filters: AuditFilters, scope: AuditScope): Promise<number[]> {
    const patternOnly: AuditScope = scope.stores === 'all' ? scope : { ...scope, stores: scope.stores.map(({ storeId, namePattern }) => ({ storeId, namePattern })) };
    const access = filters.access ? sql`AND read_only = ${filters.access === 'read' ? 1 : 0}` : sql``;
    const like = sql.raw(index.dialect === 'postgres' ? 'ILIKE' : 'LIKE');
    const actor = filters.actor ? sql`AND (actor_arn ${like} ${`%${filters.actor}%`} OR principal ${like} ${`%${filters.actor}%`})` : sql``;
    const { rows } = await sql<{ id: number | string }>`
      SELECT id FROM ct_entries WHERE ${scopeSql(patternOnly, index.dialect)} AND ${anyOf(underPathBranches(filters.path!))} ${access} ${actor}
      ORDER BY event_time DESC, id DESC`.execute(index.db);
    return rows.map((r) => Number(r.id));
  }

  it('pages every row of the path the grants allow once, newest first, whatever the walk before the index', async () => {
    let nonEmpty = 0;
    for (const [label, scope] of SCOPES) {
      for (const path of PATHS) {
        for (const filters of [{ path }, { path, access: 'write' as const }, { path, actor: 'DEPLOY' }]) {
          const want = await plainIds(filters, scope);
          if (want.length > 0) nonEmpty++;
          for (const walk of [0, 3, 40, 5000]) expect(await pageAll(new EventQueries(index.db, walk), filters, scope), `${JSON.stringify(filters)} in ${label}, walk ${walk}`).toEqual(want);
        }
      }
    }
    expect(nonEmpty).toBeGreaterThan(20);
  }, 120_000);

  it('does not walk a path outside the grants, and still walks one inside them', () => {
    const payments = SCOPES[1]![1];
    expect(pathMeetsScope(payments, '/prod/web/')).toBe(false);
    expect(pathMeetsScope(payments, '/dev/')).toBe(false);
    expect(pathMeetsScope(payments, '/prod/')).toBe(true);
    expect(pathMeetsScope(payments, '/prod/payments/deep/')).toBe(true);
    expect(underPathBranches('/prod/web/', payments)).toEqual([]);
    expect(pathMeetsScope(SCOPES[2]![1], '/t')).toBe(true);
    expect(pathMeetsScope(scopeOf({ 'prod-params': ['/prod/payments/**'] }, true), '/dev/')).toBe(true);
    expect(pathMeetsScope(FULL_SCOPE, '/anything/')).toBe(true);
  });
});
