import { describe, expect, it } from 'vitest';
import { listItemsQuerySchema } from '@/lib/validations/api';
import { browseQuerySchema } from '@/lib/validations/browse';
import { parseFreshnessFilters } from '@/lib/validations/freshness';

describe('freshness filters (/api/v1/freshness, /freshness)', () => {
  it('defaults to every store and status, 100 a page', () => {
    expect(parseFreshnessFilters(new URLSearchParams(''))).toEqual({ ok: true, value: { stores: [], statuses: [], limit: 100 } });
  });

  it('takes stores repeated or comma-separated and statuses worst first', () => {
    const parsed = parseFreshnessFilters(new URLSearchParams('store=a&store=b,c&status=fresh,overdue&limit=1000&cursor=abc_-='));
    expect(parsed).toEqual({ ok: true, value: { stores: ['a', 'b', 'c'], statuses: ['overdue', 'fresh'], limit: 1000, cursor: 'abc_-=' } });
  });

  it.each([
    ['status=stale', 'status', /"stale" is not a status/],
    ['status=overdue,bogus,old', 'status', /"bogus", "old" are not statuses/],
    ['limit=0', 'limit', /limit is at least 1/],
    ['limit=1001', 'limit', /limit is at most 1000/],
    ['limit=ten', 'limit', /limit must be a number/],
    ['store=Prod', 'store', /store: "Prod" is not a store id/],
    ['cursor=%3Cscript%3E', 'cursor', /cursor is malformed/],
    ['status=overdue&status=fresh', 'status', /status is given more than once/],
    ['stauts=overdue', 'stauts', /unknown parameter "stauts"/],
  ])('refuses %s, naming %s', (query, field, message) => {
    const parsed = parseFreshnessFilters(new URLSearchParams(query));
    expect(parsed.ok).toBe(false);
    if (parsed.ok) return;
    expect(parsed.problems.map((p) => p.field)).toContain(field);
    expect(parsed.problems.map((p) => p.message).join('; ')).toMatch(message);
  });
});

describe('status= on folder pages and the items API', () => {
  it('takes a comma list of statuses', () => {
    expect(browseQuerySchema.parse({ status: 'due-soon,overdue' }).status).toEqual(['overdue', 'due-soon']);
    expect(listItemsQuerySchema.parse({ status: 'never-rotated' }).status).toEqual(['never-rotated']);
  });

  it('treats an empty status as none', () => {
    expect(browseQuerySchema.parse({ status: '' }).status).toBeUndefined();
  });

  it('refuses an unknown status, naming it and the five statuses', () => {
    const parsed = browseQuerySchema.safeParse({ status: 'stale' });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.message).toMatch(/^status: "stale" is not a status; use rotation-failing, overdue, never-rotated, due-soon, fresh/);
    expect(listItemsQuerySchema.safeParse({ status: 'overdue,,stale' }).error?.issues[0]?.message).toMatch(/"stale" is not a status/);
  });
});
