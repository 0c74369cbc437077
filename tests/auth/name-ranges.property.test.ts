import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { globsPattern, matchesNamePattern, nameRanges, nameRangesBelow, prefixIsExact, type NameRanges } from '@/lib/auth/path-glob';
import { FC_PARAMS, folderArb, globArb, nameArb, NAME_LEVELS, oracleMatches } from './support/access-arbitraries';

// The name ranges as SQL applies them (lib/db/name-scope.ts): a name is selected when it is one of
// the exact names, or lies in an exact prefix, or lies in another prefix and matches the pattern;
// with no ranges, when it matches the pattern. That must select exactly what the globs match, so
// skipping the regular expression in exact ranges never lets a name through or keeps one out.

function selects(ranges: NameRanges | null, pattern: string, name: string): boolean {
  if (ranges === null) return matchesNamePattern(pattern, name);
  if (ranges.names.includes(name)) return true;
  const prefix = ranges.prefixes.find((p) => name.startsWith(p));
  return prefix !== undefined && (prefixIsExact(ranges, prefix) || matchesNamePattern(pattern, name));
}

/** Names that start with each prefix of the ranges and go on in every way the vocabulary allows. */
const tailArb = fc.array(fc.constantFrom(...NAME_LEVELS, ''), { minLength: 0, maxLength: 4 }).map((levels) => levels.join('/'));

const globsArb = fc.array(globArb, { minLength: 1, maxLength: 4 });

describe('name ranges with the pattern only where needed (property tests)', () => {
  it('select exactly the names the globs match, whatever the names', () => {
    fc.assert(
      fc.property(globsArb, fc.array(nameArb, { minLength: 1, maxLength: 30 }), (globs, names) => {
        const pattern = globsPattern(globs);
        const ranges = nameRanges(globs);
        for (const name of names) expect(selects(ranges, pattern, name), `${globs.join(' ')} ${name}`).toBe(globs.some((g) => oracleMatches(g, name)));
      }),
      FC_PARAMS,
    );
  });

  it('select exactly the names the globs match among names inside each range (where exactness is tested)', () => {
    fc.assert(
      fc.property(globsArb, fc.array(tailArb, { minLength: 1, maxLength: 10 }), (globs, tails) => {
        const pattern = globsPattern(globs);
        const ranges = nameRanges(globs);
        if (!ranges) return;
        for (const prefix of ranges.prefixes) {
          for (const tail of tails) {
            const name = `${prefix}${tail}`;
            const matched = globs.some((g) => oracleMatches(g, name));
            expect(selects(ranges, pattern, name), `${globs.join(' ')} ${name}`).toBe(matched);
            if (prefixIsExact(ranges, prefix)) expect(matched, `${name} in the exact prefix ${prefix} of ${globs.join(' ')}`).toBe(true);
          }
        }
        for (const name of ranges.names) expect(globs.some((g) => oracleMatches(g, name)), `exact name ${name} of ${globs.join(' ')}`).toBe(true);
      }),
      FC_PARAMS,
    );
  });

  it('keep ranges disjoint: no prefix inside another, no name under a prefix, exact prefixes among the prefixes', () => {
    fc.assert(
      fc.property(globsArb, (globs) => {
        const ranges = nameRanges(globs);
        if (!ranges) return;
        for (const p of ranges.prefixes) expect(ranges.prefixes.filter((q) => q !== p && p.startsWith(q)), p).toEqual([]);
        for (const n of ranges.names) expect(ranges.prefixes.some((p) => n.startsWith(p)), n).toBe(false);
        for (const p of ranges.exactPrefixes ?? []) expect(ranges.prefixes).toContain(p);
        expect(ranges.exact).toBe(ranges.prefixes.every((p) => prefixIsExact(ranges, p)));
      }),
      FC_PARAMS,
    );
  });

  it('narrowed to a folder, select exactly the names at or below it that the globs match', () => {
    fc.assert(
      fc.property(globsArb, folderArb, fc.array(tailArb, { minLength: 1, maxLength: 10 }), fc.array(nameArb, { maxLength: 10 }), (globs, folder, tails, others) => {
        const pattern = globsPattern(globs);
        const ranges = nameRanges(globs);
        if (!ranges) return;
        const below = nameRangesBelow(ranges, folder);
        for (const name of [...tails.map((t) => `${folder}${t}`), ...others.filter((n) => n.startsWith(folder))]) {
          expect(selects(below, pattern, name), `${globs.join(' ')} below ${folder}: ${name}`).toBe(globs.some((g) => oracleMatches(g, name)));
        }
        for (const p of below.prefixes) expect(p.startsWith(folder), `${p} below ${folder}`).toBe(true);
      }),
      FC_PARAMS,
    );
  });
});

describe('name ranges: tighter where a glob allows', () => {
  it.each<[string, string[], NameRanges | null]>([
    ['a subtree: exact prefix and its folder name', ['/prod/app/**'], { prefixes: ['/prod/app/'], names: ['/prod/app'], exact: true }],
    ['text then a star then any depth: an exact prefix', ['/prod/app-*/**'], { prefixes: ['/prod/app-'], names: [], exact: true }],
    ['a star level then any depth: every name below, not the folder name', ['/prod/*/**'], { prefixes: ['/prod/'], names: [], exact: true }],
    ['a wildcard mid-path: the text before it, with the pattern', ['/prod/*/db-*'], { prefixes: ['/prod/'], names: [], exact: false }],
    ['two star levels are not any text', ['/prod/*/*/**'], { prefixes: ['/prod/'], names: [], exact: false }],
    ['a star not at the end of its level', ['/prod/*x/**'], { prefixes: ['/prod/'], names: [], exact: false }],
    ['exact and inexact side by side: the pattern only in the inexact one', ['/prod/app/**', '/staging/*/db'], { prefixes: ['/prod/app/', '/staging/'], names: ['/prod/app'], exact: false, exactPrefixes: ['/prod/app/'] }],
    ['the same prefix exact by one glob and not by another: exact', ['/prod/pay*', '/prod/pay*/**'], { prefixes: ['/prod/pay'], names: [], exact: true }],
    ['an exact prefix inside an inexact one is walked with the pattern', ['/prod/*/db', '/prod/app/**'], { prefixes: ['/prod/'], names: [], exact: false }],
    ['"/*/**" is every name', ['/*/**'], null],
  ])('%s: %j', (_label, globs, expected) => {
    expect(nameRanges(globs)).toEqual(expected);
  });

  it('narrows to a folder inside an exact prefix as the folder itself, exact', () => {
    const ranges = nameRanges(['/prod/app-*/**', '/staging/*/db'])!;
    expect(nameRangesBelow(ranges, '/prod/app-web/')).toEqual({ prefixes: ['/prod/app-web/'], names: [], exact: true });
    expect(nameRangesBelow(ranges, '/staging/x/')).toEqual({ prefixes: ['/staging/x/'], names: [], exact: false });
    expect(nameRangesBelow(ranges, '/dev/')).toEqual({ prefixes: [], names: [], exact: true });
    expect(nameRangesBelow(ranges, '/')).toBe(ranges);
  });
});
