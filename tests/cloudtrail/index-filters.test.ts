import { describe, expect, it } from 'vitest';
import { describeFilterProblems, parseAuditFilters } from '@/lib/validations/audit-filters';

// The audit filters from a URL: what is accepted and how, and every refusal names its field.

const parse = (query: string) => parseAuditFilters(new URLSearchParams(query));

describe('accepted filters', () => {
  it('parses every field', () => {
    const result = parse(
      'actor=deploy&actorMatch=exact&event=GetSecretValue,Decrypt,GetSecretValue&access=read&item=/prod/db&path=/prod/&store=prod-secrets' +
        '&ip=203.0.113.7&from=2026-01-01&to=2026-01-31&outcome=error&error=AccessDenied&bucket=day&cursor=abc_-1',
    );
    expect(result).toEqual({
      ok: true,
      value: {
        actor: 'deploy',
        actorMatch: 'exact',
        event: ['GetSecretValue', 'Decrypt'],
        access: 'read',
        item: '/prod/db',
        path: '/prod/',
        store: 'prod-secrets',
        ip: '203.0.113.7',
        from: '2026-01-01T00:00:00.000Z',
        to: '2026-01-31T23:59:59.999Z',
        outcome: 'error',
        error: 'AccessDenied',
        bucket: 'day',
        cursor: 'abc_-1',
      },
    });
  });

  it.each([
    ['from=2026-01-31T12:30:00Z', { from: '2026-01-31T12:30:00.000Z' }],
    ['from=2026-01-31T12:30%2B02:00', { from: '2026-01-31T10:30:00.000Z' }],
    ['to=2026-01-31T12:30:15.5Z', { to: '2026-01-31T12:30:15.500Z' }],
    ['from=2024-02-29', { from: '2024-02-29T00:00:00.000Z' }],
    ['', {}],
    ['actor=&event=', {}],
  ])('%s', (query, value) => {
    expect(parse(query)).toEqual({ ok: true, value });
  });

  it("takes Next.js's searchParams object", () => {
    expect(parseAuditFilters({ actor: 'alice', access: undefined })).toEqual({ ok: true, value: { actor: 'alice' } });
    expect(parseAuditFilters({ actor: ['a', 'b'] })).toMatchObject({ ok: false, problems: [{ field: 'actor' }] });
  });
});

describe.each([
  ['an unknown field', 'actor=a&colour=red', 'colour', /unknown filter "colour"/],
  ['a field twice', 'store=a&store=b', 'store', /more than once/],
  ['an impossible date', 'from=2026-02-30', 'from', /not a real date/],
  ['an impossible time', 'to=2026-01-01T24:00:00Z', 'to', /not a real date or time/],
  ['an impossible offset', 'to=2026-01-01T10:00%2B99:00', 'to', /offset/],
  ['a date in another format', 'from=01/02/2026', 'from', /must be a date/],
  ['a time without a zone', 'from=2026-01-01T10:00:00', 'from', /with a zone/],
  ['from after to', 'from=2026-02-01&to=2026-01-31', 'to', /before from/],
  ['an oversized actor', `actor=${'a'.repeat(513)}`, 'actor', /at most 512/],
  ['an oversized item', `item=/${'a'.repeat(600)}`, 'item', /at most 512/],
  ['an oversized cursor', `cursor=${'a'.repeat(600)}`, 'cursor', /at most 512/],
  ['a bad access', 'access=maybe', 'access', /read or write/],
  ['a bad outcome', 'outcome=meh', 'outcome', /success or error/],
  ['an error code with outcome=success', 'outcome=success&error=AccessDenied', 'error', /contradicts/],
  ['an item without a slash', 'item=prod/db', 'item', /start with "\/"/],
  ['a bad store id', 'store=Prod_Params', 'store', /store id/],
  ['a bad event name', 'event=Get Secret', 'event', /event names/],
  ['too many event names', `event=${Array.from({ length: 21 }, (_, i) => `E${i}`).join(',')}`, 'event', /at most 20/],
  ['actorMatch alone', 'actorMatch=exact', 'actorMatch', /needs an actor/],
  ['a bad cursor', 'cursor=a.b', 'cursor', /malformed/],
  ['a bad bucket', 'bucket=week', 'bucket', /hour or day/],
])('refuses %s', (_label, query, field, message) => {
  it(`naming ${field}`, () => {
    const result = parse(query);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.field)).toContain(field);
    expect(describeFilterProblems(result.problems)).toMatch(message);
  });
});
