import { describe, expect, it } from 'vitest';
import {
  compileGlob,
  expandBraces,
  folderLevels,
  globCoversSubtree,
  globMatchesName,
  globNeverMatches,
  globReachesFolder,
  globsPattern,
  matchesNamePattern,
  nameRanges,
} from '@/lib/auth/path-glob';

// The one matcher's parts, case by case: the property tests (path-glob.property.test.ts) check it
// against an oracle over random globs; these pin the edges one at a time (brace expansion, the
// compiled levels, refused globs, the exact index ranges), each with the allowed and the denied side.

describe('expandBraces', () => {
  it.each([
    ['/prod/key', ['/prod/key']],
    ['/prod/{web,db}/key', ['/prod/web/key', '/prod/db/key']],
    ['/x/{a,b}/{c,d}', ['/x/a/c', '/x/a/d', '/x/b/c', '/x/b/d']],
    ['{/a,/b}/c', ['/a/c', '/b/c']],
    ['/a/{b,c/d}', ['/a/b', '/a/c/d']],
    ['/a/{b,}', ['/a/b', '/a/']],
    // Unbalanced braces are kept as written (grants refuse them before they get here).
    ['/a/{b,c', ['/a/{b,c']],
    ['/a/b}', ['/a/b}']],
    ['/a/b}/{c,d}', ['/a/b}/c', '/a/b}/d']],
  ])('%s gives %j', (glob, expected) => {
    expect(expandBraces(glob)).toEqual(expected);
  });
});

describe('compileGlob', () => {
  it('compiles literal levels as literals, wildcard levels as patterns, "**" as any depth', () => {
    expect(compileGlob('/prod/pay*/**')).toEqual([
      {
        glob: '/prod/pay*/**',
        levels: [{ anyDepth: false, literal: 'prod', source: 'prod' }, { anyDepth: false, literal: null, source: 'pay[^/]*' }, { anyDepth: true }],
        regex: '^/prod/pay[^/]*(?:/[^/]*)*$',
      },
    ]);
  });

  it('escapes what regular expressions would read as syntax, in literal and wildcard levels', () => {
    expect(compileGlob('/a.b/x-1.*')[0]).toMatchObject({ levels: [{ literal: 'a.b', source: 'a\\.b' }, { literal: null, source: 'x-1\\.[^/]*' }] });
    expect(globMatchesName('/a.b/x-1.*', '/a.b/x-1.txt')).toBe(true);
    expect(globMatchesName('/a.b/x-1.*', '/aXb/x-1.txt')).toBe(false);
    expect(globMatchesName('/a.b/x-1.*', '/a.b/x-1Xtxt')).toBe(false);
  });

  it('reads "**" inside a level as one "*", compiled to the same single quantifier', () => {
    expect(compileGlob('/a/x**y')[0]!.regex).toBe(compileGlob('/a/x*y')[0]!.regex);
    expect(globMatchesName('/a/x**y', '/a/xy')).toBe(true);
    expect(globMatchesName('/a/x**y', '/a/x/y')).toBe(false);
  });

  it('gives one compiled glob per brace alternative, the same on every call', () => {
    const first = compileGlob('/{a,b}/**');
    expect(first.map((c) => c.glob)).toEqual(['/a/**', '/b/**']);
    expect(compileGlob('/{a,b}/**')).toBe(first);
  });
});

describe('folderLevels', () => {
  it.each([
    ['/', []],
    ['/a/', ['a']],
    ['/a/b/', ['a', 'b']],
    ['/a/./../', ['a', '.', '..']],
  ])('%s has levels %j', (folder, levels) => expect(folderLevels(folder)).toEqual(levels));
});

describe('globMatchesName', () => {
  it.each([
    // [glob, name, matches]
    ['/prod/key', '/prod/key', true],
    ['/prod/key', '/prod/key2', false],
    ['/prod/key', '/prod', false],
    ['/prod/?', '/prod/k', true],
    ['/prod/?', '/prod/kk', false],
    ['/prod/?', '/prod/', false],
    // "?" is one character, not one UTF-16 unit: an emoji is one character.
    ['/prod/?', '/prod/😀', true],
    ['/prod/??', '/prod/😀', false],
    ['/prod/*', '/prod/', true],
    ['/prod/*', '/prod/a/b', false],
    ['/prod/**', '/prod', true],
    ['/prod/**', '/prod/a/b/c', true],
    ['/prod/**', '/production', false],
    ['/**/key', '/key', true],
    ['/**/key', '/a/b/key', true],
    ['/**/key', '/a/b/key/x', false],
    ['/{prod,dev}/key', '/dev/key', true],
    ['/{prod,dev}/key', '/test/key', false],
    ['/prod/.', '/prod/.', true],
    ['/prod/*', '/prod/..', true],
    ['/prod/key', 'prod/key', false],
  ])('%s matches %s: %s', (glob, name, expected) => {
    expect(globMatchesName(glob, name)).toBe(expected);
    expect(matchesNamePattern(globsPattern([glob]), name)).toBe(expected);
  });

  it('matches a name when any of several globs does (one pattern for SQL)', () => {
    const pattern = globsPattern(['/a/**', '/b/k']);
    expect(pattern).toBe('(?:^/a(?:/[^/]*)*$)|(?:^/b/k$)');
    expect(matchesNamePattern(pattern, '/a/x')).toBe(true);
    expect(matchesNamePattern(pattern, '/b/k')).toBe(true);
    expect(matchesNamePattern(pattern, '/b/kk')).toBe(false);
    expect(matchesNamePattern(pattern, '/c/k')).toBe(false);
  });
});

describe('globReachesFolder and globCoversSubtree', () => {
  it.each([
    // [glob, folder, reaches, covers the whole subtree]
    ['/prod/key', '/', true, false],
    ['/prod/key', '/prod/', true, false],
    ['/prod/key', '/dev/', false, false],
    ['/prod/key', '/prod/key/', false, false],
    ['/prod/*', '/prod/', true, false],
    ['/prod/*', '/prod/a/', false, false],
    ['/prod/?/x', '/prod/a/', true, false],
    ['/prod/?/x', '/prod/ab/', false, false],
    ['/prod/**', '/', true, false],
    ['/prod/**', '/prod/', true, true],
    ['/prod/**', '/prod/a/b/', true, true],
    ['/prod/**', '/dev/', false, false],
    ['/**', '/', true, true],
    ['/**', '/x/y/', true, true],
    ['/**/key', '/', true, false],
    ['/**/key', '/a/b/c/', true, false],
    ['/**/**', '/a/', true, true],
    ['/*/**', '/a/', true, true],
    ['/*/**', '/', true, false],
    ['/prod/**/key', '/prod/a/', true, false],
    ['/prod/**/key', '/dev/a/', false, false],
    // Either brace alternative is enough.
    ['/{prod,dev}/key', '/dev/', true, false],
    ['/{prod,dev}/key', '/web/', false, false],
    ['/{prod,dev}/**', '/dev/', true, true],
    ['/{prod,dev}/**', '/web/', false, false],
    ['/prod/{a,b/**}', '/prod/b/', true, true],
    ['/prod/{a,b/**}', '/prod/a/', false, false],
  ])('%s: folder %s reached %s, whole subtree %s', (glob, folder, reaches, covers) => {
    expect(globReachesFolder(glob, folder)).toBe(reaches);
    expect(globCoversSubtree(glob, folder)).toBe(covers);
  });
});

describe('globNeverMatches', () => {
  it.each([
    ['/prod/**'],
    ['/prod/key'],
    ['/prod/.hidden'],
    ['/prod/...'],
    ['/prod/a.b/{x,y}'],
  ])('accepts %s', (glob) => expect(globNeverMatches(glob)).toBeNull());

  it.each([
    ['/prod//key', '"/prod//key" has an empty level'],
    ['/prod/', '"/prod/" has an empty level (a "//" or a trailing "/"); write /prod/** for a folder'],
    ['/', '"/" has an empty level'],
    ['', '"" has an empty level'],
    ['prod', '"prod" has an empty level'],
    ['/{a,b/}', '"/b/" has an empty level'],
    ['/prod/./key', '"/prod/./key" has a "." level, and no name can: names are taken literally, never resolved'],
    ['/prod/../key', '"/prod/../key" has a ".." level'],
    ['/prod/{x,..}', '"/prod/.." has a ".." level'],
  ])('refuses %s', (glob, message) => {
    expect(globNeverMatches(glob)).toContain(message);
  });
});

describe('nameRanges', () => {
  it.each([
    ['one name', ['/prod/key'], { prefixes: [], names: ['/prod/key'], exact: true }],
    ['a subtree (its folder name too)', ['/prod/payments/**'], { prefixes: ['/prod/payments/'], names: ['/prod/payments'], exact: true }],
    ['a subtree of any depth', ['/prod/**/**'], { prefixes: ['/prod/'], names: ['/prod'], exact: true }],
    ['names, sorted', ['/z/k', '/a/k'], { prefixes: [], names: ['/a/k', '/z/k'], exact: true }],
    ['subtrees, sorted', ['/z/**', '/a/**'], { prefixes: ['/a/', '/z/'], names: ['/a', '/z'], exact: true }],
    ['a subtree inside another', ['/a/b/**', '/a/**'], { prefixes: ['/a/'], names: ['/a'], exact: true }],
    ['a name inside a subtree', ['/a/b', '/a/**'], { prefixes: ['/a/'], names: ['/a'], exact: true }],
    ['a prefix that only ends like another', ['/x/a/**', '/a/**'], { prefixes: ['/a/', '/x/a/'], names: ['/a', '/x/a'], exact: true }],
    ['a name that only ends like a prefix', ['/x/prod/pay', '/prod/pay*'], { prefixes: ['/prod/pay'], names: ['/x/prod/pay'], exact: false }],
    ['a name under one of two prefixes', ['/a/k', '/a/**', '/b/**'], { prefixes: ['/a/', '/b/'], names: ['/a', '/b'], exact: true }],
    ['a wildcard level: the text before it', ['/prod/*/db'], { prefixes: ['/prod/'], names: [], exact: false }],
    ['a wildcard inside a level', ['/prod/pay*/k'], { prefixes: ['/prod/pay'], names: [], exact: false }],
    ['"**" in the middle', ['/a/**/b'], { prefixes: ['/a/'], names: [], exact: false }],
    ['brace alternatives', ['/{a,b}/k'], { prefixes: [], names: ['/a/k', '/b/k'], exact: true }],
    ['mixed exact and not', ['/k/x', '/p/?'], { prefixes: ['/p/'], names: ['/k/x'], exact: false }],
  ])('%s: %j', (_label, globs, expected) => {
    expect(nameRanges(globs)).toEqual(expected);
  });

  it.each([
    ['everything', ['/**']],
    ['any first level', ['/*']],
    ['any first level, deeper', ['/*/db/**']],
    ['any depth before a name', ['/**/key']],
    ['a first level with a wildcard', ['/?x/k']],
    ['one unbounded glob among bounded ones', ['/a/k', '/**/k']],
    ['a glob with no leading literal at all', ['*/x/*']],
  ])('is null (no bound) for %s', (_label, globs) => {
    expect(nameRanges(globs)).toBeNull();
  });
});
